package amibump

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressions records, on the resources they concern, why the cdk-nag
// AwsSolutions findings that remain are acceptable. Each names what it applies
// to, so a new wildcard is still reported.
func suppressions(a *Amibump, props *Props) {
	for _, q := range []awssqs.Queue{a.Queue, a.DeadLetterQueue} {
		cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-SQS3"),
			Reason: jsii.String("this queue is itself a dead-letter queue: of the function's async invocations " +
				"(on-failure destination) or of the rules' targets; cdk-nag only recognizes queues named in " +
				"another queue's redrive policy"),
		}}, jsii.Bool(true))
	}

	if a.ReadOnlyRole != nil {
		cdknag.NagSuppressions_AddResourceSuppressions(a.ReadOnlyRole, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			AppliesTo: &[]any{"Resource::*"},
			Reason: jsii.String("amibump-readonly: the Describe calls amibump status makes, of EC2 and Auto Scaling, " +
				"support no resource-level permissions; nothing but those six reads is granted"),
		}}, jsii.Bool(true))
	}
	wildcard := func(resource, reason string) *cdknag.NagPackSuppression {
		return &cdknag.NagPackSuppression{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(reason),
			AppliesTo: &[]any{"Resource::" + resource},
		}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(a.Role, &[]*cdknag.NagPackSuppression{
		wildcard("*",
			"Describe* calls of EC2 and Auto Scaling support no resource-level permissions; "+
				"only read-only Describe actions are granted on *, and ssm:DescribeParameters and "+
				"ssm:GetParameters only when EC2 calls them for DescribeImageReferences (aws:CalledVia "+
				"ec2-images.amazonaws.com), as AmazonEC2ImageReferencesAccessPolicy grants them"),
		wildcard("arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*",
			"CreateImage of the source instance: instance ids are chosen at run time, so the grant is "+
				"conditioned on the instance carrying amibump:source-for or aws:autoscaling:groupName"),
		wildcard("arn:<AWS::Partition>:ec2:<AWS::Region>::image/*",
			"AMI ids are not known before CreateImage or CopyImage; creating and copying are limited to "+
				"requests tagging amibump:launch-template, tagging to ec2:CreateAction=CreateImage or CopyImage, "+
				"and DeregisterImage, deprecating, disabling and deregistration protection to AMIs tagged amibump:launch-template"),
		wildcard("arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*",
			"snapshot ids are not known before CreateImage or CopyImage; tagging is limited to "+
				"ec2:CreateAction=CreateImage or CopyImage "+
				"and DeleteSnapshot to snapshots tagged amibump:launch-template"),
		wildcard("arn:<AWS::Partition>:ec2:*::image/*",
			"CopyImage's source: an AMI of another region of the account, which a template tagged "+
				"amibump:replicate-from names at run time (any region of the partition); the grant is "+
				"conditioned on the AMI carrying amibump:launch-template, so only AMIs amibump made are copied"),
		wildcard("arn:<AWS::Partition>:ec2:*::snapshot/*",
			"CopyImage's source snapshots: those of an AMI of another region of the account (any region of "+
				"the partition), conditioned on the snapshot carrying amibump:launch-template, as amibump tags "+
				"the snapshots of the AMIs it makes"),
		wildcard("arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:launch-template/*",
			"managed launch templates are found by tag at run time; every action is conditioned on the "+
				"template carrying amibump:app"),
		wildcard("arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/"+strings.TrimPrefix(props.SSMParameterPrefix, "/")+"*",
			"the parameters amibump writes are named by launch template tags at run time; only names under "+
				"ssmParameterPrefix, and only GetParameter, GetParameterHistory (the tier) and PutParameter"),
		wildcard("arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/*",
			"ssm:GetParameters on every parameter only when EC2 calls it for DescribeImageReferences "+
				"(aws:CalledVia ec2-images.amazonaws.com): a parameter that holds an AMI keeps it from retention, "+
				"wherever a person put it"),
		wildcard("arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*",
			"group ids are not known at deploy time; StartInstanceRefresh is conditioned on the group carrying "+
				"the tag amibump:instance-refresh=true (autoscaling:ResourceTag)"),
	}, jsii.Bool(true))
}
