package bump

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amibump/amibump/lambda/plan"
)

// Scope is where amibump's calls go: one account in one region. AWS keeps
// everything amibump reads and writes per account and region, and throttles
// per account and region, so the scope is the key of the request budget and is
// named by every result. Partition is "" until known; PartitionOf derives it
// from the region.
type Scope struct {
	Partition string
	Account   string
	Region    string
}

// String names the scope for messages: "account 123456789012, region us-east-1".
func (s Scope) String() string {
	return fmt.Sprintf("account %s, region %s", cmp.Or(s.Account, "(unknown)"), cmp.Or(s.Region, "(unknown)"))
}

// Or fills what s leaves empty from other.
func (s Scope) Or(other Scope) Scope {
	return Scope{
		Partition: cmp.Or(s.Partition, other.Partition, PartitionOf(cmp.Or(s.Region, other.Region))),
		Account:   cmp.Or(s.Account, other.Account),
		Region:    cmp.Or(s.Region, other.Region),
	}
}

// PartitionOf is the partition of a region (plan.PartitionOf): aws-cn,
// aws-us-gov, aws-eusc, the isolated partitions, aws for the others ("" for
// no region).
func PartitionOf(region string) string { return plan.PartitionOf(region) }

// EC2 is the part of the EC2 API that amibump calls. *ec2.Client fits as is, and
// the function's IAM policy grants exactly these operations (infra checks it).
type EC2 interface {
	DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error)
	CreateImage(ctx context.Context, in *ec2.CreateImageInput, opts ...func(*ec2.Options)) (*ec2.CreateImageOutput, error)
	// CopyImage: into this region, from another region of the account, for
	// a template that replicates from there.
	CopyImage(ctx context.Context, in *ec2.CopyImageInput, opts ...func(*ec2.Options)) (*ec2.CopyImageOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, opts ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, opts ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error)
	ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, opts ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error)
	DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, opts ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error)
	// CreateTags: only amibump:drift-reported and amibump:hold, only on launch
	// templates; DeleteTags: only amibump:hold, only on launch templates.
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	ImageLifecycle
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, opts ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	EnableImage(ctx context.Context, in *ec2.EnableImageInput, opts ...func(*ec2.Options)) (*ec2.EnableImageOutput, error)
}

// SSM is the part of the Systems Manager API amibump calls: the parameters it
// publishes releases to, all under AMIBUMP_SSM_PREFIX.
type SSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, opts ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, opts ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
}

// AutoScaling is the part of the Auto Scaling API that amibump calls.
type AutoScaling interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, opts ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error)
	DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, opts ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error)
	CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, opts ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error)
}

// Events is the part of the EventBridge API that amibump calls: publishing results.
type Events interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Clients is amibump's way to AWS in one scope: the four APIs it calls. The
// function, the command-line tool and the tests each build one, and a run
// wraps it once (gate, budget, metrics: wrap). SSM may be nil: a template that
// needs a parameter written is then rejected before anything is made.
type Clients struct {
	Scope       Scope
	EC2         EC2
	AutoScaling AutoScaling
	Events      Events
	SSM         SSM
}

// NewClients builds the SDK's clients for scope from cfg: its credentials,
// retryer and endpoints, in scope's region when scope names one (else cfg's).
// It is the one place amibump makes SDK clients.
func NewClients(cfg aws.Config, scope Scope) Clients {
	if scope.Region != "" {
		cfg = cfg.Copy()
		cfg.Region = scope.Region
	}
	scope = scope.Or(Scope{Region: cfg.Region})
	return Clients{
		Scope:       scope,
		EC2:         ec2.NewFromConfig(cfg),
		AutoScaling: autoscaling.NewFromConfig(cfg),
		Events:      eventbridge.NewFromConfig(cfg),
		SSM:         ssm.NewFromConfig(cfg),
	}
}

// AssumeRoleClients builds the clients for scope under a role assumed with
// cfg's credentials (STS AssumeRole, through the SDK's stscreds provider, which
// refreshes them before they expire). role is an ARN, or a role name in
// scope's account (scope.Account is then required).
func AssumeRoleClients(cfg aws.Config, scope Scope, role string) (Clients, error) {
	scope = scope.Or(Scope{Region: cfg.Region})
	arn, err := roleARN(scope, role)
	if err != nil {
		return Clients{}, err
	}
	cfg = cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), arn,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "amibump" }))
	return NewClients(cfg, scope), nil
}

// roleARN is role as an ARN: itself when it is one, else the role of that name
// in scope's account and partition.
func roleARN(scope Scope, role string) (string, error) {
	switch {
	case strings.HasPrefix(role, "arn:"):
		return role, nil
	case role == "" || strings.Contains(role, ":"):
		return "", fmt.Errorf("role %q is neither a role ARN nor a role name", role)
	case scope.Account == "":
		return "", fmt.Errorf("role %s names no account: give its ARN, or the account to assume it in", role)
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", cmp.Or(scope.Partition, "aws"), scope.Account, role), nil
}

// wrap returns the clients of one run in scope: every call keeps to the
// budget of its scope and API (Budget), then waits for a slot of g (gate);
// EC2's image calls are observed for the metrics (observedEC2).
// It is the one place clients are wrapped, so a run has no way to AWS that
// escapes them.
func (c Clients) wrap(scope Scope, b *Budget, g gate, obs *observations) Clients {
	w := Clients{Scope: scope}
	if c.EC2 != nil {
		w.EC2 = observedEC2{gatedEC2{b, scope, c.EC2, g}, obs}
	}
	if c.AutoScaling != nil {
		w.AutoScaling = gatedAutoScaling{b, scope, c.AutoScaling, g}
	}
	if c.Events != nil {
		w.Events = gatedEvents{b, scope, c.Events, g}
	}
	if c.SSM != nil {
		w.SSM = gatedSSM{b, scope, c.SSM, g}
	}
	return w
}
