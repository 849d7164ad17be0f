package bump_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// TestDRConverges: 2-5 deploys in the source region, concurrent, in random
// order and times, each retried as Lambda would; each promoted result is
// forwarded to the DR region zero (lost), one or two (a replay) times, the
// forwards racing each other, some while the source region is unreachable;
// reads lag writes in both regions. Then the DR region's reconcile runs.
// Whatever happened, both regions end on the newest deploy: the source
// template on its AMI, the DR template on a copy of it; no build has two
// copies, nothing is rejected or failed.
func TestDRConverges(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
			d := newDRWorld(t, awsfake.WithImageDelay(time.Duration(rng.IntN(30))*time.Millisecond),
				awsfake.WithCopyTime(time.Duration(rng.IntN(40))*time.Millisecond), awsfake.WithEventualConsistency(seed, 3*time.Millisecond))
			n := 2 + rng.IntN(4)
			type deploy struct {
				build    string
				at       time.Time
				delay    time.Duration
				forwards int  // 0: lost, 2: replayed
				down     bool // the first forward finds the source unreachable
			}
			deploys := make([]deploy, n)
			base := t0.Add(-16 * time.Minute)
			newest := 0
			for i := range deploys {
				deploys[i] = deploy{build: fmt.Sprintf("jenkins-shop-deploy-%d", 100+i), at: base.Add(time.Duration(rng.IntN(4)) * time.Minute),
					delay: time.Duration(rng.IntN(25)) * time.Millisecond, forwards: rng.IntN(3), down: rng.IntN(4) == 0}
				if x := deploys[i]; x.at.After(deploys[newest].at) || (x.at.Equal(deploys[newest].at) && x.build > deploys[newest].build) {
					newest = i
				}
			}
			outage := &smithyhttp.RequestSendError{Err: errors.New("dial tcp: i/o timeout")}
			var wg sync.WaitGroup
			for i, x := range deploys {
				wg.Go(func() {
					time.Sleep(x.delay)
					res, ok := retried(t, seed, "deploy "+x.build, func() ([]event.Result, error) {
						resp, err := d.handle(deployEvent(t, fmt.Sprintf("event-%d", i), x.build, x.at))
						return resp.Results, err
					})
					if !ok || len(res) != 1 || res[0].Status != event.Promoted {
						return // superseded: not forwarded
					}
					for f := range x.forwards {
						var down error
						if x.down && f == 0 {
							down = outage
						}
						retried(t, seed, "forward of "+x.build, func() ([]event.Result, error) {
							ctx, cancel := context.WithTimeout(context.Background(), d.deadline)
							defer cancel()
							resp, err := d.drBumperDown(down).Handle(ctx, forwarded(t, res[0], fmt.Sprintf("fwd-%d-%d", i, f)))
							return resp.Results, err
						})
					}
				})
			}
			wg.Wait()
			for tick := range 3 {
				retried(t, seed, "reconcile", func() ([]event.Result, error) {
					resp, err := d.handleDR(d.tick(t, fmt.Sprintf("tick-%d", tick)))
					return resp.Results, err
				})
			}
			d.checkConverged(t, seed, deploys[newest].build)
		})
	}
}

// retried handles an event as Lambda would: again on an error, up to 4
// times, after a pause. Lambda waits a minute, then two, before it retries an
// asynchronous invocation; here the pause is several times the world's read
// lag (3 ms), so that a retry, like Lambda's, comes after EC2's reads have
// caught up. Retrying at once would ask EC2 four times within its lag and
// fail on a loaded machine (it did, once: "AMI name … is taken but the image
// is not visible yet").
func retried(t *testing.T, seed uint64, what string, handle func() ([]event.Result, error)) ([]event.Result, bool) {
	for attempt := range 4 {
		res, err := handle()
		if err == nil {
			return res, true
		}
		if attempt == 3 {
			t.Errorf("seed %d: %s still failing after retries: %v", seed, what, err)
			break
		}
		time.Sleep(10 * time.Millisecond << attempt)
	}
	return nil, false
}

// checkConverged: both templates on the newest build, the DR one on a copy
// of the source's AMI; one copy per build at most; nothing rejected or failed.
func (d *drWorld) checkConverged(t *testing.T, seed uint64, build string) {
	t.Helper()
	src := ""
	for _, img := range d.amibumpImages(d.lt) {
		if tag(img.Tags, event.TagBuildID) == build {
			src = aws.ToString(img.ImageId)
		}
	}
	if latest, def := d.head(d.lt); src == "" || imageOf(latest) != src || imageOf(def) != src {
		t.Errorf("seed %d: source on %s/%s, want %s (build %s)", seed, imageOf(latest), imageOf(def), src, build)
	}
	perBuild := map[string]int{}
	for _, img := range d.amibumpImagesIn(d.dr) {
		perBuild[tag(img.Tags, event.TagBuildID)]++
	}
	for b, c := range perBuild {
		if c > 1 {
			t.Errorf("seed %d: build %s has %d copies in the DR region, want at most 1", seed, b, c)
		}
	}
	img, _ := d.dr.Image(d.drDefault())
	if tag(img.Tags, event.TagCopyOf) != awsfake.Region+"/"+src || tag(img.Tags, event.TagBuildID) != build {
		t.Errorf("seed %d: DR $Default on %s (copy of %s, build %s), want the copy of %s (build %s)", seed, d.drDefault(),
			tag(img.Tags, event.TagCopyOf), tag(img.Tags, event.TagBuildID), src, build)
	}
	for _, c := range []*awsfake.Cloud{d.cloud, d.dr} {
		for _, r := range publishedIn(c) {
			if r.Status == event.Rejected || r.Status == event.Failed {
				t.Errorf("seed %d: %s %s in %s: %s", seed, r.LaunchTemplateName, r.Status, r.Region, r.Reason)
			}
		}
	}
}
