package amibump

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newAlarms: function errors, anything waiting in either queue, and failed or
// rejected results, to one topic that CloudWatch may publish to on behalf of
// these alarms only. Each alarm's description tells the operator what to do.
func newAlarms(scope constructs.Construct, a *Amibump, props *Props) {
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	queueMetric := func(q awssqs.Queue) awscloudwatch.IMetric {
		return q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: fiveMinutes, Statistic: jsii.String("Maximum"),
		})
	}
	specs := []alarmSpec{
		{"FunctionErrorsAlarm", functionErrorsAlarm, a.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}), atLeastOne},
		{"FailureQueueAlarm", failureQueueAlarm, queueMetric(a.Queue), atLeastOne},
		{"DeadLetterQueueAlarm", deadLetterQueueAlarm, queueMetric(a.DeadLetterQueue), atLeastOne},
		{"FailedOrRejectedResultsAlarm", "amibump: a target's result was failed (EC2 could not make the image) or rejected " +
			"(bad event, no target, no source instance, access denied); the bump-finished events and the log give the reason",
			failedOrRejected(fiveMinutes), aboveZero},
	}
	var alarmARNs []*string
	for _, s := range specs {
		alarmARNs = append(alarmARNs, alarmARN(scope, s.id))
	}
	a.Topic = newAlarmTopic(scope, props, alarmARNs)
	action := awscloudwatchactions.NewSnsAction(a.Topic)
	a.Alarms = nil
	for _, s := range specs {
		alarm := awscloudwatch.NewAlarm(scope, jsii.String(s.id), &awscloudwatch.AlarmProps{
			AlarmName:          alarmName(scope, s.id),
			AlarmDescription:   jsii.String(s.description),
			Metric:             s.metric,
			Threshold:          jsii.Number(s.threshold.value),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: s.threshold.op,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
		a.Alarms = append(a.Alarms, alarm)
	}
}

// What each queue holds and what to do with it (replaying its events).
// Lambda keeps a throttled event in its own queue, never handing it back to
// EventBridge, so the failure queue gets both kinds of giving up; the
// dead-letter queue only what EventBridge could not hand to Lambda at all.
var (
	failureQueueAlarm = fmt.Sprintf("amibump: Lambda gave up on an event: the function failed it %d times, or it waited in Lambda's "+
		"queue for the maximum event age (%d hours) without running (throttled: reserved concurrency or the account's "+
		"concurrency full). Each message is an invocation record holding the event. Deploy-finished events: fix the cause, "+
		"then replay them from the bus's archive over the time window of the records' events. AMI state changes and "+
		"reconcile ticks need no replay: the next reconcile covers them. Then purge the queue", asyncRetries+1, maxEventAgeHours)
	deadLetterQueueAlarm = "amibump: EventBridge could not hand an event to the function at all, or a forward to another bus " +
		"(resultsBusArn, replicaRegions): the target or the permission to reach it is missing (sent here at once, without " +
		"retries: a DR region's stack not deployed yet, or another busName there), or the target's API failed for the rule's " +
		"whole retry policy; the message's ERROR_CODE and RULE_ARN say which. Fix the stack (cdk deploy; deploy a DR region's " +
		"stack before the source's replicaRegions names it); then replay deploy-finished events from the bus's archive. " +
		"Forwarded results need no replay: a DR region's reconcile copies the release anyway, and the results bus is a report. " +
		"AMI state changes and reconcile ticks need no replay: the next reconcile covers them. Then purge the queue"
	functionErrorsAlarm = fmt.Sprintf("amibump: the function returned errors (transient: throttling by EC2, 5xx, a failed AMI "+
		"to make again); Lambda retries each such event %s, then sends it to the failure queue. See the function's log group",
		map[int]string{0: "not at all", 1: "once", 2: "twice"}[asyncRetries])
)

type alarmSpec struct {
	id, description string
	metric          awscloudwatch.IMetric
	threshold       threshold
}

type threshold struct {
	op    awscloudwatch.ComparisonOperator
	value float64
}

var (
	atLeastOne = threshold{awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, 1}
	aboveZero  = threshold{awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, 0}
)

// failedOrRejected is the sum of the function's Results with status failed
// and with status rejected over period (a missing series counts as 0).
func failedOrRejected(period awscdk.Duration) awscloudwatch.IMetric {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("FILL(failed, 0) + FILL(rejected, 0)"),
		Label:      jsii.String("failed and rejected results"),
		Period:     period,
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"failed":   resultsMetric(event.Failed, period),
			"rejected": resultsMetric(event.Rejected, period),
		},
	})
}

// alarmName is an alarm's name: <stack>-<construct>-<id>. The names are fixed
// before the alarms exist, so the topic's and the key's policies can name the
// alarms' ARNs without depending on the alarms (which depend on the topic).
func alarmName(scope constructs.Construct, id string) *string {
	return awscdk.Fn_Join(jsii.String("-"), jsii.Strings(*awscdk.Aws_STACK_NAME(), *scope.Node().Id(), id))
}

func alarmARN(scope constructs.Construct, id string) *string {
	return awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cloudwatch"),
		Resource:     jsii.String("alarm"),
		ResourceName: alarmName(scope, id),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// newAlarmTopic is the topic the alarms publish to, encrypted with its own key:
// CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key.
// Its policy replaces SNS's default one, so it must let CloudWatch publish;
// both that statement and the key's are conditioned on this account and these
// alarms (cross-service confused deputy prevention).
func newAlarmTopic(scope constructs.Construct, props *Props, alarmARNs []*string) awssns.Topic {
	key := awskms.NewKey(scope, jsii.String("AlarmKey"), &awskms.KeyProps{
		Description:       jsii.String("amibump: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	topic := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("amibump alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	fromTheseAlarms := func(sid string, actions []string, resource *string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings(actions...),
			Resources:  &[]*string{resource},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
				"ArnEquals":    map[string]any{"aws:SourceArn": alarmARNs},
			},
		})
	}
	key.AddToResourcePolicy(fromTheseAlarms("AlarmsUseTheKey", []string{"kms:Decrypt", "kms:GenerateDataKey*"}, jsii.String("*")), nil)
	topic.AddToResourcePolicy(fromTheseAlarms("AlarmsPublish", []string{"sns:Publish"}, topic.TopicArn()))
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	return topic
}
