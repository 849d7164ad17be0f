package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestPlanAndRunRefuseADeployFromTheFuture: an event file whose time lies
// beyond --clock-skew ahead of this machine's clock is invalid input (exit 2),
// refused before any AWS call, with a message naming the field, the time and
// the allowance; --clock-skew widens the allowance.
func TestPlanAndRunRefuseADeployFromTheFuture(t *testing.T) {
	for _, cmd := range []string{"plan", "run"} {
		t.Run(cmd, func(t *testing.T) {
			w := newWorld(t, nil)
			path := w.eventFile("deploy-finished.json", map[string]any{"time": "9999-12-31T23:59:59Z"})
			code, stdout, stderr := w.amibump(cmd, path)
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitInvalid, stdout, stderr)
			}
			for _, want := range []string{"time 9999-12-31T23:59:59Z", "clock skew of 5m0s (--clock-skew)"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			if w.clientCalls != 0 || len(w.cloud.Versions(w.lt)) != 1 {
				t.Errorf("%d client builds, %d versions; want nothing asked or made", w.clientCalls, len(w.cloud.Versions(w.lt)))
			}

			// The same as a PutEvents entry list with a hand-set Time.
			entries := filepath.Join(t.TempDir(), "entries.json")
			list := `[{"Source":"ci.jenkins","DetailType":"deploy-finished","Detail":"{\"app\":\"shop\",\"env\":\"prod\",\"build\":{\"id\":\"b\"}}","Time":"9999-12-31T23:59:59Z"}]`
			if err := os.WriteFile(entries, []byte(list), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := w.amibump(cmd, entries); code != exitInvalid || !strings.Contains(stderr, "time 9999-12-31T23:59:59Z") {
				t.Errorf("entry list: exit %d, want 2 naming the time\n%s", code, stderr)
			}

			soon := w.cloud.Clock().Now().Add(10 * time.Minute).Format(time.RFC3339)
			path = w.eventFile("deploy-finished.json", map[string]any{"time": soon})
			if code, stdout, stderr := w.amibump(cmd, "--clock-skew", "15m", path); code != exitOK {
				t.Errorf("with --clock-skew 15m: exit %d, want 0\n%s%s", code, stdout, stderr)
			}
			if code, _, stderr := w.amibump(cmd, "--clock-skew", "0s", path); code != exitInvalid || !strings.Contains(stderr, "--clock-skew") {
				t.Errorf("--clock-skew 0s: exit %d, want 2 naming the flag\n%s", code, stderr)
			}
		})
	}
}

// TestEmitLeavesTheTimeToEventBridge: emit does not send the CI agent's clock
// as the event's time; EventBridge stamps the event, so an agent whose clock
// is years ahead still sends a deploy of now.
func TestEmitLeavesTheTimeToEventBridge(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	wrongClock := func() time.Time { return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }
	var out, errOut bytes.Buffer
	args := []string{"emit", "--app", "shop", "--env", "prod", "--layer", "web", "--group", "a"}
	if code := run(context.Background(), args, func(k string) string { return w.env[k] }, &out, &errOut, w.clients, wrongClock); code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, errOut.String())
	}
	sent := w.cloud.Events()
	if len(sent) != 1 {
		t.Fatalf("%d events, want 1", len(sent))
	}
	if got, now := aws.ToTime(sent[0].Time), w.cloud.Clock().Now(); got.After(now) || now.Sub(got) > time.Minute {
		t.Errorf("event time %s, want EventBridge's clock (%s)", got, now)
	}
}
