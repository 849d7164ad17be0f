package amibump

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newResultsForward adds, when resultsBusArn is set, the rule that forwards
// this stack's bump-finished events (the function's results, on the bus) to
// that bus, in another account or region, with the role EventBridge assumes
// to put them there (the CDK's EventBus target creates it, allowed
// events:PutEvents on that bus only). One hop: EventBridge does not forward
// an event that arrived from another bus again, so the receiving bus must be
// where the results are watched. Only this function's own results are
// forwarded (the result names its account and region): a promotion another
// region forwarded to this bus for replicaRegions is that region's to report.
// nil when resultsBusArn is empty.
func newResultsForward(scope constructs.Construct, a *Amibump, props *Props) awsevents.Rule {
	if props.ResultsBusARN == "" {
		return nil
	}
	target := awsevents.EventBus_FromEventBusArn(scope, jsii.String("ResultsBus"), jsii.String(props.ResultsBusARN))
	return awsevents.NewRule(scope, jsii.String("ForwardResultsRule"), &awsevents.RuleProps{
		Description: jsii.String("amibump: bump-finished results to the organisation's results bus"),
		EventBus:    a.Bus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(event.SourceAmibump),
			DetailType: jsii.Strings(event.BumpFinished),
			Detail: &map[string]any{
				"account": []*string{awscdk.Aws_ACCOUNT_ID()},
				"region":  []*string{awscdk.Aws_REGION()},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewEventBus(target, &awseventstargets.EventBusProps{
			DeadLetterQueue: a.DeadLetterQueue,
		})},
	})
}
