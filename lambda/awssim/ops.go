package awssim

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amibump/amibump/lambda/awsfake"
)

// operation is one Query API action the simulator serves.
type operation struct {
	newInput func() any
	call     func(ctx context.Context, c *awsfake.Cloud, in any) (any, error)
}

func ec2Op[I, O any](m func(*awsfake.EC2, context.Context, *I, ...func(*ec2.Options)) (*O, error)) operation {
	return operation{
		newInput: func() any { return new(I) },
		call: func(ctx context.Context, c *awsfake.Cloud, in any) (any, error) {
			return m(c.EC2(), ctx, in.(*I))
		},
	}
}

func asgOp[I, O any](m func(*awsfake.AutoScaling, context.Context, *I, ...func(*autoscaling.Options)) (*O, error)) operation {
	return operation{
		newInput: func() any { return new(I) },
		call: func(ctx context.Context, c *awsfake.Cloud, in any) (any, error) {
			return m(c.AutoScaling(), ctx, in.(*I))
		},
	}
}

// The operations amibump calls (the interfaces of bump.Clients), and the few the
// conformance suite's cleanup makes.
var (
	ec2Ops = map[string]operation{
		"DescribeLaunchTemplates":        ec2Op((*awsfake.EC2).DescribeLaunchTemplates),
		"DescribeLaunchTemplateVersions": ec2Op((*awsfake.EC2).DescribeLaunchTemplateVersions),
		"DescribeInstances":              ec2Op((*awsfake.EC2).DescribeInstances),
		"DescribeImages":                 ec2Op((*awsfake.EC2).DescribeImages),
		"DescribeImageReferences":        ec2Op((*awsfake.EC2).DescribeImageReferences),
		"CreateImage":                    ec2Op((*awsfake.EC2).CreateImage),
		"DeregisterImage":                ec2Op((*awsfake.EC2).DeregisterImage),
		"CreateLaunchTemplateVersion":    ec2Op((*awsfake.EC2).CreateLaunchTemplateVersion),
		"ModifyLaunchTemplate":           ec2Op((*awsfake.EC2).ModifyLaunchTemplate),
		"DeleteLaunchTemplateVersions":   ec2Op((*awsfake.EC2).DeleteLaunchTemplateVersions),
		"CreateTags":                     ec2Op((*awsfake.EC2).CreateTags),
		"DeleteTags":                     ec2Op((*awsfake.EC2).DeleteTags),
		// An AMI's lifecycle (ec2_image_lifecycle.go in awsfake).
		"EnableImageDeprecation":               ec2Op((*awsfake.EC2).EnableImageDeprecation),
		"DisableImageDeprecation":              ec2Op((*awsfake.EC2).DisableImageDeprecation),
		"DisableImage":                         ec2Op((*awsfake.EC2).DisableImage),
		"EnableImage":                          ec2Op((*awsfake.EC2).EnableImage),
		"EnableImageDeregistrationProtection":  ec2Op((*awsfake.EC2).EnableImageDeregistrationProtection),
		"DisableImageDeregistrationProtection": ec2Op((*awsfake.EC2).DisableImageDeregistrationProtection),
		// What a disabled AMI refuses (ec2_image_use.go in awsfake).
		"RunInstances": ec2Op((*awsfake.EC2).RunInstances),
		"CopyImage":    ec2Op((*awsfake.EC2).CopyImage),
		// What the conformance suite's cleanup removes (lambda/conformance).
		"TerminateInstances":   ec2Op((*awsfake.EC2).TerminateInstances),
		"DeleteLaunchTemplate": ec2Op((*awsfake.EC2).DeleteLaunchTemplate),
		"DescribeSnapshots":    ec2Op((*awsfake.EC2).DescribeSnapshots),
		"DeleteSnapshot":       ec2Op((*awsfake.EC2).DeleteSnapshot),
	}
	autoScalingOps = map[string]operation{
		"DescribeAutoScalingGroups": asgOp((*awsfake.AutoScaling).DescribeAutoScalingGroups),
		"StartInstanceRefresh":      asgOp((*awsfake.AutoScaling).StartInstanceRefresh),
		"CancelInstanceRefresh":     asgOp((*awsfake.AutoScaling).CancelInstanceRefresh),
		"DescribeInstanceRefreshes": asgOp((*awsfake.AutoScaling).DescribeInstanceRefreshes),
		"DeleteAutoScalingGroup":    asgOp((*awsfake.AutoScaling).DeleteAutoScalingGroup),
		"DescribeWarmPool":          asgOp((*awsfake.AutoScaling).DescribeWarmPool),
	}
)

// Operations lists every operation the simulator serves, as "Service:Action".
func Operations() []string {
	var out []string
	for op := range ec2Ops {
		out = append(out, "EC2:"+op)
	}
	for op := range autoScalingOps {
		out = append(out, "AutoScaling:"+op)
	}
	for op := range ssmOps {
		out = append(out, "SSM:"+op)
	}
	return append(out, "EventBridge:PutEvents", "STS:GetCallerIdentity", "STS:AssumeRole")
}
