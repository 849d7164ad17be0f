package bump_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// rollbackEvent is a rollback-requested event for the world's template.
func rollbackEvent(t *testing.T, id, toBuild string, at time.Time) []byte {
	changes := map[string]any{"id": id, "time": at.UTC().Format(time.RFC3339), "detail.toBuild": nil}
	if toBuild != "" {
		changes["detail.toBuild"] = toBuild
	}
	return edit(t, sample(t, "rollback-requested.json"), changes)
}

// deployed deploys builds one after another, each promoted, and returns
// their AMIs.
func (w *world) deployed(builds ...string) []string {
	w.t.Helper()
	var amis []string
	for i, b := range builds {
		res := one(w.t, w.must(w.handle(deployEvent(w.t, "deploy-"+b, b, at(2, 10*i)))))
		if res.Status != event.Promoted {
			w.t.Fatalf("deploy %s: %s: %s", b, res.Status, res.Reason)
		}
		amis = append(amis, res.ImageID)
	}
	return amis
}

func (w *world) must(resp event.Response, err error) event.Response {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	return resp
}

// holdTag is the template's amibump:hold.
func (w *world) holdTag() string {
	lt, _ := w.cloud.LaunchTemplate(w.lt)
	return tag(lt.Tags, event.TagHold)
}

// TestRollbackPutsThePreviousReleaseBack: a rollback makes a version of the
// release before, moves $Default, holds the template; a replay of the bad
// deploy is superseded, a replay of the rollback makes nothing more, and the
// next deploy promotes and lifts the hold.
func TestRollbackPutsThePreviousReleaseBack(t *testing.T) {
	w := newWorld(t)
	amis := w.deployed("build-1", "build-2")
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if res.Status != event.RolledBack || res.ImageID != amis[0] || res.Build.ID != "build-1" || res.RolledBackFrom.ID != "build-2" {
		t.Fatalf("rollback: %+v", res)
	}
	for _, want := range []string{"rolled back from build build-2", "to build build-1", "amibump:hold=build-2", "reason given: 5xx on checkout"} {
		if !strings.Contains(res.Reason, want) {
			t.Errorf("reason %q does not say %q", res.Reason, want)
		}
	}
	latest, def := w.head(w.lt)
	if imageOf(latest) != amis[0] || aws.ToInt64(def.VersionNumber) != res.Version || aws.ToInt64(latest.VersionNumber) != res.Version {
		t.Fatalf("after the rollback: $Latest %d (%s), $Default %d; want version %d with %s", aws.ToInt64(latest.VersionNumber), imageOf(latest), aws.ToInt64(def.VersionNumber), res.Version, amis[0])
	}
	if h := w.holdTag(); h != "build-2@2026-11-26T03:00:00Z" {
		t.Errorf("hold tag %q, want build-2 since the rollback, build-2@2026-11-26T03:00:00Z", h)
	}
	versions := len(w.cloud.Versions(w.lt))

	replay := one(t, w.must(w.handle(deployEvent(t, "deploy-build-2", "build-2", at(2, 10)))))
	if replay.Status != event.Superseded || !strings.Contains(replay.Reason, "holds build build-2") {
		t.Errorf("replay of the held deploy: %s: %s", replay.Status, replay.Reason)
	}
	again := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if again.Status != event.RolledBack || again.Version != res.Version {
		t.Errorf("replay of the rollback: %s version %d, want rolled-back version %d", again.Status, again.Version, res.Version)
	}
	if n := len(w.cloud.Versions(w.lt)); n != versions {
		t.Errorf("%d versions after the replays, want %d", n, versions)
	}
	if latest, _ := w.head(w.lt); imageOf(latest) != amis[0] {
		t.Errorf("$Latest carries %s after the replays, want %s", imageOf(latest), amis[0])
	}

	fix := one(t, w.must(w.handle(deployEvent(t, "deploy-build-3", "build-3", at(3, 30)))))
	if fix.Status != event.Promoted {
		t.Fatalf("the fix: %s: %s", fix.Status, fix.Reason)
	}
	if latest, def := w.head(w.lt); imageOf(latest) != fix.ImageID || imageOf(def) != fix.ImageID {
		t.Errorf("after the fix: $Latest %s, $Default %s; want %s", imageOf(latest), imageOf(def), fix.ImageID)
	}
	if h := w.holdTag(); h != "" {
		t.Errorf("hold tag %q after a newer deploy, want none", h)
	}
}

// TestRollbackToANamedDisabledBuild: --to-build names an older release whose
// AMI was disabled: it is enabled, then put back.
func TestRollbackToANamedDisabledBuild(t *testing.T) {
	w := newWorld(t)
	amis := w.deployed("build-1", "build-2", "build-3")
	if _, err := w.cloud.EC2().DisableImage(context.Background(), &ec2.DisableImageInput{ImageId: aws.String(amis[0])}); err != nil {
		t.Fatal(err)
	}
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "build-1", at(3, 0)))))
	if res.Status != event.RolledBack || res.ImageID != amis[0] || !strings.Contains(res.Reason, "was disabled and is enabled again") {
		t.Fatalf("rollback: %s: %s", res.Status, res.Reason)
	}
	out, err := w.cloud.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{amis[0]}})
	if err != nil || len(out.Images) != 1 || out.Images[0].State != "available" {
		t.Errorf("image %s after the rollback: %+v, %v; want available", amis[0], out, err)
	}
	if latest, _ := w.head(w.lt); imageOf(latest) != amis[0] {
		t.Errorf("$Latest carries %s, want %s", imageOf(latest), amis[0])
	}
	if h := w.holdTag(); h != "build-3@2026-11-26T03:00:00Z" {
		t.Errorf("hold %q, want build-3@2026-11-26T03:00:00Z", h)
	}
	// Sent again, as a new event: already there, nothing more is made.
	again := one(t, w.must(w.handle(rollbackEvent(t, "rb-2", "build-1", at(3, 5)))))
	if again.Status != event.RolledBack || again.Version != res.Version || !strings.Contains(again.Reason, "nothing new was made") {
		t.Errorf("the same rollback sent again: %s version %d: %s; want rolled-back version %d, nothing made", again.Status, again.Version, again.Reason, res.Version)
	}
}

// TestRollbackWithNothingToRollBackTo is rejected, saying what exists, and
// changes nothing.
func TestRollbackWithNothingToRollBackTo(t *testing.T) {
	w := newWorld(t)
	w.deployed("build-1")
	before := len(w.cloud.Versions(w.lt))
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if res.Status != event.Rejected || !strings.Contains(res.Reason, "no other release is kept") {
		t.Errorf("got %s: %s; want rejected, saying no other release is kept", res.Status, res.Reason)
	}
	named := one(t, w.must(w.handle(rollbackEvent(t, "rb-2", "build-0", at(3, 0)))))
	if named.Status != event.Rejected || !strings.Contains(named.Reason, "no version amibump made carries build build-0") {
		t.Errorf("got %s: %s; want rejected for the unknown build", named.Status, named.Reason)
	}
	if n := len(w.cloud.Versions(w.lt)); n != before || w.holdTag() != "" {
		t.Errorf("%d versions (want %d), hold %q: a rejected rollback changed the template", n, before, w.holdTag())
	}
}

// TestRollbackDryRunChangesNothing plans the rollback and checks each change.
func TestRollbackDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.deployed("build-1", "build-2")
	before := len(w.cloud.Versions(w.lt))
	raw := edit(t, rollbackEvent(t, "rb-1", "", at(3, 0)), map[string]any{"detail.dryRun": true})
	res := one(t, w.must(w.handle(raw)))
	if res.Status != event.DryRun {
		t.Fatalf("got %s: %s", res.Status, res.Reason)
	}
	plan := strings.Join(res.Plan, "\n")
	for _, want := range []string{"tag shop-web-prod-a amibump:hold=build-2", "roll back from build build-2", "set $Default"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan %q does not say %q", plan, want)
		}
	}
	if n := len(w.cloud.Versions(w.lt)); n != before || w.holdTag() != "" {
		t.Errorf("%d versions (want %d), hold %q after a dry run", n, before, w.holdTag())
	}
}

// TestRollbackTellsWhatAPinnedGroupMustDo: a group pinned to the bad version
// keeps launching it; the result says how to move it.
func TestRollbackTellsWhatAPinnedGroupMustDo(t *testing.T) {
	w := newWorld(t)
	w.deployed("build-1", "build-2")
	latest, _ := w.head(w.lt)
	w.group("shop-web-prod-pinned", w.lt, itoa(int(aws.ToInt64(latest.VersionNumber))))
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	want := "group shop-web-prod-pinned is pinned to version " + itoa(int(aws.ToInt64(latest.VersionNumber)))
	if res.Status != event.RolledBack || !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
		t.Errorf("got %s, warnings %q; want one saying %q", res.Status, res.Warnings, want)
	}
}

// TestRollbackReplayMakesOneVersion: a replay that does not see the
// rollback's version yet (EC2 is eventually consistent) makes the same
// request with the same ClientToken, and EC2 answers the first version.
func TestRollbackReplayMakesOneVersion(t *testing.T) {
	w := newWorld(t)
	amis := w.deployed("build-1", "build-2")
	first := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	// The replay reads the template as it was: its reads do not show the version.
	lagging := hidingVersion{EC2: w.cloud.EC2(), version: first.Version}
	b := bump.New(lagging, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := contextWithTimeout(w.deadline)
	defer cancel()
	again := one(t, w.must(b.Handle(ctx, rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if again.Status != event.RolledBack || again.Version != first.Version || again.ImageID != amis[0] {
		t.Errorf("replay: %s, version %d with %s, want version %d with %s", again.Status, again.Version, again.ImageID, first.Version, amis[0])
	}
	if n := len(w.cloud.Versions(w.lt)); n != 4 {
		t.Errorf("%d versions, want 4 (the base, two deploys, one rollback)", n)
	}
}

// hidingVersion is EC2 whose version listings leave one version out, as a
// read made right after its creation may.
type hidingVersion struct {
	bump.EC2
	version int64
}

func (h hidingVersion) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	out, err := h.EC2.DescribeLaunchTemplateVersions(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	kept := out.LaunchTemplateVersions[:0]
	for _, v := range out.LaunchTemplateVersions {
		if aws.ToInt64(v.VersionNumber) != h.version {
			kept = append(kept, v)
		}
	}
	out.LaunchTemplateVersions = kept
	return out, nil
}

// TestRollbackWritesTheParameterBack: the SSM parameter of a template that
// publishes releases takes the older AMI, although never-backwards keeps a
// deploy from writing it.
func TestRollbackWritesTheParameterBack(t *testing.T) {
	w, clock := ssmWorld(t)
	w.tagTemplate(map[string]string{event.TagSSMParameter: "true"})
	first := w.deployAt(clock, "e1", "build-1")
	w.deployAt(clock, "e2", "build-2")
	clock.Advance(time.Minute)
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", clock.Now()))))
	if got, _ := w.paramValue(param); res.Status != event.RolledBack || got != first.ImageID {
		t.Errorf("%s: %s; parameter holds %s, want %s", res.Status, res.Reason, got, first.ImageID)
	}
}

// TestRollbackOfATemplateThatResolvesAParameter is rejected, saying what to do.
func TestRollbackOfATemplateThatResolvesAParameter(t *testing.T) {
	w, clock := resolveWorld(t, param)
	w.deployAt(clock, "e1", "build-1")
	w.deployAt(clock, "e2", "build-2")
	clock.Advance(time.Minute)
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", clock.Now()))))
	if res.Status != event.Rejected || !strings.Contains(res.Reason, "reads its AMI from SSM parameter "+param) {
		t.Errorf("%s: %s; want rejected, naming the parameter", res.Status, res.Reason)
	}
}

// TestRollbackOfSeveralTemplates holds them with one CreateTags and puts each
// one's release back.
func TestRollbackOfSeveralTemplates(t *testing.T) {
	w := newWorld(t)
	other := awsfaketest.AddTarget(w.cloud, w.baseAMI, awsfaketest.Target{Name: "shop-web-prod-b", Layer: "web", Group: "b"})
	var first []string
	for i, b := range []string{"build-1", "build-2"} {
		resp := w.must(w.handle(edit(t, deployEvent(t, "deploy-"+b, b, at(2, 10*i)), map[string]any{"detail.group": nil})))
		if len(resp.Results) != 2 {
			t.Fatalf("deploy %s: %+v", b, resp.Results)
		}
		if i == 0 {
			for _, r := range resp.Results {
				first = append(first, r.ImageID)
			}
		}
	}
	before := w.cloud.Calls("CreateTags")
	resp := w.must(w.handle(edit(t, rollbackEvent(t, "rb-1", "", at(3, 0)), map[string]any{"detail.group": nil})))
	if len(resp.Results) != 2 {
		t.Fatalf("%d results: %+v", len(resp.Results), resp.Results)
	}
	for i, r := range resp.Results {
		if r.Status != event.RolledBack || r.ImageID != first[i] {
			t.Errorf("%s: %s with %s: %s; want rolled-back to %s", r.LaunchTemplateName, r.Status, r.ImageID, r.Reason, first[i])
		}
	}
	if n := w.cloud.Calls("CreateTags") - before; n != 1 {
		t.Errorf("%d CreateTags calls, want 1 for both templates", n)
	}
	for _, lt := range []string{w.lt, other} {
		got, _ := w.cloud.LaunchTemplate(lt)
		if tag(got.Tags, event.TagHold) != "build-2@2026-11-26T03:00:00Z" {
			t.Errorf("%s: hold %q, want build-2@2026-11-26T03:00:00Z", lt, tag(got.Tags, event.TagHold))
		}
	}
}

// disablingAfterVersion is EC2 on which the AMI a new version carries is
// disabled right after the version is made (retention, or a person), and
// whose CreateLaunchTemplateVersion answers a validation warning.
type disablingAfterVersion struct {
	bump.EC2
	disable func(id string)
}

func (d *disablingAfterVersion) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, opts ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	out, err := d.EC2.CreateLaunchTemplateVersion(ctx, in, opts...)
	if err == nil && d.disable != nil {
		d.disable(aws.ToString(in.LaunchTemplateData.ImageId))
		d.disable = nil
	}
	if err == nil {
		out.Warning = &ec2types.ValidationWarning{Errors: []ec2types.ValidationError{{Code: aws.String("InvalidAMIID.Unavailable"), Message: aws.String("the AMI is disabled")}}}
	}
	return out, err
}

// TestRollbackChecksTheAMIAfterItsVersion: an AMI disabled after the
// rollback's version was made is not reported rolled back: the invocation
// fails, to be retried, with EC2's warning logged; the retry enables the AMI
// again and finishes, making nothing more.
func TestRollbackChecksTheAMIAfterItsVersion(t *testing.T) {
	w := newWorld(t)
	amis := w.deployed("build-1", "build-2")
	api := &disablingAfterVersion{EC2: w.cloud.EC2(), disable: func(id string) {
		if _, err := w.cloud.EC2().DisableImage(context.Background(), &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
			t.Error(err)
		}
	}}
	b := bump.New(api, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := contextWithTimeout(w.deadline)
	defer cancel()
	resp, err := b.Handle(ctx, rollbackEvent(t, "rb-1", "", at(3, 0)))
	if err == nil || !strings.Contains(err.Error(), "is disabled, not available") {
		t.Fatalf("rollback whose AMI was disabled meanwhile: %+v, %v; want an error to retry", resp, err)
	}
	versions := len(w.cloud.Versions(w.lt))
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if res.Status != event.RolledBack || res.ImageID != amis[0] {
		t.Fatalf("the retry: %s: %s", res.Status, res.Reason)
	}
	if img, ok := w.lifecycle(amis[0]); !ok || img.State != ec2types.ImageStateAvailable {
		t.Errorf("image %s after the retry: %v %s, want available", amis[0], ok, img.State)
	}
	if n := len(w.cloud.Versions(w.lt)); n != versions {
		t.Errorf("%d versions after the retry, want %d", n, versions)
	}
}

// TestRollbackReportsEC2sWarning: the validation warning CreateLaunchTemplateVersion
// answers is in the result.
func TestRollbackReportsEC2sWarning(t *testing.T) {
	w := newWorld(t)
	w.deployed("build-1", "build-2")
	b := bump.New(&disablingAfterVersion{EC2: w.cloud.EC2()}, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := contextWithTimeout(w.deadline)
	defer cancel()
	res := one(t, w.must(b.Handle(ctx, rollbackEvent(t, "rb-1", "", at(3, 0)))))
	if res.Status != event.RolledBack || !strings.Contains(strings.Join(res.Warnings, "; "), "EC2 warns of version 4 of shop-web-prod-a: InvalidAMIID.Unavailable: the AMI is disabled") {
		t.Errorf("rollback: %s, warnings %q; want rolled-back with EC2's warning", res.Status, res.Warnings)
	}
}

// refreshWorld is a world whose template and group opt in to instance
// refresh, with build-1 and build-2 deployed: build-2's refresh (the bad
// release's) still runs, started a minute before the rollback comes.
func refreshWorld(t *testing.T) (*world, astypes.InstanceRefresh) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{event.TagInstanceRefresh: "true"})
	w.cloud.TagAutoScalingGroup("shop-web-prod-a", map[string]string{event.TagInstanceRefresh: "true"})
	w.deployed("build-1")
	w.cloud.FinishInstanceRefreshes("shop-web-prod-a")
	w.deployed("build-2")
	running := activeRefreshes(w, "shop-web-prod-a")
	if len(running) != 1 {
		t.Fatalf("after build-2: running refreshes %+v, want build-2's", running)
	}
	w.cloud.Clock().(*awsfake.RunningClock).Skip(time.Minute)
	return w, running[0]
}

// activeRefreshes are the group's refreshes that have not ended.
func activeRefreshes(w *world, group string) []astypes.InstanceRefresh {
	var out []astypes.InstanceRefresh
	for _, r := range w.cloud.InstanceRefreshes(group) {
		if awsfake.RefreshActive(r.Status) {
			out = append(out, r)
		}
	}
	return out
}

// TestRollbackReplacesARunningRefresh: the bad release's instance refresh
// still runs when the rollback comes; Auto Scaling would refuse another, and
// RollbackInstanceRefresh does not apply to a group at $Latest. The rollback
// cancels it, waits until it is Cancelled, and starts its own with the
// promotion's preferences. A Lambda retry of the same rollback finds its own
// refresh running (started after its version was made) and neither cancels
// it nor starts another.
func TestRollbackReplacesARunningRefresh(t *testing.T) {
	w, bad := refreshWorld(t)
	raw := rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now())
	dry := one(t, w.must(w.handle(edit(t, raw, map[string]any{"detail.dryRun": true}))))
	if running := activeRefreshes(w, "shop-web-prod-a"); dry.Status != event.DryRun || !strings.Contains(strings.Join(dry.Plan, "\n"), "started before the rollback's version is cancelled first") ||
		len(running) != 1 || running[0].Status != astypes.InstanceRefreshStatusInProgress {
		t.Errorf("dry run: %s, plan %q, running %+v; want the cancel planned and build-2's refresh untouched", dry.Status, dry.Plan, running)
	}
	res := one(t, w.must(w.handle(raw)))
	if res.Status != event.RolledBack || strings.Contains(strings.Join(res.Warnings, "\n"), "instance refresh") {
		t.Errorf("%s, warnings %q; want rolled-back, nothing said of a refresh", res.Status, res.Warnings)
	}
	all := w.cloud.InstanceRefreshes("shop-web-prod-a")
	running := activeRefreshes(w, "shop-web-prod-a")
	if len(running) != 1 || aws.ToString(running[0].InstanceRefreshId) == aws.ToString(bad.InstanceRefreshId) ||
		!aws.ToBool(running[0].Preferences.SkipMatching) || running[0].Preferences.ScaleInProtectedInstances != astypes.ScaleInProtectedInstancesIgnore {
		t.Fatalf("running refreshes %+v; want one, the rollback's, with SkipMatching and ScaleInProtectedInstances Ignore", running)
	}
	for _, r := range all {
		if aws.ToString(r.InstanceRefreshId) == aws.ToString(bad.InstanceRefreshId) && r.Status != astypes.InstanceRefreshStatusCancelled {
			t.Errorf("build-2's refresh is %s, want Cancelled", r.Status)
		}
	}

	retry := one(t, w.must(w.handle(raw)))
	after := w.cloud.InstanceRefreshes("shop-web-prod-a")
	if retry.Status != event.RolledBack || len(after) != len(all) || activeRefreshes(w, "shop-web-prod-a")[0].Status != astypes.InstanceRefreshStatusInProgress {
		t.Errorf("retry: %s, refreshes %+v; want rolled-back, the rollback's refresh still in progress and no other", retry.Status, after)
	}
}

// TestRollbackLeavesWhatIsLeftWhenTheCancelDoesNotSettle: the cancelled
// refresh stays Cancelling past RefreshCancelWait. The attempt that made the
// rollback's version fails with a transient error that says what is left, so
// that Lambda retries; the retry cancels nothing else, waits again, and its
// result (rolled-back) says what is left, with the commands; no refresh is
// started.
func TestRollbackLeavesWhatIsLeftWhenTheCancelDoesNotSettle(t *testing.T) {
	w, bad := refreshWorld(t)
	w.cloud.SetRefreshCancelDelay(time.Hour)
	w.cfg.RefreshCancelWait = 30 * time.Millisecond
	raw := rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now())
	id := aws.ToString(bad.InstanceRefreshId)
	commands := []string{"still Cancelling", "aws autoscaling cancel-instance-refresh --auto-scaling-group-name shop-web-prod-a",
		"describe-instance-refreshes --auto-scaling-group-name shop-web-prod-a --instance-refresh-ids " + id,
		"aws autoscaling start-instance-refresh --auto-scaling-group-name shop-web-prod-a --preferences SkipMatching=true,ScaleInProtectedInstances=Ignore"}
	_, err := w.handle(raw)
	for _, want := range append([]string{"group shop-web-prod-a: amibump cancelled the instance refresh " + id, "a retry waits again"}, commands...) {
		if err == nil || bump.IsPermanent(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("first attempt: got %v; want a transient error saying %q", err, want)
		}
	}
	for attempt := 1; attempt <= 2; attempt++ {
		res := one(t, w.must(w.handle(raw)))
		all := strings.Join(res.Warnings, "\n")
		for _, want := range append([]string{"group shop-web-prod-a: the instance refresh " + id + ", which started before the rollback, was found Cancelling"}, commands...) {
			if res.Status != event.RolledBack || !strings.Contains(all, want) {
				t.Errorf("retry %d: %s, warnings %q; want one saying %q", attempt, res.Status, res.Warnings, want)
			}
		}
	}
	running := activeRefreshes(w, "shop-web-prod-a")
	if len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != 2 || len(running) != 1 || running[0].Status != astypes.InstanceRefreshStatusCancelling || w.cloud.Calls("CancelInstanceRefresh") != 1 {
		t.Errorf("refreshes %+v, %d cancels; want build-1's ended and build-2's Cancelling, cancelled once, none started", w.cloud.InstanceRefreshes("shop-web-prod-a"), w.cloud.Calls("CancelInstanceRefresh"))
	}
}

// TestRollbackLeavesGroupsWithoutTheOptIn: a group without
// amibump:instance-refresh=true keeps its running refresh (amibump's role may
// not cancel it) and is named with how to tag it. A deploy never cancels a
// refresh, even on a group that opts in.
func TestRollbackLeavesGroupsWithoutTheOptIn(t *testing.T) {
	w, bad := refreshWorld(t)
	w.deployed("build-3")
	if rs := activeRefreshes(w, "shop-web-prod-a"); len(rs) != 1 || aws.ToString(rs[0].InstanceRefreshId) != aws.ToString(bad.InstanceRefreshId) {
		t.Errorf("after a deploy: running refreshes %+v; want build-2's, left alone", rs)
	}
	w.group("shop-web-prod-b", w.lt, "$Latest")
	if _, err := w.cloud.AutoScaling().StartInstanceRefresh(context.Background(), &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-b")}); err != nil {
		t.Fatal(err)
	}
	res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now()))))
	if res.Status != event.RolledBack || !strings.Contains(strings.Join(res.Warnings, "\n"), "group shop-web-prod-b: instance refresh not started: the template opts in, but the group does not carry the tag amibump:instance-refresh=true") {
		t.Errorf("%s, warnings %q; want rolled-back, saying how to tag shop-web-prod-b", res.Status, res.Warnings)
	}
	if rs := w.cloud.InstanceRefreshes("shop-web-prod-b"); len(rs) != 1 || rs[0].Status != astypes.InstanceRefreshStatusInProgress {
		t.Errorf("refreshes of shop-web-prod-b %+v; want the one running, left alone", rs)
	}
}

// TestHoldIgnoresADeployMadeBeforeTheRollback: a deploy in flight during the
// incident (its AMI pending when the rollback comes, available minutes later)
// is of a newer build than the one held, but was made before the rollback:
// it is superseded, saying the hold and the rollback's time, and reconcile
// promotes it neither. A deploy made after the rollback is promoted and lifts
// the hold.
func TestHoldIgnoresADeployMadeBeforeTheRollback(t *testing.T) {
	w, clock := pendingWorld(t)
	release := func(build string) event.Result {
		t.Helper()
		pending := one(t, must(w.handle(deployEvent(t, "e-"+build, build, clock.Now()))))
		clock.Advance(31 * time.Minute)
		res := one(t, must(w.handle(amiStateEvent(t, pending.ImageID, "available"))))
		if res.Status != event.Promoted {
			t.Fatalf("release %s: %s: %s", build, res.Status, res.Reason)
		}
		return res
	}
	first := release("build-1")
	release("build-2")
	inFlight := one(t, must(w.handle(deployEvent(t, "e-build-3", "build-3", clock.Now()))))
	clock.Advance(5 * time.Minute)
	rolledAt := clock.Now()
	rolled := one(t, must(w.handle(rollbackEvent(t, "rb-1", "", rolledAt))))
	if rolled.Status != event.RolledBack || rolled.ImageID != first.ImageID {
		t.Fatalf("rollback: %s: %s", rolled.Status, rolled.Reason)
	}
	clock.Advance(30 * time.Minute)
	held := one(t, must(w.handle(amiStateEvent(t, inFlight.ImageID, "available"))))
	for _, want := range []string{"holds build build-2 since a rollback asked for at " + rolledAt.Format(time.RFC3339), "build build-3 was deployed at", "before the rollback"} {
		if held.Status != event.Superseded || !strings.Contains(held.Reason, want) {
			t.Errorf("the in-flight deploy: %s: %s; want superseded, saying %q", held.Status, held.Reason, want)
		}
	}
	must(w.handle(sample(t, "scheduled-reconcile.json")))
	if latest, def := w.head(w.lt); imageOf(latest) != first.ImageID || imageOf(def) != first.ImageID {
		t.Fatalf("after the in-flight deploy and a reconcile: $Latest %s, $Default %s; want %s", imageOf(latest), imageOf(def), first.ImageID)
	}
	fix := release("build-4")
	if latest, def := w.head(w.lt); imageOf(latest) != fix.ImageID || imageOf(def) != fix.ImageID || w.holdTag() != "" {
		t.Errorf("after the fix: $Latest %s, $Default %s, hold %q; want %s, no hold", imageOf(latest), imageOf(def), w.holdTag(), fix.ImageID)
	}
}

// TestRollbackLeavesItsOwnPendingRefresh: a retry finds the rollback's own
// refresh Pending, with no StartTime (it "has not started"): that is not a
// refresh from before the rollback, so it is neither cancelled nor doubled.
func TestRollbackLeavesItsOwnPendingRefresh(t *testing.T) {
	w, _ := refreshWorld(t)
	raw := rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now())
	one(t, w.must(w.handle(raw)))
	w.cloud.SetInstanceRefreshStatus("shop-web-prod-a", astypes.InstanceRefreshStatusPending)
	before := len(w.cloud.InstanceRefreshes("shop-web-prod-a"))
	res := one(t, w.must(w.handle(raw)))
	running := activeRefreshes(w, "shop-web-prod-a")
	if res.Status != event.RolledBack || len(res.Warnings) != 0 || len(w.cloud.InstanceRefreshes("shop-web-prod-a")) != before ||
		len(running) != 1 || running[0].Status != astypes.InstanceRefreshStatusPending || w.cloud.Calls("CancelInstanceRefresh") != 1 {
		t.Errorf("retry: %s, warnings %q, running %+v, %d cancels; want rolled-back, the rollback's refresh still Pending, one cancel (the first attempt's)",
			res.Status, res.Warnings, running, w.cloud.Calls("CancelInstanceRefresh"))
	}
}

// TestRollbackLeavesAPersonsRefresh: a refresh started since the rollback's
// version that is not amibump's (a desired configuration, or other
// preferences) is a person's: left running, no other started, and the result
// says so.
func TestRollbackLeavesAPersonsRefresh(t *testing.T) {
	for name, in := range map[string]*autoscaling.StartInstanceRefreshInput{
		"desired configuration": {DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("shop-web-prod-a"), Version: aws.String("1")}}},
		"other preferences":     {Preferences: &astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50)}},
	} {
		t.Run(name, func(t *testing.T) {
			w, _ := refreshWorld(t)
			raw := rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now())
			one(t, w.must(w.handle(raw)))
			w.cloud.FinishInstanceRefreshes("shop-web-prod-a")
			in.AutoScalingGroupName = aws.String("shop-web-prod-a")
			theirs, err := w.cloud.AutoScaling().StartInstanceRefresh(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			res := one(t, w.must(w.handle(raw)))
			running := activeRefreshes(w, "shop-web-prod-a")
			want := "group shop-web-prod-a: the instance refresh " + aws.ToString(theirs.InstanceRefreshId) + " (InProgress), started since the rollback's version, is not amibump's: left running"
			if res.Status != event.RolledBack || !strings.Contains(strings.Join(res.Warnings, "\n"), want) ||
				len(running) != 1 || aws.ToString(running[0].InstanceRefreshId) != aws.ToString(theirs.InstanceRefreshId) || running[0].Status != astypes.InstanceRefreshStatusInProgress {
				t.Errorf("%s, warnings %q, running %+v; want rolled-back, the person's refresh left running and named (%q)", res.Status, res.Warnings, running, want)
			}
		})
	}
}

// TestRollbackWaitsOutABakingRefresh: Auto Scaling does not cancel a refresh
// that is Baking (the fake's reading); the rollback waits, and when the bake
// outlasts the wait (the first attempt's and its retry's) the warning says
// that the cancel was refused, not that amibump cancelled it.
func TestRollbackWaitsOutABakingRefresh(t *testing.T) {
	w, bad := refreshWorld(t)
	w.cloud.SetInstanceRefreshStatus("shop-web-prod-a", astypes.InstanceRefreshStatusBaking)
	w.cfg.RefreshCancelWait = 30 * time.Millisecond
	raw := rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now())
	if _, err := w.handle(raw); err == nil || bump.IsPermanent(err) {
		t.Errorf("first attempt: got %v; want a transient error (Lambda retries and waits again)", err)
	}
	res := one(t, w.must(w.handle(raw)))
	all := strings.Join(res.Warnings, "\n")
	want := "group shop-web-prod-a: Auto Scaling refused to cancel the instance refresh " + aws.ToString(bad.InstanceRefreshId) + ", which started before the rollback and was Baking"
	if res.Status != event.RolledBack || !strings.Contains(all, want) || !strings.Contains(all, "still Baking") || strings.Contains(all, "amibump cancelled") {
		t.Errorf("%s, warnings %q; want rolled-back, saying %q and still Baking", res.Status, res.Warnings, want)
	}
	if running := activeRefreshes(w, "shop-web-prod-a"); len(running) != 1 || running[0].Status != astypes.InstanceRefreshStatusBaking {
		t.Errorf("running %+v; want build-2's, still Baking", running)
	}
}

// callOrder is an Auto Scaling client that records the refresh calls made
// through it: the operation, the group and whether ids were named.
type callOrder struct {
	bump.AutoScaling
	mu    sync.Mutex
	calls []string
}

func (c *callOrder) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *callOrder) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, opts ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	c.record("cancel " + aws.ToString(in.AutoScalingGroupName))
	return c.AutoScaling.CancelInstanceRefresh(ctx, in, opts...)
}

func (c *callOrder) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	if len(in.InstanceRefreshIds) > 0 {
		c.record("wait " + aws.ToString(in.AutoScalingGroupName))
	}
	return c.AutoScaling.DescribeInstanceRefreshes(ctx, in, opts...)
}

// TestRollbackCancelsEveryGroupBeforeWaiting: with two groups each running
// the bad release's refresh, the rollback cancels both before it waits for
// either, so that they end in one window, and starts its own on both.
func TestRollbackCancelsEveryGroupBeforeWaiting(t *testing.T) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{event.TagInstanceRefresh: "true"})
	w.group("shop-web-prod-b", w.lt, "$Latest")
	for _, g := range []string{"shop-web-prod-a", "shop-web-prod-b"} {
		w.cloud.TagAutoScalingGroup(g, map[string]string{event.TagInstanceRefresh: "true"})
	}
	w.deployed("build-1")
	w.cloud.FinishInstanceRefreshes("shop-web-prod-a")
	w.cloud.FinishInstanceRefreshes("shop-web-prod-b")
	w.deployed("build-2")
	w.cloud.Clock().(*awsfake.RunningClock).Skip(time.Minute)
	asg := &callOrder{AutoScaling: w.cloud.AutoScaling()}
	b := bump.New(w.cloud.EC2(), asg, w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := contextWithTimeout(w.deadline)
	defer cancel()
	res := one(t, w.must(b.Handle(ctx, rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now()))))
	firstWait := slices.IndexFunc(asg.calls, func(s string) bool { return strings.HasPrefix(s, "wait ") })
	if res.Status != event.RolledBack || len(res.Warnings) != 0 || firstWait < 0 ||
		!slices.Contains(asg.calls[:firstWait], "cancel shop-web-prod-a") || !slices.Contains(asg.calls[:firstWait], "cancel shop-web-prod-b") {
		t.Errorf("%s, warnings %q, calls %q; want rolled-back, both groups' refreshes cancelled before the first wait", res.Status, res.Warnings, asg.calls)
	}
	for _, g := range []string{"shop-web-prod-a", "shop-web-prod-b"} {
		if running := activeRefreshes(w, g); len(running) != 1 || running[0].Status != astypes.InstanceRefreshStatusInProgress {
			t.Errorf("%s: running %+v; want the rollback's", g, running)
		}
	}
}
