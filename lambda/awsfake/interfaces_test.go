package awsfake_test

import (
	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// The fakes fit the interfaces the code under test declares, and the SDK's own
// waiter and paginator interfaces.
var (
	_ bump.EC2         = (*awsfake.EC2)(nil)
	_ bump.AutoScaling = (*awsfake.AutoScaling)(nil)
	_ bump.Events      = (*awsfake.EventBridge)(nil)
	_ bump.SSM         = (*awsfake.SSM)(nil)

	_ ec2.DescribeImagesAPIClient                    = (*awsfake.EC2)(nil)
	_ ec2.DescribeInstancesAPIClient                 = (*awsfake.EC2)(nil)
	_ ec2.DescribeLaunchTemplatesAPIClient           = (*awsfake.EC2)(nil)
	_ ec2.DescribeLaunchTemplateVersionsAPIClient    = (*awsfake.EC2)(nil)
	_ ec2.DescribeImageReferencesAPIClient           = (*awsfake.EC2)(nil)
	_ autoscaling.DescribeAutoScalingGroupsAPIClient = (*awsfake.AutoScaling)(nil)
)
