package amibump_test

import (
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"
)

// Which queue gets what, as AWS runs it: a throttled event waits in Lambda's
// own queue (up to the maximum event age, then the failure queue); the rules'
// dead-letter queue gets only what EventBridge could not hand to Lambda. The
// alarms tell the operator so, and what to replay.
func TestQueuesAndTheirAlarmsSayWhatAWSDoes(t *testing.T) {
	s := defaultStack(t)
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"MaximumEventAgeInSeconds": 6 * 3600, // Lambda's longest: a burst of deploys waits, not dropped
			"MaximumRetryAttempts":     2,
		})
	})
	descriptions := map[string]string{}
	for _, a := range s.construct.Alarms {
		descriptions[s.id(a)] = s.resources("AWS::CloudWatch::Alarm")[s.id(a)]["AlarmDescription"].(string)
	}
	tests := []struct {
		alarm     string
		says, not []string
	}{
		{"FailureQueueAlarm",
			[]string{"failed it 3 times", "maximum event age (6 hours)", "throttled", "replay them from the bus's archive",
				"AMI state changes and reconcile ticks need no replay: the next reconcile covers them", "purge"},
			nil},
		{"DeadLetterQueueAlarm",
			[]string{"could not hand an event to the function at all", "permission", "without retries", "retry policy",
				"resultsBusArn, replicaRegions", "Forwarded results need no replay", "deploy a DR region's stack before",
				"AMI state changes and reconcile ticks need no replay"},
			[]string{"throttl"}}, // Lambda keeps throttled events in its own queue
		{"FunctionErrorsAlarm", []string{"retries each such event twice, then sends it to the failure queue"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.alarm, func(t *testing.T) {
			var got string
			for id, d := range descriptions {
				if strings.Contains(id, tt.alarm) {
					got = d
				}
			}
			if got == "" {
				t.Fatalf("no alarm %s among %v", tt.alarm, descriptions)
			}
			if len(got) > 1024 {
				t.Errorf("description is %d characters; CloudWatch allows 1024", len(got))
			}
			for _, w := range tt.says {
				if !strings.Contains(got, w) {
					t.Errorf("description %q does not say %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("description %q says %q", got, w)
				}
			}
		})
	}
}

// The function's log group outlives the stack and a replacement, but not a
// first create that rolls back (RetainExceptOnCreate).
func TestLogGroupIsRetainedExceptOnCreate(t *testing.T) {
	s := defaultStack(t)
	r := s.json["Resources"].(map[string]any)[s.id(s.construct.LogGroup)].(map[string]any)
	got := map[string]any{"DeletionPolicy": r["DeletionPolicy"], "UpdateReplacePolicy": r["UpdateReplacePolicy"]}
	want := map[string]any{"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log group policies (-want +got):\n%s", diff)
	}
}
