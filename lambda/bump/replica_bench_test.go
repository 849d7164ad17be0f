package bump_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// Simulated times of the DR benchmark: a cross-region copy of the AMI, and
// the reconcile schedule's period (the stack's default).
const (
	drCopyTime  = 5 * time.Minute
	drReconcile = 10 * time.Minute
)

// BenchmarkDRPromotedAfterSource: the time from a release promoted in the
// source region to the DR region's template promoted on its copy, the copy
// taking drCopyTime, at the default poll (3 s, at most 15 s). push: the
// source's result is forwarded at once; pull: no forward, the DR region's
// reconcile ticks every drReconcile, the first at a random phase. Scaled:
// one real second is 10 ms; 10 samples at once, each a World of its own.
// Goals: push within the copy time and 2 poll ticks, pull within a
// reconcile period and the copy time.
func BenchmarkDRPromotedAfterSource(b *testing.B) {
	const samples, k = 10, 100
	at := func(real time.Duration) time.Duration { return real / k }
	for _, mode := range []string{"push", "pull"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				lags := make([]time.Duration, samples)
				errs := make(chan error, samples)
				var wg sync.WaitGroup
				for i := range samples {
					phase := at(time.Duration(rand.New(rand.NewPCG(uint64(i), 7)).Int64N(int64(drReconcile))))
					wg.Go(func() {
						lag, err := drSample(mode, phase, at)
						lags[i] = lag
						if err != nil {
							errs <- fmt.Errorf("sample %d: %w", i, err)
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				slices.Sort(lags)
				b.ReportMetric(lags[samples/2].Seconds()*k, "p50-s")
				b.ReportMetric(lags[samples-1].Seconds()*k, "max-s")
			}
		})
	}
}

// drSample is one release followed into a DR region: the time between the
// two templates' new versions, on the World's clock (scaled).
func drSample(mode string, phase time.Duration, at func(time.Duration) time.Duration) (time.Duration, error) {
	env := awsfaketest.New(awsfake.WithImageDelay(at(2*time.Minute)), awsfake.WithCopyTime(at(drCopyTime)),
		awsfake.WithLatency(func(op string) time.Duration { return at(realLatency(op)) }))
	src := env.Cloud
	src.CreateEventBus("amibump")
	srcLT := awsfaketest.AddTarget(src, src.AddImage(awsfake.Image{Name: "base-2026-01"}), awsfaketest.Target{Name: "shop-web-prod-a", Layer: "web", Group: "a"})
	drScope := awsfake.Scope{Account: awsfake.Account, Region: drRegion}
	dr := env.Scope(drScope)
	dr.CreateEventBus("amibump")
	drLT := dr.AddLaunchTemplate("shop-web-prod-a-dr", map[string]string{
		event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a", event.TagReplicateFrom: awsfake.Region,
	}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(dr.AddImage(awsfake.Image{Name: "base-2026-01"}))})
	cfg := bump.Defaults()
	cfg.EventBus = "amibump"
	cfg.PollMin, cfg.PollMax, cfg.PromoteMargin = at(cfg.PollMin), at(cfg.PollMax), at(cfg.PromoteMargin)
	srcB := bump.ForClients(bump.Clients{Scope: bump.Scope{Account: awsfake.Account, Region: awsfake.Region}, EC2: env.World.EC2(awsfake.DefaultScope),
		AutoScaling: src.AutoScaling(), Events: src.EventBridge()}, cfg, nil).WithClock(env.Now)
	drB := bump.ForClients(bump.Clients{Scope: bump.Scope{Account: awsfake.Account, Region: drRegion}, EC2: env.World.EC2(drScope),
		AutoScaling: dr.AutoScaling(), Events: dr.EventBridge()}, cfg, nil).WithClock(env.Now).WithRegions(func(region string) (bump.Clients, error) {
		return bump.Clients{Scope: bump.Scope{Account: awsfake.Account, Region: region}, EC2: env.World.EC2(awsfake.Scope{Account: awsfake.Account, Region: region})}, nil
	})
	resp, err := handleWithin(srcB, deployFinished("b-1", benchStart, "web", "a"), at(15*time.Minute))
	if err != nil || len(resp.Results) != 1 || resp.Results[0].Status != event.Promoted {
		return 0, fmt.Errorf("source: %+v %v", resp.Results, err)
	}
	promotedAt := newestVersionAt(src, srcLT)
	if mode == "push" {
		resp, err = handleWithin(drB, drEnvelope("fwd-1", event.BumpFinished, event.SourceAmibump, env.Now(), resp.Results[0]), at(15*time.Minute))
		if err != nil || len(resp.Results) != 1 || resp.Results[0].Status != event.Promoted {
			return 0, fmt.Errorf("DR push: %+v %v", resp.Results, err)
		}
		return newestVersionAt(dr, drLT).Sub(promotedAt), nil
	}
	time.Sleep(phase)
	for tick := range 3 {
		resp, err = handleWithin(drB, drEnvelope(fmt.Sprintf("tick-%d", tick), event.ScheduledEvent, event.SourceEvents, env.Now(), struct{}{}), at(15*time.Minute))
		if err == nil && len(resp.Results) == 1 && resp.Results[0].Status == event.Promoted {
			return newestVersionAt(dr, drLT).Sub(promotedAt), nil
		}
		time.Sleep(at(drReconcile))
	}
	return 0, fmt.Errorf("DR pull: not promoted after 3 ticks: %+v %v", resp.Results, err)
}

// drEnvelope is an event on the DR region's bus.
func drEnvelope(id, detailType, source string, t time.Time, detail any) []byte {
	raw, _ := json.Marshal(map[string]any{"version": "0", "id": id, "detail-type": detailType, "source": source,
		"account": awsfake.Account, "time": t.UTC().Format(time.RFC3339), "region": drRegion, "resources": []string{}, "detail": detail})
	return raw
}

// newestVersionAt is when a template's newest version was made: the
// promotion, as figure 1 counts it (the version exists).
func newestVersionAt(c *awsfake.Cloud, lt string) time.Time {
	var at time.Time
	var n int64
	for _, v := range c.Versions(lt) {
		if aws.ToInt64(v.VersionNumber) > n {
			n, at = aws.ToInt64(v.VersionNumber), aws.ToTime(v.CreateTime)
		}
	}
	return at
}
