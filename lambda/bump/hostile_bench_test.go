package bump_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/hostile"
)

// BenchmarkHandleHostile: the handler's time and memory per hostile input at
// EventBridge's 256 KB limit (deep nesting, very long strings, NUL bytes, odd
// Unicode), each rejected before any AWS call but the result's publication.
// Measured here (2 shared cores): at most 3 MB and 70 ms per input (a detail of
// 20,000 unknown fields); most take under 1 ms and 30 KB.
func BenchmarkHandleHostile(b *testing.B) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, in := range hostile.Inputs() {
		b.Run(in.Name, func(b *testing.B) {
			a := newAccount()
			bm := bump.New(a.cloud.EC2(), a.cloud.AutoScaling(), a.cloud.EventBridge(), benchConfig(0, 0, 8), log).WithClock(a.cloud.Clock().Now)
			b.SetBytes(int64(len(in.Event)))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := bm.Handle(context.Background(), in.Event)
				if err != nil || (len(resp.Results) > 0 && resp.Results[0].Status != event.Rejected) {
					b.Fatalf("%+v %v, want rejected", resp.Results, err)
				}
			}
		})
	}
}
