package amibump_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/metrics"
)

// dashboardBody is the dashboard's JSON body, with CloudFormation references
// written as their logical ids (Ref X as X, Fn::GetAtt X.Attr as X.Attr).
func dashboardBody(t *testing.T, s *synthesized) map[string]any {
	t.Helper()
	dashboards := s.resources("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(dashboards))
	}
	var body map[string]any
	for _, d := range dashboards {
		text := flatten(d["DashboardBody"])
		if err := json.Unmarshal([]byte(text), &body); err != nil {
			t.Fatalf("dashboard body is not JSON: %v\n%s", err, text)
		}
	}
	return body
}

func flatten(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			return ref
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("%v.%v", att[0], att[1])
		}
		if join, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, flatten(p))
			}
			return strings.Join(parts, join[0].(string))
		}
	}
	panic(fmt.Sprintf("cannot flatten %v", v))
}

// graphed lists every metric of every graph as "namespace name dim=value ...".
func graphed(body map[string]any) []string {
	var out []string
	for _, w := range body["widgets"].([]any) {
		props := w.(map[string]any)["properties"].(map[string]any)
		list, _ := props["metrics"].([]any)
		for _, m := range list {
			var words []string
			for i, x := range m.([]any) {
				if s, ok := x.(string); ok {
					if i >= 2 && i%2 == 1 {
						words[len(words)-1] += "=" + s
						continue
					}
					words = append(words, s)
				}
			}
			out = append(out, strings.Join(words, " "))
		}
	}
	return out
}

// Every amibump metric on the dashboard is one the function emits (package
// metrics), with the dimensions it emits it with, and every one is graphed:
// the names cannot drift apart.
func TestDashboardGraphsExactlyTheFunctionsMetrics(t *testing.T) {
	s := defaultStack(t)
	var got, want []string
	for _, m := range graphed(dashboardBody(t, s)) {
		if strings.HasPrefix(m, metrics.Namespace+" ") {
			got = append(got, m)
		}
	}
	for _, m := range metrics.All {
		if m.Name != metrics.Results {
			want = append(want, metrics.Namespace+" "+m.Name)
			continue
		}
		for _, st := range []event.Status{event.Promoted, event.Superseded, event.Pending, event.Rejected, event.Failed, event.DryRun, event.Drifted, event.Unreachable} {
			want = append(want, fmt.Sprintf("%s %s %s=%s", metrics.Namespace, metrics.Results, metrics.DimensionStatus, st))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("amibump metrics on the dashboard (-emitted by the function +graphed):\n%s", diff)
	}
}

// The dashboard also shows the function, both queues and every alarm.
func TestDashboardShowsFunctionQueuesAndAlarms(t *testing.T) {
	s := defaultStack(t)
	body := dashboardBody(t, s)
	all := graphed(body)
	fn := s.id(s.construct.Function)
	for _, want := range []string{
		"AWS/Lambda Errors FunctionName=" + fn,
		"AWS/Lambda Throttles FunctionName=" + fn,
		"AWS/Lambda Duration FunctionName=" + fn,
		"AWS/Lambda AsyncEventAge FunctionName=" + fn,
		"AWS/Lambda AsyncEventsDropped FunctionName=" + fn,
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=" + s.id(s.construct.Queue) + ".QueueName",
		"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=" + s.id(s.construct.DeadLetterQueue) + ".QueueName",
	} {
		if !slices.Contains(all, want) {
			t.Errorf("dashboard does not graph %s; it graphs:\n%s", want, strings.Join(all, "\n"))
		}
	}
	var alarms []any
	for _, w := range body["widgets"].([]any) {
		if a, ok := w.(map[string]any)["properties"].(map[string]any)["alarms"].([]any); ok {
			alarms = append(alarms, a...)
		}
	}
	if len(alarms) != len(s.construct.Alarms) || len(alarms) == 0 {
		t.Errorf("alarm status widget shows %d alarms, want all %d", len(alarms), len(s.construct.Alarms))
	}
	for _, a := range s.construct.Alarms {
		if !slices.Contains(alarms, any(s.id(a)+".Arn")) {
			t.Errorf("alarm %s is not on the dashboard (%v)", s.id(a), alarms)
		}
	}
}

// Failed and rejected results alarm: Sum of Results with Status failed or
// rejected over 5 minutes above 0, missing data not breaching, to the topic.
func TestFailedOrRejectedResultsAlarm(t *testing.T) {
	s := defaultStack(t)
	var found int
	for _, alarm := range s.resources("AWS::CloudWatch::Alarm") {
		queries, _ := alarm["Metrics"].([]any)
		var stats []string
		for _, q := range queries {
			ms, ok := q.(map[string]any)["MetricStat"].(map[string]any)
			if !ok {
				continue
			}
			m := ms["Metric"].(map[string]any)
			stats = append(stats, fmt.Sprintf("%v %v %v %v %v", m["Namespace"], m["MetricName"], m["Dimensions"], ms["Stat"], ms["Period"]))
		}
		slices.Sort(stats)
		want := []string{
			"amibump Results [map[Name:Status Value:failed]] Sum 300",
			"amibump Results [map[Name:Status Value:rejected]] Sum 300",
		}
		if !slices.Equal(stats, want) {
			continue
		}
		found++
		got := fmt.Sprintf("%v %v %v %v", alarm["ComparisonOperator"], alarm["Threshold"], alarm["TreatMissingData"], alarm["AlarmActions"])
		wantProps := fmt.Sprintf("GreaterThanThreshold 0 notBreaching [map[Ref:%s]]", s.id(s.construct.Topic))
		if got != wantProps {
			t.Errorf("results alarm: got %s, want %s", got, wantProps)
		}
	}
	if found != 1 {
		t.Errorf("found %d alarms on failed and rejected results, want 1", found)
	}
}
