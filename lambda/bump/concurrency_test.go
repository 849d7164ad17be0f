package bump_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// inFlight wraps the fake EC2 and records the most calls in flight at once.
type inFlight struct {
	bump.EC2
	mu       sync.Mutex
	now, max int
}

func (c *inFlight) enter() func() {
	c.mu.Lock()
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	time.Sleep(time.Millisecond) // a round trip, so that calls overlap
	return func() { c.mu.Lock(); c.now--; c.mu.Unlock() }
}

func (c *inFlight) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	defer c.enter()()
	return c.EC2.DescribeLaunchTemplates(ctx, in, o...)
}

func (c *inFlight) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	defer c.enter()()
	return c.EC2.DescribeLaunchTemplateVersions(ctx, in, o...)
}

func (c *inFlight) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	defer c.enter()()
	return c.EC2.DescribeInstances(ctx, in, o...)
}

func (c *inFlight) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, o ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	defer c.enter()()
	return c.EC2.DescribeImages(ctx, in, o...)
}

func (c *inFlight) CreateImage(ctx context.Context, in *ec2.CreateImageInput, o ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	defer c.enter()()
	return c.EC2.CreateImage(ctx, in, o...)
}

func (c *inFlight) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, o ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	defer c.enter()()
	return c.EC2.CreateLaunchTemplateVersion(ctx, in, o...)
}

func (c *inFlight) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, o ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	defer c.enter()()
	return c.EC2.ModifyLaunchTemplate(ctx, in, o...)
}

// TestConcurrencyBoundsCallsNotTargets: with AMIBUMP_CONCURRENCY=1 or 4, a fan-out
// of 12 templates never has more EC2 calls than that in flight, yet every target's
// image is requested before the first one is available (the waits overlap).
func TestConcurrencyBoundsCallsNotTargets(t *testing.T) {
	for _, limit := range []int{1, 4} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			w := newWorld(t, awsfake.WithImageDelay(time.Second))
			for i := range 11 {
				name := fmt.Sprintf("shop-fan-prod-%02d", i)
				w.template(name, map[string]string{"amibump:layer": "fan"})
				w.cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": name}})
			}
			w.cfg.Concurrency = limit
			w.cfg.PollMin, w.cfg.PollMax = 20*time.Millisecond, 50*time.Millisecond
			counted := &inFlight{EC2: w.cloud.EC2()}
			b := bump.New(counted, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := b.Handle(ctx, sample(t, "deploy-finished-fanout.json"))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Results) != 12 {
				t.Fatalf("%d results, want 12", len(resp.Results))
			}
			for _, r := range resp.Results {
				if r.Status != event.Promoted {
					t.Errorf("%s: %s %s", r.LaunchTemplateName, r.Status, r.Reason)
				}
			}
			if counted.max > limit {
				t.Errorf("%d calls in flight at once, want at most %d", counted.max, limit)
			}
			if limit > 1 && counted.max < 2 {
				t.Errorf("never more than one call in flight: the targets did not run concurrently")
			}
			// One image delay for all: every image was requested before the first became available.
			var first, last time.Time
			for _, img := range w.cloud.Images() {
				if tag(img.Tags, "amibump:build-id") == "" {
					continue
				}
				at, _ := time.Parse(time.RFC3339Nano, *img.CreationDate)
				if first.IsZero() || at.Before(first) {
					first = at
				}
				if at.After(last) {
					last = at
				}
			}
			if last.Sub(first) >= time.Second {
				t.Errorf("images were requested over %s, longer than one image's making: the waits did not overlap", last.Sub(first))
			}
		})
	}
}
