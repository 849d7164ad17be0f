package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amibump/amibump/lambda/hostile"
)

// FuzzPlanEventFile gives amibump plan any event file: the sample events of
// testdata/events, the entry list that emit --print prints, package hostile's
// inputs, and what the fuzzer makes of them. Inputs that once failed are kept
// under testdata/fuzz/FuzzPlanEventFile/. Properties: no panic; one of the
// documented exit codes, never a failure (4) against fakes that do not fail;
// every message bounded; and plan changes nothing, whatever the file says.
func FuzzPlanEventFile(f *testing.F) {
	for _, raw := range hostile.SampleEvents(f) {
		f.Add(raw)
	}
	f.Add([]byte(`[{"Source":"ci.jenkins","DetailType":"deploy-finished","EventBusName":"amibump","Detail":"{\"app\":\"shop\",\"env\":\"prod\",\"layer\":\"web\",\"group\":\"a\",\"build\":{\"id\":\"jenkins-shop-deploy-142\"}}"}]`))
	f.Add([]byte(`[{"Source":"ci.jenkins","DetailType":"deploy-finished","Detail":"{\"app\":\"shop\",\"env\":\"prod\",\"build\":{\"id\":\"b\"}}","Time":"9999-12-31T23:59:59Z"}]`))
	f.Add([]byte(`[{"Source":"ci.jenkins","DetailType":"deploy-finished","Detail":"{}","Time":"` + strings.Repeat("9", hostile.MaxEventSize-128) + `"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"Detail":"not json"},{"Detail":"{}"}]`))
	for _, in := range hostile.Inputs() {
		f.Add(in.Event)
		f.Add([]byte(`[{"Source":"ci.jenkins","DetailType":"deploy-finished","Detail":` + strings.ReplaceAll(strings.ReplaceAll(string(in.Detail), `\`, `\\`), `"`, `\"`) + `"}]`))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		w := newWorld(t, nil)
		path := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		images, versions := len(w.cloud.Images()), len(w.cloud.Versions(w.lt))
		code, stdout, stderr := w.amibump("plan", path)
		switch code {
		case exitOK, exitInvalid, exitRejected:
		default:
			t.Errorf("exit %d, want 0, 2 or 3 against fakes that do not fail\n%s%s", code, stdout, stderr)
		}
		if len(stderr) > 8192 {
			t.Errorf("%d bytes on stderr: %.200s…", len(stderr), stderr)
		}
		if len(w.cloud.Images()) != images || len(w.cloud.Versions(w.lt)) != versions {
			t.Errorf("plan changed the account: images %d → %d, versions %d → %d", images, len(w.cloud.Images()), versions, len(w.cloud.Versions(w.lt)))
		}
	})
}
