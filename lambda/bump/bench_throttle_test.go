package bump_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// BenchmarkThrottledFanOut (figure 3, under AWS's buckets): one event for 200
// and 500 templates against fakes that throttle like EC2 and Auto Scaling, with
// other tools of the account taking half of every bucket. The function runs as
// in Lambda: real SDK clients over HTTP (awssim), the function's retryer and
// its request budget, all with time scaled. Every AMI takes T = 5 minutes.
//
// Metrics: failed (targets neither promoted nor pending), pending, throttled
// (answers the fakes refused), polls/s (shared polls a real second between the
// first and the last), polls/tick (most polls started within one tick),
// calls/template (the probe's calls, polls excluded, over the templates), wall/T.
//
// Its time runs 50 times faster (not 100): every call here goes through HTTP
// and the SDK, whose CPU time is scaled too.
func BenchmarkThrottledFanOut(b *testing.B) {
	const k = 50
	at := func(real time.Duration) time.Duration { return real / k }
	T := at(5 * time.Minute)
	cfg := bump.Defaults()
	cfg.EventBus = "amibump"
	cfg.PollMin, cfg.PollMax, cfg.PromoteMargin = at(cfg.PollMin), at(cfg.PollMax), at(cfg.PromoteMargin)
	for _, n := range []int{200, 500} {
		b.Run(fmt.Sprintf("templates=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				a := newAccount(awsfake.WithImageDelay(T), awsfake.WithLatency(func(op string) time.Duration { return at(realLatency(op)) }),
					awsfake.WithThrottling(awsfake.Throttling{Speed: k, Background: 0.5}))
				for i := range n {
					a.target(fmt.Sprintf("shop-fan-prod-%03d", i), "fan", fmt.Sprint(i))
				}
				p, stop := sdkProbe(b, a.cloud, k)
				bm := p.bumper(cfg, nil).WithBudget(bump.NewBudget(bump.DefaultRates, k))
				raw := deployFinished("b-throttled", benchStart, "fan", "")
				b.StartTimer()
				start := time.Now() //nolint:forbidigo // a benchmark measures real time
				resp, err := handleWithin(bm, raw, at(15*time.Minute))
				wall := time.Since(start) //nolint:forbidigo // a benchmark measures real time
				b.StopTimer()
				stop()
				promoted, pending := 0, 0
				for _, r := range resp.Results {
					switch r.Status {
					case event.Promoted:
						promoted++
					case event.Pending:
						pending++
					}
				}
				if err != nil {
					b.Logf("event returned %v", err)
				}
				polls := p.starts("DescribeImages#id")
				b.ReportMetric(float64(n-promoted-pending), "failed")
				b.ReportMetric(float64(pending), "pending")
				b.ReportMetric(float64(a.cloud.Throttled("")), "throttled")
				b.ReportMetric(float64(len(p.calls)-len(polls))/float64(n), "calls/template")
				b.ReportMetric(pollRate(polls, k), "polls/s")
				b.ReportMetric(float64(mostWithin(polls, cfg.PollMin)), "polls/tick")
				b.ReportMetric(float64(wall)/float64(T), "wall/T")
				b.StartTimer()
			}
		})
	}
}

// sdkProbe serves c with awssim and returns a probe over SDK clients that use
// the function's retryer, time scaled; stop ends the server.
func sdkProbe(b *testing.B, c *awsfake.Cloud, k float64) (*probe, func()) {
	sim := awssim.New(c)
	url, err := sim.Start(0)
	if err != nil {
		b.Fatal(err)
	}
	cfg := aws.Config{
		Region:       awsfake.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return bump.NewRetryer(k) },
	}
	p := &probe{ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), evs: eventbridge.NewFromConfig(cfg)}
	return p, func() { _ = sim.Close() }
}

// starts returns when the calls of op started, in order.
func (p *probe) starts(op string) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for _, c := range p.calls {
		if c.op == op {
			out = append(out, c.start)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// pollRate is the polls a real (unscaled, k the scale) second between the first and the last.
func pollRate(starts []time.Time, k time.Duration) float64 {
	if len(starts) < 2 {
		return 0
	}
	span := starts[len(starts)-1].Sub(starts[0]) * k
	return float64(len(starts)-1) / span.Seconds()
}

// mostWithin is the most calls started within any window of length d (scaled).
func mostWithin(starts []time.Time, d time.Duration) int {
	best, lo := 0, 0
	for hi := range starts {
		for starts[hi].Sub(starts[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
