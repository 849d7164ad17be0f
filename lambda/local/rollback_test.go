package local_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

var seedFlag = flag.Uint64("seed", 0, "run TestRollbackRandomized with this seed only")

// edited is a file of testdata/events with changes (awsfaketest.Edit).
func (e *env) edited(name string, changes map[string]any) []byte {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := awsfaketest.Edit(raw, changes)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) mustInvokeRaw(raw []byte) event.Result {
	e.t.Helper()
	resp, err := e.invokeRaw(raw)
	if err != nil {
		e.t.Fatalf("invoke %s: %v", raw, err)
	}
	return one(e.t, resp)
}

// disable disables an AMI as a person would, outside the function's role.
func (e *env) disable(id string) {
	e.t.Helper()
	role, err := awsfaketest.FunctionRole()
	if err != nil {
		e.t.Fatal(err)
	}
	e.cloud.SetPolicy(nil)
	defer e.cloud.SetPolicy(&role)
	if _, err := e.cloud.EC2().DisableImage(context.Background(), &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
		e.t.Fatal(err)
	}
}

// hold is the amibump:hold tag of a template.
func (e *env) hold(template string) string {
	lt, _ := e.cloud.LaunchTemplate(e.account.Templates[template])
	for _, tg := range lt.Tags {
		if aws.ToString(tg.Key) == event.TagHold {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// TestRollbackAndHold: through the real bootstrap and the stack's role, a
// rollback puts build 139 back after 142; a replay of 142's deploy, its AMI's
// state change and reconcile leave it there; the next deploy promotes and
// lifts the hold.
func TestRollbackAndHold(t *testing.T) {
	e := newEnv(t)
	bad := one(t, e.mustInvoke("deploy-finished.json"))
	good := e.imagesOf("jenkins-shop-deploy-139")
	if bad.Status != event.Promoted || len(good) != 1 {
		t.Fatalf("deploy of 142: %+v; AMIs of 139: %d", bad, len(good))
	}
	// Someone disabled 139's AMI (as staged retirement does): the rollback
	// enables it, under the stack's role.
	e.disable(aws.ToString(good[0].ImageId))
	res := one(t, e.mustInvoke("rollback-requested.json"))
	if res.Status != event.RolledBack || res.ImageID != aws.ToString(good[0].ImageId) || res.RolledBackFrom == nil || res.RolledBackFrom.ID != "jenkins-shop-deploy-142" {
		t.Fatalf("rollback: %+v", res)
	}
	if img, ok := e.cloud.Image(res.ImageID); !ok || img.State != ec2types.ImageStateAvailable {
		t.Errorf("the AMI put back is %s, want available", img.State)
	}
	check := func(when string) {
		t.Helper()
		latest, def, _ := e.head("shop-web-prod-a")
		if latest != res.ImageID || def != res.ImageID {
			t.Errorf("%s: $Latest %s, $Default %s; want the rollback's %s", when, latest, def, res.ImageID)
		}
		if p, _ := e.cloud.Parameter("/amibump/shop-web-prod-a"); aws.ToString(p.Value) != res.ImageID {
			t.Errorf("%s: parameter holds %s, want %s", when, aws.ToString(p.Value), res.ImageID)
		}
	}
	check("after the rollback")
	if b, since := plan.ParseHoldTag(e.hold("shop-web-prod-a")); b != "jenkins-shop-deploy-142" || since.IsZero() {
		t.Errorf("hold %q, want jenkins-shop-deploy-142 since the rollback", e.hold("shop-web-prod-a"))
	}
	if r := one(t, e.mustInvoke("deploy-finished-replay.json")); r.Status != event.Superseded {
		t.Errorf("replay of 142: %s: %s", r.Status, r.Reason)
	}
	check("after the replay of 142")
	state := e.edited("ami-state-available.json", map[string]any{"detail.ImageId": bad.ImageID, "resources": []string{"arn:aws:ec2:us-east-1::image/" + bad.ImageID}})
	if resp, err := e.invokeRaw(state); err != nil || len(resp.Results) > 0 && resp.Results[0].Status == event.Promoted {
		t.Errorf("late state change of 142's AMI: %+v, %v", resp, err)
	}
	check("after 142's AMI state change")
	if _, err := e.invoke("scheduled-reconcile.json"); err != nil {
		t.Fatal(err)
	}
	check("after reconcile")
	if r := one(t, e.mustInvoke("rollback-requested.json")); r.Status != event.RolledBack || r.Version != res.Version {
		t.Errorf("replay of the rollback: %s version %d, want rolled-back version %d", r.Status, r.Version, res.Version)
	}
	check("after the rollback's replay")
	fix := e.mustInvokeRaw(e.edited("deploy-finished.json", map[string]any{"id": "fix-143", "time": e.cloud.Clock().Now().UTC().Format(time.RFC3339), "detail.build.id": "jenkins-shop-deploy-143"}))
	if fix.Status != event.Promoted {
		t.Fatalf("the fix: %+v", fix)
	}
	if latest, def, _ := e.head("shop-web-prod-a"); latest != fix.ImageID || def != fix.ImageID || e.hold("shop-web-prod-a") != "" {
		t.Errorf("after the fix: $Latest %s, $Default %s, hold %q; want %s and no hold", latest, def, e.hold("shop-web-prod-a"), fix.ImageID)
	}
}

// release is one deploy of the randomized test.
type release struct {
	build, ami string
	at         time.Time // the deploy event's time
	event      []byte
	// pending: deployed while its AMI was pending and not promoted since.
	pending bool
}

// TestRollbackRandomized interleaves deploys (some whose AMI is still pending
// when the next actions come, as a deploy in flight during an incident),
// rollbacks (to the release before, or to a named build), replays of both,
// late AMI state changes and reconcile ticks, through the real bootstrap with
// EC2's reads lagging its writes and retention on (three releases kept, the
// others retired in stages, default amibump:delete-after). After each action
// (actions come seconds apart, as people and CI make them; reads lag by up to
// 150 ms), the template carries what the last action that asked for
// something asked for: a deploy its build (a pending one, once its AMI is
// available, unless a rollback came after it), a rollback the release it
// names; replays, state changes and ticks change nothing else.
func TestRollbackRandomized(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	seeds := []uint64{*seedFlag}
	if *seedFlag == 0 {
		base := rand.Uint64() // a fresh seed each run; each prints its own
		seeds = []uint64{base, base + 1}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Logf("seed %d", seed)
			const lag = 150 * time.Millisecond
			// A 47 s timeout leaves the function 2 s to wait for an AMI
			// (its deadline minus 45 s): a deploy whose AMI takes longer is
			// pending.
			e := newEnvTimeout(t, 47*time.Second)
			e.cloud.TagLaunchTemplate(e.account.Templates["shop-web-prod-a"], map[string]string{event.TagKeep: "3"})
			e.cloud.StartEventualConsistency(seed, lag) // the fleet is seeded: from here on, reads lag
			rng := rand.New(rand.NewPCG(seed, seed^0xa5a5))
			m := newModel(e)
			for step := range 16 {
				m.act(t, step, rng)
				t.Logf("step %d: %s", step, m.last)
				time.Sleep(2 * lag) // the next action comes later than EC2's lag
				latest, def, _ := e.head("shop-web-prod-a")
				if latest != m.current || def != m.current {
					t.Fatalf("step %d (%s): $Latest %s, $Default %s; want %s", step, m.last, latest, def, m.current)
				}
			}
		})
	}
}

// model is what the randomized test expects of the template.
type model struct {
	e         *env
	lt        string
	releases  []release // in deploy order
	current   string    // the AMI $Latest and $Default carry
	top       int       // the newest release promoted
	holdSince time.Time // when the rollback in force was asked for; zero: no hold
	rollbacks [][]byte
	last      string
	n         int
	clock     time.Time // the time of the last event sent
}

func newModel(e *env) *model {
	m := &model{e: e, lt: e.account.Templates["shop-web-prod-a"]}
	for _, b := range []string{"jenkins-shop-deploy-138", "jenkins-shop-deploy-139"} {
		img := e.imagesOf(b)[0]
		at, _ := time.Parse(time.RFC3339, tagOf(img.Tags, event.TagDeployedAt))
		m.releases = append(m.releases, release{build: b, ami: aws.ToString(img.ImageId), at: at})
	}
	m.current, m.top = m.releases[1].ami, 1
	// Events come 10 s apart from 10 minutes ago: their times are whole
	// seconds, and none is ahead of the function's clock.
	m.clock = e.cloud.Clock().Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	return m
}

func tagOf(tags []ec2types.Tag, key string) string {
	for _, tg := range tags {
		if aws.ToString(tg.Key) == key {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// tick is the time of the next event.
func (m *model) tick() time.Time {
	m.clock = m.clock.Add(10 * time.Second)
	return m.clock
}

func (m *model) index(ami string) int {
	return slices.IndexFunc(m.releases, func(r release) bool { return r.ami == ami })
}

// eligible: a pending release the template would promote now: newer than the
// newest promoted, and made after the rollback in force (if any).
func (m *model) eligible(i int) bool {
	r := m.releases[i]
	return r.pending && i > m.top && (m.holdSince.IsZero() || r.at.After(m.holdSince))
}

// promoted records release i promoted: the newest, the hold lifted.
func (m *model) promoted(i int) {
	m.releases[i].pending = false
	m.current, m.top, m.holdSince = m.releases[i].ami, i, time.Time{}
}

// settle waits until no pending release's AMI is pending any more, so that
// what a state change, a replay or a tick promotes does not depend on timing.
func (m *model) settle(t *testing.T) {
	t.Helper()
	for _, r := range m.releases {
		for tries := 0; r.pending; tries++ {
			img, _ := m.e.cloud.Image(r.ami)
			if img.State != ec2types.ImageStatePending {
				break
			}
			if tries > 200 {
				t.Fatalf("AMI %s of %s still pending", r.ami, r.build)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// deploy deploys a new build; slow, its AMI is still pending when the
// function stops waiting.
func (m *model) deploy(t *testing.T, step int, slow bool) {
	t.Helper()
	m.n++
	b := fmt.Sprintf("rnd-%02d-%02d", step, m.n)
	at := m.tick()
	raw := m.e.edited("deploy-finished.json", map[string]any{"id": "deploy-" + b, "time": at.Format(time.RFC3339), "detail.build.id": b})
	want := event.Promoted
	if slow {
		m.e.cloud.SetImageDelay(6 * time.Second)
		defer m.e.cloud.SetImageDelay(300 * time.Millisecond)
		want = event.Pending
		m.last = "deploy " + b + ", its AMI pending"
	} else {
		m.last = "deploy " + b
	}
	res := m.e.mustInvokeRaw(raw)
	if res.Status != want {
		t.Fatalf("%s: %s: %s; want %s", m.last, res.Status, res.Reason, want)
	}
	m.releases = append(m.releases, release{build: b, ami: res.ImageID, at: at, event: raw, pending: slow})
	if !slow {
		m.promoted(len(m.releases) - 1)
	}
}

// act makes one random action and updates what is expected.
func (m *model) act(t *testing.T, step int, rng *rand.Rand) {
	t.Helper()
	e := m.e
	var deployed []int
	for i, r := range m.releases {
		if r.event != nil {
			deployed = append(deployed, i)
		}
	}
	switch k := rng.IntN(11); {
	case k < 2 || len(m.releases) < 3:
		m.deploy(t, step, false)
	case k < 4:
		m.deploy(t, step, true)
		if rng.IntN(2) == 0 {
			// The incident: a rollback while the deploy is in flight.
			in := m.last
			m.rollback(t, rng.IntN(2) == 0, rng)
			m.last = in + "; then " + m.last
		}
	case k < 6:
		m.rollback(t, rng.IntN(2) == 0, rng)
	case k == 6 && len(deployed) > 0:
		m.settle(t)
		i := deployed[rng.IntN(len(deployed))]
		m.last = "replay of the deploy of " + m.releases[i].build
		e.mustInvokeRaw(m.releases[i].event)
		if m.eligible(i) {
			m.promoted(i)
		}
	case k == 7 && len(m.rollbacks) > 0:
		// The latest rollback that rolled back, as Lambda retries it.
		m.last = "replay of the latest rollback"
		e.mustInvokeRaw(m.rollbacks[len(m.rollbacks)-1])
	case k == 8:
		m.settle(t)
		i := rng.IntN(len(m.releases))
		r := m.releases[i]
		m.last = "late state change of " + r.build + "'s AMI"
		if _, err := e.invokeRaw(e.edited("ami-state-available.json", map[string]any{"id": fmt.Sprintf("state-%d", step), "time": m.tick().Format(time.RFC3339),
			"detail.ImageId": r.ami, "resources": []string{"arn:aws:ec2:us-east-1::image/" + r.ami}})); err != nil {
			t.Fatalf("%s: %v", m.last, err)
		}
		if m.eligible(i) {
			m.promoted(i)
		}
	default:
		m.settle(t)
		m.last = "reconcile"
		if _, err := e.invokeRaw(e.edited("scheduled-reconcile.json", map[string]any{"id": fmt.Sprintf("tick-%d", step), "time": m.tick().Format(time.RFC3339)})); err != nil {
			t.Fatalf("%s: %v", m.last, err)
		}
		for i := len(m.releases) - 1; i >= 0; i-- {
			if m.eligible(i) {
				m.promoted(i)
				break
			}
		}
	}
}

// kept reads the template as it is (not through EC2's lagging reads): the
// releases a version amibump made carries with an AMI that is available or
// disabled, and the builds a rollback version rolled back from.
func (m *model) kept() (kept map[int]bool, rolledFrom map[string]bool) {
	kept, rolledFrom = map[int]bool{}, map[string]bool{}
	for _, v := range m.e.cloud.Versions(m.lt) {
		desc := aws.ToString(v.VersionDescription)
		if !plan.Marked(desc) {
			continue
		}
		if rb := plan.ParseRollback(desc); rb.IsRollback() {
			rolledFrom[rb.From] = true
		}
		ami := aws.ToString(v.LaunchTemplateData.ImageId)
		if img, ok := m.e.cloud.Image(ami); ok && (img.State == ec2types.ImageStateAvailable || img.State == ec2types.ImageStateDisabled) {
			if i := m.index(ami); i >= 0 {
				kept[i] = true
			}
		}
	}
	return kept, rolledFrom
}

// rollback asks for a rollback, to the release before or to a named one, and
// says what it expects.
func (m *model) rollback(t *testing.T, named bool, rng *rand.Rand) {
	t.Helper()
	cur := m.index(m.current)
	kept, rolledFrom := m.kept()
	want, to := -1, ""
	if named {
		others := slices.DeleteFunc(slices.Clone(m.releases), func(r release) bool { return r.ami == m.current })
		r := others[rng.IntN(len(others))]
		to = r.build
		if i := m.index(r.ami); kept[i] {
			want = i
		}
	} else {
		for i := range cur {
			if kept[i] && !rolledFrom[m.releases[i].build] {
				want = i // the newest older one kept and not rolled back from
			}
		}
	}
	at := m.tick()
	changes := map[string]any{"id": fmt.Sprintf("rollback-%d", len(m.rollbacks)), "time": at.Format(time.RFC3339), "detail.toBuild": nil}
	if to != "" {
		changes["detail.toBuild"] = to
	}
	raw := m.e.edited("rollback-requested.json", changes)
	res := m.e.mustInvokeRaw(raw)
	m.last = fmt.Sprintf("rollback from %s to %q", m.releases[cur].build, to)
	switch {
	case want < 0 && res.Status != event.Rejected:
		t.Fatalf("%s: %s: %s; want rejected (nothing to roll back to)", m.last, res.Status, res.Reason)
	case want < 0:
		return
	case res.Status != event.RolledBack || res.ImageID != m.releases[want].ami:
		t.Fatalf("%s: %s with %s: %s; want rolled-back to %s", m.last, res.Status, res.ImageID, res.Reason, m.releases[want].ami)
	}
	m.current, m.holdSince = m.releases[want].ami, at
	m.rollbacks = append(m.rollbacks, raw) // a rejected one is not retried
}

// TestRollbackReplacesTheRunningRefresh: through the real bootstrap and the
// stack's role, a rollback on a template and group that opt in to instance
// refresh cancels the bad deploy's refresh, still running, and starts its
// own; the same event again (a Lambda retry) finds its own refresh running
// and leaves it so.
func TestRollbackReplacesTheRunningRefresh(t *testing.T) {
	e := newEnv(t)
	e.cloud.TagLaunchTemplate(e.account.Templates["shop-web-prod-a"], map[string]string{event.TagInstanceRefresh: "true"})
	e.cloud.TagAutoScalingGroup("shop-web-prod-a", map[string]string{event.TagInstanceRefresh: "true"})
	if bad := one(t, e.mustInvoke("deploy-finished.json")); bad.Status != event.Promoted {
		t.Fatalf("deploy of 142: %+v", bad)
	}
	before := e.cloud.InstanceRefreshes("shop-web-prod-a")
	if len(before) != 1 || before[0].Status != astypes.InstanceRefreshStatusInProgress {
		t.Fatalf("after the deploy: refreshes %+v, want 142's in progress", before)
	}
	// The rollback comes a minute after the deploy's refresh started.
	e.cloud.BackdateInstanceRefreshes("shop-web-prod-a", time.Minute)
	for attempt := range 2 {
		res := one(t, e.mustInvoke("rollback-requested.json"))
		rs := e.cloud.InstanceRefreshes("shop-web-prod-a")
		if res.Status != event.RolledBack || len(rs) != 2 || rs[0].Status != astypes.InstanceRefreshStatusCancelled ||
			rs[1].Status != astypes.InstanceRefreshStatusInProgress || len(e.cloud.Denials()) != 0 {
			t.Errorf("attempt %d: %s (%v), refreshes %+v, denials %q; want rolled-back, 142's Cancelled and the rollback's in progress",
				attempt, res.Status, res.Warnings, rs, e.cloud.Denials())
		}
	}
}
