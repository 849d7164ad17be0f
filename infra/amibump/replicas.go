package amibump

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newReplicaForward adds, when replicaRegions is set, the rule that forwards
// this function's promoted results to the amibump bus of each of those
// regions (this account, the same bus name), where the disaster-recovery
// stack's function starts the copy at once (push). Each target is the CDK's
// EventBus target, which makes one role for the rule that EventBridge
// assumes to put the events there, allowed events:PutEvents on those buses
// only; what it cannot deliver goes to the dead-letter queue. The ARNs are built from the partition and
// account of the deployment.
//
// The pattern matches only the results this stack's function put (the
// result names its account and region): a result that arrived from another
// region's stack is never sent on, so two regions that follow each other
// cannot bounce a result between them. The forward is an optimisation: a lost
// one is made up by the DR region's reconcile (pull). nil when replicaRegions
// is empty. resultsBusArn's rule forwards every result beside it.
func newReplicaForward(scope constructs.Construct, a *Amibump, props *Props) awsevents.Rule {
	if len(props.ReplicaRegions) == 0 {
		return nil
	}
	stack := awscdk.Stack_Of(scope)
	var targets []awsevents.IRuleTarget
	for _, region := range props.ReplicaRegions {
		arn := stack.FormatArn(&awscdk.ArnComponents{
			Region: jsii.String(region), Account: awscdk.Aws_ACCOUNT_ID(), Service: jsii.String("events"),
			Resource: jsii.String("event-bus"), ResourceName: jsii.String(props.BusName), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
		bus := awsevents.EventBus_FromEventBusArn(scope, jsii.String("ReplicaBus-"+region), arn)
		targets = append(targets, awseventstargets.NewEventBus(bus, &awseventstargets.EventBusProps{DeadLetterQueue: a.DeadLetterQueue}))
	}
	return awsevents.NewRule(scope, jsii.String("ForwardPromotedRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: promoted results to the disaster-recovery regions' buses (replicaRegions)"),
		EventBus:    a.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.SourceAmibump),
			DetailType: jsii.Strings(event.BumpFinished),
			Detail: &map[string]any{
				"status":  []string{string(event.Promoted)},
				"account": []*string{awscdk.Aws_ACCOUNT_ID()},
				"region":  []*string{awscdk.Aws_REGION()},
			},
		},
		Targets: &targets,
	})
}
