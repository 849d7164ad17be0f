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
	event      []byte
}

// TestRollbackRandomized interleaves deploys, rollbacks (to the release
// before, or to a named build), replays of both, late AMI state changes and
// reconcile ticks, through the real bootstrap with EC2's reads lagging its
// writes. After each action (actions come seconds apart, as people and CI
// make them; reads lag by up to 150 ms), the template carries what the last
// action that asked for something asked for: a deploy its build, a rollback
// the release it names; replays, state changes and ticks change nothing.
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
			e := newEnv(t)
			e.cloud.TagLaunchTemplate(e.account.Templates["shop-web-prod-a"], map[string]string{event.TagKeep: "50"})
			e.cloud.StartEventualConsistency(seed, lag) // the fleet is seeded: from here on, reads lag
			rng := rand.New(rand.NewPCG(seed, seed^0xa5a5))
			m := newModel(e)
			for step := range 14 {
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
	e          *env
	releases   []release // in deploy order
	current    string    // the AMI $Latest and $Default carry
	rolledFrom map[string]bool
	rollbacks  [][]byte
	last       string
	n          int
}

func newModel(e *env) *model {
	m := &model{e: e, rolledFrom: map[string]bool{}}
	for _, b := range []string{"jenkins-shop-deploy-138", "jenkins-shop-deploy-139"} {
		m.releases = append(m.releases, release{build: b, ami: aws.ToString(e.imagesOf(b)[0].ImageId)})
	}
	m.current = m.releases[1].ami
	return m
}

func (m *model) currentRelease() release {
	for _, r := range m.releases {
		if r.ami == m.current {
			return r
		}
	}
	return release{}
}

// act makes one random action and updates what is expected.
func (m *model) act(t *testing.T, step int, rng *rand.Rand) {
	t.Helper()
	e := m.e
	now := e.cloud.Clock().Now().UTC().Format(time.RFC3339)
	var deployed []release
	for _, r := range m.releases {
		if r.event != nil {
			deployed = append(deployed, r)
		}
	}
	switch k := rng.IntN(9); {
	case k < 2 || len(m.releases) < 3:
		m.n++
		b := fmt.Sprintf("rnd-%d-%d", step, m.n)
		raw := e.edited("deploy-finished.json", map[string]any{"id": "deploy-" + b, "time": now, "detail.build.id": b})
		res := e.mustInvokeRaw(raw)
		m.last = "deploy " + b
		if res.Status != event.Promoted {
			t.Fatalf("%s: %s: %s", m.last, res.Status, res.Reason)
		}
		m.releases = append(m.releases, release{build: b, ami: res.ImageID, event: raw})
		m.current = res.ImageID
	case k < 5:
		m.rollback(t, now, rng.IntN(2) == 0, rng)
	case k == 5 && len(deployed) > 0:
		r := deployed[rng.IntN(len(deployed))]
		m.last = "replay of the deploy of " + r.build
		e.mustInvokeRaw(r.event)
	case k == 6 && len(m.rollbacks) > 0:
		m.last = "replay of a rollback"
		e.mustInvokeRaw(m.rollbacks[rng.IntN(len(m.rollbacks))])
	case k == 7:
		r := m.releases[rng.IntN(len(m.releases))]
		m.last = "late state change of " + r.build + "'s AMI"
		if _, err := e.invokeRaw(e.edited("ami-state-available.json", map[string]any{"id": fmt.Sprintf("state-%d", step), "time": now,
			"detail.ImageId": r.ami, "resources": []string{"arn:aws:ec2:us-east-1::image/" + r.ami}})); err != nil {
			t.Fatalf("%s: %v", m.last, err)
		}
	default:
		m.last = "reconcile"
		if _, err := e.invokeRaw(e.edited("scheduled-reconcile.json", map[string]any{"id": fmt.Sprintf("tick-%d", step), "time": now})); err != nil {
			t.Fatalf("%s: %v", m.last, err)
		}
	}
}

// rollback asks for a rollback, to the release before or to a named one, and
// says what it expects.
func (m *model) rollback(t *testing.T, now string, named bool, rng *rand.Rand) {
	t.Helper()
	cur := m.currentRelease()
	want := ""
	to := ""
	if named {
		others := slices.DeleteFunc(slices.Clone(m.releases), func(r release) bool { return r.ami == m.current })
		r := others[rng.IntN(len(others))]
		to, want = r.build, r.ami
	} else {
		for _, r := range m.releases {
			if r.build == cur.build {
				break
			}
			if !m.rolledFrom[r.build] {
				want = r.ami // the newest older one not rolled back from
			}
		}
	}
	changes := map[string]any{"id": fmt.Sprintf("rollback-%d", len(m.rollbacks)), "time": now, "detail.toBuild": nil}
	if to != "" {
		changes["detail.toBuild"] = to
	}
	raw := m.e.edited("rollback-requested.json", changes)
	res := m.e.mustInvokeRaw(raw)
	m.last = fmt.Sprintf("rollback from %s to %q", cur.build, to)
	m.rollbacks = append(m.rollbacks, raw)
	switch {
	case want == "" && res.Status != event.Rejected:
		t.Fatalf("%s: %s: %s; want rejected (nothing to roll back to)", m.last, res.Status, res.Reason)
	case want == "":
		return
	case res.Status != event.RolledBack || res.ImageID != want:
		t.Fatalf("%s: %s with %s: %s; want rolled-back to %s", m.last, res.Status, res.ImageID, res.Reason, want)
	}
	m.rolledFrom[cur.build] = true
	m.current = want
}
