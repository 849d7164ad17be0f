package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/amibump/amibump/lambda/hostile"
)

// The fuzz targets of this package feed the decoders of outside input with
// anything: the seeds are the sample events of testdata/events (whole, and
// their details), and every input that once failed is kept under
// testdata/fuzz/<target>/ as a regression seed, which plain go test runs.
// Properties: no panic; an error for every input that is not valid, naming
// what is wrong in a bounded message; what is accepted decodes again the same.

// maxReason bounds an error message about any input (EventBridge's event size
// limit is 256 KB): a message echoes values, shortened, never the whole input.
const maxReason = 4096

// addSamples seeds f with every sample event, whole or as its detail.
func addSamples(f *testing.F, detailOnly bool) {
	f.Helper()
	for _, raw := range hostile.SampleEvents(f) {
		if !detailOnly {
			f.Add(raw)
			continue
		}
		var env struct{ Detail json.RawMessage }
		if json.Unmarshal(raw, &env) == nil && env.Detail != nil {
			f.Add([]byte(env.Detail))
		}
	}
	for _, in := range hostile.Inputs() {
		switch {
		case !detailOnly:
			f.Add(in.Event)
		case in.Detail != nil:
			f.Add(in.Detail)
		}
	}
}

func checkMessage(t *testing.T, err error, names ...string) {
	t.Helper()
	msg := err.Error()
	if len(msg) > maxReason {
		t.Errorf("message of %d bytes, want at most %d: %.200s…", len(msg), maxReason, msg)
	}
	if !utf8.ValidString(msg) {
		t.Errorf("message is not valid UTF-8: %q", msg)
	}
	for _, n := range names {
		if strings.Contains(msg, n) {
			return
		}
	}
	if len(names) > 0 {
		t.Errorf("message %q names none of %q", msg, names)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	addSamples(f, false)
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := ParseEnvelope(raw)
		if err != nil {
			checkMessage(t, err, "EventBridge event")
			return
		}
		if env.Source == "" || env.DetailType == "" {
			t.Errorf("accepted an envelope without source or detail-type: %+v", env)
		}
		_ = env.Classify()
	})
}

func FuzzParseDeploy(f *testing.F) {
	addSamples(f, true)
	f.Fuzz(func(t *testing.T, detail []byte) {
		d, err := ParseDeploy(detail)
		if err != nil {
			checkMessage(t, err, "detail")
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted a detail that does not validate: %v", err)
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseDeploy(again)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Errorf("accepted %q, but its re-encoding %s decodes to %+v, %v", detail, again, d2, err)
		}
	})
}

func FuzzParseDeployEvent(f *testing.F) {
	addSamples(f, false)
	f.Fuzz(func(t *testing.T, raw []byte) {
		env, d, err := ParseDeployEvent(raw)
		if err != nil {
			checkMessage(t, err, "detail", "time", "event")
			return
		}
		if env.Time.IsZero() || env.Classify() != KindDeploy || d == nil {
			t.Errorf("accepted %+v, %+v: want a deploy-finished event with a time", env, d)
		}
	})
}

func FuzzParseAMIState(f *testing.F) {
	addSamples(f, true)
	f.Fuzz(func(t *testing.T, detail []byte) {
		s, err := ParseAMIState(detail)
		if err != nil {
			checkMessage(t, err, "EC2 AMI State Change detail")
			return
		}
		if !strings.HasPrefix(s.ImageID, "ami-") {
			t.Errorf("accepted image id %q", s.ImageID)
		}
	})
}
