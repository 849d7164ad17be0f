package bump_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/metrics"
)

// handleLogged handles an event with the function's JSON logger and returns
// the result and the metric values of its EMF lines ("Results/promoted" for
// Results by status), each line checked against the EMF specification.
func (w *world) handleLogged(raw []byte) (event.Response, map[string]float64, []int64) {
	w.t.Helper()
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), w.deadline)
	defer cancel()
	resp, err := bump.New(w.cloud.EC2(), w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, bump.JSONLogger(&buf)).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM()).Handle(ctx, raw)
	if err != nil {
		w.t.Fatal(err)
	}
	values := map[string]float64{}
	var stamps []int64
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			w.t.Fatalf("log line is not JSON: %s", line)
		}
		if _, ok := m["_aws"]; !ok {
			continue
		}
		if err := bump.ValidateEMF(line); err != nil {
			w.t.Errorf("invalid EMF: %v\n%s", err, line)
		}
		stamps = append(stamps, int64(m["_aws"].(map[string]any)["Timestamp"].(float64)))
		for _, metric := range metrics.All {
			if v, ok := m[metric.Name].(float64); ok {
				key := metric.Name
				if s, ok := m[metrics.DimensionStatus].(string); ok {
					key += "/" + s
				}
				values[key] += v
			}
		}
	}
	return resp, values, stamps
}

// TestMetricsThroughTheStateEvent: a deploy whose AMI outlives the invocation,
// then its AMI state event, on a clock the test moves. Every duration is known.
func TestMetricsThroughTheStateEvent(t *testing.T) {
	w, clock := pendingWorld(t)
	_, values, stamps := w.handleLogged(deployEvent(t, "deploy-1", "jenkins-shop-deploy-142", t0.Add(-time.Minute)))
	if diff := cmp.Diff(map[string]float64{"Results/pending": 1}, values); diff != "" {
		t.Errorf("deploy, AMI pending: metrics (-want +got):\n%s", diff)
	}
	if len(stamps) == 0 || stamps[0] != t0.UnixMilli() {
		t.Errorf("EMF timestamps %v, want the Bumper's clock %d", stamps, t0.UnixMilli())
	}
	pending := w.amibumpImages(w.lt)[0]

	clock.Advance(31 * time.Minute) // the AMI turned available at t0+30m
	available := edit(t, amiStateEvent(t, *pending.ImageId, "available"), map[string]any{"time": t0.Add(30 * time.Minute).Format(time.RFC3339)})
	_, values, _ = w.handleLogged(available)
	want := map[string]float64{"Results/promoted": 1,
		metrics.ImageCreation:    30 * 60, // CreateImage at t0, available at the event's time
		metrics.DeployToPromoted: 32 * 60, // deployed at t0-1m, promoted at t0+31m
		metrics.AddedLatency:     60,      // the event's time to the promotion
		metrics.ImagesPruned:     0, metrics.ImagesRetired: 0, metrics.VersionsPruned: 0,
	}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("AMI state event: metrics (-want +got):\n%s", diff)
	}

	_, values, _ = w.handleLogged(available) // a duplicate delivery promotes nothing
	if diff := cmp.Diff(map[string]float64{"Results/promoted": 1, metrics.ImagesPruned: 0, metrics.ImagesRetired: 0, metrics.VersionsPruned: 0}, values); diff != "" {
		t.Errorf("duplicate AMI state event: metrics (-want +got):\n%s", diff)
	}
}

// TestMetricsOfADeploy: a deploy that waits for its AMI and promotes it emits
// every timing, in a plausible order, stamped by the world's clock.
func TestMetricsOfADeploy(t *testing.T) {
	w := newWorld(t)
	before := w.cloud.Clock().Now()
	resp, values, stamps := w.handleLogged(deployEvent(t, "deploy-1", "jenkins-shop-deploy-142", before.Add(-time.Minute)))
	after := w.cloud.Clock().Now()
	if res := one(t, resp); res.Status != event.Promoted {
		t.Fatalf("result %+v, want promoted", res)
	}
	if values["Results/promoted"] != 1 || values[metrics.ImageCreation] <= 0 || values[metrics.AddedLatency] < 0 ||
		values[metrics.DeployToPromoted] < 60 || values[metrics.DeployToPromoted] < values[metrics.ImageCreation]+values[metrics.AddedLatency] {
		t.Errorf("metrics %v: want one promoted result, creation > 0s, added latency >= 0s, deploy to promoted >= 60s and >= both", values)
	}
	for _, ms := range stamps {
		if ms < before.UnixMilli() || ms > after.UnixMilli() {
			t.Errorf("EMF timestamp %d outside the run (%d to %d)", ms, before.UnixMilli(), after.UnixMilli())
		}
	}
}

// TestMetricsOfAResolvingTemplate: a template whose ImageId is resolve:ssm:
// gets versions that keep the indirection; the promotion timings are still
// those of the AMI the parameter now resolves to.
func TestMetricsOfAResolvingTemplate(t *testing.T) {
	w := newWorld(t)
	w.cloud.AddParameter(param, w.baseAMI, "aws:ec2:image")
	w.handVersion("resolve:ssm:" + param)
	before := w.cloud.Clock().Now()
	resp, values, _ := w.handleLogged(deployEvent(t, "deploy-1", "jenkins-shop-deploy-142", before.Add(-time.Minute)))
	if res := one(t, resp); res.Status != event.Promoted {
		t.Fatalf("result %+v, want promoted", res)
	}
	for _, name := range []string{metrics.DeployToPromoted, metrics.AddedLatency, metrics.ImageCreation} {
		if _, ok := values[name]; !ok {
			t.Errorf("metrics %v: no %s", values, name)
		}
	}
}
