package amibump

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newFunction adds the function with its role, its log group and the two
// queues (both keep messages 14 days): the failure queue, Lambda's on-failure
// destination, for the events Lambda gave up on (failed every attempt, or aged
// out of its asynchronous queue while throttled); the dead-letter queue, for
// the events EventBridge could not hand to Lambda at all (the rules' dead-letter queue).
func newFunction(scope constructs.Construct, a *Amibump, props *Props) {
	a.Queue = newQueue(scope, "FailureQueue")
	a.DeadLetterQueue = newQueue(scope, "DeadLetterQueue")
	a.LogGroup = awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: retention(props.LogRetentionDays),
		// Kept when the stack is deleted or the group replaced, for its
		// history; deleted when the stack's first create rolls back, so that
		// a retry of the create does not meet a group of the same name.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE,
	})
	a.Role = newRole(scope, a, props)
	arch := architectureOf(scope, props)
	a.Function = awslambda.NewFunction(scope, jsii.String("Function"), &awslambda.FunctionProps{
		Description:                  jsii.String("amibump: image the deployed instance, put the AMI in the launch template"),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 architecture(arch),
		Handler:                      jsii.String("bootstrap"),
		Code:                         code(scope, props, arch),
		Timeout:                      awscdk.Duration_Minutes(jsii.Number(15)),
		MemorySize:                   jsii.Number(256),
		ReservedConcurrentExecutions: reservation(props.ReservedConcurrency),
		Role:                         a.Role,
		LogGroup:                     a.LogGroup,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2:        awslambda.ApplicationLogLevel(props.LogLevel),
		SystemLogLevelV2:             awslambda.SystemLogLevel_INFO,
		Environment:                  environment(a, props),
		// Async invocations (every trigger is one). Lambda accepts an event
		// into its own queue even when no concurrency is free, and keeps it
		// there, retrying, for up to MaxEventAge; an event that fails 3
		// attempts (two retries) or ages out goes to the failure queue. 6 hours
		// is Lambda's longest: a burst of deploys waits rather than being
		// dropped (the README's throttling arithmetic).
		RetryAttempts: jsii.Number(asyncRetries),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(maxEventAgeHours)),
		OnFailure:     awslambdadestinations.NewSqsDestination(a.Queue),
	})
	a.Bus.GrantPutEventsTo(a.Function, nil)
}

// environment is the function's settings: where results go, the SSM prefix,
// the reconcile period and, when copyKmsKeyArn is set, the key that
// encrypts copies (AMIBUMP_COPY_KMS_KEY_ARN; unset: none).
func environment(a *Amibump, props *Props) *map[string]*string {
	env := map[string]*string{
		"AMIBUMP_EVENT_BUS":  a.Bus.EventBusName(),
		"AMIBUMP_SSM_PREFIX": jsii.String(props.SSMParameterPrefix),
		// A reconcile tick older than this is skipped (the next is due).
		"AMIBUMP_RECONCILE_PERIOD": jsii.String(fmt.Sprintf("%dm", props.ReconcileMinutes)),
	}
	if props.CopyKmsKeyARN != "" {
		env["AMIBUMP_COPY_KMS_KEY_ARN"] = jsii.String(props.CopyKmsKeyARN)
	}
	return &env
}

// The function's asynchronous invocation settings (the alarms' texts say them).
const (
	asyncRetries     = 2 // Lambda's most: 3 attempts in all
	maxEventAgeHours = 6 // Lambda's longest
)

// reservation is the function's reserved concurrency: a cap on concurrent
// invocations, so that the function's own request budget also bounds
// amibump's share of the account's EC2 rate; nil for NoReservation (the
// property left out: Lambda's 0 would throttle every invocation).
func reservation(n int) *float64 {
	if n == NoReservation {
		return nil
	}
	return jsii.Number(float64(n))
}

func newQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

// architectureOf is the architecture setting, or when it is empty the default
// for the region: the stack's, or for an environment-agnostic stack the one
// the CDK CLI deploys to (CDK_DEFAULT_REGION, from the AWS profile).
func architectureOf(scope constructs.Construct, props *Props) string {
	if props.Architecture != "" {
		return props.Architecture
	}
	region := *awscdk.Stack_Of(scope).Region()
	if *awscdk.Token_IsUnresolved(region) {
		region = os.Getenv("CDK_DEFAULT_REGION")
	}
	return DefaultArchitecture(region)
}

func architecture(arch string) awslambda.Architecture {
	if arch == "x86_64" {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// code is the function's code: props.Code when given, else the binary built now
// from props.FunctionSource into a directory of the cloud assembly.
func code(scope constructs.Construct, props *Props, arch string) awslambda.Code {
	if props.Code != nil {
		return props.Code
	}
	outdir := *awscdk.Stage_Of(scope).Outdir()
	path := strings.ReplaceAll(*scope.Node().Path(), "/", "-")
	dir := filepath.Join(outdir, "build-"+path+"-"+arch)
	if err := BuildFunction(props.FunctionSource, arch, dir); err != nil {
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
