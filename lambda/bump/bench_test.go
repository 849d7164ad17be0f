package bump_test

// Benchmarks behind `make bench` (lambda/benchmark runs them and prints the
// table). They run only with -bench; most are scenarios, meant for -benchtime=1x,
// that report their figures with b.ReportMetric.
//
// Time is scaled: every duration of the real system (AMI creation, waiter
// delays, API round trips, the Lambda timeout) is divided by timeScale, and
// figures in seconds are multiplied back ("-s" metrics are real seconds).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// timeScale: one real second is 10ms here.
const timeScale = 100

func scaled(real time.Duration) time.Duration { return real / timeScale }

// realLatency is a round trip to AWS: reads 150ms, writes 300ms, PutEvents 50ms.
func realLatency(op string) time.Duration {
	switch op {
	case "PutEvents":
		return 50 * time.Millisecond
	case "CreateImage", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplateVersions",
		"DeregisterImage", "StartInstanceRefresh":
		return 300 * time.Millisecond
	}
	return 150 * time.Millisecond
}

// apiLatency is realLatency, scaled.
func apiLatency(op string) time.Duration { return scaled(realLatency(op)) }

// benchConfig is the function's configuration with its delays scaled, and a
// Lambda timeout of 15 minutes (scaled) as the context's deadline.
func benchConfig(pollMin, pollMax time.Duration, concurrency int) bump.Config {
	cfg := bump.Defaults()
	cfg.EventBus = "amibump"
	cfg.PollMin, cfg.PollMax = scaled(pollMin), scaled(pollMax)
	cfg.PromoteMargin = scaled(cfg.PromoteMargin)
	cfg.Concurrency = concurrency
	return cfg
}

var lambdaTimeout = scaled(15 * time.Minute)

// account is a fake account with the amibump bus and a base AMI.
type account struct {
	cloud *awsfake.Cloud
	base  string
}

func newAccount(opts ...awsfake.Option) *account {
	a := &account{cloud: awsfaketest.New(opts...).Cloud}
	a.cloud.CreateEventBus("amibump")
	a.base = a.cloud.AddImage(awsfake.Image{Name: "base-2026-01"})
	return a
}

// target adds a managed template of app shop, env prod, layer and group as
// given, its own source instance (amibump:source-for) and a group launching it
// at $Latest with that instance InService.
func (a *account) target(name, layer, group string) string {
	return awsfaketest.AddTarget(a.cloud, a.base, awsfaketest.Target{Name: name, Layer: layer, Group: group})
}

// deployFinished is a deploy-finished event for app shop, env prod and the
// given layer and group ("" = any).
func deployFinished(build string, at time.Time, layer, group string) []byte {
	detail := map[string]any{"app": "shop", "env": "prod", "build": map[string]any{"id": build, "commit": "c0ffee42"}}
	if layer != "" {
		detail["layer"] = layer
	}
	if group != "" {
		detail["group"] = group
	}
	raw, err := json.Marshal(map[string]any{
		"version": "0", "id": "ev-" + build, "detail-type": "deploy-finished", "source": "ci.jenkins",
		"account": awsfake.Account, "time": at.UTC().Format(time.RFC3339), "region": awsfake.Region, "resources": []string{},
		"detail": detail,
	})
	if err != nil {
		panic(err)
	}
	return raw
}

func handleWithin(b *bump.Bumper, raw []byte, timeout time.Duration) (event.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return b.Handle(ctx, raw)
}

func allPromoted(tb testing.TB, resp event.Response, err error, want int) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	if len(resp.Results) != want {
		tb.Fatalf("%d results, want %d", len(resp.Results), want)
	}
	for _, r := range resp.Results {
		if r.Status != event.Promoted {
			tb.Fatalf("%s: %s: %s", r.LaunchTemplateName, r.Status, r.Reason)
		}
	}
}

// probe sits between the Bumper and the fakes (outside amibump's gate) and
// records every call: its operation, when it started, and whether it came
// before the first CreateImage; DescribeImages by id (the waiter's polls) is
// told apart from listings.
type probe struct {
	ec2 bump.EC2
	asg bump.AutoScaling
	evs bump.Events

	mu             sync.Mutex
	calls          []probeCall
	inFlight, peak int
	imaged         bool
	imageAt        time.Time // start of the last CreateImage
	versionAt      time.Time // end of the first CreateLaunchTemplateVersion
	defaultAt      time.Time // end of the last ModifyLaunchTemplate
}

type probeCall struct {
	op          string
	start       time.Time
	beforeImage bool
}

func newProbe(c *awsfake.Cloud) *probe {
	return &probe{ec2: c.EC2(), asg: c.AutoScaling(), evs: c.EventBridge()}
}

func (p *probe) bumper(cfg bump.Config, log *slog.Logger) *bump.Bumper {
	return bump.New(ec2Probe{p}, asgProbe{p}, eventsProbe{p}, cfg, log)
}

func (p *probe) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls, p.inFlight, p.peak, p.imaged = nil, 0, 0, false
	p.imageAt, p.versionAt, p.defaultAt = time.Time{}, time.Time{}, time.Time{}
}

func track[Out any](p *probe, op string, f func() (Out, error)) (Out, error) {
	now := time.Now()
	p.mu.Lock()
	p.calls = append(p.calls, probeCall{op: op, start: now, beforeImage: !p.imaged})
	p.inFlight++
	p.peak = max(p.peak, p.inFlight)
	if op == "CreateImage" {
		p.imaged, p.imageAt = true, now
	}
	p.mu.Unlock()
	out, err := f()
	end := time.Now()
	p.mu.Lock()
	p.inFlight--
	if op == "CreateLaunchTemplateVersion" && err == nil && p.versionAt.IsZero() {
		p.versionAt = end
	}
	if op == "ModifyLaunchTemplate" && err == nil && end.After(p.defaultAt) {
		p.defaultAt = end
	}
	p.mu.Unlock()
	return out, err
}

// counts returns the calls made, by operation ("DescribeImages#id" for polls).
func (p *probe) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[string]int{}
	for _, c := range p.calls {
		m[c.op]++
	}
	return m
}

// peakRate is the most calls started within any one second of real time.
func (p *probe) peakRate() int {
	p.mu.Lock()
	starts := make([]time.Time, len(p.calls))
	for i, c := range p.calls {
		starts[i] = c.start
	}
	p.mu.Unlock()
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range starts {
		for starts[hi].Sub(starts[lo]) >= scaled(time.Second) {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

type ec2Probe struct{ p *probe }

func (c ec2Probe) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return track(c.p, "DescribeLaunchTemplates", func() (*ec2.DescribeLaunchTemplatesOutput, error) {
		return c.p.ec2.DescribeLaunchTemplates(ctx, in, o...)
	})
}

func (c ec2Probe) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return track(c.p, "DescribeLaunchTemplateVersions", func() (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
		return c.p.ec2.DescribeLaunchTemplateVersions(ctx, in, o...)
	})
}

func (c ec2Probe) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return track(c.p, "DescribeInstances", func() (*ec2.DescribeInstancesOutput, error) { return c.p.ec2.DescribeInstances(ctx, in, o...) })
}

func (c ec2Probe) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, o ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	op := "DescribeImages"
	if len(in.ImageIds) > 0 || slices.ContainsFunc(in.Filters, func(f ec2types.Filter) bool { return aws.ToString(f.Name) == "image-id" }) {
		op = "DescribeImages#id" // a poll: by id, or the shared poll's image-id filter
	}
	return track(c.p, op, func() (*ec2.DescribeImagesOutput, error) { return c.p.ec2.DescribeImages(ctx, in, o...) })
}

func (c ec2Probe) DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, o ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error) {
	return track(c.p, "DescribeImageReferences", func() (*ec2.DescribeImageReferencesOutput, error) {
		return c.p.ec2.DescribeImageReferences(ctx, in, o...)
	})
}

func (c ec2Probe) CreateImage(ctx context.Context, in *ec2.CreateImageInput, o ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	return track(c.p, "CreateImage", func() (*ec2.CreateImageOutput, error) { return c.p.ec2.CreateImage(ctx, in, o...) })
}

func (c ec2Probe) CopyImage(ctx context.Context, in *ec2.CopyImageInput, o ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	return track(c.p, "CopyImage", func() (*ec2.CopyImageOutput, error) { return c.p.ec2.CopyImage(ctx, in, o...) })
}

func (c ec2Probe) DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, o ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	return track(c.p, "DeregisterImage", func() (*ec2.DeregisterImageOutput, error) { return c.p.ec2.DeregisterImage(ctx, in, o...) })
}

func (c ec2Probe) EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, o ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error) {
	return track(c.p, "EnableImageDeprecation", func() (*ec2.EnableImageDeprecationOutput, error) {
		return c.p.ec2.EnableImageDeprecation(ctx, in, o...)
	})
}

func (c ec2Probe) DisableImage(ctx context.Context, in *ec2.DisableImageInput, o ...func(*ec2.Options)) (*ec2.DisableImageOutput, error) {
	return track(c.p, "DisableImage", func() (*ec2.DisableImageOutput, error) { return c.p.ec2.DisableImage(ctx, in, o...) })
}

func (c ec2Probe) EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, o ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error) {
	return track(c.p, "EnableImageDeregistrationProtection", func() (*ec2.EnableImageDeregistrationProtectionOutput, error) {
		return c.p.ec2.EnableImageDeregistrationProtection(ctx, in, o...)
	})
}

func (c ec2Probe) DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, o ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error) {
	return track(c.p, "DisableImageDeregistrationProtection", func() (*ec2.DisableImageDeregistrationProtectionOutput, error) {
		return c.p.ec2.DisableImageDeregistrationProtection(ctx, in, o...)
	})
}

func (c ec2Probe) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, o ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	return track(c.p, "CreateLaunchTemplateVersion", func() (*ec2.CreateLaunchTemplateVersionOutput, error) {
		return c.p.ec2.CreateLaunchTemplateVersion(ctx, in, o...)
	})
}

func (c ec2Probe) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, o ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	return track(c.p, "ModifyLaunchTemplate", func() (*ec2.ModifyLaunchTemplateOutput, error) { return c.p.ec2.ModifyLaunchTemplate(ctx, in, o...) })
}

func (c ec2Probe) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, o ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	return track(c.p, "DeleteLaunchTemplateVersions", func() (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
		return c.p.ec2.DeleteLaunchTemplateVersions(ctx, in, o...)
	})
}

func (c ec2Probe) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, o ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	return track(c.p, "DeleteTags", func() (*ec2.DeleteTagsOutput, error) {
		return c.p.ec2.DeleteTags(ctx, in, o...)
	})
}

func (c ec2Probe) EnableImage(ctx context.Context, in *ec2.EnableImageInput, o ...func(*ec2.Options)) (*ec2.EnableImageOutput, error) {
	return track(c.p, "EnableImage", func() (*ec2.EnableImageOutput, error) {
		return c.p.ec2.EnableImage(ctx, in, o...)
	})
}

func (c ec2Probe) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, o ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return track(c.p, "CreateTags", func() (*ec2.CreateTagsOutput, error) { return c.p.ec2.CreateTags(ctx, in, o...) })
}

type asgProbe struct{ p *probe }

func (c asgProbe) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return track(c.p, "DescribeAutoScalingGroups", func() (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
		return c.p.asg.DescribeAutoScalingGroups(ctx, in, o...)
	})
}

func (c asgProbe) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, o ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	return track(c.p, "StartInstanceRefresh", func() (*autoscaling.StartInstanceRefreshOutput, error) {
		return c.p.asg.StartInstanceRefresh(ctx, in, o...)
	})
}

func (c asgProbe) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	return track(c.p, "DescribeInstanceRefreshes", func() (*autoscaling.DescribeInstanceRefreshesOutput, error) {
		return c.p.asg.DescribeInstanceRefreshes(ctx, in, o...)
	})
}

func (c asgProbe) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, o ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	return track(c.p, "CancelInstanceRefresh", func() (*autoscaling.CancelInstanceRefreshOutput, error) {
		return c.p.asg.CancelInstanceRefresh(ctx, in, o...)
	})
}

type eventsProbe struct{ p *probe }

func (c eventsProbe) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, o ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return track(c.p, "PutEvents", func() (*eventbridge.PutEventsOutput, error) { return c.p.evs.PutEvents(ctx, in, o...) })
}

var benchStart = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// BenchmarkAvailableToVersion (figure 1): the time from an AMI becoming
// available to its launch template version existing, with amibump's shared
// poll at its default tick (3s, at most 15s while throttled). Each sample is one bump in
// an account of its own whose AMI takes a random 1–4 minutes (scaled); the
// samples run at once. API calls take their usual time (apiLatency), so the
// figure includes promotion's reads and the create call.
func BenchmarkAvailableToVersion(b *testing.B) {
	// A finer scale than the other benchmarks (one real second is 50ms): a
	// millisecond of scheduling noise on a busy machine is 20ms here.
	const samples, k = 400, 20
	at := func(real time.Duration) time.Duration { return real / k }
	for _, bc := range []struct {
		name             string
		pollMin, pollMax time.Duration
	}{
		{"amibump-3s-15s", bump.Defaults().PollMin, bump.Defaults().PollMax},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rng := rand.New(rand.NewPCG(1, 2)) // the same AMI times for both settings
				lags := make([]time.Duration, samples)
				polls := make([]int, samples)
				var wg sync.WaitGroup
				errs := make(chan error, samples)
				for i := range samples {
					ready := at(time.Minute + time.Duration(rng.Int64N(int64(3*time.Minute))))
					wg.Go(func() {
						a := newAccount(awsfake.WithImageDelay(ready), awsfake.WithLatency(func(op string) time.Duration { return at(realLatency(op)) }))
						a.target("shop-web-prod-a", "web", "a")
						p := newProbe(a.cloud)
						cfg := bump.Defaults()
						cfg.PollMin, cfg.PollMax, cfg.PromoteMargin = at(bc.pollMin), at(bc.pollMax), at(cfg.PromoteMargin)
						resp, err := handleWithin(p.bumper(cfg, nil), deployFinished(fmt.Sprintf("b-%d", i), benchStart, "web", "a"), at(15*time.Minute))
						if err == nil && (len(resp.Results) != 1 || resp.Results[0].Status != event.Promoted) {
							err = fmt.Errorf("sample %d: %+v", i, resp.Results)
						}
						if err != nil {
							errs <- err
							return
						}
						lags[i] = p.versionAt.Sub(p.imageAt.Add(ready))
						polls[i] = p.counts()["DescribeImages#id"]
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				slices.Sort(lags)
				b.ReportMetric(lags[samples/2].Seconds()*k, "p50-s")
				b.ReportMetric(lags[samples*99/100].Seconds()*k, "p99-s")
				b.ReportMetric(lags[samples-1].Seconds()*k, "max-s")
				total := 0
				for _, n := range polls {
					total += n
				}
				b.ReportMetric(float64(total)/samples, "polls/bump")
			}
		})
	}
}

// steps attributes each operation to a step of a bump; the two reads of the
// template happen before imaging (check) and again in promotion.
func stepOf(c probeCall) string {
	switch c.op {
	case "DescribeLaunchTemplates":
		return "resolve"
	case "DescribeLaunchTemplateVersions", "DescribeImages":
		if c.beforeImage {
			return "check"
		}
		return "promote"
	case "DescribeInstances":
		return "source"
	case "CreateImage":
		return "image"
	case "DescribeImages#id":
		return "wait"
	case "CreateLaunchTemplateVersion", "ModifyLaunchTemplate":
		return "promote"
	case "DescribeAutoScalingGroups", "StartInstanceRefresh":
		return "groups"
	case "DeleteLaunchTemplateVersions", "DescribeImageReferences", "DeregisterImage",
		"EnableImageDeprecation", "DisableImage", "EnableImageDeregistrationProtection", "DisableImageDeregistrationProtection":
		return "retention"
	case "PutEvents":
		return "results"
	}
	return "other"
}

// BenchmarkCallsPerBump (figure 2): the API calls of one bump of one template,
// by step, the waiter's polls counted apart. "first" is a template amibump has
// not bumped yet; "steady" one at its retention limit (keep=5), so that the bump
// also deletes a version and retires an AMI (deprecates, disables, lifts its
// protection).
func BenchmarkCallsPerBump(b *testing.B) {
	for _, prior := range []int{0, 5} {
		name := "first"
		if prior > 0 {
			name = "steady"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				a := newAccount()
				a.target("shop-web-prod-a", "web", "a")
				p := newProbe(a.cloud)
				bm := p.bumper(benchConfig(3*time.Second, 15*time.Second, 8), nil)
				for i := range prior {
					resp, err := handleWithin(bm, deployFinished(fmt.Sprintf("b-%d", i), benchStart.Add(time.Duration(i)*time.Hour), "web", "a"), lambdaTimeout)
					allPromoted(b, resp, err, 1)
				}
				p.reset()
				resp, err := handleWithin(bm, deployFinished("b-now", benchStart.Add(time.Duration(prior)*time.Hour), "web", "a"), lambdaTimeout)
				allPromoted(b, resp, err, 1)
				if pr := resp.Results[0].Pruned; prior > 0 && (pr == nil || pr.Retired != 1) {
					b.Fatalf("steady bump pruned %+v, want one image retired", pr)
				}
				byStep := map[string]int{}
				p.mu.Lock()
				for _, c := range p.calls {
					byStep[stepOf(c)]++
				}
				p.mu.Unlock()
				total := 0
				for _, s := range []string{"resolve", "check", "source", "image", "promote", "groups", "retention", "results", "other"} {
					b.ReportMetric(float64(byStep[s]), s+"-calls")
					total += byStep[s]
				}
				b.ReportMetric(float64(byStep["wait"]), "polls")
				b.ReportMetric(float64(total), "total-calls")
				for op, n := range p.counts() {
					b.ReportMetric(float64(n), op+"-calls")
				}
			}
		})
	}
}

// BenchmarkFanOut (figure 3): one event for 1 to 200 templates, each AMI taking
// the same T (5 minutes, scaled), API calls their usual time. wall/T near 1 is
// the waits overlapping; the bound (AMIBUMP_CONCURRENCY) caps the calls in
// flight and so the call rate EC2 sees.
func BenchmarkFanOut(b *testing.B) {
	T := scaled(5 * time.Minute)
	for _, bc := range []struct{ templates, concurrency int }{
		{1, 8}, {10, 8}, {50, 8}, {200, 8}, {50, 2}, {50, 32}, {200, 2}, {200, 32},
	} {
		b.Run(fmt.Sprintf("templates=%d/concurrency=%d", bc.templates, bc.concurrency), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				a := newAccount(awsfake.WithImageDelay(T), awsfake.WithLatency(apiLatency))
				for i := range bc.templates {
					a.target(fmt.Sprintf("shop-fan-prod-%03d", i), "fan", fmt.Sprint(i))
				}
				p := newProbe(a.cloud)
				bm := p.bumper(benchConfig(3*time.Second, 15*time.Second, bc.concurrency), nil)
				raw := deployFinished("b-fan", benchStart, "fan", "")
				b.StartTimer()
				start := time.Now()
				resp, err := handleWithin(bm, raw, lambdaTimeout)
				wall := time.Since(start)
				allPromoted(b, resp, err, bc.templates)
				b.ReportMetric(float64(wall)/float64(T), "wall/T")
				b.ReportMetric(float64(p.peak), "peak-in-flight")
				b.ReportMetric(float64(p.peakRate()), "peak-calls/s")
				b.ReportMetric(float64(len(p.calls)), "calls")
			}
		})
	}
}

// BenchmarkRollback (figure 9): a rollback of 20 templates, each with two
// releases, at realLatency's pace (scaled): s/rollback is the real seconds of
// AWS calls until every template has its new version and $Default (the last
// ModifyLaunchTemplate answered), s/event until the handler returned (the
// groups and the results too). It is used during an incident.
//
// Its calls are scaled by 10, not timeScale: at a few milliseconds a call the
// timers and the scheduler of a busy machine would weigh more than the calls.
func BenchmarkRollback(b *testing.B) {
	const templates, scale = 20, 10
	latency := func(op string) time.Duration { return realLatency(op) / scale }
	for b.Loop() {
		b.StopTimer()
		a := newAccount(awsfake.WithImageDelay(scaled(time.Second)), awsfake.WithLatency(latency))
		for i := range templates {
			a.target(fmt.Sprintf("shop-rb-prod-%02d", i), "rb", fmt.Sprint(i))
		}
		p := newProbe(a.cloud)
		bm := p.bumper(benchConfig(3*time.Second, 15*time.Second, 8), nil)
		for i, build := range []string{"b-good", "b-bad"} {
			resp, err := handleWithin(bm, deployFinished(build, benchStart.Add(time.Duration(i)*time.Hour), "rb", ""), lambdaTimeout)
			allPromoted(b, resp, err, templates)
		}
		raw, err := json.Marshal(map[string]any{
			"version": "0", "id": "ev-rollback", "detail-type": event.RollbackRequested, "source": "ci.jenkins",
			"account": awsfake.Account, "time": benchStart.Add(3 * time.Hour).Format(time.RFC3339), "region": awsfake.Region, "resources": []string{},
			"detail": map[string]any{"app": "shop", "env": "prod", "layer": "rb", "reason": "bench"},
		})
		if err != nil {
			b.Fatal(err)
		}
		p.reset()
		b.StartTimer()
		start := time.Now()
		resp, err := handleWithin(bm, raw, lambdaTimeout)
		wall := time.Since(start)
		b.StopTimer()
		if err != nil || len(resp.Results) != templates {
			b.Fatalf("%d results, %v; want %d", len(resp.Results), err, templates)
		}
		for _, r := range resp.Results {
			if r.Status != event.RolledBack {
				b.Fatalf("%s: %s: %s", r.LaunchTemplateName, r.Status, r.Reason)
			}
		}
		b.ReportMetric(p.defaultAt.Sub(start).Seconds()*scale, "s/rollback")
		b.ReportMetric(wall.Seconds()*scale, "s/event")
		b.ReportMetric(float64(len(p.calls)), "calls")
		b.StartTimer()
	}
}

// BenchmarkReconcile (figure 4): the schedule over 500 managed templates and
// 5,000 amibump AMIs: "due" promotes the newest AMI of every template (and
// prunes), "idle" finds nothing due. The fakes answer at once: cpu-wall-ms is
// the handler's and the fakes' own time; model-wall-s what the calls would take
// at realLatency's pace.
func BenchmarkReconcile(b *testing.B) {
	reconcile := []byte(`{"version":"0","id":"c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f","detail-type":"Scheduled Event","source":"aws.events",
		"account":"123456789012","time":"2026-11-26T04:40:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/amibump-reconcile"],"detail":{}}`)
	for _, name := range []string{"due", "idle"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				a := newAccount()
				for i := range 500 {
					lt := a.target(fmt.Sprintf("app-%03d", i), "web", fmt.Sprint(i))
					for j := range 10 {
						a.cloud.AddImage(awsfake.Image{Name: fmt.Sprintf("app-%03d-%d", i, j), Tags: map[string]string{
							"amibump:launch-template": lt, "amibump:build-id": fmt.Sprintf("b-%d-%d", i, j),
							"amibump:deployed-at": benchStart.Add(time.Duration(j) * time.Minute).Format(time.RFC3339),
						}})
					}
				}
				p := newProbe(a.cloud)
				bm := p.bumper(benchConfig(5*time.Second, 15*time.Second, 8), nil)
				if name == "idle" {
					resp, err := handleWithin(bm, reconcile, lambdaTimeout)
					if err != nil || len(resp.Results) != 500 {
						b.Fatalf("first reconcile: %d results, %v", len(resp.Results), err)
					}
					p.reset()
				}
				b.StartTimer()
				start := time.Now()
				resp, err := handleWithin(bm, reconcile, lambdaTimeout)
				wall := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				if want := map[string]int{"due": 500, "idle": 0}[name]; len(resp.Results) != want {
					b.Fatalf("%d results, want %d", len(resp.Results), want)
				}
				total, busy := 0, time.Duration(0)
				for op, n := range p.counts() {
					b.ReportMetric(float64(n), op+"-calls")
					total += n
					busy += time.Duration(n) * realLatency(strings.TrimSuffix(op, "#id"))
				}
				b.ReportMetric(float64(total), "total-calls")
				b.ReportMetric(float64(wall.Milliseconds()), "cpu-wall-ms")
				// At AWS's pace: the listings are sequential; the jobs keep
				// the gate's 8 slots busy.
				model := busy
				if name == "due" {
					model = busy / 8
				}
				b.ReportMetric(model.Seconds(), "model-wall-s")
			}
		})
	}
}

// BenchmarkHandle (figure 6): the handler's own cost per event with
// zero-latency fakes and JSON logs to io.Discard, as a regression guard. The
// fakes' work (deep copies of every output) is included. "deploy" is a full
// bump of one template at its retention limit (each iteration a newer build);
// "unsupported" an event rejected without a call.
func BenchmarkHandle(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	b.Run("deploy", func(b *testing.B) {
		a := newAccount()
		lt := a.target("shop-web-prod-a", "web", "a")
		// Retired AMIs deregistered at once (delete-after 0): with the
		// default 14 days and a clock that does not move on, every op would
		// add one to the AMIs each later op lists, and the figure would grow
		// with b.N.
		a.cloud.TagLaunchTemplate(lt, map[string]string{event.TagDeleteAfter: "0"})
		// The handler's own work: polls and the pause before a confirming read
		// (the SDK's backoff, capped at PollMax) are waits, not work, and
		// would be most of the figure (about 150 ms at the scale of the
		// other benchmarks); a microsecond keeps them out.
		cfg := benchConfig(5*time.Second, 15*time.Second, 8)
		cfg.PollMin, cfg.PollMax = time.Microsecond, time.Microsecond
		bm := bump.New(a.cloud.EC2(), a.cloud.AutoScaling(), a.cloud.EventBridge(), cfg, log)
		next := 0
		mk := func() []byte {
			next++
			return deployFinished(fmt.Sprintf("b-%d", next), benchStart.Add(time.Duration(next)*time.Minute), "web", "a")
		}
		for range 6 { // reach the retention limit first
			resp, err := handleWithin(bm, mk(), time.Minute)
			allPromoted(b, resp, err, 1)
		}
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			raw := mk()
			b.StartTimer()
			resp, err := handleWithin(bm, raw, time.Minute)
			if err != nil || len(resp.Results) != 1 || resp.Results[0].Status != event.Promoted {
				b.Fatalf("%+v %v", resp.Results, err)
			}
		}
	})
	b.Run("unsupported", func(b *testing.B) {
		a := newAccount()
		cfg := benchConfig(5*time.Second, 15*time.Second, 8)
		cfg.EventBus = "" // rejected results are not published: no call at all
		bm := bump.New(a.cloud.EC2(), a.cloud.AutoScaling(), a.cloud.EventBridge(), cfg, log)
		raw := []byte(`{"version":"0","id":"d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2026-11-26T02:15:00Z","region":"us-east-1","resources":[],"detail":{"instance-id":"i-0123456789abcdef0","state":"running"}}`)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bm.Handle(context.Background(), raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
