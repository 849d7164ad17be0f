package bump

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// target is one managed launch template an event applies to.
type target struct {
	ID, Name string
	Tags     map[string]string
	Settings plan.Settings
	// Warnings about the template's own tags.
	Warnings []string
}

// resolve finds every launch template whose amibump tags match the event.
func (r *run) resolve(ctx context.Context, d *event.Deploy) ([]target, error) {
	return r.resolveSelector(ctx, d.Selector())
}

// resolveSelector finds every launch template carrying the tags of sel.
func (r *run) resolveSelector(ctx context.Context, sel []event.TagValue) ([]target, error) {
	filters := make([]ec2types.Filter, 0, len(sel))
	for _, tv := range sel {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + tv.Key), Values: []string{tv.Value}})
	}
	targets, err := r.listTemplates(ctx, filters)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		names := make([]string, len(sel))
		for i, tv := range sel {
			names[i] = tv.String()
		}
		return nil, rejectf("no launch template tagged %s; tag the template or fix the event", strings.Join(names, ", "))
	}
	return targets, nil
}

// listTemplates lists the launch templates matching filters, sorted by name.
func (r *run) listTemplates(ctx context.Context, filters []ec2types.Filter) ([]target, error) {
	var targets []target
	p := ec2.NewDescribeLaunchTemplatesPaginator(r.ec2, &ec2.DescribeLaunchTemplatesInput{Filters: filters, MaxResults: aws.Int32(200)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("find launch templates: %w", err)
		}
		for _, lt := range page.LaunchTemplates {
			targets = append(targets, newTarget(lt))
		}
	}
	slices.SortFunc(targets, func(a, b target) int { return cmp.Compare(a.Name, b.Name) })
	return targets, nil
}

func newTarget(lt ec2types.LaunchTemplate) target {
	t := target{ID: aws.ToString(lt.LaunchTemplateId), Name: aws.ToString(lt.LaunchTemplateName), Tags: map[string]string{}}
	for _, tag := range lt.Tags {
		t.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	t.Settings, t.Warnings = plan.ReadSettings(t.Tags)
	return t
}

// missingTags names the tags a managed template must have and t lacks.
func (t target) missingTags() []string {
	var missing []string
	for _, k := range []string{event.TagApp, event.TagEnv} {
		if t.Tags[k] == "" {
			missing = append(missing, k)
		}
	}
	return missing
}

// source is the instance to image and why it was chosen.
type source struct {
	InstanceID string
	Why        string
}

// pickSource chooses the instance to image for a target, as amibump guarantees: the
// event's instanceId when it belongs to the template; else a running instance
// tagged amibump:source-for=<template name>; else an InService, Healthy instance
// of a group launching from the template, preferring one protected from scale-in.
func (r *run) pickSource(ctx context.Context, t target, instanceID string) (source, error) {
	if instanceID != "" {
		return r.checkNamedSource(ctx, t, instanceID)
	}
	tagged, err := r.taggedSources(ctx, t)
	if err != nil {
		return source{}, err
	}
	if len(tagged) > 0 {
		// The most recently launched one: a dedicated source is replaced, not patched.
		slices.SortFunc(tagged, func(a, b ec2types.Instance) int {
			if c := aws.ToTime(b.LaunchTime).Compare(aws.ToTime(a.LaunchTime)); c != 0 {
				return c
			}
			return cmp.Compare(aws.ToString(a.InstanceId), aws.ToString(b.InstanceId))
		})
		return source{aws.ToString(tagged[0].InstanceId), fmt.Sprintf("tagged %s=%s", event.TagSourceFor, t.Name)}, nil
	}
	return r.groupSource(ctx, t)
}

// groupSource picks an InService, Healthy instance of a group launching from
// the template, one protected from scale-in first (it outlives the next
// scale-in), then by id.
func (r *run) groupSource(ctx context.Context, t target) (source, error) {
	groups, err := r.autoScalingGroups(ctx)
	if err != nil {
		return source{}, err
	}
	type candidate struct {
		id, group string
		protected bool
	}
	var candidates []candidate
	var using []string
	for _, g := range groups {
		if len(uses(g, t)) == 0 {
			continue
		}
		using = append(using, aws.ToString(g.AutoScalingGroupName))
		for _, in := range g.Instances {
			if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" {
				candidates = append(candidates, candidate{aws.ToString(in.InstanceId), aws.ToString(g.AutoScalingGroupName), aws.ToBool(in.ProtectedFromScaleIn)})
			}
		}
	}
	if len(candidates) == 0 {
		groupsSaid := "no Auto Scaling group launches from it"
		if len(using) > 0 {
			groupsSaid = "no InService, Healthy instance in the groups launching from it (" + strings.Join(using, ", ") + ")"
		}
		return source{}, rejectf("no source instance for launch template %s: no running instance is tagged %s=%s and %s; tag a source instance or name one in detail.instanceId",
			t.Name, event.TagSourceFor, t.Name, groupsSaid)
	}
	slices.SortFunc(candidates, func(a, b candidate) int {
		if a.protected != b.protected {
			if a.protected {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.id, b.id)
	})
	c := candidates[0]
	why := "InService, Healthy in group " + c.group
	if c.protected {
		why += ", protected from scale-in"
	}
	return source{c.id, why}, nil
}

// checkNamedSource accepts the event's instanceId only if the instance belongs
// to the template: an event must not be able to image an arbitrary instance.
func (r *run) checkNamedSource(ctx context.Context, t target, id string) (source, error) {
	out, err := r.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if hasCode(err, "InvalidInstanceID.NotFound") {
		return source{}, rejectf("detail.instanceId %s: no such instance in this account and region", id)
	}
	if err != nil {
		return source{}, fmt.Errorf("describe instance %s: %w", id, err)
	}
	var inst *ec2types.Instance
	for _, res := range out.Reservations {
		for i := range res.Instances {
			if aws.ToString(res.Instances[i].InstanceId) == id {
				inst = &res.Instances[i]
			}
		}
	}
	if inst == nil {
		return source{}, rejectf("detail.instanceId %s: no such instance in this account and region", id)
	}
	if st := instanceState(inst); !imageable(st) {
		return source{}, rejectf("detail.instanceId %s is %s; only a running, stopping or stopped instance can be imaged", id, st)
	}
	if inst.RootDeviceType == ec2types.DeviceTypeInstanceStore {
		return source{}, rejectf("detail.instanceId %s has an instance-store root volume; CreateImage images only EBS-backed instances: name an EBS-backed instance", id)
	}
	for _, tag := range inst.Tags {
		if aws.ToString(tag.Key) == event.TagSourceFor && aws.ToString(tag.Value) == t.Name {
			return source{id, fmt.Sprintf("named in the event, tagged %s=%s", event.TagSourceFor, t.Name)}, nil
		}
	}
	groups, err := r.autoScalingGroups(ctx)
	if err != nil {
		return source{}, err
	}
	for _, g := range groups {
		if len(uses(g, t)) == 0 {
			continue
		}
		for _, in := range g.Instances {
			if aws.ToString(in.InstanceId) == id {
				return source{id, "named in the event, in group " + aws.ToString(g.AutoScalingGroupName)}, nil
			}
		}
	}
	return source{}, rejectf("detail.instanceId %s is neither tagged %s=%s nor in an Auto Scaling group that launches from %s; amibump images only instances that belong to the template",
		id, event.TagSourceFor, t.Name, t.Name)
}

func instanceState(in *ec2types.Instance) ec2types.InstanceStateName {
	if in.State == nil {
		return ""
	}
	return in.State.Name
}

// use is one place where a group refers to a template: the group's launch
// template, its mixed instances policy, or one of the policy's overrides.
type use struct {
	Group, Where, Version string
}

// uses lists where group g launches from template t. An empty version means
// $Default, as in Auto Scaling.
func uses(g astypes.AutoScalingGroup, t target) []use {
	var out []use
	name := aws.ToString(g.AutoScalingGroupName)
	match := func(s *astypes.LaunchTemplateSpecification) bool {
		return s != nil && (aws.ToString(s.LaunchTemplateId) == t.ID || (s.LaunchTemplateId == nil && aws.ToString(s.LaunchTemplateName) == t.Name))
	}
	version := func(s *astypes.LaunchTemplateSpecification) string {
		if v := aws.ToString(s.Version); v != "" {
			return v
		}
		return "$Default"
	}
	if match(g.LaunchTemplate) {
		out = append(out, use{name, "", version(g.LaunchTemplate)})
	}
	if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
		if s := mip.LaunchTemplate.LaunchTemplateSpecification; match(s) {
			out = append(out, use{name, "mixed instances policy", version(s)})
		}
		for _, o := range mip.LaunchTemplate.Overrides {
			if match(o.LaunchTemplateSpecification) {
				out = append(out, use{name, "override for " + aws.ToString(o.InstanceType), version(o.LaunchTemplateSpecification)})
			}
		}
	}
	return out
}

// groupWarnings tells a person which groups will not pick up the new AMI and
// what to do about it. A group pinned to a version in resolving (its ImageId is
// resolve:ssm:) does pick it up: EC2 reads the parameter at each launch.
func groupWarnings(groups []astypes.AutoScalingGroup, t target, resolving map[int64]bool) []string {
	var warnings []string
	for _, g := range groups {
		for _, u := range uses(g, t) {
			subject := "group " + u.Group
			if u.Where != "" {
				subject = "group " + u.Group + " (" + u.Where + ")"
			}
			switch {
			case u.Version == "$Latest":
			case u.Version == "$Default" && t.Settings.SetDefault:
			case resolving[parseVersion(u.Version)]:
			case u.Version == "$Default":
				warnings = append(warnings, fmt.Sprintf("%s launches $Default of %s, which amibump leaves alone (%s=false), and will keep launching the old AMI; set it to $Latest or move $Default yourself",
					subject, t.Name, event.TagSetDefault))
			default:
				warnings = append(warnings, fmt.Sprintf("%s is pinned to launch template version %s and will keep launching the old AMI; set it to $Latest or $Default", subject, u.Version))
			}
		}
	}
	return warnings
}

// parseVersion is a version number, or 0 for $Latest, $Default or anything else.
func parseVersion(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
