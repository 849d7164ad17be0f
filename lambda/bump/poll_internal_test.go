package bump

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// recordingEC2 keeps the input of every DescribeImages it passes on.
type recordingEC2 struct {
	EC2
	mu     sync.Mutex
	inputs []*ec2.DescribeImagesInput
}

func (r *recordingEC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	r.mu.Lock()
	r.inputs = append(r.inputs, in)
	r.mu.Unlock()
	return r.EC2.DescribeImages(ctx, in, opts...)
}

func pendingImages(c *awsfake.Cloud, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.AddImage(awsfake.Image{Name: fmt.Sprintf("app-%03d", i), State: ec2types.ImageStatePending})
	}
	return ids
}

func testRun(c *awsfake.Cloud, api EC2, tick time.Duration) *run {
	cfg := Defaults()
	cfg.PollMin, cfg.PollMax, cfg.PromoteMargin, cfg.MaxWait = tick, 8*tick, 0, 10*time.Second
	return New(api, nil, nil, cfg, nil).WithClock(c.Clock().Now).newRun(context.Background(), &event.Envelope{})
}

func TestWaitersShareOnePollATick(t *testing.T) {
	const tick = 10 * time.Millisecond
	c := awsfake.New(awsfake.WithImageDelay(100 * time.Millisecond))
	ids := pendingImages(c, 50)
	rec := &recordingEC2{EC2: c.EC2()}
	r := testRun(c, rec, tick)
	start := c.Clock().Now()
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = r.waitAvailable(context.Background(), id) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	elapsed := c.Clock().Now().Sub(start)
	polls := c.Calls("DescribeImages")
	if limit := int(elapsed/tick) + 1; polls > limit || polls < 2 {
		t.Fatalf("%d waiters made %d DescribeImages in %s; want at least 2 and at most one a tick (%d)", len(ids), polls, elapsed, limit)
	}
	for _, in := range rec.inputs {
		if !slices.Equal(in.Owners, []string{"self"}) || len(in.ImageIds) != 0 || len(in.Filters) != 1 || *in.Filters[0].Name != "image-id" {
			t.Fatalf("poll input %+v: want Owners self and one image-id filter, no ImageIds", in)
		}
	}
	named := map[string]bool{}
	for _, in := range rec.inputs {
		for _, v := range in.Filters[0].Values {
			named[v] = true
		}
	}
	if len(named) != len(ids) {
		t.Fatalf("the polls named %d of the %d pending ids", len(named), len(ids))
	}
}

func TestPollAnswersAnIDItLacksWithNotFound(t *testing.T) {
	c := awsfake.New()
	visible := c.AddImage(awsfake.Image{Name: "visible"})
	missing := "ami-00000000000000bad"
	r := testRun(c, c.EC2(), 20*time.Millisecond)
	p := r.poller(context.Background())
	var wg sync.WaitGroup
	var out *ec2.DescribeImagesOutput
	var errVisible, errMissing error
	wg.Go(func() {
		out, errVisible = p.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{visible}})
	})
	wg.Go(func() {
		_, errMissing = p.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{missing}})
	})
	wg.Wait()
	if errVisible != nil || len(out.Images) != 1 || *out.Images[0].ImageId != visible {
		t.Fatalf("visible image: %+v, %v", out, errVisible)
	}
	if !hasCode(errMissing, "InvalidAMIID.NotFound") {
		t.Fatalf("missing image: got %v, want InvalidAMIID.NotFound", errMissing)
	}
	if n := c.Calls("DescribeImages"); n > 2 {
		t.Fatalf("%d DescribeImages for two ids asked at once, want at most 2 (the first poll goes at once)", n)
	}
}

func TestPollSendsAtMost200IDsACall(t *testing.T) {
	c := awsfake.New(awsfake.WithImageDelay(time.Hour))
	ids := pendingImages(c, 450)
	rec := &recordingEC2{EC2: c.EC2()}
	p := newPoller(context.Background(), rec, time.Millisecond, time.Millisecond)
	got, _, err := p.describe(ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) {
		t.Fatalf("poll found %d of %d images", len(got), len(ids))
	}
	var sizes []int
	for _, in := range rec.inputs {
		sizes = append(sizes, len(in.Filters[0].Values))
	}
	if !slices.Equal(sizes, []int{200, 200, 50}) {
		t.Fatalf("ids per call: %v, want [200 200 50]", sizes)
	}
}

func TestThrottledPollSlowsTheTickAndTheWaitGoesOn(t *testing.T) {
	const tick = 5 * time.Millisecond
	c := awsfake.New(awsfake.WithImageDelay(50 * time.Millisecond))
	id := pendingImages(c, 1)[0]
	c.FailNext("DescribeImages", awsfake.Throttle())
	c.FailNext("DescribeImages", awsfake.Throttle())
	r := testRun(c, c.EC2(), tick)
	p := r.poller(context.Background())
	if _, err := p.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}}); !isThrottle(err) {
		t.Fatalf("first poll: got %v, want the throttling error", err)
	}
	if p.tick != 2*tick {
		t.Fatalf("tick after a throttled poll: %s, want %s", p.tick, 2*tick)
	}
	if err := r.waitAvailable(context.Background(), id); err != nil {
		t.Fatalf("wait through a throttled poll: %v", err)
	}
	if p.tick != tick {
		t.Fatalf("tick after an answer: %s, want %s again", p.tick, tick)
	}
}
