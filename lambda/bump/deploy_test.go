package bump_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

func TestDeployPromotes(t *testing.T) {
	w := newWorld(t)
	resp, err := w.handle(sample(t, "deploy-finished.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := one(t, resp)
	if res.Status != event.Promoted || res.Version != 2 || res.SourceInstance != namedInstance {
		t.Fatalf("result = %+v, want promoted to version 2 from %s", res, namedInstance)
	}

	images := w.amibumpImages(w.lt)
	if len(images) != 1 {
		t.Fatalf("amibump made %d images, want 1", len(images))
	}
	img := images[0]
	deployedAt := at(2, 15)
	wantName := plan.AMIName("shop-web-prod-a", plan.Deploy{At: deployedAt, BuildID: "jenkins-shop-deploy-142"})
	if aws.ToString(img.Name) != wantName || aws.ToString(img.ImageId) != res.ImageID || img.State != ec2types.ImageStateAvailable {
		t.Errorf("image %s %q %s, want %s %q available", aws.ToString(img.ImageId), aws.ToString(img.Name), img.State, res.ImageID, wantName)
	}
	wantTags := map[string]string{
		"Name":                    wantName,
		"amibump:launch-template": w.lt,
		"amibump:app":             "shop", "amibump:env": "prod", "amibump:layer": "web", "amibump:group": "a",
		"amibump:build-id":        "jenkins-shop-deploy-142",
		"amibump:build-url":       "https://jenkins.example.com/job/shop-deploy/142/",
		"amibump:commit":          "9f1c2e7d",
		"amibump:source-instance": namedInstance,
		"amibump:deployed-at":     deployedAt.Format(time.RFC3339),
		"amibump:event-id":        "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	}
	if diff := cmp.Diff(wantTags, tagMap(img.Tags)); diff != "" {
		t.Errorf("image tags (-want +got):\n%s", diff)
	}
	snapshots := 0
	for _, s := range w.cloud.Snapshots() {
		if tagMap(s.Tags)["amibump:build-id"] == "jenkins-shop-deploy-142" {
			snapshots++
			if diff := cmp.Diff(wantTags, tagMap(s.Tags)); diff != "" {
				t.Errorf("snapshot tags (-want +got):\n%s", diff)
			}
		}
	}
	if snapshots == 0 {
		t.Error("no snapshot carries the amibump tags")
	}

	latest, def := w.head(w.lt)
	if imageOf(latest) != res.ImageID || aws.ToInt64(latest.VersionNumber) != 2 || aws.ToInt64(def.VersionNumber) != 2 {
		t.Errorf("$Latest = %d (%s), $Default = %d; want version 2 with %s, default", aws.ToInt64(latest.VersionNumber), imageOf(latest), aws.ToInt64(def.VersionNumber), res.ImageID)
	}
	if latest.LaunchTemplateData.InstanceType != ec2types.InstanceTypeT3Micro {
		t.Errorf("the new version lost the instance type: %q", latest.LaunchTemplateData.InstanceType)
	}
	if d := aws.ToString(latest.VersionDescription); !strings.Contains(d, "jenkins-shop-deploy-142") || !strings.Contains(d, "9f1c2e7d") {
		t.Errorf("version description %q does not name build and commit", d)
	}
	if got := w.published(); len(got) != 1 || got[0].Status != event.Promoted || got[0].ImageID != res.ImageID {
		t.Errorf("published %+v, want one promoted result", got)
	}
}

func tagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestReprocessingCreatesNothingMore: retried, replayed, resent and concurrent
// deliveries of one deploy end with one AMI and one version.
func TestReprocessingCreatesNothingMore(t *testing.T) {
	tests := []struct {
		name  string
		again func(w *world) []byte
	}{
		{"a retry of the same event", func(w *world) []byte { return sample(t, "deploy-finished-web.json") }},
		{"a replay from the archive, with a new id", func(w *world) []byte { return sample(t, "deploy-finished-replay.json") }},
		{"the same build sent again later", func(w *world) []byte {
			return edit(t, sample(t, "deploy-finished-web.json"), map[string]any{"id": "resent", "time": at(2, 20).Format(time.RFC3339)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			first, err := w.handle(sample(t, "deploy-finished-web.json"))
			if err != nil {
				t.Fatal(err)
			}
			w.cloud.ResetCalls()
			again, err := w.handle(tt.again(w))
			if err != nil {
				t.Fatal(err)
			}
			a, b := one(t, first), one(t, again)
			if b.Status != event.Promoted || b.ImageID != a.ImageID || b.Version != a.Version {
				t.Errorf("again: %+v, want promoted with %s at version %d", b, a.ImageID, a.Version)
			}
			if n := len(w.amibumpImages(w.lt)); n != 1 {
				t.Errorf("%d amibump images, want 1", n)
			}
			if n := len(w.cloud.Versions(w.lt)); n != 2 {
				t.Errorf("%d versions, want 2 (base and one bump)", n)
			}
			// Nothing to write, nothing waited for: the template is read once.
			if n := w.cloud.Calls("DescribeLaunchTemplateVersions"); n != 1 {
				t.Errorf("the template's versions were read %d times, want 1", n)
			}
		})
	}
	t.Run("concurrent deliveries", func(t *testing.T) {
		w := newWorld(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := w.handle(sample(t, "deploy-finished-web.json"))
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Logf("one delivery returned %v (a retry finishes it)", err)
			}
		}
		if _, err := w.handle(sample(t, "deploy-finished-web.json")); err != nil {
			t.Fatal(err)
		}
		if n := len(w.amibumpImages(w.lt)); n != 1 {
			t.Errorf("%d amibump images, want 1", n)
		}
		if n := len(w.cloud.Versions(w.lt)); n != 2 {
			t.Errorf("%d versions, want 2", n)
		}
	})
}

func TestResumesOnPendingImage(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	w := newWorld(t, awsfake.WithClock(clock), awsfake.WithImageDelay(30*time.Minute))
	w.deadline = 100 * time.Millisecond // the function's time runs out mid-wait
	res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if res.Status != event.Pending || res.ImageID == "" {
		t.Fatalf("result %+v, want pending with the image id", res)
	}
	if latest, _ := w.head(w.lt); aws.ToInt64(latest.VersionNumber) != 1 {
		t.Errorf("a version was made for a pending image: %d", aws.ToInt64(latest.VersionNumber))
	}
	clock.Advance(31 * time.Minute)
	w.deadline = 10 * time.Second
	again := one(t, must(w.handle(sample(t, "deploy-finished-replay.json"))))
	if again.Status != event.Promoted || again.ImageID != res.ImageID {
		t.Errorf("replay: %+v, want promoted with %s", again, res.ImageID)
	}
	if n := len(w.amibumpImages(w.lt)); n != 1 {
		t.Errorf("%d amibump images, want 1", n)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestOlderDeployIsSuperseded(t *testing.T) {
	w := newWorld(t)
	newer := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	calls := w.cloud.Calls("CreateImage")
	old := one(t, must(w.handle(sample(t, "deploy-finished-old.json"))))
	if old.Status != event.Superseded || old.Version != newer.Version || old.ImageID != "" || !strings.Contains(old.Reason, newer.ImageID) {
		t.Errorf("old deploy: %+v, want superseded by version %d (%s)", old, newer.Version, newer.ImageID)
	}
	if w.cloud.Calls("CreateImage") != calls {
		t.Error("a superseded deploy requested an image")
	}
	latest, def := w.head(w.lt)
	if imageOf(latest) != newer.ImageID || imageOf(def) != newer.ImageID {
		t.Errorf("$Latest %s, $Default %s; want both %s", imageOf(latest), imageOf(def), newer.ImageID)
	}
}

func TestRejectedEventsCreateNothing(t *testing.T) {
	tests := []struct {
		name, reason string
		raw          func(t *testing.T) []byte
	}{
		{"unknown field", `unknown field "grup"`, func(t *testing.T) []byte { return sample(t, "invalid-unknown-field.json") }},
		{"missing fields", "detail.app is required", func(t *testing.T) []byte { return sample(t, "invalid-missing-required.json") }},
		{"bad values", "detail.instanceId", func(t *testing.T) []byte { return sample(t, "invalid-bad-values.json") }},
		{"wrong type", "detail.dryRun must be a boolean", func(t *testing.T) []byte { return sample(t, "invalid-wrong-type.json") }},
		{"no matching template", "no launch template tagged amibump:app=shop, amibump:env=prod, amibump:layer=db; tag the template or fix the event",
			func(t *testing.T) []byte {
				return edit(t, sample(t, "deploy-finished-web.json"), map[string]any{"detail.layer": "db", "detail.group": nil})
			}},
		{"instance that does not belong to the template", "is neither tagged amibump:source-for=shop-web-prod-a nor in an Auto Scaling group",
			func(t *testing.T) []byte {
				return edit(t, sample(t, "deploy-finished.json"), map[string]any{"detail.instanceId": "i-00000000000000099"})
			}},
		{"unsupported event", "unsupported event", func(t *testing.T) []byte { return sample(t, "unsupported.json") }},
		{"not an EventBridge event", "not an EventBridge event", func(t *testing.T) []byte { return []byte(`{"hello":"world"}`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.cloud.AddInstance(awsfake.Instance{ID: "i-00000000000000099"})
			resp, err := w.handle(tt.raw(t))
			if err != nil {
				t.Fatalf("returned error %v; a rejected event must not be retried", err)
			}
			res := one(t, resp)
			if res.Status != event.Rejected || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("result %+v, want rejected with a reason containing %q", res, tt.reason)
			}
			if w.cloud.Calls("CreateImage") != 0 || len(w.cloud.Versions(w.lt)) != 1 {
				t.Error("a rejected event changed something")
			}
			if got := w.published(); len(got) != 1 || got[0].Status != event.Rejected {
				t.Errorf("published %+v, want one rejected result", got)
			}
		})
	}
}

func TestSourceInstance(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world) (raw []byte, want string)
	}{
		{"named in the event and tagged", func(w *world) ([]byte, string) { return sample(t, "deploy-finished.json"), namedInstance }},
		{"named in the event and in a group of the template", func(w *world) ([]byte, string) {
			id := w.cloud.AddInstance(awsfake.Instance{})
			w.group("shop-web-prod-a-2", w.lt, "$Latest", id)
			return edit(t, sample(t, "deploy-finished.json"), map[string]any{"detail.instanceId": id}), id
		}},
		{"the tagged instance when none is named", func(w *world) ([]byte, string) { return sample(t, "deploy-finished-web.json"), namedInstance }},
		{"a protected InService instance of the group when none is tagged", func(w *world) ([]byte, string) {
			w.cloud.TerminateInstance(namedInstance)
			a := w.cloud.AddInstance(awsfake.Instance{})
			b := w.cloud.AddInstance(awsfake.Instance{})
			sick := w.cloud.AddInstance(awsfake.Instance{})
			w.cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{
				AutoScalingGroupName: aws.String("shop-web-prod-a-mixed"),
				MixedInstancesPolicy: &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{
					LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("shop-web-prod-a"), Version: aws.String("$Default")},
				}},
				Instances: []astypes.Instance{
					{InstanceId: aws.String(sick), HealthStatus: aws.String("Unhealthy"), LifecycleState: astypes.LifecycleStateInService, ProtectedFromScaleIn: aws.Bool(true)},
					{InstanceId: aws.String(a), HealthStatus: aws.String("Healthy"), LifecycleState: astypes.LifecycleStateInService},
					{InstanceId: aws.String(b), HealthStatus: aws.String("Healthy"), LifecycleState: astypes.LifecycleStateInService, ProtectedFromScaleIn: aws.Bool(true)},
				},
			})
			return sample(t, "deploy-finished-web.json"), b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			raw, want := tt.setup(w)
			res := one(t, must(w.handle(raw)))
			if res.Status != event.Promoted || res.SourceInstance != want {
				t.Fatalf("result %+v, want promoted from %s", res, want)
			}
			img, _ := w.cloud.Image(res.ImageID)
			if got := tag(img.Tags, "amibump:source-instance"); got != want {
				t.Errorf("image made from %s, want %s", got, want)
			}
		})
	}
	t.Run("no source at all", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.TerminateInstance(namedInstance)
		res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "no source instance for launch template shop-web-prod-a") {
			t.Errorf("result %+v, want rejected for want of a source", res)
		}
	})
}

func TestFanOut(t *testing.T) {
	w := newWorld(t)
	b := w.template("shop-web-prod-b", map[string]string{"amibump:layer": "web", "amibump:group": "b"})
	api := w.template("shop-api-prod-a", map[string]string{"amibump:layer": "api", "amibump:group": "a"})
	lonely := w.template("shop-worker-prod", map[string]string{"amibump:layer": "worker"})
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-b"}})
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-api-prod-a"}})
	w.cloud.AddLaunchTemplate("shop-web-staging-a", map[string]string{"amibump:app": "shop", "amibump:env": "staging"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.baseAMI)})

	resp, err := w.handle(sample(t, "deploy-finished-fanout.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]event.Status{}
	for _, r := range resp.Results {
		got[r.LaunchTemplateName] = r.Status
	}
	want := map[string]event.Status{"shop-web-prod-a": event.Promoted, "shop-web-prod-b": event.Promoted, "shop-api-prod-a": event.Promoted, "shop-worker-prod": event.Rejected}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, lt := range []string{w.lt, b, api} {
		latest, _ := w.head(lt)
		if n := len(w.amibumpImages(lt)); n != 1 || imageOf(latest) != aws.ToString(w.amibumpImages(lt)[0].ImageId) {
			t.Errorf("template %s: %d images, $Latest on %s", lt, n, imageOf(latest))
		}
	}
	if len(w.cloud.Versions(lonely)) != 1 {
		t.Error("the template without a source got a version")
	}
	t.Run("an instanceId with several targets is refused", func(t *testing.T) {
		w := newWorld(t)
		w.template("shop-web-prod-b", map[string]string{"amibump:layer": "web", "amibump:group": "b"})
		resp := must(w.handle(edit(t, sample(t, "deploy-finished.json"), map[string]any{"detail.group": nil})))
		for _, r := range resp.Results {
			if r.Status != event.Rejected || !strings.Contains(r.Reason, "names one instance, but 2 launch templates match") {
				t.Errorf("result %+v, want rejected", r)
			}
		}
		if w.cloud.Calls("CreateImage") != 0 {
			t.Error("an image was requested")
		}
	})
}

func TestWarningsAboutGroups(t *testing.T) {
	w := newWorld(t)
	w.group("shop-web-prod-a-pinned", w.lt, "1")
	w.cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("shop-web-prod-a-spot"),
		MixedInstancesPolicy: &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{
			LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.lt), Version: aws.String("$Default")},
			Overrides: []astypes.LaunchTemplateOverrides{
				{InstanceType: aws.String("c7g.large")},
				{InstanceType: aws.String("m7g.large"), LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.lt), Version: aws.String("1")}},
			},
		}},
	})
	res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	want := []string{
		"group shop-web-prod-a-pinned is pinned to launch template version 1 and will keep launching the old AMI; set it to $Latest or $Default",
		"group shop-web-prod-a-spot (override for m7g.large) is pinned to launch template version 1 and will keep launching the old AMI; set it to $Latest or $Default",
	}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestSetDefaultOptOut(t *testing.T) {
	w := newWorld(t)
	lt := w.template("shop-web-prod-c", map[string]string{"amibump:layer": "web", "amibump:group": "c", "amibump:set-default": "false"})
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-c"}})
	w.group("shop-web-prod-c", lt, "$Default")
	res := one(t, must(w.handle(edit(t, sample(t, "deploy-finished-web.json"), map[string]any{"detail.group": "c"}))))
	latest, def := w.head(lt)
	if res.Status != event.Promoted || imageOf(latest) != res.ImageID || aws.ToInt64(def.VersionNumber) != 1 {
		t.Errorf("result %+v, $Latest %s, $Default %d; want promoted on $Latest only", res, imageOf(latest), aws.ToInt64(def.VersionNumber))
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "launches $Default of shop-web-prod-c, which amibump leaves alone") {
		t.Errorf("warnings %q, want one about the group on $Default", res.Warnings)
	}
}

func TestDryRun(t *testing.T) {
	t.Run("reports the plan and changes nothing", func(t *testing.T) {
		w := newWorld(t)
		w.group("shop-web-prod-a-pinned", w.lt, "1")
		res := one(t, must(w.handle(sample(t, "deploy-finished-dry-run.json"))))
		if res.Status != event.DryRun {
			t.Fatalf("result %+v, want dry-run", res)
		}
		planText := strings.Join(res.Plan, "\n")
		for _, want := range []string{"image instance " + namedInstance, "create version 2 of shop-web-prod-a from $Latest (version 1)", "set $Default", "shop-web-prod-a-pinned at 1"} {
			if !strings.Contains(planText, want) {
				t.Errorf("plan does not say %q:\n%s", want, planText)
			}
		}
		if len(res.Warnings) != 1 {
			t.Errorf("warnings %q, want the pinned group", res.Warnings)
		}
		if len(w.amibumpImages(w.lt)) != 0 || len(w.cloud.Versions(w.lt)) != 1 {
			t.Error("a dry run changed something")
		}
	})
	t.Run("a failed image of an earlier attempt is left in place", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.AddImage(awsfake.Image{Name: "failed-one", State: ec2types.ImageStateFailed, Tags: map[string]string{
			"amibump:launch-template": w.lt, "amibump:build-id": "jenkins-shop-deploy-144", "amibump:deployed-at": at(3, 30).Format(time.RFC3339),
		}})
		res := one(t, must(w.handle(sample(t, "deploy-finished-dry-run.json"))))
		if res.Status != event.DryRun || !strings.Contains(strings.Join(res.Plan, "\n"), "remove the failed image") {
			t.Errorf("result %+v, want a plan that says the failed image would go", res)
		}
		if n := w.cloud.Calls("DeregisterImage"); n != 0 {
			t.Errorf("a dry run deregistered %d images", n)
		}
	})
	t.Run("an event already promoted has nothing to do", func(t *testing.T) {
		w := newWorld(t)
		done := one(t, must(w.handle(edit(t, sample(t, "deploy-finished-dry-run.json"), map[string]any{"detail.dryRun": false}))))
		res := one(t, must(w.handle(sample(t, "deploy-finished-dry-run.json"))))
		if res.Status != event.DryRun || res.Version != done.Version || !strings.Contains(strings.Join(res.Plan, "\n"), "nothing to do") {
			t.Errorf("result %+v, want nothing to do at version %d", res, done.Version)
		}
	})
	t.Run("names the groups the role may not refresh", func(t *testing.T) {
		w := newWorld(t) // its group shop-web-prod-a carries amibump:instance-refresh=true
		w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:instance-refresh": "true"})
		w.group("shop-web-prod-a-untagged", w.lt, "$Latest")
		res := one(t, must(w.handle(sample(t, "deploy-finished-dry-run.json"))))
		var refresh []string
		for _, warning := range res.Warnings {
			if strings.Contains(warning, "instance refresh not started") {
				refresh = append(refresh, warning)
			}
		}
		if res.Status != event.DryRun || len(refresh) != 1 || !strings.HasPrefix(refresh[0], "group shop-web-prod-a-untagged:") {
			t.Errorf("result %+v, want a dry run warning about shop-web-prod-a-untagged only", res)
		}
		if n := w.cloud.Calls("StartInstanceRefresh"); n != 0 {
			t.Errorf("a dry run started %d instance refreshes", n)
		}
	})
	t.Run("a missing permission rejects it", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.Deny("CreateImage")
		res := one(t, must(w.handle(sample(t, "deploy-finished-dry-run.json"))))
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "ec2:CreateImage: UnauthorizedOperation") {
			t.Errorf("result %+v, want rejected naming ec2:CreateImage", res)
		}
	})
}

func TestErrors(t *testing.T) {
	t.Run("access denied is rejected, not retried", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.Deny("CreateLaunchTemplateVersion")
		resp, err := w.handle(sample(t, "deploy-finished-web.json"))
		if err != nil {
			t.Fatalf("returned %v, want a rejected result", err)
		}
		if res := one(t, resp); res.Status != event.Rejected || !strings.Contains(res.Reason, "UnauthorizedOperation") {
			t.Errorf("result %+v, want rejected for UnauthorizedOperation", res)
		}
	})
	t.Run("throttling is returned, and the retry finishes the job", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailNext("CreateLaunchTemplateVersion", awsfake.Throttle())
		if _, err := w.handle(sample(t, "deploy-finished-web.json")); err == nil || !strings.Contains(err.Error(), "RequestLimitExceeded") {
			t.Fatalf("returned %v, want the throttling error", err)
		}
		res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		if res.Status != event.Promoted || len(w.amibumpImages(w.lt)) != 1 {
			t.Errorf("retry: %+v with %d images, want promoted with one image", res, len(w.amibumpImages(w.lt)))
		}
	})
	t.Run("a server error listing templates is returned", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailNext("DescribeLaunchTemplates", awsfake.APIError("InternalError", "An internal error has occurred"))
		if _, err := w.handle(sample(t, "deploy-finished-web.json")); err == nil {
			t.Fatal("returned no error for a 5xx")
		}
		if w.cloud.Calls("CreateImage") != 0 {
			t.Error("an image was requested")
		}
	})
}

func TestFailedImage(t *testing.T) {
	w := newWorld(t)
	w.cloud.FailImagesOf(namedInstance, "Snapshot creation failed")
	resp, err := w.handle(sample(t, "deploy-finished-web.json"))
	if err == nil {
		t.Fatal("a failed image must be returned as an error so that Lambda retries")
	}
	res := one(t, resp)
	if res.Status != event.Failed || !strings.Contains(res.Reason, "Snapshot creation failed") {
		t.Errorf("result %+v, want failed with EC2's reason", res)
	}
	if n := len(w.amibumpImages(w.lt)); n != 0 {
		t.Errorf("%d amibump images left, want the failed one deregistered", n)
	}
	for _, s := range w.cloud.Snapshots() {
		if tagMap(s.Tags)["amibump:launch-template"] != "" {
			t.Errorf("snapshot %s of the failed image left behind", aws.ToString(s.SnapshotId))
		}
	}
	// The source is replaced; Lambda's retry makes a fresh attempt.
	w.cloud.TerminateInstance(namedInstance)
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-a"}})
	res = one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if res.Status != event.Promoted || len(w.amibumpImages(w.lt)) != 1 {
		t.Errorf("retry: %+v, want promoted with one image", res)
	}
}

// TestRetryWhileEC2StillListsTheFailedImage: EC2 lists a deregistered image for
// a while. The retry right after a failed image must not take it for its own
// (it would wait on it forever) but make a fresh one.
func TestRetryWhileEC2StillListsTheFailedImage(t *testing.T) {
	w := newWorld(t, awsfake.WithDeregisteredLinger(time.Hour))
	w.cloud.FailImagesOf(namedInstance, "Snapshot creation failed")
	if _, err := w.handle(sample(t, "deploy-finished-web.json")); err == nil {
		t.Fatal("want the failed image returned as an error")
	}
	w.cloud.TerminateInstance(namedInstance)
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-a"}})
	res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if res.Status != event.Promoted {
		t.Fatalf("retry: %+v, want promoted with a fresh image", res)
	}
	if img, _ := w.cloud.Image(res.ImageID); img.State != ec2types.ImageStateAvailable {
		t.Errorf("promoted %s in state %q", res.ImageID, img.State)
	}
}

func TestInstanceGoesAwayMidImage(t *testing.T) {
	w := newWorld(t, awsfake.WithImageDelay(200*time.Millisecond))
	go func() {
		time.Sleep(50 * time.Millisecond)
		w.cloud.TerminateInstance(namedInstance)
	}()
	resp, err := w.handle(sample(t, "deploy-finished-web.json"))
	if err == nil {
		t.Fatal("want an error so that Lambda retries")
	}
	if res := one(t, resp); res.Status != event.Failed {
		t.Errorf("result %+v, want failed", res)
	}
	if n := len(w.amibumpImages(w.lt)); n != 0 {
		t.Errorf("%d images left", n)
	}
}

func TestTemplateDeletedMidRun(t *testing.T) {
	w := newWorld(t, awsfake.WithImageDelay(150*time.Millisecond))
	go func() {
		time.Sleep(40 * time.Millisecond)
		w.cloud.DeleteLaunchTemplate(w.lt)
	}()
	resp, err := w.handle(sample(t, "deploy-finished-web.json"))
	if err != nil {
		t.Fatalf("returned %v; a deleted template cannot be fixed by a retry", err)
	}
	if res := one(t, resp); res.Status != event.Rejected || !strings.Contains(res.Reason, "no longer exists") {
		t.Errorf("result %+v, want rejected naming the deleted template", res)
	}
}

func TestRetention(t *testing.T) {
	w := newWorld(t)
	lt := w.template("shop-web-prod-k", map[string]string{"amibump:layer": "web", "amibump:group": "k", "amibump:keep": "2", "amibump:delete-after": "0"})
	src := w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-k"}})
	var results []event.Result
	for i := range 5 {
		raw := edit(t, deployEvent(t, "e"+itoa(i), "build-"+itoa(i), at(2, i)), map[string]any{"detail.group": "k"})
		results = append(results, one(t, must(w.handle(raw))))
	}
	last := results[4]
	if last.Pruned == nil || last.Pruned.Versions != 1 || last.Pruned.Images != 1 || last.Pruned.Snapshots != 1 {
		t.Errorf("last pruned %+v, want one version, one image, one snapshot", last.Pruned)
	}
	var numbers []int64
	for _, v := range w.cloud.Versions(lt) {
		numbers = append(numbers, aws.ToInt64(v.VersionNumber))
	}
	if diff := cmp.Diff([]int64{1, 5, 6}, numbers); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	var kept []string
	for _, img := range w.amibumpImages(lt) {
		kept = append(kept, aws.ToString(img.ImageId))
	}
	slices.Sort(kept)
	want := []string{results[3].ImageID, results[4].ImageID}
	slices.Sort(want)
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("kept images (-want +got):\n%s", diff)
	}
	if _, ok := w.cloud.Image(w.baseAMI); !ok {
		t.Error("retention deregistered the base AMI amibump did not make")
	}
	_ = src
	t.Run("a version a group is pinned to is kept", func(t *testing.T) {
		pinned := aws.ToInt64(w.cloud.Versions(lt)[1].VersionNumber) // the oldest amibump version left
		w.group("shop-web-prod-k-pinned", lt, fmt.Sprint(pinned))
		raw := edit(t, deployEvent(t, "e8", "build-8", at(2, 30)), map[string]any{"detail.group": "k"})
		res := one(t, must(w.handle(raw)))
		if res.Pruned == nil || res.Pruned.Versions != 0 {
			t.Errorf("pruned %+v, want no version deleted", res.Pruned)
		}
		found := false
		for _, v := range w.cloud.Versions(lt) {
			found = found || aws.ToInt64(v.VersionNumber) == pinned
		}
		if !found {
			t.Errorf("version %d, which a group is pinned to, was deleted", pinned)
		}
	})
	t.Run("an image an instance still runs is kept", func(t *testing.T) {
		w.cloud.AddInstance(awsfake.Instance{ImageID: results[4].ImageID})
		w.cloud.AddInstance(awsfake.Instance{ImageID: results[3].ImageID})
		raw := edit(t, deployEvent(t, "e9", "build-9", at(3, 0)), map[string]any{"detail.group": "k"})
		res := one(t, must(w.handle(raw)))
		if res.Pruned == nil || res.Pruned.Versions != 1 || res.Pruned.Images != 0 {
			t.Errorf("pruned %+v, want one version and no image (an instance uses it)", res.Pruned)
		}
		if _, ok := w.cloud.Image(results[3].ImageID); !ok {
			t.Error("an image in use was deregistered")
		}
	})
	t.Run("a snapshot left behind is a warning", func(t *testing.T) {
		w.cloud.FailSnapshotDeletion(1, ec2types.SnapshotReturnCodesErrorMissingPermissions)
		raw := edit(t, deployEvent(t, "e11", "build-11", at(3, 30)), map[string]any{"detail.group": "k"})
		res := one(t, must(w.handle(raw)))
		if res.Status != event.Promoted || res.Pruned == nil || res.Pruned.Images != 1 || res.Pruned.Snapshots != 0 {
			t.Fatalf("result %+v, pruned %+v; want promoted, one image pruned, its snapshot left", res, res.Pruned)
		}
		if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "were not deleted") || !strings.Contains(w, "missing-permissions") {
			t.Errorf("warnings %q, want the snapshot left behind named", w)
		}
	})
	t.Run("a failed deletion is a warning, the promotion stands", func(t *testing.T) {
		for _, v := range w.cloud.Versions(lt) {
			w.cloud.FailVersionDeletion(lt, aws.ToInt64(v.VersionNumber))
		}
		raw := edit(t, deployEvent(t, "e10", "build-10", at(4, 0)), map[string]any{"detail.group": "k"})
		res := one(t, must(w.handle(raw)))
		if res.Status != event.Promoted || len(res.Warnings) == 0 || !strings.Contains(res.Warnings[len(res.Warnings)-1], "retention:") {
			t.Errorf("result %+v, want promoted with a retention warning", res)
		}
	})
}

func TestInstanceRefresh(t *testing.T) {
	w := newWorld(t)
	lt := w.template("shop-web-prod-r", map[string]string{"amibump:layer": "web", "amibump:group": "r", "amibump:instance-refresh": "true"})
	w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-r"}})
	w.group("shop-web-prod-r-latest", lt, "$Latest")
	w.group("shop-web-prod-r-default", lt, "$Default")
	w.group("shop-web-prod-r-pinned", lt, "1")
	w.group("shop-web-prod-r-untagged", lt, "$Latest")
	w.group("shop-web-prod-r-true-capitalised", lt, "$Latest")
	allowed := map[string]string{"amibump:instance-refresh": "true"}
	for _, g := range []string{"shop-web-prod-r-latest", "shop-web-prod-r-default", "shop-web-prod-r-pinned"} {
		w.cloud.TagAutoScalingGroup(g, allowed)
	}
	w.cloud.TagAutoScalingGroup("shop-web-prod-r-true-capitalised", map[string]string{"amibump:instance-refresh": "True"}) // IAM compares exactly
	raw := edit(t, sample(t, "deploy-finished-web.json"), map[string]any{"detail.group": "r"})
	res := one(t, must(w.handle(raw)))
	if res.Status != event.Promoted {
		t.Fatalf("result %+v", res)
	}
	// A group without the tag amibump's role requires is not refreshed, and
	// the result says what tag to add.
	for _, g := range []string{"shop-web-prod-r-untagged", "shop-web-prod-r-true-capitalised"} {
		if !slices.ContainsFunc(res.Warnings, func(s string) bool {
			return strings.Contains(s, "group "+g+": instance refresh not started") && strings.Contains(s, "amibump:instance-refresh=true") &&
				strings.Contains(s, "create-or-update-tags")
		}) {
			t.Errorf("warnings %q do not tell how to let amibump refresh %s", res.Warnings, g)
		}
	}
	for group, want := range map[string]int{"shop-web-prod-r-latest": 1, "shop-web-prod-r-default": 1, "shop-web-prod-r-pinned": 0,
		"shop-web-prod-r-untagged": 0, "shop-web-prod-r-true-capitalised": 0} {
		refreshes := w.cloud.InstanceRefreshes(group)
		if len(refreshes) != want {
			t.Errorf("group %s: %d refreshes, want %d", group, len(refreshes), want)
		}
		for _, r := range refreshes {
			if r.Preferences == nil || !aws.ToBool(r.Preferences.SkipMatching) {
				t.Errorf("group %s: refresh without SkipMatching", group)
			}
		}
	}
	// A refresh that could not be started for now is returned, and the retry starts it.
	w.cloud.FinishInstanceRefreshes("shop-web-prod-r-latest")
	w.cloud.FinishInstanceRefreshes("shop-web-prod-r-default")
	w.cloud.FailNext("StartInstanceRefresh", awsfake.APIError("InternalFailure", "An internal error occurred"))
	raw = edit(t, deployEvent(t, "e1", "build-1", at(3, 0)), map[string]any{"detail.group": "r"})
	if _, err := w.handle(raw); err == nil {
		t.Fatal("a refresh that failed for now must be returned so that Lambda retries")
	}
	res = one(t, must(w.handle(raw)))
	if res.Status != event.Promoted || len(w.cloud.InstanceRefreshes("shop-web-prod-r-latest"))+len(w.cloud.InstanceRefreshes("shop-web-prod-r-default")) != 4 {
		t.Errorf("retry: %+v; want both groups refreshed a second time", res)
	}
	// A second deploy while the refreshes still run: reported, not fought.
	raw = edit(t, deployEvent(t, "e2", "build-2", at(4, 0)), map[string]any{"detail.group": "r"})
	res = one(t, must(w.handle(raw)))
	inProgress := 0
	for _, warning := range res.Warnings {
		if strings.Contains(warning, "an instance refresh is already running") {
			inProgress++
		}
	}
	if res.Status != event.Promoted || inProgress != 2 {
		t.Errorf("result %+v, want promoted with two in-progress warnings", res)
	}
}

// TestDuplicateNameIsTheSameImage: a delivery that cannot see the AMI an
// earlier one just made (EC2 is eventually consistent) gets
// InvalidAMIName.Duplicate from CreateImage; it makes no second AMI, and the
// retry resumes on the first one.
func TestDuplicateNameIsTheSameImage(t *testing.T) {
	w := newWorld(t, awsfake.WithVisibilityDelay(300*time.Millisecond), awsfake.WithImageDelay(0))
	w.deadline = 100 * time.Millisecond
	first := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if first.Status != event.Pending || first.ImageID == "" {
		t.Fatalf("first delivery: %+v, want pending on an image not yet visible", first)
	}
	_, err := w.handle(sample(t, "deploy-finished-replay.json"))
	if err == nil || !strings.Contains(err.Error(), "is taken but the image is not visible yet") {
		t.Fatalf("second delivery returned %v, want the transient not-visible-yet error", err)
	}
	if n := w.cloud.Calls("CreateImage"); n != 2 {
		t.Errorf("CreateImage called %d times, want 2 (the second refused as a duplicate)", n)
	}
	time.Sleep(300 * time.Millisecond)
	w.deadline = 10 * time.Second
	res := one(t, must(w.handle(sample(t, "deploy-finished-replay.json"))))
	if res.Status != event.Promoted || res.ImageID != first.ImageID {
		t.Errorf("retry: %+v, want promoted with %s", res, first.ImageID)
	}
	if n := len(w.amibumpImages(w.lt)); n != 1 {
		t.Errorf("%d amibump images, want 1", n)
	}
}
