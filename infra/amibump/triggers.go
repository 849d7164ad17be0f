package amibump

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newTriggers adds the five rules that invoke the function, one per kind of
// event.Kinds, matching the kind's detail type and source: deploy-finished and
// rollback-requested on the bus (from the stack's CI source), AMI state changes on the default bus,
// the reconcile schedule (whose Scheduled Event EventBridge sends itself),
// and promotions forwarded from other regions on the bus.
//
// EventBridge invokes the function asynchronously, and Lambda accepts the
// event into its own queue whether or not concurrency is free: a throttled
// event waits there (the function's MaxEventAge), never in EventBridge. A
// rule's retry policy therefore covers only a failed hand-over to Lambda:
// Lambda's Invoke API unavailable is retried within it, then the event goes to
// the dead-letter queue; a missing function or invoke permission sends it
// there at once, without retries.
func newTriggers(scope constructs.Construct, a *Amibump, props *Props) {
	target := func(maxAge awscdk.Duration, retries float64) *[]awsevents.IRuleTarget {
		return &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(a.Function, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: a.DeadLetterQueue,
			MaxEventAge:     maxAge,
			RetryAttempts:   jsii.Number(retries),
		})}
	}
	day := awscdk.Duration_Hours(jsii.Number(24))
	a.DeployRule = awsevents.NewRule(scope, jsii.String("DeployFinishedRule"), &awsevents.RuleProps{
		Description:  jsii.String("amibump: deploy-finished from CI"),
		EventBus:     a.Bus,
		EventPattern: deployPattern(props),
		Targets:      target(day, 185),
	})
	a.AMIStateRule = awsevents.NewRule(scope, jsii.String("AMIStateRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: AMIs that became available or failed (default bus)"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.KindAMIState.Source),
			DetailType: jsii.Strings(event.KindAMIState.DetailType),
			Detail:     &map[string]any{"State": []string{string(ec2types.ImageStateAvailable), string(ec2types.ImageStateFailed)}},
		},
		Targets: target(day, 185),
	})
	// A promotion in another region, forwarded to this bus by that region's
	// stack (replicaRegions there): the templates here that replicate from
	// it copy the release at once. The pattern matches the result's region,
	// not the envelope's, and leaves out this region's own results, which
	// the function publishes on the same bus.
	a.SourcePromotedRule = awsevents.NewRule(scope, jsii.String("SourcePromotedRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: promotions forwarded from other regions (templates tagged " + event.TagReplicateFrom + ")"),
		EventBus:    a.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.KindSourcePromoted.Source),
			DetailType: jsii.Strings(event.KindSourcePromoted.DetailType),
			Detail:     ptrTo(event.ForwardedPattern(*awscdk.Aws_REGION())),
		},
		Targets: target(day, 185),
	})
	a.RollbackRule = awsevents.NewRule(scope, jsii.String("RollbackRequestedRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: rollback-requested from CI or amibump rollback"),
		EventBus:    a.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(props.CISource),
			DetailType: jsii.Strings(event.KindRollback.DetailType),
		},
		Targets: target(day, 185),
	})
	every := awscdk.Duration_Minutes(jsii.Number(float64(props.ReconcileMinutes)))
	a.ReconcileRule = awsevents.NewRule(scope, jsii.String("ReconcileRule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("amibump: reconcile every %d minutes", props.ReconcileMinutes)),
		Schedule:    awsevents.Schedule_Rate(every),
		// A hand-over older than the next tick is worth nothing. A tick that
		// waits in Lambda's queue instead is skipped by the function when it
		// is older than the period (AMIBUMP_RECONCILE_PERIOD).
		Targets: target(every, 3),
	})
}

func ptrTo[T any](v T) *T { return &v }
