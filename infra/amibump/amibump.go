package amibump

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventschemas"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Amibump is the deployed construct; its fields are what tests and embedding
// apps need to reach.
type Amibump struct {
	constructs.Construct

	Bus      awsevents.EventBus
	Archive  awsevents.Archive
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
	// Queue (the failure queue) receives the events Lambda gave up on: failed
	// on every attempt, or aged out of Lambda's asynchronous queue while
	// throttled (async on-failure destination).
	Queue awssqs.Queue
	// DeadLetterQueue receives the events EventBridge could not hand to Lambda
	// at all (all four rules): never a throttled one, which Lambda has queued.
	DeadLetterQueue awssqs.Queue
	Topic           awssns.Topic
	// Rules: deploy-finished and rollback-requested on the bus, AMI state
	// change on the default bus, the reconcile schedule.
	DeployRule, AMIStateRule, ReconcileRule, RollbackRule awsevents.Rule
	// SourcePromotedRule: promotions forwarded from other regions (event.KindSourcePromoted).
	SourcePromotedRule awsevents.Rule
	Alarms             []awscloudwatch.Alarm
	// Dashboard graphs amibump's metrics, the function, the queues and the
	// alarms' states.
	Dashboard awscloudwatch.Dashboard
	// Schema is the deploy-finished event's JSON Schema in the registry
	// named after the bus, shown by the EventBridge console.
	Schema awseventschemas.CfnSchema
	// RollbackSchema is the rollback-requested event's, beside it.
	RollbackSchema awseventschemas.CfnSchema
	// ReadOnlyRole is amibump-readonly, what amibump status needs, for the
	// principals of readOnlyTrust; nil when that is empty.
	ReadOnlyRole awsiam.Role
	// ResultsRule forwards bump-finished events to resultsBusArn; nil when
	// that is empty.
	ResultsRule awsevents.Rule
	// ReplicaRule forwards promoted results to the buses of replicaRegions;
	// nil when that is empty.
	ReplicaRule awsevents.Rule
}

// New adds amibump to scope. It panics (as CDK constructs do) when props are
// invalid or the function does not build; call props.Validate first for a
// friendlier error. It reads as the stack's table of contents: one constructor
// per concern, each in its own file with its permissions beside it.
func New(scope constructs.Construct, id string, props *Props) *Amibump {
	if err := errors.Join(props.Validate(), validateInStack(scope, props)); err != nil {
		panic(fmt.Sprintf("amibump: invalid settings:\n%v", err))
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	a := &Amibump{Construct: this}
	newBus(this, a, props)                            // bus, CI policy, archive, schema
	newFunction(this, a, props)                       // function, role, queues, logs
	newTriggers(this, a, props)                       // a rule per event kind
	newAlarms(this, a, props)                         // topic, alarms
	newDashboard(this, a)                             // metrics and alarm states
	a.ReadOnlyRole = newReadOnlyRole(this, props)     // amibump-readonly, for readOnlyTrust
	a.ResultsRule = newResultsForward(this, a, props) // bump-finished results to resultsBusArn
	a.ReplicaRule = newReplicaForward(this, a, props) // promoted results to replicaRegions
	outputs(this, a)
	suppressions(a, props)
	return a
}

// validateInStack checks props for the stack's region when the stack names
// one; an environment-agnostic stack is checked by its app (the CDK CLI's
// region) or its StackSet (each of its regions).
func validateInStack(scope constructs.Construct, props *Props) error {
	region := awscdk.Stack_Of(scope).Region()
	if *awscdk.Token_IsUnresolved(region) {
		return nil
	}
	return props.ValidateIn(*region)
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
		{"FailureQueueUrl", "events Lambda gave up on: failed every attempt, or waited too long while throttled", a.Queue.QueueUrl()},
		{"DeadLetterQueueUrl", "events EventBridge could not hand to the function at all", a.DeadLetterQueue.QueueUrl()},
		{"AlarmTopicArn", "alarm notifications; subscribe here", a.Topic.TopicArn()},
	} {
		out := awscdk.NewCfnOutput(scope, jsii.String(o.id), &awscdk.CfnOutputProps{
			Value: o.value, Description: jsii.String(o.description),
		})
		out.OverrideLogicalId(jsii.String(o.id))
	}
}
