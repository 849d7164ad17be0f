package bump_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/metrics"
)

// t0 is where the test worlds' clocks start (awsfake.Epoch: AMIBUMP_TEST_EPOCH moves it).
var t0 = awsfake.Epoch()

// amiStateEvent is the AMI state change event for an image, as EC2 sends it.
func amiStateEvent(t *testing.T, imageID, state string) []byte {
	name := "ami-state-available.json"
	if state == "failed" {
		name = "ami-state-failed.json"
	}
	return edit(t, sample(t, name), map[string]any{
		"detail.ImageId": imageID, "detail.State": state,
		"resources": []string{"arn:aws:ec2:us-east-1::image/" + imageID},
	})
}

// pendingWorld is a world whose AMIs take 30 minutes on a clock the test moves,
// and whose function runs out of time while waiting.
func pendingWorld(t *testing.T, opts ...awsfake.Option) (*world, *awsfake.ManualClock) {
	clock := awsfake.NewManualClock(t0)
	w := newWorld(t, append([]awsfake.Option{awsfake.WithClock(clock), awsfake.WithImageDelay(30 * time.Minute)}, opts...)...)
	w.deadline = 60 * time.Millisecond
	return w, clock
}

func TestAMIStateChange(t *testing.T) {
	t.Run("available promotes", func(t *testing.T) {
		w, clock := pendingWorld(t)
		pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		if pending.Status != event.Pending {
			t.Fatalf("deploy: %+v, want pending", pending)
		}
		clock.Advance(31 * time.Minute)
		res := one(t, must(w.handle(amiStateEvent(t, pending.ImageID, "available"))))
		latest, def := w.head(w.lt)
		if res.Status != event.Promoted || imageOf(latest) != pending.ImageID || imageOf(def) != pending.ImageID {
			t.Errorf("result %+v; $Latest %s, $Default %s; want promoted", res, imageOf(latest), imageOf(def))
		}
		if res.Build == nil || res.Build.ID != "jenkins-shop-deploy-142" || res.LaunchTemplateID != w.lt {
			t.Errorf("result does not name the build and template: %+v", res)
		}
		// A duplicate delivery changes nothing.
		again := one(t, must(w.handle(amiStateEvent(t, pending.ImageID, "available"))))
		if again.Status != event.Promoted || again.Version != res.Version || len(w.cloud.Versions(w.lt)) != 2 {
			t.Errorf("duplicate: %+v with %d versions", again, len(w.cloud.Versions(w.lt)))
		}
	})
	t.Run("failed is removed and reported, not retried", func(t *testing.T) {
		w, clock := pendingWorld(t)
		w.cloud.FailImagesOf(namedInstance, "Snapshot creation failed")
		pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		clock.Advance(31 * time.Minute)
		resp, err := w.handle(amiStateEvent(t, pending.ImageID, "failed"))
		if err != nil {
			t.Fatalf("returned %v; a failure found by the state event is reported, not retried", err)
		}
		res := one(t, resp)
		if res.Status != event.Failed || !strings.Contains(res.Reason, "Snapshot creation failed") || !strings.Contains(res.Reason, "replay the deploy event") {
			t.Errorf("result %+v, want failed with EC2's reason and what to do", res)
		}
		if _, ok := w.cloud.Image(pending.ImageID); ok {
			t.Error("the failed image was not deregistered")
		}
		if len(w.cloud.Snapshots()) != 1 { // the base AMI's own
			t.Errorf("%d snapshots, want only the base AMI's", len(w.cloud.Snapshots()))
		}
	})
	t.Run("images amibump did not make are ignored", func(t *testing.T) {
		w, _ := pendingWorld(t)
		resp, err := w.handle(amiStateEvent(t, w.baseAMI, "available"))
		if err != nil || len(resp.Results) != 0 || len(w.published()) != 0 {
			t.Errorf("got %+v, %v; want nothing", resp, err)
		}
		resp, err = w.handle(amiStateEvent(t, "ami-0000000000000dead", "available"))
		if err != nil || len(resp.Results) != 0 {
			t.Errorf("unknown image: got %+v, %v; want nothing", resp, err)
		}
	})
	t.Run("other states are ignored", func(t *testing.T) {
		w, _ := pendingWorld(t)
		resp, err := w.handle(amiStateEvent(t, w.baseAMI, "deregistered"))
		if err != nil || len(resp.Results) != 0 {
			t.Errorf("got %+v, %v; want nothing", resp, err)
		}
	})
}

func TestReconcile(t *testing.T) {
	reconcile := func(w *world) event.Response {
		return must(w.handle(sample(t, "scheduled-reconcile.json")))
	}
	t.Run("promotes the newest available image and nothing older", func(t *testing.T) {
		w, clock := pendingWorld(t)
		var images []string
		for i := range 3 {
			res := one(t, must(w.handle(deployEvent(t, "e"+itoa(i), "build-"+itoa(i), t0.Add(time.Duration(i)*time.Minute)))))
			images = append(images, res.ImageID)
			clock.Advance(time.Minute)
		}
		if got := reconcile(w); len(got.Results) != 0 {
			t.Errorf("reconcile with only pending images: %+v, want nothing", got.Results)
		}
		clock.Advance(40 * time.Minute)
		got := reconcile(w)
		res := one(t, got)
		latest, def := w.head(w.lt)
		if res.Status != event.Promoted || res.ImageID != images[2] || imageOf(latest) != images[2] || imageOf(def) != images[2] {
			t.Errorf("result %+v; $Latest %s; want %s promoted", res, imageOf(latest), images[2])
		}
		if len(w.cloud.Versions(w.lt)) != 2 {
			t.Errorf("%d versions, want 2: older images must not be promoted", len(w.cloud.Versions(w.lt)))
		}
		if res.Pruned == nil || res.Pruned.Retired != 2 || res.Pruned.Images != 0 {
			t.Errorf("pruned %+v, want the two superseded images retired (deregistered 14 days later)", res.Pruned)
		}
		if again := reconcile(w); len(again.Results) != 0 {
			t.Errorf("second reconcile: %+v, want nothing to do", again.Results)
		}
	})
	t.Run("reports images pending too long", func(t *testing.T) {
		w, clock := pendingWorld(t, awsfake.WithImageDelay(10*time.Hour))
		w.cfg.PendingLimit = 6 * time.Hour
		pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		clock.Advance(7 * time.Hour)
		b := w.bumper().WithClock(clock.Now)
		resp := must(b.Handle(context.Background(), sample(t, "scheduled-reconcile.json")))
		res := one(t, resp)
		if res.Status != event.Pending || res.ImageID != pending.ImageID || !strings.Contains(res.Reason, "longer than 6h0m0s") {
			t.Errorf("result %+v, want a pending report", res)
		}
	})
	t.Run("removes and reports failed images", func(t *testing.T) {
		w, clock := pendingWorld(t)
		w.cloud.FailImagesOf(namedInstance, "Snapshot creation failed")
		pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		clock.Advance(31 * time.Minute)
		res := one(t, reconcile(w))
		if res.Status != event.Failed || res.ImageID != pending.ImageID {
			t.Errorf("result %+v, want failed", res)
		}
		if _, ok := w.cloud.Image(pending.ImageID); ok {
			t.Error("the failed image is still registered")
		}
	})
	t.Run("catches up on retention that failed", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:delete-after": "0"}) // deregistered at once
		w.cloud.Deny("DeregisterImage")                                                 // a policy missing the permission for a while
		var last event.Result
		for i := range 17 { // more candidates than DescribeImageReferences takes at once
			last = one(t, must(w.handle(deployEvent(t, "e"+itoa(i), "build-"+itoa(i), t0.Add(time.Duration(i-17)*time.Minute)))))
		}
		if last.Status != event.Promoted || len(w.amibumpImages(w.lt)) != 17 {
			t.Fatalf("last %+v with %d images; want promoted, nothing deregistered", last, len(w.amibumpImages(w.lt)))
		}
		w.cloud.Allow("DeregisterImage")
		if resp := reconcile(w); len(resp.Results) != 0 {
			t.Errorf("retention alone produced results %+v; nothing was promoted", resp.Results)
		}
		if n := len(w.amibumpImages(w.lt)); n != 5 {
			t.Errorf("%d images after reconcile, want the 5 that retention keeps", n)
		}
	})
	t.Run("a version amibump did not make on top is left alone", func(t *testing.T) {
		w := newWorld(t)
		promoted := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		// An operator (or Terraform) makes version 3 from version 2, bigger
		// instances, and makes it the default.
		must(w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(w.lt), SourceVersion: aws.String("2"), VersionDescription: aws.String("ops: bigger instances"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeM5Large},
		}))
		must(w.cloud.EC2().ModifyLaunchTemplate(context.Background(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(w.lt), DefaultVersion: aws.String("3")}))
		for range 2 {
			if resp := reconcile(w); len(resp.Results) != 0 {
				t.Errorf("reconcile reported %+v; nothing was due", resp.Results)
			}
		}
		latest, def := w.head(w.lt)
		if aws.ToInt64(latest.VersionNumber) != 3 || aws.ToInt64(def.VersionNumber) != 3 || imageOf(latest) != promoted.ImageID {
			t.Errorf("$Latest %d, $Default %d; want the operator's version 3 left as it is", aws.ToInt64(latest.VersionNumber), aws.ToInt64(def.VersionNumber))
		}
	})
	t.Run("a promoted version deleted since is not made again", func(t *testing.T) {
		clock := awsfake.NewManualClock(t0)
		w := newWorld(t, awsfake.WithClock(clock), awsfake.WithImageDelay(0))
		promoted := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		// A rollback by hand: default back to 1, version 2 deleted.
		must(w.cloud.EC2().ModifyLaunchTemplate(context.Background(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(w.lt), DefaultVersion: aws.String("1")}))
		must(w.cloud.EC2().DeleteLaunchTemplateVersions(context.Background(), &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(w.lt), Versions: []string{"2"}}))
		// Right after the version was made, not seeing it may be EC2's eventual
		// consistency: a transient error, nothing made again.
		if _, err := w.handle(sample(t, "scheduled-reconcile.json")); err == nil || bump.IsPermanent(err) {
			t.Errorf("returned %v right after the version was made; want a transient error", err)
		}
		if vs := w.cloud.Versions(w.lt); len(vs) != 1 {
			t.Fatalf("%d versions, want the rollback kept (1)", len(vs))
		}
		// Much later it is not: the version was deleted.
		clock.Advance(time.Hour)
		w.cloud.ResetCalls()
		resp, err := w.handle(sample(t, "scheduled-reconcile.json"))
		if err != nil {
			t.Fatalf("returned %v; a deleted version is for a person, not for retries", err)
		}
		res := one(t, resp)
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "was deleted after amibump created it") || !strings.Contains(res.Reason, "deregister "+promoted.ImageID) {
			t.Errorf("result %+v, want rejected saying what to do", res)
		}
		if n := w.cloud.Calls("CreateLaunchTemplateVersion"); n != 1 {
			t.Errorf("%d CreateLaunchTemplateVersion calls, want 1 (the token replay)", n)
		}
		if vs := w.cloud.Versions(w.lt); len(vs) != 1 {
			t.Errorf("%d versions, want the rollback kept (1)", len(vs))
		}
	})
	t.Run("access denied listing the account is rejected, not retried", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.Deny("DescribeLaunchTemplates")
		resp, err := w.handle(sample(t, "scheduled-reconcile.json"))
		if err != nil {
			t.Fatalf("returned %v, want a rejected result", err)
		}
		if res := one(t, resp); res.Status != event.Rejected || !strings.Contains(res.Reason, "UnauthorizedOperation") {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("moves a default left behind", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailNext("ModifyLaunchTemplate", awsfake.APIError("InternalError", "An internal error has occurred"))
		if _, err := w.handle(sample(t, "deploy-finished-web.json")); err == nil {
			t.Fatal("want the 5xx returned")
		}
		if _, def := w.head(w.lt); aws.ToInt64(def.VersionNumber) != 1 {
			t.Fatalf("default moved despite the failure")
		}
		res := one(t, reconcile(w))
		if _, def := w.head(w.lt); res.Status != event.Promoted || aws.ToInt64(def.VersionNumber) != 2 {
			t.Errorf("result %+v, default %d; want default moved to 2", res, aws.ToInt64(def.VersionNumber))
		}
	})
}

// TestReconcileIsBounded: over 500 managed templates and 5,000 amibump AMIs,
// reconcile promotes what is due, then, with nothing due, reads the account in
// a few paginated listings and makes no call per template or per AMI.
func TestReconcileIsBounded(t *testing.T) {
	w := newWorld(t)
	// Counts calls, not time: on a loaded machine the first reconcile of 500
	// templates must not run out of time mid-retention and leave work for the second.
	w.deadline = 2 * time.Minute
	for i := range 500 {
		lt := w.template(fmt.Sprintf("app-%03d", i), nil)
		for j := range 10 {
			w.cloud.AddImage(awsfake.Image{Name: fmt.Sprintf("app-%03d-%d", i, j), Tags: map[string]string{
				"amibump:launch-template": lt, "amibump:build-id": fmt.Sprintf("b-%d-%d", i, j), "amibump:deployed-at": t0.Add(time.Duration(j) * time.Minute).Format(time.RFC3339),
			}})
		}
	}
	// The function's own timeout: 4-8 s of work on a quiet machine must not
	// run into the test world's usual 10 s deadline on a busy one.
	w.deadline = 15 * time.Minute
	first := must(w.handle(sample(t, "scheduled-reconcile.json")))
	promoted := 0
	for _, r := range first.Results {
		if r.Status == event.Promoted && strings.HasSuffix(r.Build.ID, "-9") {
			promoted++
		}
	}
	if promoted != 500 {
		t.Fatalf("first reconcile promoted the newest image of %d templates, want 500", promoted)
	}
	w.cloud.ResetCalls()
	if resp := must(w.handle(sample(t, "scheduled-reconcile.json"))); len(resp.Results) != 0 {
		t.Fatalf("%d results, want none; first: %+v", len(resp.Results), resp.Results[0])
	}
	total := 0
	for _, op := range []string{"DescribeLaunchTemplates", "DescribeImages", "DescribeLaunchTemplateVersions", "DescribeInstances", "DescribeAutoScalingGroups"} {
		total += w.cloud.Calls(op)
	}
	if total > 20 {
		t.Errorf("%d describe calls for 500 templates and their images, want at most 20 (paginated listings only)", total)
	}
}

// A reconcile tick older than the reconcile period (one that waited in
// Lambda's queue while the function was throttled) is skipped and counted;
// one within the period reconciles.
func TestStaleReconcileTickIsSkipped(t *testing.T) {
	w, clock := pendingWorld(t)
	w.cfg.ReconcilePeriod = 10 * time.Minute
	pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	clock.Advance(31 * time.Minute) // the AMI is available: a reconcile would promote it
	tick := func(age time.Duration) []byte {
		return edit(t, sample(t, "scheduled-reconcile.json"), map[string]any{"time": clock.Now().Add(-age).Format(time.RFC3339)})
	}

	resp, values, _ := w.handleLogged(tick(11 * time.Minute))
	if len(resp.Results) != 0 {
		t.Errorf("stale tick: results %+v, want none", resp.Results)
	}
	if diff := cmp.Diff(map[string]float64{metrics.StaleTicksSkipped: 1}, values); diff != "" {
		t.Errorf("stale tick: metrics (-want +got):\n%s", diff)
	}
	if latest, _ := w.head(w.lt); imageOf(latest) == pending.ImageID {
		t.Error("stale tick promoted the image; it should have done nothing")
	}

	resp, values, _ = w.handleLogged(tick(10 * time.Minute))
	if res := one(t, resp); res.Status != event.Promoted || res.ImageID != pending.ImageID {
		t.Errorf("tick within the period: result %+v, want %s promoted", res, pending.ImageID)
	}
	if values[metrics.StaleTicksSkipped] != 0 {
		t.Errorf("tick within the period counted as skipped: %v", values)
	}
}
