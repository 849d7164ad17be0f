package bump_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestHostileDeliveryConverges drives two templates through random schedules
// of deploy events (duplicated, replayed, out of order, some hitting the
// function's deadline mid-wait), AMI state change events (lost, duplicated,
// delayed, reordered), reconcile runs and a moving clock, some of it
// concurrent, with reads lagging writes. After the schedule and the reconcile
// ticks that follow it, the end state must
// always be: one AMI and at most one version per (build, template); $Latest and
// $Default on the newest deploy's AMI; at most amibump:keep amibump versions
// plus $Default and $Latest; and the base AMI and the version amibump did not
// make untouched.
func TestHostileDeliveryConverges(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			clock := awsfake.NewManualClock(t0)
			// Reads lag writes by up to 3 ms of the manual clock: until the schedule
			// moves it, nothing a call wrote is visible to the next (the harshest case).
			w := newWorld(t, awsfake.WithClock(clock), awsfake.WithImageDelay(10*time.Minute),
				awsfake.WithEventualConsistency(seed, 3*time.Millisecond))
			w.deadline = 40 * time.Millisecond // every wait runs out: the other triggers must finish
			const keep = 2
			b := w.template("shop-web-prod-b", map[string]string{"amibump:layer": "web", "amibump:group": "b", "amibump:keep": fmt.Sprint(keep)})
			w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web-prod-b"}})
			templates := []string{w.lt, b}

			// The deploys, each to both templates (layer web, no group: a fan-out).
			n := 3 + rng.IntN(4)
			type deploy struct {
				build string
				at    time.Time
			}
			deploys := make([]deploy, n)
			for i := range deploys {
				deploys[i] = deploy{fmt.Sprintf("jenkins-shop-deploy-%d", 200+i), t0.Add(-time.Duration(rng.IntN(90)) * time.Minute)} // the world's clock starts at t0: no deploy is from the future
			}
			newest := slices.MaxFunc(deploys, func(a, b deploy) int {
				if c := a.at.Compare(b.at); c != 0 {
					return c
				}
				return strings.Compare(a.build, b.build)
			})
			raw := func(i int, replay bool) []byte {
				d := deploys[i]
				changes := map[string]any{"id": fmt.Sprintf("event-%d", i), "time": d.at.Format(time.RFC3339), "detail.build.id": d.build, "detail.group": nil, "detail.build.commit": nil, "detail.build.url": nil}
				if replay {
					changes["id"] = fmt.Sprintf("replayed-%d-%d", i, rng.Int())
					changes["replay-name"] = "amibump-replay"
				}
				return edit(t, sample(t, "deploy-finished-web.json"), changes)
			}

			var mu sync.Mutex
			var stateEvents [][]byte // AMI state change events not delivered yet
			announced := map[string]bool{}
			announce := func() {
				// EC2 emits a state change for each image that settled; best effort.
				for _, img := range w.cloud.Images() {
					id := aws.ToString(img.ImageId)
					if img.State == ec2types.ImageStatePending || announced[id] || tag(img.Tags, "amibump:build-id") == "" {
						continue
					}
					announced[id] = true
					switch r := rng.IntN(10); {
					case r < 3: // lost
					case r < 5: // duplicated
						stateEvents = append(stateEvents, amiStateEvent(t, id, string(img.State)), amiStateEvent(t, id, string(img.State)))
					default:
						stateEvents = append(stateEvents, amiStateEvent(t, id, string(img.State)))
					}
				}
			}
			var actions []func()
			handle := func(raw []byte) func() {
				return func() {
					for range 3 { // Lambda's retries, a minute or more apart
						if _, err := w.handle(raw); err == nil {
							return
						}
						clock.Advance(time.Minute)
					}
				}
			}
			for i := range deploys {
				actions = append(actions, handle(raw(i, false)))
				if rng.IntN(3) == 0 {
					actions = append(actions, handle(raw(i, false))) // a duplicate delivery
				}
				if rng.IntN(4) == 0 {
					actions = append(actions, handle(raw(i, true))) // a replay from the archive
				}
			}
			for range 4 + rng.IntN(6) {
				d := time.Duration(rng.IntN(12)) * time.Minute
				actions = append(actions, func() { clock.Advance(d) })
			}
			for range 1 + rng.IntN(3) {
				actions = append(actions, handle(sample(t, "scheduled-reconcile.json")))
			}
			for range 6 {
				actions = append(actions, func() {
					mu.Lock()
					announce()
					rng.Shuffle(len(stateEvents), func(i, j int) { stateEvents[i], stateEvents[j] = stateEvents[j], stateEvents[i] })
					k := rng.IntN(len(stateEvents) + 1)
					batch := stateEvents[:k]
					stateEvents = append([][]byte{}, stateEvents[k:]...)
					mu.Unlock()
					for _, e := range batch {
						handle(e)()
					}
				})
			}
			rng.Shuffle(len(actions), func(i, j int) { actions[i], actions[j] = actions[j], actions[i] })
			// Run the schedule in waves; the actions of a wave run concurrently.
			for len(actions) > 0 {
				k := min(len(actions), 1+rng.IntN(3))
				var wg sync.WaitGroup
				for _, a := range actions[:k] {
					wg.Go(a)
				}
				wg.Wait()
				actions = actions[k:]
			}
			// Every image settles; the schedule's next ticks catch up. On this clock
			// a tick's writes are visible only once the clock moves, and a tick that
			// finds stale versions above the newest deletes one (plan.Next lets
			// $Latest fall back a step at a time), then sees its deletion only at the
			// next tick: one tick per deploy, and one for $Default, is enough.
			clock.Advance(time.Hour)
			for range n + 2 {
				handle(sample(t, "scheduled-reconcile.json"))()
				clock.Advance(10 * time.Minute)
			}

			noneRejected(t, seed, w)
			for _, lt := range templates {
				perBuild := map[string]int{}
				want := ""
				for _, img := range w.amibumpImages(lt) {
					perBuild[tag(img.Tags, "amibump:build-id")]++
					if tag(img.Tags, "amibump:build-id") == newest.build {
						want = aws.ToString(img.ImageId)
					}
				}
				for build, c := range perBuild {
					if c > 1 {
						t.Errorf("seed %d, %s: build %s has %d AMIs", seed, lt, build, c)
					}
				}
				perImage := map[string]int{}
				marked := 0
				for _, v := range w.cloud.Versions(lt) {
					perImage[imageOf(v)]++
					if imageOf(v) != w.baseAMI {
						marked++
					}
				}
				for img, c := range perImage {
					if c > 1 {
						t.Errorf("seed %d, %s: %d versions carry %s", seed, lt, c, img)
					}
				}
				latest, def := w.head(lt)
				if want == "" || imageOf(latest) != want || imageOf(def) != want {
					t.Errorf("seed %d, %s: $Latest %s, $Default %s, want both on %s (build %s)", seed, lt, imageOf(latest), imageOf(def), want, newest.build)
				}
				limit := 5
				if lt == b {
					limit = keep
				}
				if marked > limit+2 {
					t.Errorf("seed %d, %s: %d amibump versions, retention keeps %d plus $Default and $Latest", seed, lt, marked, limit)
				}
				if vs := w.cloud.Versions(lt); len(vs) == 0 || aws.ToInt64(vs[0].VersionNumber) != 1 || imageOf(vs[0]) != w.baseAMI {
					t.Errorf("seed %d, %s: the version amibump did not make was touched", seed, lt)
				}
			}
			if _, ok := w.cloud.Image(w.baseAMI); !ok {
				t.Errorf("seed %d: the base AMI was deregistered", seed)
			}
		})
	}
}
