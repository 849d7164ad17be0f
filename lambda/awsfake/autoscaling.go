package awsfake

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// TagAutoScalingGroupName is the tag EC2 Auto Scaling puts on every instance
// it launches, naming the group (Amazon EC2 Auto Scaling User Guide, "Tag
// Auto Scaling groups and instances").
const TagAutoScalingGroupName = "aws:autoscaling:groupName"

// AutoScaling is the fake Auto Scaling client, with the SDK's exact signatures.
type AutoScaling struct{ c *Cloud }

// AddAutoScalingGroup adds (or replaces) a group as given: the caller sets
// AutoScalingGroupName, LaunchTemplate or MixedInstancesPolicy, Instances, Tags.
func (c *Cloud) AddAutoScalingGroup(g astypes.AutoScalingGroup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g = clone(g)
	if g.AutoScalingGroupARN == nil {
		g.AutoScalingGroupARN = ptr(c.groupARN(derefString(g.AutoScalingGroupName)))
	}
	// Auto Scaling tags the instances it launches with the group's name
	// (aws:autoscaling:groupName); the group's seeded members get it too.
	for _, m := range g.Instances {
		if inst, ok := c.instances[derefString(m.InstanceId)]; ok {
			inst.tags[TagAutoScalingGroupName] = derefString(g.AutoScalingGroupName)
		}
	}
	c.groups[derefString(g.AutoScalingGroupName)] = &g
}

// FinishInstanceRefreshes ends the group's pending and in-progress refreshes:
// Successful, except that a refresh whose ScaleInProtectedInstances is Wait
// (AWS's default) on a group with instances protected from scale-in Failed
// (RefreshPreferences: "Wait (default): Amazon EC2 Auto Scaling waits one hour
// for you to remove scale-in protection. Otherwise, the instance refresh will
// fail"); the hour is taken as passed.
func (c *Cloud) FinishInstanceRefreshes(group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleRefreshes(group)
	now := c.now()
	for i := range c.refreshes[group] {
		r := &c.refreshes[group][i]
		if r.Status != astypes.InstanceRefreshStatusPending && r.Status != astypes.InstanceRefreshStatusInProgress {
			continue
		}
		r.Status, r.EndTime = astypes.InstanceRefreshStatusSuccessful, ptr(now)
		r.PercentageComplete = ptr(int32(100))
		if c.waitsForProtected(group, r.Preferences) {
			r.Status, r.PercentageComplete = astypes.InstanceRefreshStatusFailed, ptr(int32(0))
			r.StatusReason = ptr("Instance refresh failed: instances protected from scale in were not replaced within one hour.")
		}
	}
}

// waitsForProtected tells whether a refresh with prefs waits on protected instances of group.
func (c *Cloud) waitsForProtected(group string, prefs *astypes.RefreshPreferences) bool {
	if prefs != nil && prefs.ScaleInProtectedInstances != "" && prefs.ScaleInProtectedInstances != astypes.ScaleInProtectedInstancesWait {
		return false
	}
	g, ok := c.groups[group]
	if !ok {
		return false
	}
	for _, in := range g.Instances {
		if derefBool(in.ProtectedFromScaleIn) {
			return true
		}
	}
	return false
}

// InstanceRefreshes returns the group's instance refreshes, oldest first.
func (c *Cloud) InstanceRefreshes(group string) []astypes.InstanceRefresh {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleRefreshes(group)
	return clone(c.refreshes[group])
}

func validationError(format string, args ...any) error {
	return errorf("ValidationError", format, args...)
}

// DescribeAutoScalingGroups describes groups by name (unknown names are left out,
// as in AWS) and filter (tag:<key>, tag-key, tag-value), sorted by name, paginated
// with MaxRecords 1..100 (default 50).
func (a *AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "DescribeAutoScalingGroups", in, a.c.describeAutoScalingGroups)
}

func (c *Cloud) describeAutoScalingGroups(in *autoscaling.DescribeAutoScalingGroupsInput) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	if in == nil {
		in = &autoscaling.DescribeAutoScalingGroupsInput{}
	}
	if in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 100) {
		return nil, validationError("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxRecords)
	}
	fs := make([]filter, 0, len(in.Filters))
	for _, f := range in.Filters {
		fs = append(fs, filter{name: derefString(f.Name), values: f.Values})
	}
	for _, f := range fs {
		if f.name != "tag-key" && f.name != "tag-value" && !strings.HasPrefix(f.name, "tag:") {
			return nil, validationError("Filter name %s is invalid: expecting tag:<key>, tag-key or tag-value", f.name)
		}
		if len(f.values) == 0 {
			return nil, validationError("Filter %s has no values", f.name)
		}
	}
	wanted := map[string]bool{}
	for _, n := range in.AutoScalingGroupNames {
		wanted[n] = true
	}
	var matched []*astypes.AutoScalingGroup
	for name, g := range c.groups {
		if len(wanted) > 0 && !wanted[name] {
			continue
		}
		tags := map[string]string{}
		for _, t := range g.Tags {
			tags[derefString(t.Key)] = derefString(t.Value)
		}
		// Auto Scaling filter values match exactly; unlike EC2 they take no wildcards.
		if (filterable{tags: tags}).matchesExactly(fs) {
			matched = append(matched, g)
		}
	}
	sort.Slice(matched, func(i, j int) bool {
		return derefString(matched[i].AutoScalingGroupName) < derefString(matched[j].AutoScalingGroupName)
	})
	page, next, err := paginate(matched, func(g *astypes.AutoScalingGroup) string { return derefString(g.AutoScalingGroupName) },
		in.NextToken, c.pageSizeFor(in.MaxRecords, 50))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeAutoScalingGroupsOutput{NextToken: next, AutoScalingGroups: []astypes.AutoScalingGroup{}}
	for _, g := range page {
		out.AutoScalingGroups = append(out.AutoScalingGroups, clone(*g))
	}
	return out, nil
}

// matchesExactly is matches without wildcards.
func (r filterable) matchesExactly(fs []filter) bool {
	escaped := make([]filter, 0, len(fs))
	for _, f := range fs {
		vs := make([]string, 0, len(f.values))
		for _, v := range f.values {
			vs = append(vs, escapeWildcards(v))
		}
		escaped = append(escaped, filter{name: f.name, values: vs})
	}
	return r.matches(escaped)
}

func escapeWildcards(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)
	return r.Replace(s)
}

// StartInstanceRefresh records an in-progress refresh of a group. A refresh
// still active on the group (RefreshActive) gives InstanceRefreshInProgressFault.
func (a *AutoScaling) StartInstanceRefresh(ctx context.Context, in *autoscaling.StartInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.StartInstanceRefreshOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "StartInstanceRefresh", in, a.c.startInstanceRefresh)
}

func (c *Cloud) startInstanceRefresh(in *autoscaling.StartInstanceRefreshInput) (*autoscaling.StartInstanceRefreshOutput, error) {
	if in == nil || in.AutoScalingGroupName == nil {
		return nil, validationError("1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	name := *in.AutoScalingGroupName
	g, ok := c.groups[name]
	if !ok {
		return nil, validationError("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	if in.Preferences != nil && derefBool(in.Preferences.SkipMatching) && in.DesiredConfiguration == nil &&
		g.LaunchTemplate == nil && g.MixedInstancesPolicy == nil {
		// Skip matching compares launch templates; AWS documents no error for a
		// group that uses a launch configuration: the harsher reading refuses it.
		return nil, validationError("SkipMatching requires a launch template: group %s uses launch configuration %s", name, derefString(g.LaunchConfigurationName))
	}
	if err := c.checkParameterRefresh(g, in); err != nil {
		return nil, err
	}
	c.settleRefreshes(name)
	for _, r := range c.refreshes[name] {
		if RefreshActive(r.Status) {
			return nil, &astypes.InstanceRefreshInProgressFault{
				Message: ptr("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")}
		}
	}
	strategy := in.Strategy
	if strategy == "" {
		strategy = astypes.RefreshStrategyRolling
	}
	r := astypes.InstanceRefresh{
		InstanceRefreshId:    ptr(c.newUUID()),
		AutoScalingGroupName: ptr(name),
		Status:               astypes.InstanceRefreshStatusInProgress,
		StatusReason:         ptr("Waiting for instances to be replaced."),
		StartTime:            ptr(c.now()),
		PercentageComplete:   ptr(int32(0)),
		Preferences:          clone(in.Preferences),
		DesiredConfiguration: clone(in.DesiredConfiguration),
		Strategy:             strategy,
	}
	c.refreshes[name] = append(c.refreshes[name], r)
	return &autoscaling.StartInstanceRefreshOutput{InstanceRefreshId: r.InstanceRefreshId}, nil
}

// checkParameterRefresh refuses what Auto Scaling does not support for a group
// whose launch template reads an SSM parameter (ImageId resolve:ssm:): a
// rollback (RefreshPreferences, AutoRollback: "not supported" for such
// groups), skip matching and a desired configuration (Auto Scaling User Guide,
// "Use AWS Systems Manager parameters instead of AMI IDs in launch templates",
// Limitations: "you cannot start an instance refresh that specifies a desired
// configuration or uses skip matching").
func (c *Cloud) checkParameterRefresh(g *astypes.AutoScalingGroup, in *autoscaling.StartInstanceRefreshInput) error {
	if !c.groupReadsParameter(g) {
		return nil
	}
	p := in.Preferences
	var asked []string
	if p != nil && derefBool(p.AutoRollback) {
		asked = append(asked, "AutoRollback")
	}
	if p != nil && derefBool(p.SkipMatching) {
		asked = append(asked, "SkipMatching")
	}
	if in.DesiredConfiguration != nil {
		asked = append(asked, "DesiredConfiguration")
	}
	if len(asked) == 0 {
		return nil
	}
	return validationError("%s not supported: the launch template of group %s uses a Systems Manager parameter instead of an AMI ID for the ImageId property",
		strings.Join(asked, ", "), derefString(g.AutoScalingGroupName))
}

// groupReadsParameter: a version the group launches has ImageId resolve:ssm:.
func (c *Cloud) groupReadsParameter(g *astypes.AutoScalingGroup) bool {
	specs := []*astypes.LaunchTemplateSpecification{g.LaunchTemplate}
	if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
		specs = append(specs, mip.LaunchTemplate.LaunchTemplateSpecification)
		for _, o := range mip.LaunchTemplate.Overrides {
			specs = append(specs, o.LaunchTemplateSpecification)
		}
	}
	for _, s := range specs {
		if s == nil {
			continue
		}
		lt := c.templateOf(s)
		if lt == nil {
			continue
		}
		version := derefString(s.Version)
		if version == "" {
			version = "$Default"
		}
		if v, err := lt.resolveVersion(version); err == nil && strings.HasPrefix(derefString(v.data.ImageId), "resolve:ssm:") {
			return true
		}
	}
	return false
}

func (c *Cloud) templateOf(s *astypes.LaunchTemplateSpecification) *template {
	if id := derefString(s.LaunchTemplateId); id != "" {
		return c.templates[id]
	}
	for _, lt := range c.templates {
		if lt.name == derefString(s.LaunchTemplateName) {
			return lt
		}
	}
	return nil
}

// AddWarmPool gives a group a warm pool (stopped) holding instances, Warmed:Stopped.
// The group's Instances do not list them: DescribeWarmPool does.
func (c *Cloud) AddWarmPool(group string, instances ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[group]
	if !ok {
		panic("awsfake: add warm pool: no group " + group)
	}
	g.WarmPoolConfiguration = &astypes.WarmPoolConfiguration{MinSize: ptr(int32(len(instances))), PoolState: astypes.WarmPoolStateStopped}
	g.WarmPoolSize = ptr(int32(len(instances)))
	if c.warmPools == nil {
		c.warmPools = map[string][]astypes.Instance{}
	}
	for _, id := range instances {
		c.warmPools[group] = append(c.warmPools[group], astypes.Instance{InstanceId: ptr(id), HealthStatus: ptr("Healthy"),
			LifecycleState: astypes.LifecycleStateWarmedStopped, LaunchTemplate: clone(g.LaunchTemplate)})
	}
}

// DescribeWarmPool lists a group's warm pool and its instances (MaxRecords at
// most 50, NextToken). A group without one answers an empty list.
func (a *AutoScaling) DescribeWarmPool(ctx context.Context, in *autoscaling.DescribeWarmPoolInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeWarmPoolOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "DescribeWarmPool", in, a.c.describeWarmPool)
}

func (c *Cloud) describeWarmPool(in *autoscaling.DescribeWarmPoolInput) (*autoscaling.DescribeWarmPoolOutput, error) {
	name := derefString(in.AutoScalingGroupName)
	g, ok := c.groups[name]
	if !ok {
		return nil, validationError("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	if in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 50) {
		return nil, validationError("MaxRecords must be between 1 and 50")
	}
	// paginate pages a list sorted by its key.
	pool := clone(c.warmPools[name])
	slices.SortFunc(pool, func(a, b astypes.Instance) int {
		return strings.Compare(derefString(a.InstanceId), derefString(b.InstanceId))
	})
	page, next, err := paginate(pool, func(i astypes.Instance) string { return derefString(i.InstanceId) }, in.NextToken, c.pageSizeFor(in.MaxRecords, 50))
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []astypes.Instance{}
	}
	return &autoscaling.DescribeWarmPoolOutput{WarmPoolConfiguration: clone(g.WarmPoolConfiguration), Instances: page, NextToken: next}, nil
}
