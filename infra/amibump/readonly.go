package amibump

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ReadOnlyRoleName is the name of the read-only role, the same in every
// account, so that `amibump status --accounts` can assume it by name.
const ReadOnlyRoleName = "amibump-readonly"

// ReadOnlyActions are exactly the calls `amibump status` makes (the
// interfaces the command gives it, statusEC2 and statusAutoScaling): none of them supports resource-level permissions. status reads
// no SSM parameter (a resolve:ssm: template is shown unresolved), and the
// account of the credentials comes from sts:GetCallerIdentity, which needs no
// permission.
var ReadOnlyActions = []string{
	"autoscaling:DescribeAutoScalingGroups",
	"autoscaling:DescribeWarmPool",
	"ec2:DescribeImages",
	"ec2:DescribeInstances",
	"ec2:DescribeLaunchTemplateVersions",
	"ec2:DescribeLaunchTemplates",
}

// newReadOnlyRole adds amibump-readonly, which the principals of
// readOnlyTrust may assume to read what amibump status shows, and nothing
// else; nil when readOnlyTrust is empty: a role nobody may assume would only
// be one more thing to audit. Its one policy is inline, so the role is one
// resource (a StackSet creates it in one region per account: IAM is global).
func newReadOnlyRole(scope constructs.Construct, props *Props) awsiam.Role {
	if len(props.ReadOnlyTrust) == 0 {
		return nil
	}
	var accounts []awsiam.IPrincipal
	var org awsiam.IPrincipal
	for _, who := range props.ReadOnlyTrust {
		if orgIDPattern.MatchString(who) {
			org = awsiam.NewOrganizationPrincipal(jsii.String(who))
		} else {
			accounts = append(accounts, awsiam.NewAccountPrincipal(jsii.String(who)))
		}
	}
	first := org
	if first == nil {
		first = awsiam.NewCompositePrincipal(accounts...)
	}
	role := awsiam.NewRole(scope, jsii.String("ReadOnlyRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(ReadOnlyRoleName),
		AssumedBy:   first,
		Description: jsii.String("amibump status: read launch templates, AMIs, groups and instances"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"AmibumpStatus": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
				allow("StatusReads", ReadOnlyActions, []*string{jsii.String("*")}, nil),
			}}),
		},
	})
	if org != nil && len(accounts) > 0 {
		role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("sts:AssumeRole"),
			Principals: &accounts,
		}))
	}
	return role
}
