package bump_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// retireWorld is a world on a manual clock whose template keeps one release:
// each release is a deploy (pending) that reconcile promotes 31 minutes later.
type retireWorld struct {
	*world
	clock  *awsfake.ManualClock
	builds int
}

func newRetireWorld(t *testing.T, tags map[string]string) *retireWorld {
	clock := awsfake.NewManualClock(t0)
	w, _ := pendingWorld(t, awsfake.WithClock(clock))
	all := map[string]string{"amibump:keep": "1"}
	for k, v := range tags {
		all[k] = v
	}
	w.cloud.TagLaunchTemplate(w.lt, all)
	return &retireWorld{world: w, clock: clock}
}

// release deploys a new build and lets reconcile promote it; it returns the
// promotion's result.
func (w *retireWorld) release() event.Result {
	w.t.Helper()
	w.builds++
	build := "build-" + itoa(w.builds)
	pending := one(w.t, must(w.handle(deployEvent(w.t, "e-"+build, build, w.clock.Now()))))
	w.clock.Advance(31 * time.Minute)
	res := one(w.t, w.reconcile())
	if res.Status != event.Promoted || res.ImageID != pending.ImageID {
		w.t.Fatalf("release %s: %+v, want %s promoted", build, res, pending.ImageID)
	}
	return res
}

func (w *retireWorld) reconcile() event.Response {
	w.t.Helper()
	return must(w.handle(sample(w.t, "scheduled-reconcile.json")))
}

// lifecycle reads an image as EC2 tells it to its owner (disabled ones too).
func (w *world) lifecycle(id string) (ec2types.Image, bool) {
	out, err := w.cloud.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDisabled: aws.Bool(true)})
	if err != nil || len(out.Images) == 0 {
		return ec2types.Image{}, false
	}
	return out.Images[0], true
}

func TestStagedRetirement(t *testing.T) {
	w := newRetireWorld(t, nil) // amibump:delete-after: the default, 14 days
	first := w.release()
	second := w.release()
	if second.Pruned == nil || second.Pruned.Retired != 1 || second.Pruned.Images != 0 {
		t.Errorf("pruned %+v, want the first release retired, nothing deregistered", second.Pruned)
	}
	retiredAt := w.clock.Now()
	img, ok := w.lifecycle(first.ImageID)
	deprecated, _ := time.Parse(time.RFC3339, aws.ToString(img.DeprecationTime))
	if !ok || img.State != ec2types.ImageStateDisabled || !deprecated.Equal(plan.DeprecateAt(retiredAt)) {
		t.Fatalf("first image %v: state %s, deprecated %s; want disabled, deprecated at %s", ok, img.State, aws.ToString(img.DeprecationTime), plan.DeprecateAt(retiredAt))
	}
	if p := aws.ToString(img.DeregistrationProtection); !strings.HasPrefix(p, "disabled") {
		t.Errorf("retired image's protection %q, want lifted", p)
	}

	w.clock.Advance(14*24*time.Hour - time.Hour)
	if resp := w.reconcile(); len(resp.Results) != 0 {
		t.Errorf("reconcile before the deletion is due: %+v, want nothing", resp.Results)
	}
	if _, ok := w.lifecycle(first.ImageID); !ok {
		t.Fatal("the retired image was deregistered before amibump:delete-after passed")
	}
	w.clock.Advance(2 * time.Hour)
	w.reconcile()
	if _, ok := w.cloud.Image(first.ImageID); ok {
		t.Errorf("the retired image is still registered 14 days after its retirement")
	}
	for _, s := range w.cloud.Snapshots() {
		if tag(s.Tags, "amibump:build-id") == "build-1" {
			t.Errorf("snapshot %s of the retired image is left", aws.ToString(s.SnapshotId))
		}
	}
	if _, ok := w.lifecycle(second.ImageID); !ok {
		t.Errorf("the live release %s is gone", second.ImageID)
	}
}

func TestRetirementExclusions(t *testing.T) {
	w := newRetireWorld(t, nil)
	// Each is used while it is the live release, before it leaves the keep
	// window, and at every stage after.
	byInstance := w.release()
	w.cloud.AddInstance(awsfake.Instance{ImageID: byInstance.ImageID})
	byTemplate := w.release()
	w.cloud.AddLaunchTemplate("batch-jobs", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(byTemplate.ImageID)})
	byParameter := w.release()
	w.cloud.AddParameter("/qa/golden", byParameter.ImageID, "aws:ec2:image")
	w.release()
	w.clock.Advance(30 * 24 * time.Hour)
	w.reconcile()
	w.release()
	for name, id := range map[string]string{"instance": byInstance.ImageID, "other template": byTemplate.ImageID, "parameter": byParameter.ImageID} {
		img, ok := w.lifecycle(id)
		switch {
		case !ok:
			t.Errorf("the image an %s uses was deregistered", name)
		case img.State != ec2types.ImageStateAvailable || img.DeprecationTime != nil:
			t.Errorf("the image an %s uses is %s, deprecated %s; want it left available", name, img.State, aws.ToString(img.DeprecationTime))
		}
	}
}

func TestDisabledImageIsNeverPromoted(t *testing.T) {
	t.Run("by reconcile", func(t *testing.T) {
		w := newRetireWorld(t, nil)
		live := w.release()
		pending := one(t, must(w.handle(deployEvent(t, "e-late", "build-late", w.clock.Now()))))
		w.clock.Advance(31 * time.Minute)
		// A person disables the new AMI before reconcile sees it available.
		if _, err := w.cloud.EC2().DisableImage(context.Background(), &ec2.DisableImageInput{ImageId: aws.String(pending.ImageID)}); err != nil {
			t.Fatal(err)
		}
		if resp := w.reconcile(); len(resp.Results) != 0 {
			t.Errorf("reconcile: %+v, want nothing promoted", resp.Results)
		}
		if latest, _ := w.head(w.lt); imageOf(latest) != live.ImageID {
			t.Errorf("$Latest carries %s, want %s: a disabled AMI is never promoted", imageOf(latest), live.ImageID)
		}
		if _, ok := w.lifecycle(pending.ImageID); !ok {
			t.Error("the disabled AMI, newer than the release, was deregistered")
		}
	})
	t.Run("by a replay of its deploy", func(t *testing.T) {
		w := newRetireWorld(t, nil)
		first := w.release()
		w.release()
		res := one(t, must(w.handle(deployEvent(t, "e-replay", "build-1", w.clock.Now()))))
		if res.Status != event.Superseded {
			t.Errorf("replay of the retired build: %+v, want superseded", res)
		}
		if img, _ := w.lifecycle(first.ImageID); img.State != ec2types.ImageStateDisabled {
			t.Errorf("the retired image is %s, want it left disabled", img.State)
		}
	})
}

func TestRetiredDeletionsAreBoundedPerRun(t *testing.T) {
	w := newRetireWorld(t, nil)
	for range plan.MaxDeletionsPerRun + 5 {
		w.release()
	}
	w.clock.Advance(15 * 24 * time.Hour)
	w.reconcile()
	if n := len(w.amibumpImages(w.lt)); n != 5 {
		t.Errorf("%d images after the first reconcile, want 5: the live one and the 4 beyond the bound of %d", n, plan.MaxDeletionsPerRun)
	}
	w.reconcile()
	if n := len(w.amibumpImages(w.lt)); n != 1 {
		t.Errorf("%d images after the second reconcile, want the live one", n)
	}
}

func TestLiveReleaseIsProtected(t *testing.T) {
	deregister := func(w *world, id string) error {
		_, err := w.cloud.EC2().DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		return err
	}
	t.Run("with cooldown: another tool cannot deregister it, amibump deletes it later", func(t *testing.T) {
		w := newRetireWorld(t, nil)
		first := w.release()
		if img, _ := w.lifecycle(first.ImageID); aws.ToString(img.DeregistrationProtection) != "enabled-with-cooldown" {
			t.Fatalf("live image's protection %q, want enabled-with-cooldown", aws.ToString(img.DeregistrationProtection))
		}
		if err := deregister(w.world, first.ImageID); err == nil {
			t.Fatal("another tool deregistered the live release")
		}
		w.release()
		w.clock.Advance(14*24*time.Hour + time.Hour)
		w.reconcile()
		if _, ok := w.cloud.Image(first.ImageID); ok {
			t.Error("the retired image is still registered: its protection was not lifted")
		}
	})
	t.Run("delete-after 0: without cooldown, deregistered at once", func(t *testing.T) {
		w := newRetireWorld(t, map[string]string{"amibump:delete-after": "0"})
		first := w.release()
		if img, _ := w.lifecycle(first.ImageID); aws.ToString(img.DeregistrationProtection) != "enabled-without-cooldown" {
			t.Fatalf("live image's protection %q, want enabled-without-cooldown", aws.ToString(img.DeregistrationProtection))
		}
		second := w.release()
		if second.Pruned == nil || second.Pruned.Images != 1 {
			t.Errorf("pruned %+v, want the first image deregistered at once", second.Pruned)
		}
	})
	t.Run("a cooldown defers the deletion to a later run", func(t *testing.T) {
		w := newRetireWorld(t, nil)
		first := w.release() // protected with cooldown
		w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:delete-after": "0"})
		second := w.release()
		if second.Status != event.Promoted || second.Pruned == nil || second.Pruned.Images != 0 || second.Pruned.Retired != 1 {
			t.Errorf("result %+v, pruned %+v: want promoted, the first image retired and not deregistered during the cooldown", second, second.Pruned)
		}
		if _, ok := w.cloud.Image(first.ImageID); !ok {
			t.Fatal("deregistered during its protection's cooldown")
		}
		w.clock.Advance(23 * time.Hour)
		w.reconcile()
		if _, ok := w.cloud.Image(first.ImageID); !ok {
			t.Fatal("deregistered during its protection's cooldown")
		}
		w.clock.Advance(2 * time.Hour)
		w.reconcile()
		if _, ok := w.cloud.Image(first.ImageID); ok {
			t.Error("still registered after the cooldown")
		}
	})
}

// Staged retirement and protection under the stack's role: allowed on
// amibump's AMIs; without the grant to disable, the refusal is named in a
// warning and the AMI is left as it was, the promotion standing.
func TestRetirementUnderTheRole(t *testing.T) {
	run := func(t *testing.T, role awsfake.Policy) (*retireWorld, event.Result, event.Result) {
		w := newRetireWorld(t, nil)
		w.cloud.SetPolicy(&role)
		first := w.release()
		return w, first, w.release()
	}
	t.Run("the role as synthesized", func(t *testing.T) {
		w, first, _ := run(t, functionRole(t))
		if img, _ := w.lifecycle(first.ImageID); img.State != ec2types.ImageStateDisabled || len(w.cloud.Denials()) != 0 {
			t.Errorf("first image %s, denials %q; want it disabled with nothing denied", img.State, w.cloud.Denials())
		}
	})
	t.Run("without DisableImage", func(t *testing.T) {
		w, first, second := run(t, functionRole(t).Without("ec2:DisableImage"))
		if img, _ := w.lifecycle(first.ImageID); img.State != ec2types.ImageStateAvailable {
			t.Errorf("first image %s, want it left available", img.State)
		}
		if !strings.Contains(strings.Join(second.Warnings, "\n"), "disable image "+first.ImageID) {
			t.Errorf("warnings %q, want the refused DisableImage named", second.Warnings)
		}
	})
}

// A retired AMI someone protected again (with cooldown) after its retirement:
// its deletion lifts the protection and waits out the cooldown, without
// starting its 14 days again.
func TestRetiredImageProtectedAgain(t *testing.T) {
	w := newRetireWorld(t, nil)
	first := w.release()
	w.release()
	retiredAt := w.lifecycleDeprecation(first.ImageID)
	if _, err := w.cloud.EC2().EnableImageDeregistrationProtection(context.Background(), &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(first.ImageID), WithCooldown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(15 * 24 * time.Hour)
	w.reconcile()
	img, ok := w.lifecycle(first.ImageID)
	if !ok || !strings.HasPrefix(aws.ToString(img.DeregistrationProtection), "disabled-until-") || !w.lifecycleDeprecation(first.ImageID).Equal(retiredAt) {
		t.Fatalf("image %v: protection %q, deprecated %v; want lifted, in its cooldown, still retired at %v", ok, aws.ToString(img.DeregistrationProtection), w.lifecycleDeprecation(first.ImageID), retiredAt)
	}
	w.clock.Advance(25 * time.Hour)
	w.reconcile()
	if _, ok := w.cloud.Image(first.ImageID); ok {
		t.Error("still registered after the cooldown")
	}
}

func (w *world) lifecycleDeprecation(id string) time.Time {
	img, _ := w.lifecycle(id)
	at, _ := time.Parse(time.RFC3339, aws.ToString(img.DeprecationTime))
	return at
}

// A delete-after the function cannot use is named in the result's warnings,
// with what is allowed, and the default applies.
func TestBadDeleteAfterIsReported(t *testing.T) {
	w := newRetireWorld(t, map[string]string{"amibump:delete-after": "2w"})
	first := w.release()
	second := w.release()
	found := false
	for _, warning := range second.Warnings {
		found = found || strings.Contains(warning, `amibump:delete-after="2w"`) && strings.Contains(warning, "from 0 (deregister at once) to 365")
	}
	if !found {
		t.Errorf("warnings %q, want the bad tag named with what is allowed", second.Warnings)
	}
	if img, _ := w.lifecycle(first.ImageID); img.State != ec2types.ImageStateDisabled {
		t.Errorf("first image %s, want it retired under the default", img.State)
	}
}

// rollbackDuringPruning is EC2 on which another invocation rolls back while
// this one prunes the template's versions, and whose DescribeImageReferences
// then answers what it read before (EC2's reads lag its writes): no
// reference to the AMIs asked about.
type rollbackDuringPruning struct {
	bump.EC2
	rollback func()
	lagging  bool
}

func (r *rollbackDuringPruning) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	if r.rollback != nil {
		r.rollback()
		r.rollback, r.lagging = nil, true
	}
	return r.EC2.DeleteLaunchTemplateVersions(ctx, in, opts...)
}

func (r *rollbackDuringPruning) DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error) {
	if r.lagging {
		return &ec2.DescribeImageReferencesOutput{}, nil
	}
	return r.EC2.DescribeImageReferences(ctx, in, opts...)
}

// TestRetentionLeavesWhatARollbackPutBack: retention due to deregister a
// retired AMI reads its references while a concurrent rollback enables and
// protects it and makes its version: the AMI is read again before the
// deregistration and left, available, protected and launched.
func TestRetentionLeavesWhatARollbackPutBack(t *testing.T) {
	w := newRetireWorld(t, nil)
	first := w.release()
	w.builds++
	pending := one(t, must(w.handle(deployEvent(t, "e-build-2", "build-2", w.clock.Now()))))
	w.clock.Advance(31 * time.Minute)
	var rolled event.Result
	api := &rollbackDuringPruning{EC2: w.cloud.EC2()}
	api.rollback = func() {
		rolled = one(t, must(w.handle(rollbackEvent(t, "rb-1", "build-1", w.clock.Now()))))
	}
	b := bump.New(api, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := contextWithTimeout(w.deadline)
	defer cancel()
	must(b.Handle(ctx, sample(t, "scheduled-reconcile.json")))
	if rolled.Status != event.RolledBack || rolled.ImageID != first.ImageID {
		t.Fatalf("the rollback meanwhile: %s: %s", rolled.Status, rolled.Reason)
	}
	img, ok := w.lifecycle(first.ImageID)
	if !ok || img.State != ec2types.ImageStateAvailable || !strings.HasPrefix(aws.ToString(img.DeregistrationProtection), "enabled") {
		t.Fatalf("image %s put back: registered %v, %s, protection %q; want available and protected", first.ImageID, ok, img.State, aws.ToString(img.DeregistrationProtection))
	}
	if _, def := w.head(w.lt); imageOf(def) != first.ImageID {
		t.Errorf("$Default carries %s, want %s (pending %s)", imageOf(def), first.ImageID, pending.ImageID)
	}
}
