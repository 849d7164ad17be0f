package amibump

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// Tag keys the role's conditions rely on (DESIGN §3).
const (
	// TagApp marks a launch template as managed by amibump.
	TagApp = "amibump:app"
	// TagLaunchTemplate is on every AMI and snapshot amibump creates.
	TagLaunchTemplate = "amibump:launch-template"
)

// apiStatements are the function's permissions on EC2 and Auto Scaling: every
// call the function's code makes (lambda/bump/aws.go), scoped as far as the
// services allow. Every ARN is built from the partition, region and account of
// the deployment (pseudo parameters, also when the stack's env is set), so the
// same template deploys in aws-cn. PutEvents on the bus is
// granted with the bus's own grant.
func apiStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	arn := func(service, resource, name string, withAccount bool) *string {
		c := &awscdk.ArnComponents{
			Region:       awscdk.Aws_REGION(),
			Account:      awscdk.Aws_ACCOUNT_ID(),
			Service:      jsii.String(service),
			Resource:     jsii.String(resource),
			ResourceName: jsii.String(name),
			ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		}
		if !withAccount {
			c.Account = jsii.String("") // AMI and snapshot ARNs have no account
		}
		return stack.FormatArn(c)
	}
	var (
		instances       = arn("ec2", "instance", "*", true)
		images          = arn("ec2", "image", "*", false)
		snapshots       = arn("ec2", "snapshot", "*", false)
		launchTemplates = arn("ec2", "launch-template", "*", true)
		groups          = stack.FormatArn(&awscdk.ArnComponents{
			Region:       awscdk.Aws_REGION(),
			Account:      awscdk.Aws_ACCOUNT_ID(),
			Service:      jsii.String("autoscaling"),
			Resource:     jsii.String("autoScalingGroup"),
			ResourceName: jsii.String("*:autoScalingGroupName/*"),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
	)
	statement := func(sid string, actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
		props := &awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: &resources,
		}
		if conditions != nil {
			props.Conditions = &conditions
		}
		return awsiam.NewPolicyStatement(props)
	}
	tagged := func(key string) map[string]any {
		return map[string]any{"Null": map[string]any{"aws:ResourceTag/" + key: "false"}}
	}
	return []awsiam.PolicyStatement{
		// Describe calls support no resource-level permissions.
		statement("Describe", []string{
			"ec2:DescribeLaunchTemplates",
			"ec2:DescribeLaunchTemplateVersions",
			"ec2:DescribeInstances",
			"ec2:DescribeImages",
			"ec2:DescribeImageReferences",
			"autoscaling:DescribeAutoScalingGroups",
		}, []*string{jsii.String("*")}, nil),
		// CreateImage is authorized on the source instance, the new image and its
		// snapshots. The function picks the instance itself and rejects an
		// instance that is neither tagged amibump:source-for nor in a group
		// launching from the template (DESIGN §4).
		statement("CreateImage", []string{"ec2:CreateImage"},
			[]*string{instances, images, snapshots}, nil),
		// Tags on the new image and snapshots, only as part of CreateImage: the
		// function can never retag an existing AMI into its cleanup's reach.
		statement("TagOnCreateImage", []string{"ec2:CreateTags"},
			[]*string{images, snapshots},
			map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateImage"}}),
		// New versions, $Default, and version pruning: managed templates only.
		statement("BumpManagedLaunchTemplates", []string{
			"ec2:CreateLaunchTemplateVersion",
			"ec2:ModifyLaunchTemplate",
			"ec2:DeleteLaunchTemplateVersions",
		}, []*string{launchTemplates}, tagged(TagApp)),
		// Retention: only AMIs amibump made (they carry amibump:launch-template),
		// with their snapshots (DeregisterImage with DeleteAssociatedSnapshots is
		// authorized as ec2:DeleteSnapshot on each snapshot).
		statement("DeregisterOwnImages", []string{"ec2:DeregisterImage"},
			[]*string{images}, tagged(TagLaunchTemplate)),
		statement("DeleteOwnSnapshots", []string{"ec2:DeleteSnapshot"},
			[]*string{snapshots}, tagged(TagLaunchTemplate)),
		// Opt-in instance refresh (amibump:instance-refresh on the template).
		statement("StartInstanceRefresh", []string{"autoscaling:StartInstanceRefresh"},
			[]*string{groups}, nil),
	}
}
