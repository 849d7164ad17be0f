package bump

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// gate bounds the AWS calls in flight at once (AMIBUMP_CONCURRENCY). Every call of
// every target goes through it, waiter polls included; a wait between polls holds
// no slot, so the waits of many targets overlap.
type gate chan struct{}

func (g gate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gate) leave() { <-g }

// call runs one AWS call within the budget of its scope (Budget), then
// through the gate.
func call[In, Out, Opt any](ctx context.Context, g gate, b *Budget, scope Scope, service, op string, f func(context.Context, In, ...Opt) (Out, error), in In, opts []Opt) (Out, error) {
	if err := b.wait(ctx, scope, service, op); err != nil {
		var zero Out
		return zero, err
	}
	if err := g.enter(ctx); err != nil {
		var zero Out
		return zero, err
	}
	defer g.leave()
	return f(ctx, in, opts...)
}

type gatedEC2 struct {
	b     *Budget
	scope Scope
	api   EC2
	g     gate
}

func (c gatedEC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DescribeLaunchTemplates", c.api.DescribeLaunchTemplates, in, opts)
}

func (c gatedEC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DescribeLaunchTemplateVersions", c.api.DescribeLaunchTemplateVersions, in, opts)
}

func (c gatedEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DescribeInstances", c.api.DescribeInstances, in, opts)
}

func (c gatedEC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DescribeImages", c.api.DescribeImages, in, opts)
}

func (c gatedEC2) DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DescribeImageReferences", c.api.DescribeImageReferences, in, opts)
}

func (c gatedEC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, opts ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "CreateImage", c.api.CreateImage, in, opts)
}

func (c gatedEC2) CopyImage(ctx context.Context, in *ec2.CopyImageInput, opts ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "CopyImage", c.api.CopyImage, in, opts)
}

func (c gatedEC2) DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, opts ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DeregisterImage", c.api.DeregisterImage, in, opts)
}

func (c gatedEC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, opts ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "CreateLaunchTemplateVersion", c.api.CreateLaunchTemplateVersion, in, opts)
}

func (c gatedEC2) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, opts ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "ModifyLaunchTemplate", c.api.ModifyLaunchTemplate, in, opts)
}

func (c gatedEC2) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DeleteLaunchTemplateVersions", c.api.DeleteLaunchTemplateVersions, in, opts)
}

type gatedAutoScaling struct {
	b     *Budget
	scope Scope
	api   AutoScaling
	g     gate
}

func (c gatedAutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "Auto Scaling", "DescribeAutoScalingGroups", c.api.DescribeAutoScalingGroups, in, opts)
}

func (c gatedAutoScaling) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, opts ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "Auto Scaling", "StartInstanceRefresh", c.api.StartInstanceRefresh, in, opts)
}

func (c gatedAutoScaling) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "Auto Scaling", "DescribeInstanceRefreshes", c.api.DescribeInstanceRefreshes, in, opts)
}

func (c gatedAutoScaling) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, opts ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "Auto Scaling", "CancelInstanceRefresh", c.api.CancelInstanceRefresh, in, opts)
}

type gatedEvents struct {
	b     *Budget
	scope Scope
	api   Events
	g     gate
}

func (c gatedEvents) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EventBridge", "PutEvents", c.api.PutEvents, in, opts)
}

func (c gatedEC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "CreateTags", c.api.CreateTags, in, opts)
}

func (c gatedEC2) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, opts ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DeleteTags", c.api.DeleteTags, in, opts)
}

func (c gatedEC2) EnableImage(ctx context.Context, in *ec2.EnableImageInput, opts ...func(*ec2.Options)) (*ec2.EnableImageOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "EnableImage", c.api.EnableImage, in, opts)
}

type gatedSSM struct {
	b     *Budget
	scope Scope
	api   SSM
	g     gate
}

func (c gatedSSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "SSM", "GetParameter", c.api.GetParameter, in, opts)
}

func (c gatedSSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "SSM", "PutParameter", c.api.PutParameter, in, opts)
}

func (c gatedSSM) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, opts ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "SSM", "GetParameterHistory", c.api.GetParameterHistory, in, opts)
}
