package bump_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

const param = "/amibump/shop-web-prod-a"

// ssmWorld is the usual world on a manual clock, an hour after its base AMI
// was made, with images available at once.
func ssmWorld(t *testing.T) (*world, *awsfake.ManualClock) {
	w, clock := pendingWorld(t, awsfake.WithImageDelay(0))
	w.deadline = 5 * time.Second
	clock.Advance(time.Hour)
	return w, clock
}

// tagTemplate sets tags on the world's template, as a person would.
func (w *world) tagTemplate(tags map[string]string) {
	w.t.Helper()
	in := &ec2.CreateTagsInput{Resources: []string{w.lt}}
	for k, v := range tags {
		in.Tags = append(in.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := w.cloud.EC2().CreateTags(context.Background(), in); err != nil {
		w.t.Fatal(err)
	}
}

// handVersion makes a version of the world's template the way Terraform or a
// person would: from $Latest, with another ImageId, not marked as amibump's.
func (w *world) handVersion(imageID string) int64 {
	w.t.Helper()
	out, err := w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(w.lt), SourceVersion: aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID)},
		VersionDescription: aws.String("terraform apply"),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
}

func (w *world) paramValue(name string) (string, int64) {
	p, ok := w.cloud.Parameter(name)
	if !ok {
		return "", 0
	}
	return aws.ToString(p.Value), p.Version
}

func (w *world) deployAt(clock *awsfake.ManualClock, id, build string) event.Result {
	w.t.Helper()
	clock.Advance(time.Minute)
	return one(w.t, must(w.handle(deployEvent(w.t, id, build, clock.Now()))))
}

func TestTaggedTemplatePublishesToParameter(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
	first := w.deployAt(clock, "e1", "build-1")
	got, version := w.paramValue(param)
	if first.Status != event.Promoted || got != first.ImageID {
		t.Fatalf("result %+v; parameter holds %q, want %s", first, got, first.ImageID)
	}
	if p, _ := w.cloud.Parameter(param); aws.ToString(p.DataType) != "aws:ec2:image" || p.Type != "String" {
		t.Errorf("parameter %+v, want a String of data type aws:ec2:image", p)
	}
	// A replay of the same deploy changes nothing, not even the parameter's version.
	replay := one(t, must(w.handle(deployEvent(t, "e1-replay", "build-1", clock.Now()))))
	if _, v := w.paramValue(param); v != version || replay.Status != event.Promoted {
		t.Errorf("replay: %+v; parameter version %d, want %d (no new write)", replay, v, version)
	}
	second := w.deployAt(clock, "e2", "build-2")
	if got, _ := w.paramValue(param); got != second.ImageID {
		t.Errorf("after a newer deploy the parameter holds %s, want %s", got, second.ImageID)
	}
	// An older deploy arriving late is superseded and never written.
	late := one(t, must(w.handle(deployEvent(t, "e0", "build-0", clock.Now().Add(-30*time.Minute)))))
	if got, _ := w.paramValue(param); late.Status != event.Superseded || got != second.ImageID {
		t.Errorf("late deploy: %+v; parameter holds %s, want %s", late, got, second.ImageID)
	}
}

func TestParameterNeverWrittenBackwards(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "/amibump/web/current"})
	older := w.deployAt(clock, "e1", "build-1")
	newer := w.deployAt(clock, "e2", "build-2")
	// The parameter ends on the newer AMI; reconcile puts it back when someone
	// (or a lost race) leaves an older one in it, and never moves it backwards.
	w.cloud.AddParameter("/amibump/web/current", older.ImageID, "aws:ec2:image")
	if res := must(w.handle(sample(t, "scheduled-reconcile.json"))); len(res.Results) != 0 {
		t.Errorf("reconcile: %+v, want no results", res.Results)
	}
	if got, _ := w.paramValue("/amibump/web/current"); got != newer.ImageID {
		t.Errorf("after reconcile the parameter holds %s, want %s", got, newer.ImageID)
	}
	_, version := w.paramValue("/amibump/web/current")
	must(w.handle(sample(t, "scheduled-reconcile.json")))
	if _, v := w.paramValue("/amibump/web/current"); v != version {
		t.Errorf("a second reconcile wrote again: version %d, want %d", v, version)
	}
}

func TestParameterTagOutsidePrefixIsRejected(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "/platform/ami"})
	res := w.deployAt(clock, "e1", "build-1")
	if res.Status != event.Rejected || !strings.Contains(res.Reason, event.TagSSMParameter) || !strings.Contains(res.Reason, "/amibump/") {
		t.Errorf("got %+v, want rejected naming the tag and the prefix", res)
	}
	if imgs := w.amibumpImages(w.lt); len(imgs) != 0 || len(w.cloud.Versions(w.lt)) != 1 {
		t.Errorf("%d images, %d versions: nothing may be made", len(imgs), len(w.cloud.Versions(w.lt)))
	}
}

func TestParameterWriteRetried(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
	w.cloud.FailNext("PutParameter", awsfake.SSMThrottle())
	clock.Advance(time.Minute)
	raw := deployEvent(t, "e1", "build-1", clock.Now())
	if _, err := w.handle(raw); err == nil {
		t.Fatal("a throttled parameter write must be returned for Lambda to retry")
	}
	res := one(t, must(w.handle(raw)))
	if got, _ := w.paramValue(param); res.Status != event.Promoted || got != res.ImageID {
		t.Errorf("retry: %+v; parameter holds %q", res, got)
	}
	if n := len(w.cloud.Versions(w.lt)); n != 2 {
		t.Errorf("%d versions, want 2: the retry must not make another", n)
	}
}

func TestParameterOfAnotherDataTypeIsAWarning(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
	w.cloud.AddParameter(param, "hello", "text")
	res := w.deployAt(clock, "e1", "build-1")
	if res.Status != event.Promoted || !strings.Contains(strings.Join(res.Warnings, "\n"), "data type") {
		t.Errorf("got %+v, want promoted with a warning about the data type", res)
	}
	if got, _ := w.paramValue(param); got != "hello" {
		t.Errorf("parameter holds %q, want it left alone", got)
	}
}

// resolveWorld: Terraform made version 2 of the template with ImageId
// resolve:ssm:<name>, and the parameter holds the base AMI.
func resolveWorld(t *testing.T, name string) (*world, *awsfake.ManualClock) {
	w, clock := ssmWorld(t)
	w.cloud.AddParameter(name, w.baseAMI, "aws:ec2:image")
	w.handVersion("resolve:ssm:" + name)
	return w, clock
}

func TestResolveTemplateKeepsResolving(t *testing.T) {
	w, clock := resolveWorld(t, param)
	// CloudFormation pins groups to a version number; one that resolves the
	// parameter launches the current release all the same.
	w.group("shop-web-prod-a-cfn", w.lt, "2")
	w.group("shop-web-prod-a-old", w.lt, "1")
	res := w.deployAt(clock, "e1", "build-1")
	if warnings := strings.Join(res.Warnings, "\n"); strings.Contains(warnings, "shop-web-prod-a-cfn") || !strings.Contains(warnings, "shop-web-prod-a-old is pinned") {
		t.Errorf("warnings %q: want one for the group pinned to a literal AMI's version only", res.Warnings)
	}
	latest, def := w.head(w.lt)
	if res.Status != event.Promoted || imageOf(latest) != "resolve:ssm:"+param || aws.ToInt64(latest.VersionNumber) != 3 {
		t.Fatalf("result %+v; $Latest %d has ImageId %s; want a version 3 that still resolves the parameter", res, aws.ToInt64(latest.VersionNumber), imageOf(latest))
	}
	if got, _ := w.paramValue(param); got != res.ImageID {
		t.Errorf("parameter holds %s, want %s", got, res.ImageID)
	}
	if got, err := w.cloud.LaunchImage(w.lt, "$Latest"); err != nil || got != res.ImageID {
		t.Errorf("a launch from $Latest runs %s (%v), want %s", got, err, res.ImageID)
	}
	if aws.ToInt64(def.VersionNumber) != 3 || !strings.Contains(aws.ToString(latest.VersionDescription), res.ImageID) {
		t.Errorf("$Default %d, description %q: want $Default on 3 and the AMI named", aws.ToInt64(def.VersionNumber), aws.ToString(latest.VersionDescription))
	}
	// A newer deploy, then a replay of the first: the replay is superseded, as
	// on any template, because version 3 is known to stand for the first AMI.
	second := w.deployAt(clock, "e2", "build-2")
	replay := one(t, must(w.handle(deployEvent(t, "e1-replay", "build-1", clock.Now().Add(-2*time.Minute)))))
	if got, _ := w.paramValue(param); second.Status != event.Promoted || replay.Status != event.Superseded || got != second.ImageID {
		t.Errorf("second %+v, replay %+v, parameter %s", second, replay, got)
	}
	if again := must(w.handle(sample(t, "scheduled-reconcile.json"))); len(again.Results) != 0 {
		t.Errorf("reconcile after promotions: %+v, want nothing to do", again.Results)
	}
}

func TestResolveTemplateOutsidePrefix(t *testing.T) {
	for name, alias := range map[string]string{
		"outside the prefix": "/platform/web-ami",
		"a pinned version":   param + ":1",
	} {
		t.Run(name, func(t *testing.T) {
			w, clock := ssmWorld(t)
			w.cloud.AddParameter(strings.Split(alias, ":")[0], w.baseAMI, "aws:ec2:image")
			w.handVersion("resolve:ssm:" + alias)
			res := w.deployAt(clock, "e1", "build-1")
			if res.Status != event.Rejected || !strings.Contains(res.Reason, "resolve:ssm:"+alias) {
				t.Errorf("got %+v, want rejected naming the ImageId", res)
			}
			latest, _ := w.head(w.lt)
			if imgs := w.amibumpImages(w.lt); len(imgs) != 0 || imageOf(latest) != "resolve:ssm:"+alias {
				t.Errorf("%d images, $Latest ImageId %s: nothing may be made or replaced", len(imgs), imageOf(latest))
			}
		})
	}
}

func TestReconcileReportsDriftOnce(t *testing.T) {
	w, clock := ssmWorld(t)
	promoted := w.deployAt(clock, "e1", "build-1")
	reconcile := func() []event.Result { return must(w.handle(sample(t, "scheduled-reconcile.json"))).Results }
	// terraform apply: a new version from the AMI in the code, made before the deploy.
	n := w.handVersion(w.baseAMI)
	got := reconcile()
	if len(got) != 1 || got[0].Status != event.Drifted || got[0].Version != n || got[0].ImageID != w.baseAMI ||
		!strings.Contains(got[0].Reason, promoted.ImageID) || !strings.Contains(got[0].Reason, "infrastructure-as-code") {
		t.Fatalf("reconcile: %+v, want one drifted result naming version %d, %s and %s", got, n, w.baseAMI, promoted.ImageID)
	}
	if again := reconcile(); len(again) != 0 {
		t.Errorf("second reconcile: %+v, want the drift reported once", again)
	}
	if latest, _ := w.head(w.lt); imageOf(latest) != w.baseAMI {
		t.Errorf("$Latest carries %s: amibump must not fight the drift", imageOf(latest))
	}
	// Another apply makes another drifted version: reported again, once.
	n2 := w.handVersion(w.baseAMI)
	if got := reconcile(); len(got) != 1 || got[0].Version != n2 {
		t.Errorf("after a second revert: %+v, want one drifted result for version %d", got, n2)
	}
	// The next deploy is promoted on top; nothing drifts.
	w.deployAt(clock, "e2", "build-2")
	if got := reconcile(); len(got) != 0 {
		t.Errorf("after the next deploy: %+v, want nothing", got)
	}
}

func TestReconcileIgnoresNewerOrResolvingHandVersions(t *testing.T) {
	for name, imageOf := range map[string]func(w *world) string{
		"a newer AMI": func(w *world) string { return w.cloud.AddImage(awsfake.Image{Name: "packer-2026"}) },
		"a resolve:ssm: id": func(w *world) string {
			w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
			return "resolve:ssm:" + param
		},
	} {
		t.Run(name, func(t *testing.T) {
			w, clock := ssmWorld(t)
			w.deployAt(clock, "e1", "build-1")
			clock.Advance(time.Hour)
			w.handVersion(imageOf(w))
			if got := must(w.handle(sample(t, "scheduled-reconcile.json"))).Results; len(got) != 0 {
				t.Errorf("reconcile: %+v, want no drift", got)
			}
		})
	}
}

// TestRefreshOfGroupThatResolvesAParameter: Auto Scaling refuses skip matching
// (and rollback, and a desired configuration) for a group whose template reads
// an SSM parameter; amibump starts a plain refresh there and says so, and keeps
// skip matching for the groups of a literal AMI.
func TestRefreshOfGroupThatResolvesAParameter(t *testing.T) {
	w, clock := resolveWorld(t, param)
	w.tagTemplate(map[string]string{event.TagInstanceRefresh: "true"})
	res := w.deployAt(clock, "e1", "build-1")
	refreshes := w.cloud.InstanceRefreshes("shop-web-prod-a")
	if res.Status != event.Promoted || len(refreshes) != 1 {
		t.Fatalf("result %+v, %d refreshes; want promoted and one refresh", res, len(refreshes))
	}
	if p := refreshes[0].Preferences; p == nil || aws.ToBool(p.SkipMatching) || p.ScaleInProtectedInstances != "Ignore" {
		t.Errorf("refresh preferences %+v, want no SkipMatching and protected instances ignored", p)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "skip matching") || !strings.Contains(w, "every instance") {
		t.Errorf("warnings %q, want one saying the refresh replaces every instance, without skip matching", res.Warnings)
	}
}

// validatingWorld is ssmWorld where EC2 takes 30 seconds (of the world's
// clock) to validate an aws:ec2:image parameter value.
func validatingWorld(t *testing.T) (*world, *awsfake.ManualClock) {
	w, clock := pendingWorld(t, awsfake.WithImageDelay(0), awsfake.WithParameterValidation(30*time.Second))
	w.deadline = 5 * time.Second
	clock.Advance(time.Hour)
	return w, clock
}

// TestRefreshWaitsForTheParameter: until EC2 has validated the new value, a
// launch from the template still runs the old AMI, so no instance refresh may
// start; the deploy is retried, and the retry starts it once the parameter
// resolves to the new AMI. Nothing is reported as a problem meanwhile.
func TestRefreshWaitsForTheParameter(t *testing.T) {
	w, clock := validatingWorld(t)
	w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
	w.handVersion("resolve:ssm:" + param)
	w.tagTemplate(map[string]string{event.TagInstanceRefresh: "true"})
	clock.Advance(time.Minute)
	raw := deployEvent(t, "e1", "build-1", clock.Now())
	resp, err := w.handle(raw)
	if n := len(w.cloud.InstanceRefreshes("shop-web-prod-a")); n != 0 {
		t.Fatalf("%d refreshes started while the parameter still resolves %s (result %+v, %v)", n, w.baseAMI, resp.Results, err)
	}
	if err == nil || bump.IsPermanent(err) {
		t.Fatalf("got %+v, %v; want a transient error: the parameter is not validated yet", resp.Results, err)
	}
	clock.Advance(30 * time.Second)
	res := one(t, must(w.handle(raw)))
	launches, _ := w.cloud.LaunchImage(w.lt, "$Latest")
	if res.Status != event.Promoted || launches != res.ImageID || len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != 1 {
		t.Errorf("retry: %+v; $Latest launches %s; %d refreshes; want promoted, %s, one refresh",
			res, launches, len(w.cloud.InstanceRefreshes("shop-web-prod-a")), res.ImageID)
	}
	for _, warning := range res.Warnings {
		if strings.Contains(warning, "parameter") && !strings.Contains(warning, "SSM parameter, for which") {
			t.Errorf("warning %q about a parameter that was only being validated", warning)
		}
	}
	if f := w.cloud.ParameterFailures(); len(f) != 0 {
		t.Errorf("validation failures %q", f)
	}
}

// TestPromotionWaitsMinutesForTheParameter: EC2's validation "can take up to
// a few minutes", so the deploy keeps reading the parameter beyond a few
// reads, within its time, and starts the refresh in the same invocation once
// the parameter resolves to the new AMI.
func TestPromotionWaitsMinutesForTheParameter(t *testing.T) {
	w, clock := validatingWorld(t)
	w.cfg.ParameterWait = 3 * time.Second
	w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
	w.handVersion("resolve:ssm:" + param)
	w.tagTemplate(map[string]string{event.TagInstanceRefresh: "true"})
	clock.Advance(time.Minute)
	raw := deployEvent(t, "e1", "build-1", clock.Now())
	done := make(chan struct{})
	defer close(done)
	go func() { // EC2 validates the write after more reads than a handful
		for w.cloud.Calls("GetParameter") < 8 {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
		clock.Advance(30 * time.Second)
	}()
	res := one(t, must(w.handle(raw)))
	if launches, _ := w.cloud.LaunchImage(w.lt, "$Latest"); res.Status != event.Promoted || launches != res.ImageID || len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != 1 {
		t.Errorf("got %+v; $Latest launches %s; %d refreshes; want promoted, the new AMI, one refresh, in one invocation",
			res, launches, len(w.cloud.InstanceRefreshes("shop-web-prod-a")))
	}
}

// TestWriteDuringOurValidationIsBusy: AWS refuses a write while the one
// before is validated without saying with which code; a retry whose attempt
// before wrote the parameter takes any refusal then, even one whose code
// reads as permanent, for "not yet": no warning, no refresh while the
// parameter still resolves the old AMI, and the retry after validation
// finishes the job.
func TestWriteDuringOurValidationIsBusy(t *testing.T) {
	w, clock := validatingWorld(t)
	w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
	w.handVersion("resolve:ssm:" + param)
	w.tagTemplate(map[string]string{event.TagInstanceRefresh: "true"})
	clock.Advance(time.Minute)
	raw := deployEvent(t, "e1", "build-1", clock.Now())
	if _, err := w.handle(raw); err == nil || bump.IsPermanent(err) {
		t.Fatalf("first attempt: %v, want a transient error while EC2 validates", err)
	}
	w.cloud.FailNext("PutParameter", awsfake.APIError("ParameterLimitExceeded", "validation is still in process"))
	resp, err := w.handle(raw)
	if err == nil || bump.IsPermanent(err) || len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != 0 {
		t.Fatalf("retry during validation: %+v, %v, %d refreshes; want a transient error and no refresh",
			resp.Results, err, len(w.cloud.InstanceRefreshes("shop-web-prod-a")))
	}
	clock.Advance(30 * time.Second)
	res := one(t, must(w.handle(raw)))
	if res.Status != event.Promoted || strings.Contains(strings.Join(res.Warnings, "\n"), "ParameterLimitExceeded") || len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != 1 {
		t.Errorf("retry after validation: %+v, %d refreshes; want promoted, one refresh, no parameter warning", res, len(w.cloud.InstanceRefreshes("shop-web-prod-a")))
	}
}

// TestCloseDeploysLeaveTheNewestInTheParameter: two deploys land while EC2
// still validates the first write; the second's write is refused meanwhile.
// However the retries fall, the parameter ends on the newer release, by the
// next reconcile at the latest.
func TestCloseDeploysLeaveTheNewestInTheParameter(t *testing.T) {
	w, clock := validatingWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
	clock.Advance(time.Minute)
	older := deployEvent(t, "e1", "build-1", clock.Now())
	if _, err := w.handle(older); err == nil {
		t.Fatal("first deploy: want a transient error while its write is validated")
	}
	clock.Advance(time.Second)
	newer := deployEvent(t, "e2", "build-2", clock.Now())
	resp, err := w.handle(newer)
	if err == nil {
		t.Fatalf("second deploy: %+v; want a transient error, its write refused while the first is validated", resp.Results)
	}
	clock.Advance(time.Minute)
	if res := one(t, must(w.handle(older))); res.Status != event.Superseded {
		t.Errorf("retry of the older deploy: %+v, want superseded", res)
	}
	must(w.handle(sample(t, "scheduled-reconcile.json")))
	clock.Advance(time.Minute)
	latest, _ := w.head(w.lt)
	if got, _ := w.paramValue(param); got != imageOf(latest) {
		t.Errorf("parameter holds %s, want the newer release %s", got, imageOf(latest))
	}
	if res := one(t, must(w.handle(newer))); res.Status != event.Promoted || len(res.Warnings) != 0 {
		t.Errorf("retry of the newer deploy: %+v, want promoted without warnings", res)
	}
}

// TestParameterTierNeverChanges: a write that names no tier gets the account's
// default, so amibump names the tier the parameter has: an Advanced parameter
// stays Advanced under a Standard default (SSM refuses the downgrade), a
// Standard one stays Standard under an Advanced default (no charge appears),
// and a new one is Intelligent-Tiering's choice: Standard, or Advanced once the
// account's standard parameters are used up (where naming Standard fails).
func TestParameterTierNeverChanges(t *testing.T) {
	for name, tc := range map[string]struct {
		had, accountDefault, want ssmtypes.ParameterTier
		quotaReached              bool
	}{
		"advanced under a standard default":       {ssmtypes.ParameterTierAdvanced, ssmtypes.ParameterTierStandard, ssmtypes.ParameterTierAdvanced, false},
		"standard under an advanced default":      {ssmtypes.ParameterTierStandard, ssmtypes.ParameterTierAdvanced, ssmtypes.ParameterTierStandard, false},
		"standard at the standard quota":          {ssmtypes.ParameterTierStandard, ssmtypes.ParameterTierIntelligentTiering, ssmtypes.ParameterTierStandard, true},
		"new under an advanced default":           {"", ssmtypes.ParameterTierAdvanced, ssmtypes.ParameterTierStandard, false},
		"new at the standard quota":               {"", ssmtypes.ParameterTierIntelligentTiering, ssmtypes.ParameterTierAdvanced, true},
		"new at the standard quota, standard too": {"", ssmtypes.ParameterTierStandard, ssmtypes.ParameterTierAdvanced, true},
	} {
		t.Run(name, func(t *testing.T) {
			w, clock := ssmWorld(t)
			w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
			if tc.had != "" {
				w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
				w.cloud.SetParameterTier(param, tc.had)
			}
			w.cloud.SetDefaultParameterTier(tc.accountDefault)
			w.cloud.SetStandardParameterQuotaReached(tc.quotaReached)
			res := w.deployAt(clock, "e1", "build-1")
			if got, _ := w.paramValue(param); res.Status != event.Promoted || len(res.Warnings) != 0 || got != res.ImageID {
				t.Fatalf("result %+v; parameter holds %s", res, got)
			}
			h, err := w.cloud.SSM().GetParameterHistory(context.Background(), &ssm.GetParameterHistoryInput{Name: aws.String(param)})
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Parameters[len(h.Parameters)-1].Tier; got != tc.want {
				t.Errorf("tier %s, want %s", got, tc.want)
			}
		})
	}
}

// TestDryRunChecksParameters: SSM has no DryRun, so the dry run reads each
// parameter: it exists (or may be created), is a String of data type
// aws:ec2:image, is under the prefix; and it says what reading cannot check.
func TestDryRunChecksParameters(t *testing.T) {
	tests := []struct {
		name    string
		seed    func(w *world)
		status  event.Status
		plan    []string // each in some line of the plan
		warning string
		reason  string
	}{
		{"a resolving template's parameter", func(w *world) {
			w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
			w.handVersion("resolve:ssm:" + param)
		}, event.DryRun, []string{"resolve:ssm:" + param, "write the new AMI id to SSM parameter " + param, "holds ", "not checked"}, "", ""},
		{"a parameter amibump creates", func(w *world) {
			w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
		}, event.DryRun, []string{"create SSM parameter " + param, "not checked"}, "", ""},
		{"a SecureString", func(w *world) {
			w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
			if _, err := w.cloud.SSM().PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String("secret"), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
				w.t.Fatal(err)
			}
		}, event.DryRun, nil, "SecureString", ""},
		{"a parameter of data type text", func(w *world) {
			w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
			w.cloud.AddParameter(param, "hello", "text")
		}, event.DryRun, nil, "data type", ""},
		{"a parameter whose history may not be read", func(w *world) {
			w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
			w.handVersion("resolve:ssm:" + param)
			w.cloud.Deny("GetParameterHistory")
		}, event.Rejected, nil, "", "ssm:GetParameterHistory on " + param},
		{"a tag outside the prefix", func(w *world) {
			w.tagTemplate(map[string]string{event.TagSSMParameter: "/platform/ami"})
		}, event.Rejected, nil, "", "/amibump/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, clock := ssmWorld(t)
			tt.seed(w)
			w.cloud.ResetCalls()
			clock.Advance(time.Minute)
			raw := edit(t, deployEvent(t, "e1", "build-1", clock.Now()), map[string]any{"detail.dryRun": true})
			res := one(t, must(w.handle(raw)))
			plan, warnings := strings.Join(res.Plan, "\n"), strings.Join(res.Warnings, "\n")
			if res.Status != tt.status || !strings.Contains(res.Reason, tt.reason) || !strings.Contains(warnings, tt.warning) {
				t.Fatalf("got %+v, want %s with warning %q and reason %q", res, tt.status, tt.warning, tt.reason)
			}
			for _, want := range tt.plan {
				if !strings.Contains(plan, want) {
					t.Errorf("plan %q: want a line with %q", res.Plan, want)
				}
			}
			if n := w.cloud.Calls("PutParameter"); n != 0 {
				t.Errorf("%d PutParameter calls in a dry run", n)
			}
		})
	}
}
