package bump

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/golden"
	"github.com/amibump/amibump/lambda/metrics"
)

// TestMetricsGolden pins the EMF lines of one invocation (testdata/golden/
// emf.jsonl): a deploy to two templates, one promoted after its AMI was seen
// turning available, one superseded, with retention's counts. The logger is
// the function's (JSON, lambdacontext's key names) without its wall-clock
// "timestamp" member; the EMF Timestamp is the Bumper's clock.
func TestMetricsGolden(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 31, 0, 0, time.UTC)
	var buf bytes.Buffer
	b := New(nil, nil, nil, Defaults(), JSONLogger(&buf)).WithClock(func() time.Time { return now })
	r := b.newRun(context.Background(), &event.Envelope{ID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", DetailType: event.DeployFinished})
	deployed := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	r.obs.note("ami-0123456789abcdef0", func(it *imageTimes) {
		it.deployedAt, it.requested, it.wasPending = deployed, deployed.Add(4*time.Second), true
		it.available = deployed.Add(9*time.Minute + 30*time.Second)
		it.promoted = it.available.Add(1250 * time.Millisecond)
	})
	results := []event.Result{
		{Status: event.Promoted, ImageID: "ami-0123456789abcdef0", Pruned: &event.Pruned{Versions: 2, Images: 1, Snapshots: 1, Retired: 3}},
		{Status: event.Superseded, Version: 9},
		{Status: event.Promoted, ImageID: "ami-0fedcba9876543210", Pruned: &event.Pruned{}},
	}
	r.emitMetrics(context.Background(), results)
	for i, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if err := ValidateEMF(line); err != nil {
			t.Errorf("line %d is not valid EMF: %v\n%s", i+1, err, line)
		}
	}
	golden.Check(t, "emf.jsonl", buf.Bytes())
}

// JSONLogger is the function's logger (lambda/main.go) writing to w, without
// the wall-clock time, so that its lines can be compared.
func JSONLogger(w *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a = lambdacontext.ReplaceAttr(groups, a); a.Key == "timestamp" && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
}

// emfUnits are the units CloudWatch accepts (the EMF specification's schema,
// from MetricDatum's Unit).
var emfUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
	"Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

// ValidateEMF checks a log line against the Embedded Metric Format
// specification (CloudWatch user guide, "Specification: Embedded metric
// format") and amibump's own rules: namespace amibump, metric names and units
// from package metrics, Results by [Status] and every other metric by none.
func ValidateEMF(line []byte) error {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics []map[string]json.RawMessage
	}
	if err := strictDecode(root["_aws"], &meta); err != nil {
		return fmt.Errorf("_aws: %w", err)
	}
	if meta.Timestamp == nil || strings.ContainsAny(meta.Timestamp.String(), ".eE") {
		return errors.New("_aws.Timestamp: want an integer of milliseconds since the epoch")
	}
	if ms, _ := meta.Timestamp.Int64(); ms < 1e12 {
		return fmt.Errorf("_aws.Timestamp %d: not milliseconds since 1970 (seconds?)", ms)
	}
	if len(meta.CloudWatchMetrics) == 0 {
		return errors.New("_aws.CloudWatchMetrics: want at least one MetricDirective")
	}
	for i, d := range meta.CloudWatchMetrics {
		if err := validateDirective(root, d); err != nil {
			return fmt.Errorf("_aws.CloudWatchMetrics[%d]: %w", i, err)
		}
	}
	return nil
}

func validateDirective(root map[string]json.RawMessage, raw map[string]json.RawMessage) error {
	var d struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []struct{ Name, Unit string }
	}
	enc, _ := json.Marshal(raw)
	if err := strictDecode(enc, &d); err != nil {
		return err
	}
	for _, member := range []string{"Namespace", "Dimensions", "Metrics"} {
		if _, ok := raw[member]; !ok {
			return fmt.Errorf("no %s", member)
		}
	}
	if d.Namespace != metrics.Namespace {
		return fmt.Errorf("Namespace %q, want %q", d.Namespace, metrics.Namespace)
	}
	if len(d.Dimensions) == 0 {
		return errors.New("Dimensions: want at least one DimensionSet (an empty one for none)")
	}
	if len(d.Metrics) == 0 || len(d.Metrics) > 100 {
		return fmt.Errorf("%d metrics: want 1 to 100", len(d.Metrics))
	}
	for _, set := range d.Dimensions {
		if len(set) > 30 {
			return fmt.Errorf("a DimensionSet of %d dimensions: at most 30", len(set))
		}
		for _, dim := range set {
			var v string
			if err := json.Unmarshal(root[dim], &v); err != nil || v == "" || len(v) > 1024 {
				return fmt.Errorf("dimension %s: want a top-level string member of 1 to 1024 characters, have %s", dim, root[dim])
			}
		}
	}
	for _, m := range d.Metrics {
		if err := validateMetric(root, m.Name, m.Unit, d.Dimensions); err != nil {
			return err
		}
	}
	return nil
}

func validateMetric(root map[string]json.RawMessage, name, unit string, dims [][]string) error {
	var v float64
	if err := json.Unmarshal(root[name], &v); err != nil || math.IsNaN(v) {
		return fmt.Errorf("metric %s: want a top-level number, have %s", name, root[name])
	}
	if !slices.Contains(emfUnits, unit) {
		return fmt.Errorf("metric %s: unit %q is not a CloudWatch unit", name, unit)
	}
	i := slices.IndexFunc(metrics.All, func(m struct{ Name, Unit string }) bool { return m.Name == name })
	if i < 0 || metrics.All[i].Unit != unit {
		return fmt.Errorf("metric %s (%s) is not in package metrics with that unit", name, unit)
	}
	wantDims := [][]string{{}}
	if name == metrics.Results {
		wantDims = [][]string{{metrics.DimensionStatus}}
	}
	if fmt.Sprint(dims) != fmt.Sprint(wantDims) {
		return fmt.Errorf("metric %s: dimensions %v, want %v", name, dims, wantDims)
	}
	return nil
}

// strictDecode decodes raw into v, refusing members v does not have: the
// specification's objects "MUST NOT contain any additional members".
func strictDecode(raw []byte, v any) error {
	if len(raw) == 0 {
		return errors.New("missing")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	return dec.Decode(v)
}

// TestValidateEMFRejects: the validator the EMF tests rely on refuses what the
// specification or amibump's rules forbid.
func TestValidateEMFRejects(t *testing.T) {
	directive := func(dims, metrics string) string {
		return `{"_aws":{"Timestamp":1795660260000,"CloudWatchMetrics":[{"Namespace":"amibump","Dimensions":` + dims + `,"Metrics":` + metrics + `}]}`
	}
	ok := directive(`[["Status"]]`, `[{"Name":"Results","Unit":"Count"}]`) + `,"Results":1,"Status":"promoted"}`
	if err := ValidateEMF([]byte(ok)); err != nil {
		t.Fatalf("rejected a valid line: %v", err)
	}
	many := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	tests := []struct{ name, line string }{
		{"no _aws", `{"Results":1}`},
		{"timestamp in seconds", strings.Replace(ok, "1795660260000", "1795660260", 1)},
		{"fractional timestamp", strings.Replace(ok, "1795660260000", "1795660260000.5", 1)},
		{"no timestamp", strings.Replace(ok, `"Timestamp":1795660260000,`, "", 1)},
		{"no directive", `{"_aws":{"Timestamp":1795660260000,"CloudWatchMetrics":[]}}`},
		{"extra member in _aws", strings.Replace(ok, `"Timestamp"`, `"LogGroupName":"x","Timestamp"`, 1)},
		{"other namespace", strings.Replace(ok, `"amibump"`, `"AWS/Lambda"`, 1)},
		{"no dimensions member", strings.Replace(ok, `"Dimensions":[["Status"]],`, "", 1)},
		{"dimensions not arrays", strings.Replace(ok, `[["Status"]]`, `["Status"]`, 1)},
		{"dimension without member", strings.Replace(ok, `,"Status":"promoted"`, "", 1)},
		{"dimension not a string", strings.Replace(ok, `"Status":"promoted"`, `"Status":1`, 1)},
		{"31 dimensions", directive("["+many(31, `"Status"`)+"]", `[{"Name":"Results","Unit":"Count"}]`) + `,"Results":1,"Status":"promoted"}`},
		{"101 metrics", directive(`[["Status"]]`, many(101, `{"Name":"Results","Unit":"Count"}`)) + `,"Results":1,"Status":"promoted"}`},
		{"metric without member", strings.Replace(ok, `"Results":1,`, "", 1)},
		{"metric not a number", strings.Replace(ok, `"Results":1`, `"Results":"1"`, 1)},
		{"unit CloudWatch lacks", strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Hours"`, 1)},
		{"unit other than the metric's", strings.Replace(ok, `"Unit":"Count"`, `"Unit":"Seconds"`, 1)},
		{"metric not in package metrics", strings.Replace(strings.Replace(ok, `"Name":"Results"`, `"Name":"Errors"`, 1), `"Results":1`, `"Errors":1`, 1)},
		{"Results without its Status dimension", strings.Replace(ok, `[["Status"]]`, `[[]]`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateEMF([]byte(tt.line)); err == nil {
				t.Errorf("accepted %s", tt.line)
			}
		})
	}
}
