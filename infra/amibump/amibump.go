package amibump

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// DeployFinished is the detail-type of the events CI puts on the bus.
const DeployFinished = "deploy-finished"

// Amibump is the deployed construct; its fields are what tests and embedding
// apps need to reach.
type Amibump struct {
	constructs.Construct

	Bus      awsevents.EventBus
	Archive  awsevents.Archive
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
	// Queue receives the invocations the function gave up on (async on-failure
	// destination).
	Queue awssqs.Queue
	// DeadLetterQueue receives the events EventBridge could not deliver to the
	// function (all three rules).
	DeadLetterQueue awssqs.Queue
	Topic           awssns.Topic
	// Rules: deploy-finished on the bus, AMI state change on the default bus,
	// the reconcile schedule.
	DeployRule, AMIStateRule, ReconcileRule awsevents.Rule
	Alarms                                  []awscloudwatch.Alarm
	// Schema is the deploy-finished event's JSON Schema in the registry
	// named after the bus, shown by the EventBridge console.
	Schema awseventschemas.CfnSchema
}

// New adds amibump to scope. It panics (as CDK constructs do) when props are
// invalid or the function does not build; call props.Validate first for a
// friendlier error.
func New(scope constructs.Construct, id string, props *Props) *Amibump {
	if err := props.Validate(); err != nil {
		panic(fmt.Sprintf("amibump: invalid settings:\n%v", err))
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	a := &Amibump{Construct: this}
	stack := awscdk.Stack_Of(this)

	// The bus CI puts deploy-finished events on, with the listed CI principals
	// allowed to put exactly those events.
	a.Bus = awsevents.NewEventBus(this, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(props.BusName),
		Description:  jsii.String("amibump: deploy-finished events from CI, bump-finished results"),
	})
	if len(props.CIPrincipals) > 0 {
		var principals []awsiam.IPrincipal
		for _, p := range props.CIPrincipals {
			if accountPattern.MatchString(p) {
				principals = append(principals, awsiam.NewAccountPrincipal(jsii.String(p)))
			} else {
				principals = append(principals, awsiam.NewArnPrincipal(jsii.String(p)))
			}
		}
		a.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CIPutDeployFinished"),
			Actions:    jsii.Strings("events:PutEvents"),
			Principals: &principals,
			Resources:  jsii.Strings(*a.Bus.EventBusArn()),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{
					"events:source":      props.CISource,
					"events:detail-type": DeployFinished,
				},
			},
		}))
	}

	deployPattern := &awsevents.EventPattern{
		Source:     jsii.Strings(props.CISource),
		DetailType: jsii.Strings(DeployFinished),
	}
	// Archive for console replay: the deploy events, matched as the rule does.
	var archiveRetention awscdk.Duration // nil: kept forever
	if props.ArchiveRetentionDays > 0 {
		archiveRetention = awscdk.Duration_Days(jsii.Number(float64(props.ArchiveRetentionDays)))
	}
	a.Archive = a.Bus.Archive(jsii.String("DeployArchive"), &awsevents.BaseArchiveProps{
		Description:  jsii.String("amibump: deploy-finished events, for replay"),
		EventPattern: deployPattern,
		Retention:    archiveRetention,
	})
	// The CDK writes KmsKeyIdentifier "" when no key is given (aws-cdk#37847),
	// which some regions refuse; with no key, the property is left out.
	a.Archive.Node().DefaultChild().(awsevents.CfnArchive).AddPropertyDeletionOverride(jsii.String("KmsKeyIdentifier"))

	// The deploy-finished event's schema, from the one document the function's
	// validation is tested against, with the CI source of this stack.
	registry := awseventschemas.NewCfnRegistry(this, jsii.String("SchemaRegistry"), &awseventschemas.CfnRegistryProps{
		RegistryName: jsii.String(props.BusName),
		Description:  jsii.String("amibump: the events CI puts on the " + props.BusName + " bus"),
	})
	a.Schema = awseventschemas.NewCfnSchema(this, jsii.String("DeployFinishedSchema"), &awseventschemas.CfnSchemaProps{
		RegistryName: registry.AttrRegistryName(),
		SchemaName:   jsii.String(event.DeployFinished),
		Type:         jsii.String(event.DeployFinishedSchemaType),
		Content:      jsii.String(schemaFor(props.CISource)),
		Description:  jsii.String("amibump: a deploy-finished event as the function receives it"),
	})

	// Failure handling: one queue for invocations the function gave up on, one
	// for events EventBridge could not deliver. Both keep messages 14 days.
	a.Queue = newQueue(this, "FailureQueue")
	a.DeadLetterQueue = newQueue(this, "DeadLetterQueue")

	a.LogGroup = awslogs.NewLogGroup(this, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     retention(props.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	a.Role = awsiam.NewRole(this, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("amibump function: image instances, bump launch templates"),
	})
	// Write its own log group, and nothing else in CloudWatch Logs (instead of
	// the AWSLambdaBasicExecutionRole managed policy, which allows any group).
	a.LogGroup.GrantWrite(a.Role)
	for _, s := range apiStatements(stack) {
		a.Role.AddToPrincipalPolicy(s)
	}

	a.Function = awslambda.NewFunction(this, jsii.String("Function"), &awslambda.FunctionProps{
		Description:           jsii.String("amibump: image the deployed instance, put the AMI in the launch template"),
		Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:          architecture(props.Architecture),
		Handler:               jsii.String("bootstrap"),
		Code:                  code(this, props),
		Timeout:               awscdk.Duration_Minutes(jsii.Number(15)),
		MemorySize:            jsii.Number(256),
		Role:                  a.Role,
		LogGroup:              a.LogGroup,
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel(props.LogLevel),
		SystemLogLevelV2:      awslambda.SystemLogLevel_INFO,
		Environment: &map[string]*string{
			"AMIBUMP_EVENT_BUS": a.Bus.EventBusName(),
		},
		// Async invocations (every trigger is one): two retries, then the
		// failure queue, from which the event can be replayed.
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(a.Queue),
	})
	a.Bus.GrantPutEventsTo(a.Function, nil)

	// The three triggers (DESIGN §1). EventBridge retries a failed delivery
	// (throttled, function unavailable) with backoff, then sends the event to
	// the dead-letter queue.
	target := func(maxAge awscdk.Duration, retries float64) awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(a.Function, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: a.DeadLetterQueue,
			MaxEventAge:     maxAge,
			RetryAttempts:   jsii.Number(retries),
		})
	}
	a.DeployRule = awsevents.NewRule(this, jsii.String("DeployFinishedRule"), &awsevents.RuleProps{
		Description:  jsii.String("amibump: deploy-finished from CI"),
		EventBus:     a.Bus,
		EventPattern: deployPattern,
		Targets:      &[]awsevents.IRuleTarget{target(awscdk.Duration_Hours(jsii.Number(24)), 185)},
	})
	a.AMIStateRule = awsevents.NewRule(this, jsii.String("AMIStateRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: AMIs that became available or failed (default bus)"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.ec2"),
			DetailType: jsii.Strings("EC2 AMI State Change"),
			Detail:     &map[string]any{"State": []string{"available", "failed"}},
		},
		Targets: &[]awsevents.IRuleTarget{target(awscdk.Duration_Hours(jsii.Number(24)), 185)},
	})
	a.ReconcileRule = awsevents.NewRule(this, jsii.String("ReconcileRule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("amibump: reconcile every %d minutes", props.ReconcileMinutes)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(float64(props.ReconcileMinutes)))),
		// A reconcile older than the next one is worth nothing.
		Targets: &[]awsevents.IRuleTarget{target(awscdk.Duration_Minutes(jsii.Number(float64(props.ReconcileMinutes))), 3)},
	})

	a.Topic, a.Alarms = alarms(this, a, props)
	outputs(this, a)
	suppressions(a)
	return a
}

func newQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

func architecture(arch string) awslambda.Architecture {
	if arch == "x86_64" {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// code is the function's code: props.Code when given, else the binary built now
// from props.FunctionSource into a directory of the cloud assembly.
func code(scope constructs.Construct, props *Props) awslambda.Code {
	if props.Code != nil {
		return props.Code
	}
	outdir := *awscdk.Stage_Of(scope).Outdir()
	path := strings.ReplaceAll(*scope.Node().Path(), "/", "-")
	dir := filepath.Join(outdir, "build-"+path+"-"+props.Architecture)
	if err := BuildFunction(props.FunctionSource, props.Architecture, dir); err != nil {
		panic(err.Error())
	}
	return awslambda.Code_FromAsset(jsii.String(dir), nil)
}

var retentions = map[int]awslogs.RetentionDays{
	0: awslogs.RetentionDays_INFINITE, 1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS,
	30: awslogs.RetentionDays_ONE_MONTH, 60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS,
	365: awslogs.RetentionDays_ONE_YEAR, 400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS,
	2192: awslogs.RetentionDays_SIX_YEARS, 2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}

func retention(days int) awslogs.RetentionDays { return retentions[days] }

// alarms: function errors, and anything waiting in either queue, to one topic.
func alarms(scope constructs.Construct, a *Amibump, props *Props) (awssns.Topic, []awscloudwatch.Alarm) {
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
	return topic, out
}

// outputs have fixed logical ids, so scripts can read them by name
// (aws cloudformation describe-stacks, cdk deploy --outputs-file).
func outputs(scope constructs.Construct, a *Amibump) {
	for _, o := range []struct {
		id, description string
		value           *string
	}{
		{"BusName", "event bus for deploy-finished events (PutEvents EventBusName)", a.Bus.EventBusName()},
		{"BusArn", "event bus ARN, for CI in other accounts", a.Bus.EventBusArn()},
		{"FunctionName", "the amibump function", a.Function.FunctionName()},
		{"FailureQueueUrl", "invocations that failed after all retries", a.Queue.QueueUrl()},
		{"DeadLetterQueueUrl", "events EventBridge could not deliver", a.DeadLetterQueue.QueueUrl()},
		{"AlarmTopicArn", "alarm notifications; subscribe here", a.Topic.TopicArn()},
	} {
		out := awscdk.NewCfnOutput(scope, jsii.String(o.id), &awscdk.CfnOutputProps{
			Value: o.value, Description: jsii.String(o.description),
		})
		out.OverrideLogicalId(jsii.String(o.id))
	}
}

// schemaFor returns the deploy-finished schema with the stack's CI source in
// its x-amazon-events-source.
func schemaFor(source string) string {
	var doc map[string]any
	if err := json.Unmarshal(event.DeployFinishedSchema, &doc); err != nil {
		panic(fmt.Sprintf("amibump: the deploy-finished schema is not JSON: %v", err))
	}
	doc["x-amazon-events-source"] = source
	out, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(out)
}
