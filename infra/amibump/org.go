package amibump

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// OrgProps are the settings of the organisation's deployment: every member
// stack gets Member's settings (the same context as the single stack), in the
// accounts of the OUs and the regions of orgTargets.
type OrgProps struct {
	Member Props
	// orgTargets.organizationalUnitIds: the OUs (or the root, r-...) whose
	// accounts get the stack, those that join later included.
	OrganizationalUnitIDs []string
	// orgTargets.regions: the regions of each account that get the stack.
	// The first also holds the account's amibump-readonly role (IAM is global).
	Regions []string
	// orgCallAs: SELF in the organisation's management account,
	// DELEGATED_ADMIN in a delegated administrator account of StackSets.
	CallAs string
	// MemberAspects are applied to the member stack (the tests' cdk-nag).
	MemberAspects []awscdk.IAspect
}

// CallAsValues are the allowed values of orgCallAs.
var CallAsValues = []string{"SELF", "DELEGATED_ADMIN"}

var (
	ouPattern     = regexp.MustCompile(`^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
)

// Validate returns every problem of the organisation's settings, each naming
// its context key; the member settings are checked too.
func (o *OrgProps) Validate() error {
	var errs []error
	if len(o.OrganizationalUnitIDs) == 0 {
		errs = append(errs, errors.New(`orgTargets.organizationalUnitIds: empty; want the OU ids (ou-...) or the root id (r-...) whose accounts get amibump`))
	}
	for _, ou := range o.OrganizationalUnitIDs {
		if !ouPattern.MatchString(ou) {
			errs = append(errs, fmt.Errorf("orgTargets.organizationalUnitIds: %q is not allowed; want an OU id such as ou-ab12-cd34ef56 or a root id such as r-ab12", ou))
		}
	}
	if len(o.Regions) == 0 {
		errs = append(errs, errors.New(`orgTargets.regions: empty; want the regions (such as ["us-east-1", "eu-west-1"]) each account gets amibump in`))
	}
	for i, r := range o.Regions {
		if !regionPattern.MatchString(r) {
			errs = append(errs, fmt.Errorf("orgTargets.regions: %q is not allowed; want a region name such as eu-west-1", r))
		} else if slices.Contains(o.Regions[:i], r) {
			errs = append(errs, fmt.Errorf("orgTargets.regions: %q is listed twice", r))
		}
	}
	if !slices.Contains(CallAsValues, o.CallAs) {
		errs = append(errs, fmt.Errorf("orgCallAs: %q is not allowed; want SELF (the management account) or DELEGATED_ADMIN (a delegated administrator of StackSets)", o.CallAs))
	}
	if err := o.Member.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, r := range o.Regions { // the member stack deploys in each
		if err := o.Member.ValidateIn(r); err != nil && regionPattern.MatchString(r) {
			errs = append(errs, fmt.Errorf("orgTargets.regions %s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// StackSetName is the name of the organisation's StackSet.
const StackSetName = "amibump"

// Org is the organisation's deployment: the StackSet, and the member stack
// it deploys, synthesized into a cloud assembly of its own.
type Org struct {
	constructs.Construct
	StackSet awscloudformation.CfnStackSet
	Member   *Member
}

// The StackSet's operation preferences. A member stack whose update fails
// rolls back to its previous version in that account and region, where
// amibump keeps running: stopping the operation would save nothing, and would
// leave every account after the failed one on the old version (and a new
// account of the OU without amibump). So no failure stops an operation
// (100 %), all accounts go at once (100 %, which the tolerance allows), and
// the regions in parallel.
const (
	orgFailureTolerancePercentage = 100
	orgMaxConcurrentPercentage    = 100
)

// NewOrg adds to scope the service-managed StackSet of the amibump member
// stack, deployed automatically to the accounts of the OUs in the regions of
// props. The member stack's template is published as an asset of scope's
// stack (TemplateURL: it is beyond TemplateBody's 51,200 bytes); the
// function's code is not: the member reads it from the bucket of its own
// region, which `make publish-code` fills.
func NewOrg(scope constructs.Construct, id string, props *OrgProps) *Org {
	if err := props.Validate(); err != nil {
		panic(fmt.Sprintf("amibump: invalid organisation settings:\n%v", err))
	}
	this := constructs.NewConstruct(scope, jsii.String(id))
	member := newMember(this, props)
	template := awss3assets.NewAsset(this, jsii.String("MemberTemplate"), &awss3assets.AssetProps{Path: jsii.String(member.TemplatePath)})
	parameters := stackSetParameters(props, member)
	set := awscloudformation.NewCfnStackSet(this, jsii.String("StackSet"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(StackSetName),
		Description:     jsii.String("amibump in every account of the organisation's OUs: keeps Auto Scaling groups launching the release"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(props.CallAs),
		// Accounts that join an OU get the stack; an account that leaves the
		// OUs (or the organisation) loses it. Its AMIs, launch templates and
		// parameters are not the stack's and stay; its log group is kept; a
		// stack left behind would run unmanaged, reading its code from a
		// bucket it may no longer read.
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{Enabled: jsii.Bool(true), RetainStacksOnAccountRemoval: jsii.Bool(false)},
		Capabilities:   jsii.Strings("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"),
		// A StackSet runs one operation at a time; queue the next instead of
		// refusing it (managed execution).
		ManagedExecution: map[string]any{"Active": true},
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			FailureTolerancePercentage: jsii.Number(orgFailureTolerancePercentage),
			MaxConcurrentPercentage:    jsii.Number(orgMaxConcurrentPercentage),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		Parameters: &parameters,

		StackInstancesGroup: &[]any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(props.OrganizationalUnitIDs...)},
			Regions:           jsii.Strings(props.Regions...),
		}},
		TemplateUrl: template.HttpUrl(),
	})
	orgOutputs(this, set, member)
	return &Org{Construct: this, StackSet: set, Member: member}
}

// stackSetParameters are the member template's parameters for every
// account: the code buckets of this account, the code's key, the settings.
func stackSetParameters(props *OrgProps, member *Member) []any {
	prefix := awscdk.Fn_Join(jsii.String(""), jsii.Strings(CodeBucketPrefix+"-", *awscdk.Aws_ACCOUNT_ID()))
	parameters := []any{
		&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamCodeBucketPrefix), ParameterValue: prefix},
		&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamCodeKey), ParameterValue: jsii.String(member.Code.Key)},
		&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamAlarmEmail), ParameterValue: jsii.String(props.Member.AlarmEmail)},
		&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(ParamLogLevel), ParameterValue: jsii.String(props.Member.LogLevel)},
	}
	if member.Amibump.ReadOnlyRole != nil {
		parameters = append(parameters, &awscloudformation.CfnStackSet_ParameterProperty{
			ParameterKey: jsii.String(ParamReadOnlyRoleRegion), ParameterValue: jsii.String(props.Regions[0]),
		})
	}
	return parameters
}

func orgOutputs(scope constructs.Construct, set awscloudformation.CfnStackSet, member *Member) {
	for _, o := range []struct{ id, description, value string }{
		{"StackSetName", "the StackSet of the member stacks", *set.StackSetName()},
		{"CodeKey", "the function's code: make publish-code puts it under this key in each region's bucket", member.Code.Key},
	} {
		out := awscdk.NewCfnOutput(scope, jsii.String(o.id), &awscdk.CfnOutputProps{Value: jsii.String(o.value), Description: jsii.String(o.description)})
		out.OverrideLogicalId(jsii.String(o.id))
	}
}

// outdirOf is the cloud assembly directory of scope's app.
func outdirOf(scope constructs.Construct) string {
	if dir := *awscdk.Stage_Of(scope).Outdir(); dir != "" {
		return dir
	}
	return os.TempDir()
}
