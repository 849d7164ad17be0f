package amibump

import (
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
)

// newAlarms: function errors, and anything waiting in either queue, to one topic.
func newAlarms(scope constructs.Construct, a *Amibump, props *Props) {
	// CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS
	// key, so the topic has its own key that CloudWatch may use.
	key := awskms.NewKey(scope, jsii.String("AlarmKey"), &awskms.KeyProps{
		Description:       jsii.String("amibump: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	key.Grant(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil),
		jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey*"))
	topic := awssns.NewTopic(scope, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("amibump alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	queueMetric := func(q awssqs.Queue) awscloudwatch.IMetric {
		return q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: fiveMinutes, Statistic: jsii.String("Maximum"),
		})
	}
	specs := []struct {
		id, description string
		metric          awscloudwatch.IMetric
	}{
		{"FunctionErrorsAlarm", "amibump: the function returned errors; see its log group and the failure queue",
			a.Function.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")})},
		{"FailureQueueAlarm", "amibump: an event failed after all retries; inspect the failure queue, fix, replay from the archive",
			queueMetric(a.Queue)},
		{"DeadLetterQueueAlarm", "amibump: EventBridge could not deliver an event to the function; inspect the dead-letter queue",
			queueMetric(a.DeadLetterQueue)},
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	var out []awscloudwatch.Alarm
	for _, s := range specs {
		alarm := awscloudwatch.NewAlarm(scope, jsii.String(s.id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(s.description),
			Metric:             s.metric,
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
		out = append(out, alarm)
	}
	a.Topic, a.Alarms = topic, out
}
