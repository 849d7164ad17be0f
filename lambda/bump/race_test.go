package bump_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

var (
	seedFlag = flag.Uint64("seed", 0, "run the randomized tests with this seed only")
	rounds   = flag.Int("rounds", 40, "how many seeds the randomized tests run")
)

// seeds returns the seeds to run: -seed alone, or -rounds seeds from the clock.
func seeds(t *testing.T) []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	n := *rounds
	if testing.Short() {
		n = 5
	}
	base := rand.Uint64() // a fresh seed each run; each round prints its own
	out := make([]uint64, n)
	for i := range out {
		out[i] = base + uint64(i)
	}
	return out
}

// TestRacingDeploysConverge runs 2-5 deploy events for one template
// concurrently, in random order with random deploy times and start delays, each
// retried as Lambda would when it returns an error. Whatever the interleaving,
// $Latest and $Default end on the newest deploy's AMI, and no build has more
// than one AMI or more than one version.
func TestRacingDeploysConverge(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
			// Every AWS call takes 0-3 ms, drawn per call: the promoters' reads and
			// writes interleave in many orders.
			var mu sync.Mutex
			jitter := rand.New(rand.NewPCG(seed, 1))
			latency := func(string) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				return time.Duration(jitter.IntN(3000)) * time.Microsecond
			}
			// Reads lag writes by up to 3 ms (EC2's eventual consistency), seeded too.
			w := newWorld(t, awsfake.WithImageDelay(time.Duration(rng.IntN(30))*time.Millisecond), awsfake.WithLatency(latency),
				awsfake.WithEventualConsistency(seed, 3*time.Millisecond))
			n := 2 + rng.IntN(4)
			type deploy struct {
				build string
				at    time.Time
				delay time.Duration
			}
			deploys := make([]deploy, n)
			base := t0.Add(-16 * time.Minute) // deploys in the minutes before the world's clock
			newest := 0
			for i := range deploys {
				// Minutes apart, sometimes in the same second (ordered by build id then).
				deploys[i] = deploy{build: fmt.Sprintf("jenkins-shop-deploy-%d", 100+i), at: base.Add(time.Duration(rng.IntN(4)) * time.Minute), delay: time.Duration(rng.IntN(25)) * time.Millisecond}
				if d := deploys[i]; d.at.After(deploys[newest].at) || (d.at.Equal(deploys[newest].at) && d.build > deploys[newest].build) {
					newest = i
				}
			}
			var wg sync.WaitGroup
			for i, d := range deploys {
				wg.Go(func() {
					time.Sleep(d.delay)
					raw := deployEvent(t, fmt.Sprintf("event-%d", i), d.build, d.at)
					for attempt := range 4 {
						if _, err := w.handle(raw); err == nil {
							return
						} else if attempt == 3 {
							t.Errorf("seed %d: deploy %s still failing after retries: %v", seed, d.build, err)
						}
					}
				})
			}
			wg.Wait()

			perBuild := map[string]int{}
			wantImage := ""
			for _, img := range w.amibumpImages(w.lt) {
				b := tag(img.Tags, "amibump:build-id")
				perBuild[b]++
				if b == deploys[newest].build {
					wantImage = aws.ToString(img.ImageId)
				}
			}
			for b, c := range perBuild {
				if c > 1 {
					t.Errorf("seed %d: build %s has %d AMIs, want at most 1", seed, b, c)
				}
			}
			perImage := map[string]int{}
			for _, v := range w.cloud.Versions(w.lt) {
				perImage[imageOf(v)]++
			}
			for img, c := range perImage {
				if c > 1 {
					t.Errorf("seed %d: %d versions carry %s, want at most 1", seed, c, img)
				}
			}
			noneRejected(t, seed, w)
			latest, def := w.head(w.lt)
			if wantImage == "" || imageOf(latest) != wantImage || imageOf(def) != wantImage {
				t.Errorf("seed %d: $Latest on %s, $Default on %s; want both on %s (build %s)\nversions: %s",
					seed, imageOf(latest), imageOf(def), wantImage, deploys[newest].build, describeVersions(w))
			}
		})
	}
}

// noneRejected fails the test for every rejected result the world published:
// in a convergence test nothing is wrong with the events or the account.
func noneRejected(t *testing.T, seed uint64, w *world) {
	t.Helper()
	for _, r := range w.published() {
		if r.Status == event.Rejected {
			t.Errorf("seed %d: %s rejected: %s", seed, r.LaunchTemplateName, r.Reason)
		}
	}
}

func describeVersions(w *world) string {
	s := ""
	for _, v := range w.cloud.Versions(w.lt) {
		img, _ := w.cloud.Image(imageOf(v))
		s += fmt.Sprintf("\n  v%d default=%t %s %s", aws.ToInt64(v.VersionNumber), aws.ToBool(v.DefaultVersion), imageOf(v), tag(img.Tags, "amibump:build-id"))
	}
	return s
}
