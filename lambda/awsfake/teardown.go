package awsfake

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The calls in this file remove what a test made: amibump makes none of them.
// They exist so that the conformance suite's cleanup, which runs against a real
// account, can run against the fake too (lambda/conformance).

// TerminateInstances terminates instances by id. One unknown id fails the whole
// call with InvalidInstanceID.NotFound and terminates nothing, as in AWS. The
// answer's CurrentState is shutting-down for an instance not terminated yet
// ("When you terminate an instance, it enters the shutting-down state and then
// the terminated state"), terminated for one already terminated (the call is
// idempotent); the fake's instance is terminated at once (shutting-down lasts
// seconds). (API reference, TerminateInstances; EC2 User Guide, "State change
// events for Amazon EC2 instances".)
func (e *EC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	return serve(ctx, e.c, svcEC2, "TerminateInstances", in, e.c.terminateInstances)
}

func (c *Cloud) terminateInstances(in *ec2.TerminateInstancesInput) (*ec2.TerminateInstancesOutput, error) {
	if in == nil || len(in.InstanceIds) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	ids := dedupe(in.InstanceIds)
	for _, id := range ids {
		if _, err := c.lookupInstance(id); err != nil {
			return nil, err
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	out := &ec2.TerminateInstancesOutput{}
	for _, id := range ids {
		before := c.instances[id].state
		now := ec2types.InstanceStateNameShuttingDown
		if before == ec2types.InstanceStateNameTerminated {
			now = before
		}
		c.terminate(id)
		out.TerminatingInstances = append(out.TerminatingInstances, ec2types.InstanceStateChange{InstanceId: ptr(id),
			PreviousState: &ec2types.InstanceState{Name: before, Code: ptr(instanceStateCodes[before])},
			CurrentState:  &ec2types.InstanceState{Name: now, Code: ptr(instanceStateCodes[now])}})
	}
	return out, nil
}

// DeleteLaunchTemplate deletes a launch template, by id or name, with every
// version, also while an Auto Scaling group launches from it (the API reference
// lists no error for a template in use). (API reference, DeleteLaunchTemplate.)
func (e *EC2) DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error) {
	return serve(ctx, e.c, svcEC2, "DeleteLaunchTemplate", in, e.c.deleteLaunchTemplate)
}

func (c *Cloud) deleteLaunchTemplate(in *ec2.DeleteLaunchTemplateInput) (*ec2.DeleteLaunchTemplateOutput, error) {
	if in == nil {
		in = &ec2.DeleteLaunchTemplateInput{}
	}
	lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	described := lt.describe()
	delete(c.templates, lt.id)
	return &ec2.DeleteLaunchTemplateOutput{LaunchTemplate: &described}, nil
}

// DescribeSnapshots lists the account's snapshots by id or tag filter (tag:<key>,
// tag-key, tag-value), paginated with MaxResults 5..1000 when no ids are given.
// OwnerIds self (or the account's id) keeps the account's own; any other owner
// (amazon, another account) lists none: the fake holds no public or shared
// snapshots, which a call without OwnerIds would also list in AWS.
// (API reference, DescribeSnapshots.)
func (e *EC2) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeSnapshots", in, e.c.describeSnapshots)
}

func (c *Cloud) describeSnapshots(in *ec2.DescribeSnapshotsInput) (*ec2.DescribeSnapshotsOutput, error) {
	if in == nil {
		in = &ec2.DescribeSnapshotsInput{}
	}
	if len(in.SnapshotIds) > 0 && in.MaxResults != nil {
		return nil, errorf("InvalidParameterCombination", "The parameter SnapshotIds cannot be used with the parameter MaxResults")
	}
	if err := checkRange("MaxResults", in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	filters, err := ec2Filters(in.Filters)
	if err != nil {
		return nil, err
	}
	for _, id := range in.SnapshotIds {
		if _, ok := c.snapshots[id]; !ok {
			return nil, errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
		}
	}
	ours := len(in.OwnerIds) == 0
	for _, o := range in.OwnerIds {
		ours = ours || o == "self" || o == Account
	}
	now := c.settleAll()
	var matched []ec2types.Snapshot
	for _, s := range c.snapshotsNow(now) {
		if !ours {
			break
		}
		if len(in.SnapshotIds) > 0 && !slices.Contains(in.SnapshotIds, derefString(s.SnapshotId)) {
			continue
		}
		if (filterable{tags: c.snapshots[derefString(s.SnapshotId)].tags}).matches(filters) {
			matched = append(matched, s)
		}
	}
	size := 0
	if len(in.SnapshotIds) == 0 {
		size = c.pageSizeFor(in.MaxResults, 0)
	}
	page, next, err := paginate(matched, func(s ec2types.Snapshot) string { return derefString(s.SnapshotId) }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeSnapshotsOutput{Snapshots: page, NextToken: next}, nil
}

// DeleteSnapshot deletes a snapshot; one that a registered AMI uses is
// InvalidSnapshot.InUse. (API reference, DeleteSnapshot.)
func (e *EC2) DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, _ ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error) {
	return serve(ctx, e.c, svcEC2, "DeleteSnapshot", in, e.c.deleteSnapshot)
}

func (c *Cloud) deleteSnapshot(in *ec2.DeleteSnapshotInput) (*ec2.DeleteSnapshotOutput, error) {
	if in == nil || in.SnapshotId == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter SnapshotId")
	}
	s, ok := c.snapshots[*in.SnapshotId]
	if !ok {
		return nil, errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", *in.SnapshotId)
	}
	if _, used := c.images[s.imageID]; used {
		return nil, errorf("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", s.id, s.imageID)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	delete(c.snapshots, s.id)
	return &ec2.DeleteSnapshotOutput{}, nil
}

// DeleteAutoScalingGroup deletes a group. A group with instances, or with
// instances in its warm pool, is ResourceInUse unless ForceDelete, which
// terminates them and deletes the warm pool ("If the group has a warm pool, the
// force delete option also deletes the warm pool"; that warm pool instances
// alone make the group in use is the harsher reading). AWS deletes the group
// asynchronously (DescribeAutoScalingGroups lists it with Status "Delete in
// progress" meanwhile); the fake deletes it within the call. (Auto Scaling API
// reference, DeleteAutoScalingGroup, AutoScalingGroup.Status.)
func (a *AutoScaling) DeleteAutoScalingGroup(ctx context.Context, in *autoscaling.DeleteAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "DeleteAutoScalingGroup", in, a.c.deleteAutoScalingGroup)
}

func (c *Cloud) deleteAutoScalingGroup(in *autoscaling.DeleteAutoScalingGroupInput) (*autoscaling.DeleteAutoScalingGroupOutput, error) {
	if in == nil || in.AutoScalingGroupName == nil {
		return nil, validationError("1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	g, ok := c.groups[*in.AutoScalingGroupName]
	if !ok {
		return nil, validationError("AutoScalingGroup name not found - AutoScalingGroup '%s' not found", *in.AutoScalingGroupName)
	}
	warm := c.warmPools[*in.AutoScalingGroupName]
	if len(g.Instances)+len(warm) > 0 && !derefBool(in.ForceDelete) {
		return nil, &astypes.ResourceInUseFault{Message: ptr("You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")}
	}
	ids := make([]string, 0, len(g.Instances)+len(warm))
	for _, gi := range append(slices.Clone(g.Instances), warm...) {
		ids = append(ids, derefString(gi.InstanceId))
	}
	sort.Strings(ids)
	for _, id := range ids {
		c.terminate(id)
	}
	delete(c.groups, *in.AutoScalingGroupName)
	delete(c.warmPools, *in.AutoScalingGroupName)
	delete(c.refreshes, *in.AutoScalingGroupName)
	return &autoscaling.DeleteAutoScalingGroupOutput{}, nil
}

// DeleteParameter deletes a parameter with all its versions; one that does not
// exist is ParameterNotFound. (SSM API reference, DeleteParameter.)
func (s *SSM) DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, _ ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error) {
	return serve(ctx, s.c, svcSSM, "DeleteParameter", in, s.c.deleteParameter)
}

func (c *Cloud) deleteParameter(in *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
	name := derefString(in.Name)
	if _, ok := c.parameterStore()[name]; !ok {
		return nil, APIError("ParameterNotFound", "Parameter "+name+" not found.")
	}
	delete(c.parameterStore(), name)
	return &ssm.DeleteParameterOutput{}, nil
}

// DescribeParameters lists the parameters' metadata, each with its tier now,
// sorted by name, filtered by name (ParameterFilters with Key Name and Option
// Equals or BeginsWith; no other filter is modelled), MaxResults 1..50. (SSM
// API reference, DescribeParameters, ParameterMetadata, ParameterStringFilter.)
func (s *SSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	return serve(ctx, s.c, svcSSM, "DescribeParameters", in, s.c.describeParameters)
}

func (c *Cloud) describeParameters(in *ssm.DescribeParametersInput) (*ssm.DescribeParametersOutput, error) {
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 50) {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50", *in.MaxResults)
	}
	for _, f := range in.ParameterFilters {
		option := derefString(f.Option)
		if derefString(f.Key) != "Name" || (option != "" && option != "Equals" && option != "BeginsWith") || len(f.Values) == 0 {
			return nil, errorf("InvalidFilterKey", "awsfake models the filter Name with Equals or BeginsWith and values, not %s %s", derefString(f.Key), option)
		}
	}
	var names []string
	for name := range c.parameterStore() {
		if parameterMatches(name, in.ParameterFilters) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	page, next, err := paginate(names, func(n string) string { return n }, in.NextToken, c.pageSizeFor(in.MaxResults, 10))
	if err != nil {
		return nil, err
	}
	out := &ssm.DescribeParametersOutput{NextToken: next, Parameters: []ssmtypes.ParameterMetadata{}}
	for _, name := range page {
		p := c.parameterStore()[name]
		cur := p.versions[len(p.versions)-1]
		out.Parameters = append(out.Parameters, ssmtypes.ParameterMetadata{Name: ptr(name), ARN: cur.ARN, Type: cur.Type,
			DataType: cur.DataType, Version: cur.Version, LastModifiedDate: cur.LastModifiedDate, Tier: p.tier})
	}
	return out, nil
}

func parameterMatches(name string, fs []ssmtypes.ParameterStringFilter) bool {
	for _, f := range fs {
		ok := false
		for _, v := range f.Values {
			ok = ok || name == v || (derefString(f.Option) == "BeginsWith" && strings.HasPrefix(name, v))
		}
		if !ok {
			return false
		}
	}
	return true
}
