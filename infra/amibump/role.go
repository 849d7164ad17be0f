package amibump

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
)

// newRole is the function's role: its own log group, the EC2 and Auto
// Scaling calls of apiStatements, the EBS keys of ebsKeyStatements, the
// copies' key of copyKeyStatements, the SSM parameters of ssmStatement, and
// what EC2 reads for the function in DescribeImageReferences
// (imageReferencesStatements).
func newRole(scope constructs.Construct, a *Amibump, props *Props) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("amibump function: image instances, bump launch templates"),
	})
	// Write its own log group, and nothing else in CloudWatch Logs (instead of
	// the AWSLambdaBasicExecutionRole managed policy, which allows any group).
	a.LogGroup.GrantWrite(role)
	for _, s := range append(apiStatements(awscdk.Stack_Of(scope)), rollbackStatements(awscdk.Stack_Of(scope))...) {
		role.AddToPrincipalPolicy(s)
	}
	for _, s := range ebsKeyStatements(props.KMSKeyARNs) {
		role.AddToPrincipalPolicy(s)
	}
	for _, s := range copyKeyStatements(props.CopyKmsKeyARN) {
		role.AddToPrincipalPolicy(s)
	}
	for _, s := range copyStatements(awscdk.Stack_Of(scope)) {
		role.AddToPrincipalPolicy(s)
	}
	role.AddToPrincipalPolicy(ssmStatement(awscdk.Stack_Of(scope), props.SSMParameterPrefix))
	for _, s := range imageReferencesStatements(awscdk.Stack_Of(scope)) {
		role.AddToPrincipalPolicy(s)
	}
	return role
}

// ImageReferencesService is the service that scans resources for
// DescribeImageReferences, as aws:CalledVia names it.
const ImageReferencesService = "ec2-images.amazonaws.com"

// imageReferencesStatement grants what EC2 checks on the function's behalf
// when retention asks DescribeImageReferences which SSM parameters hold an
// AMI: ssm:DescribeParameters and ssm:GetParameters, on every parameter (one
// a person made, outside the prefix, may hold an AMI), and only when EC2
// calls them for the scan (aws:CalledVia). Amazon EC2 User Guide, "Identify
// your resources referencing specified AMIs", "Required IAM permissions", and
// the managed policy AmazonEC2ImageReferencesAccessPolicy, which grants the
// same on *; here GetParameters is scoped to the account's parameters, the
// only resource type it authorizes on. The instance and launch template scans
// need the Describe actions the Describe statement grants without a condition.
func imageReferencesStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	viaEC2 := map[string]any{"ForAnyValue:StringEquals": map[string]any{"aws:CalledVia": []string{ImageReferencesService}}}
	parameters := stack.FormatArn(&awscdk.ArnComponents{
		Region: awscdk.Aws_REGION(), Account: awscdk.Aws_ACCOUNT_ID(), Service: jsii.String("ssm"),
		Resource: jsii.String("parameter"), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	return []awsiam.PolicyStatement{
		allow("ImageReferencesListsParameters", []string{"ssm:DescribeParameters"}, []*string{jsii.String("*")}, viaEC2),
		allow("ImageReferencesReadsParameters", []string{"ssm:GetParameters"}, []*string{parameters}, viaEC2),
	}
}

// resourceARNs are the ARN patterns the role's statements name. Every ARN is
// built from the partition, region and account of the deployment (pseudo
// parameters, also when the stack's env is set), so the same template deploys
// in aws-cn.
type resourceARNs struct {
	instances, images, snapshots, launchTemplates, groups *string
}

func arnsOf(stack awscdk.Stack) resourceARNs {
	arn := func(service, resource, name string, withAccount bool, format awscdk.ArnFormat) *string {
		c := &awscdk.ArnComponents{
			Region:       awscdk.Aws_REGION(),
			Account:      awscdk.Aws_ACCOUNT_ID(),
			Service:      jsii.String(service),
			Resource:     jsii.String(resource),
			ResourceName: jsii.String(name),
			ArnFormat:    format,
		}
		if !withAccount {
			c.Account = jsii.String("") // AMI and snapshot ARNs have no account
		}
		return stack.FormatArn(c)
	}
	slash := awscdk.ArnFormat_SLASH_RESOURCE_NAME
	return resourceARNs{
		instances:       arn("ec2", "instance", "*", true, slash),
		images:          arn("ec2", "image", "*", false, slash),
		snapshots:       arn("ec2", "snapshot", "*", false, slash),
		launchTemplates: arn("ec2", "launch-template", "*", true, slash),
		groups:          arn("autoscaling", "autoScalingGroup", "*:autoScalingGroupName/*", true, awscdk.ArnFormat_COLON_RESOURCE_NAME),
	}
}

// allow is one Allow statement; conditions may be nil.
func allow(sid string, actions []string, resources []*string, conditions map[string]any) awsiam.PolicyStatement {
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

// TagAutoScalingGroupName is the tag EC2 Auto Scaling puts on every instance
// it launches, naming the group.
const TagAutoScalingGroupName = "aws:autoscaling:groupName"

// requestTagged is the condition that the request tags the new resource with key.
func requestTagged(key string) map[string]any {
	return map[string]any{"Null": map[string]any{"aws:RequestTag/" + key: "false"}}
}

// tagged is the condition that the resource carries the tag key.
func tagged(key string) map[string]any {
	return map[string]any{"Null": map[string]any{"aws:ResourceTag/" + key: "false"}}
}

// apiStatements are the function's permissions on EC2 and Auto Scaling: every
// call the function's code makes (the interfaces of bump.Clients), scoped as far as the
// services allow. PutEvents on the bus is granted with the bus's own grant.
func apiStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	r := arnsOf(stack)
	return []awsiam.PolicyStatement{
		// Describe calls support no resource-level permissions.
		// ec2:DescribeImages is also what Systems Manager checks, on the
		// function's behalf, when it writes an aws:ec2:image parameter.
		allow("Describe", []string{
			"ec2:DescribeLaunchTemplates",
			"ec2:DescribeLaunchTemplateVersions",
			"ec2:DescribeInstances",
			"ec2:DescribeImages",
			"ec2:DescribeImageReferences",
			"autoscaling:DescribeAutoScalingGroups",
			"autoscaling:DescribeInstanceRefreshes",
		}, []*string{jsii.String("*")}, nil),
		// CreateImage is authorized on the source instance, the new image and
		// its snapshots. The instance: only one the function may image, tagged
		// amibump:source-for or a member of an Auto Scaling group (EC2 tags
		// those with aws:autoscaling:groupName); the function also checks that
		// it belongs to the template. The image and snapshots: only when the
		// request tags them amibump:launch-template, as the function always does.
		allow("CreateImageOfSourceInstances", []string{"ec2:CreateImage"},
			[]*string{r.instances}, tagged(event.TagSourceFor)),
		allow("CreateImageOfGroupMembers", []string{"ec2:CreateImage"},
			[]*string{r.instances}, tagged(TagAutoScalingGroupName)),
		allow("CreateImagesTaggedForATemplate", []string{"ec2:CreateImage"},
			[]*string{r.images, r.snapshots}, requestTagged(event.TagLaunchTemplate)),
		// Tags on the new image and snapshots, only as part of CreateImage: the
		// function can never retag an existing AMI into its cleanup's reach.
		allow("TagOnCreateImage", []string{"ec2:CreateTags"},
			[]*string{r.images, r.snapshots},
			map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateImage"}}),
		// New versions, $Default, and version pruning: managed templates only.
		allow("BumpManagedLaunchTemplates", []string{
			"ec2:CreateLaunchTemplateVersion",
			"ec2:ModifyLaunchTemplate",
			"ec2:DeleteLaunchTemplateVersions",
		}, []*string{r.launchTemplates}, tagged(event.TagApp)),
		// Reconcile remembers the drift it reported (a version someone else
		// made with an older AMI) in one tag on the managed template, so that
		// it reports each such version once: that tag key only, managed
		// templates only.
		allow("RecordReportedDrift", []string{"ec2:CreateTags"}, []*string{r.launchTemplates},
			map[string]any{
				"Null":                      map[string]any{"aws:ResourceTag/" + event.TagApp: "false"},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{event.TagDriftReported}},
			}),
		// Retention: only AMIs amibump made (they carry amibump:launch-template),
		// with their snapshots: DeregisterImage with DeleteAssociatedSnapshots
		// deletes each snapshot as ec2:DeleteSnapshot on the function's
		// permissions, and one it may not delete stays, reported as
		// missing-permissions (EC2 API reference, DeleteSnapshotReturnCode).
		allow("DeregisterOwnImages", []string{"ec2:DeregisterImage"},
			[]*string{r.images}, tagged(event.TagLaunchTemplate)),
		allow("DeleteOwnSnapshots", []string{"ec2:DeleteSnapshot"},
			[]*string{r.snapshots}, tagged(event.TagLaunchTemplate)),
		// Retirement in stages and the live release's protection: deprecate
		// and disable an AMI that left the keep window, protect the AMIs the
		// groups launch and lift that protection later. Only AMIs amibump
		// made (the Service Authorization Reference lists the image resource,
		// with aws:ResourceTag, for each of these actions).
		allow("RetireAndProtectOwnImages", []string{
			"ec2:EnableImageDeprecation",
			"ec2:DisableImage",
			"ec2:EnableImageDeregistrationProtection",
			"ec2:DisableImageDeregistrationProtection",
		}, []*string{r.images}, tagged(event.TagLaunchTemplate)),
		// Instance refresh, opted in per template (amibump:instance-refresh);
		// IAM can check only the group, so only groups tagged
		// amibump:instance-refresh=true may be refreshed. The function skips
		// an untagged group with a warning that says how to tag it. A
		// rollback cancels the refresh still running on such a group (the
		// release rolled back from's) before it starts its own; a deploy
		// never cancels one.
		allow("StartAndCancelInstanceRefreshOfTaggedGroups", []string{"autoscaling:StartInstanceRefresh", "autoscaling:CancelInstanceRefresh"},
			[]*string{r.groups}, map[string]any{
				"StringEquals": map[string]any{"autoscaling:ResourceTag/" + event.TagInstanceRefresh: "true"},
			}),
	}
}

// rollbackStatements are what a rollback needs beyond a promotion: to hold
// the template (amibump:hold), which the next newer deploy lifts, that tag key
// only and on managed templates only; and to enable a disabled AMI it puts
// back, only AMIs amibump made (they carry amibump:launch-template).
func rollbackStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	r := arnsOf(stack)
	return []awsiam.PolicyStatement{
		allow("HoldRolledBackTemplates", []string{"ec2:CreateTags", "ec2:DeleteTags"}, []*string{r.launchTemplates},
			map[string]any{
				// ForAllValues is true of a request with no aws:TagKeys, and a
				// DeleteTags that names no tag deletes every user tag: the
				// key must be there (Null false).
				"Null":                      map[string]any{"aws:ResourceTag/" + event.TagApp: "false", "aws:TagKeys": "false"},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []string{event.TagHold}},
			}),
		allow("EnableOwnImages", []string{"ec2:EnableImage"},
			[]*string{r.images}, tagged(event.TagLaunchTemplate)),
	}
}

// ebsKeyStatements let CreateImage use the customer managed keys that encrypt
// the imaged instances' EBS volumes: the snapshots of an encrypted volume are
// encrypted with the same key, on the caller's permissions. The actions are the
// ones the Amazon EBS User Guide lists for using a KMS key for EBS encryption
// ("Requirements for Amazon EBS encryption", permissions for users), with
// CreateGrant only for grants EC2 creates on the caller's behalf
// (kms:GrantIsForAWSResource). No keys: no statement, no KMS permission.
func ebsKeyStatements(keyARNs []string) []awsiam.PolicyStatement {
	return keyStatements(keyARNs, "UseEBSKeysOfImagedVolumes", "GrantEBSKeysToEC2")
}

// copyKeyStatements let CopyImage encrypt the copies with copyKmsKeyArn, and
// nothing else with it: EC2 uses the key on the caller's permissions, which
// the Amazon EBS User Guide lists for EBS encryption ("Requirements for
// Amazon EBS encryption", permissions for users: kms:CreateGrant,
// kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText,
// kms:ReEncrypt), CreateGrant only for grants EC2 creates on the caller's
// behalf (kms:GrantIsForAWSResource), as the page's example conditions it;
// kms:ReEncrypt is the IAM actions kms:ReEncryptFrom and kms:ReEncryptTo. No
// key: no statement.
func copyKeyStatements(keyARN string) []awsiam.PolicyStatement {
	if keyARN == "" {
		return nil
	}
	return keyStatements([]string{keyARN}, "UseCopyKeyForCopies", "GrantCopyKeyToEC2")
}

// keyStatements allow what EBS encryption needs on keyARNs, under the
// statement ids use and grant; nil for no keys.
func keyStatements(keyARNs []string, use, grant string) []awsiam.PolicyStatement {
	if len(keyARNs) == 0 {
		return nil
	}
	keys := jsii.Strings(keyARNs...)
	return []awsiam.PolicyStatement{
		allow(use, []string{
			"kms:Decrypt",
			"kms:DescribeKey",
			"kms:GenerateDataKeyWithoutPlaintext",
			"kms:ReEncryptFrom",
			"kms:ReEncryptTo",
		}, *keys, nil),
		allow(grant, []string{"kms:CreateGrant"}, *keys,
			map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}}),
	}
}

// ssmStatement lets the function read and write the parameters under prefix,
// and no other SSM action or parameter. ssm:GetParameters is not called by the
// function: EC2 calls it on the function's behalf, with the function's
// permissions, when a new launch template version's ImageId is
// resolve:ssm:<parameter> (Amazon EC2 Auto Scaling User Guide, "Use AWS
// Systems Manager parameters instead of AMI IDs in launch templates"); without
// it the version is refused. PutParameter of an aws:ec2:image parameter also
// needs ec2:DescribeImages, which the Describe statement grants. A parameter's
// ARN is arn:<partition>:ssm:<region>:<account>:parameter/<name without its
// leading />, so the prefix /amibump/ gives ...:parameter/amibump/*.
func ssmStatement(stack awscdk.Stack, prefix string) awsiam.PolicyStatement {
	parameters := stack.FormatArn(&awscdk.ArnComponents{
		Region:       awscdk.Aws_REGION(),
		Account:      awscdk.Aws_ACCOUNT_ID(),
		Service:      jsii.String("ssm"),
		Resource:     jsii.String("parameter"),
		ResourceName: jsii.String(strings.TrimPrefix(prefix, "/") + "*"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	return allow("ParametersUnderThePrefix", []string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:PutParameter"},
		[]*string{parameters}, nil)
}

// copyStatements let the function copy AMIs that amibump made in another
// region into this one, for templates tagged amibump:replicate-from. EC2
// authorizes CopyImage on the source AMI (in its region: any region here,
// this partition) and on the new AMI and its snapshots (Amazon EC2 User
// Guide, "Copy an Amazon EC2 AMI", permissions; Service Authorization
// Reference, CopyImage): the source only when it carries
// amibump:launch-template, the copy only when the request tags it so, as
// CreateImage's statements do. AWS's example policy also grants CopyImage on
// snapshots in any region, and does not say whether the source snapshots
// are asked: the harsher reading, they are, so the source statement covers
// the source's snapshots too (amibump tags them as it tags the AMI). Tags
// only as part of CopyImage (ec2:CreateAction). The copy key's statements
// are copyKeyStatements'.
func copyStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	r := arnsOf(stack)
	anyRegion := func(resource string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{
			Region: jsii.String("*"), Account: jsii.String(""), Service: jsii.String("ec2"),
			Resource: jsii.String(resource), ResourceName: jsii.String("*"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
		})
	}
	return []awsiam.PolicyStatement{
		allow("CopyImagesAmibumpMade", []string{"ec2:CopyImage"}, []*string{anyRegion("image"), anyRegion("snapshot")}, tagged(event.TagLaunchTemplate)),
		allow("CopiesTaggedForATemplate", []string{"ec2:CopyImage"}, []*string{r.images, r.snapshots}, requestTagged(event.TagLaunchTemplate)),
		allow("TagOnCopyImage", []string{"ec2:CreateTags"}, []*string{r.images, r.snapshots},
			map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CopyImage"}}),
	}
}
