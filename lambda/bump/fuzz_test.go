package bump_test

import (
	"strings"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/hostile"
)

// maxReason bounds a result's reason for any input: it is published in a
// bump-finished event (256 KB at most) and logged.
const maxReason = 4096

// FuzzHandle sends anything to the handler of a world with amibump's usual
// setup: the sample events of testdata/events, package hostile's inputs at
// EventBridge's size limit, and what the fuzzer makes of them. Inputs that
// once failed are kept under testdata/fuzz/FuzzHandle/. Properties: no panic;
// no function error (Lambda would retry it) for input that can never become
// valid; an invalid deploy event is rejected with a reason naming the field;
// every reason is bounded; nothing is created or changed unless some result
// says so.
func FuzzHandle(f *testing.F) {
	for _, raw := range hostile.SampleEvents(f) {
		f.Add(raw)
	}
	for _, in := range hostile.Inputs() {
		f.Add(in.Event)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		w := newWorld(t)
		w.deadline = 2 * time.Second
		images, versions := len(w.cloud.Images()), len(w.cloud.Versions(w.lt))
		resp, err := w.handle(raw)
		if err != nil {
			t.Fatalf("function error %v: Lambda would retry it, though no AWS call failed", err)
		}
		changed := false
		for _, r := range resp.Results {
			if len(r.Reason) > maxReason {
				t.Errorf("reason of %d bytes, want at most %d: %.200s…", len(r.Reason), maxReason, r.Reason)
			}
			switch r.Status {
			case event.Promoted, event.Pending, event.Failed:
				changed = true
			case "":
				t.Errorf("a result without a status: %+v", r)
			}
		}
		if env, _, perr := event.ParseDeployEvent(raw); perr != nil && env != nil && env.Classify() == event.KindDeploy {
			if len(resp.Results) != 1 || resp.Results[0].Status != event.Rejected || !namesAField(resp.Results[0].Reason) {
				t.Errorf("invalid deploy event (%v): results %+v, want one rejected naming the field", perr, resp.Results)
			}
		}
		if !changed && (len(w.cloud.Images()) != images || len(w.cloud.Versions(w.lt)) != versions) {
			t.Errorf("results %+v say nothing was made, but images went from %d to %d and versions from %d to %d",
				resp.Results, images, len(w.cloud.Images()), versions, len(w.cloud.Versions(w.lt)))
		}
	})
}

func namesAField(reason string) bool {
	for _, f := range []string{"detail", "time"} {
		if strings.Contains(reason, f) {
			return true
		}
	}
	return false
}
