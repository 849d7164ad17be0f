package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// TagKey tags everything the suite makes; its value is the run's id.
const TagKey = "amibump:conformance"

// Kind is a kind of resource the suite makes.
type Kind string

// The kinds, in the order a sweep removes them: a group before the instances
// it holds, an AMI (with its snapshots) before a snapshot left without one.
const (
	Group     Kind = "auto scaling group"
	Instance  Kind = "instance"
	Template  Kind = "launch template"
	Image     Kind = "image"
	Snapshot  Kind = "snapshot"
	Parameter Kind = "SSM parameter"
)

var kinds = []Kind{Group, Instance, Template, Image, Snapshot, Parameter}

// ParameterPrefix is where a run's SSM parameters live (run "": every run's).
// Parameters are swept by name: SSM filters on a parameter's tags only by key
// and value together, and names say the run as well.
func ParameterPrefix(run string) string {
	if run == "" {
		return "/amibump-conformance/"
	}
	return "/amibump-conformance/" + run + "/"
}

// Resource is one thing the suite made.
type Resource struct {
	Kind Kind
	ID   string // a group's or parameter's name, else the resource's id
	Run  string // the run that made it (TagKey's value)
}

func (r Resource) String() string { return fmt.Sprintf("%s %s (run %s)", r.Kind, r.ID, r.Run) }

// Cleaner removes what a run made: each resource when the test that made it
// ends, failed or not (Track), and, by tag, whatever a run left behind
// (Sweep). Removing something already gone is not an error.
type Cleaner struct {
	ec2 *ec2.Client
	asg *autoscaling.Client
	ssm *ssm.Client
	// patience bounds the retries of a removal AWS refuses for now (a group
	// whose scaling activity or instance refresh is still running).
	patience time.Duration
}

// NewCleaner returns a cleaner for the account cfg reaches; patience bounds
// how long it retries a removal refused for now (0: it tries once).
func NewCleaner(cfg aws.Config, patience time.Duration) *Cleaner {
	return &Cleaner{ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), patience: patience}
}

// Track removes r when t ends, whether t passed, failed or stopped midway. A
// removal that fails fails t, naming the resource, so that nothing is left
// behind unseen (the sweep at the end of the run tries again).
//
// The removal ends SweepReserve before go test's -timeout, which leaves the
// closing sweep that long.
func (c *Cleaner) Track(t testing.TB, r Resource) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithoutCancel(t.Context()), context.CancelFunc(func() {})
		if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
			if deadline, ok := d.Deadline(); ok {
				ctx, cancel = context.WithDeadline(ctx, deadline.Add(-SweepReserve))
			}
		}
		defer cancel()
		if err := c.Remove(ctx, r); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// SweepReserve is what the cleanups leave the closing sweep of a run before
// go test's -timeout.
const SweepReserve = time.Minute

// Remove removes one resource; one already gone is no error.
func (c *Cleaner) Remove(ctx context.Context, r Resource) error {
	var err error
	switch r.Kind {
	case Group:
		err = c.removeGroup(ctx, r.ID)
	case Instance:
		_, err = c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{r.ID}})
	case Template:
		_, err = c.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(r.ID)})
	case Image:
		err = c.removeImage(ctx, r.ID)
	case Snapshot:
		_, err = c.ec2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(r.ID)})
	case Parameter:
		_, err = c.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(r.ID)})
	default:
		err = fmt.Errorf("unknown kind %q", r.Kind)
	}
	if err != nil && !gone(r.Kind, err) {
		return fmt.Errorf("remove %s: %w", r, err)
	}
	return nil
}

// gone tells whether err, from removing a resource of kind k, says it no longer exists.
func gone(k Kind, err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "InvalidInstanceID.NotFound", "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException",
		"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound", "ParameterNotFound":
		return true
	}
	// Auto Scaling answers ValidationError for a group not found and for a bad
	// request alike: removeGroup asks whether the group is still there.
	return false
}

// DeleteInProgress is a group's Status while Auto Scaling deletes it:
// DeleteAutoScalingGroup returns at once and the group is deleted later
// (AutoScalingGroup.Status: "the current state of the group when the
// DeleteAutoScalingGroup operation is in progress").
const DeleteInProgress = "Delete in progress"

// removeGroup deletes a group with its instances and its warm pool
// (ForceDelete: "If the group has instances or scaling activities in progress,
// you must specify the option to force the deletion"; "If the group has a warm
// pool, the force delete option also deletes the warm pool"), retrying while
// Auto Scaling still refuses for now. A refusal of a group that is not listed
// any more, or is being deleted, is no error: the group is on its way out.
func (c *Cleaner) removeGroup(ctx context.Context, name string) error {
	patience, cancel := context.WithTimeout(ctx, c.patience)
	defer cancel()
	return retry(patience, func() (bool, error) {
		_, err := c.asg.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
			AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)})
		if err == nil {
			return false, nil
		}
		if leaving, derr := c.groupLeaving(ctx, name); derr == nil && leaving {
			return false, nil
		}
		var inUse *astypes.ResourceInUseFault
		var active *astypes.ScalingActivityInProgressFault
		var contention *astypes.ResourceContentionFault
		return errors.As(err, &inUse) || errors.As(err, &active) || errors.As(err, &contention), err
	})
}

// groupLeaving tells whether a group is gone or being deleted: not listed, or
// listed with Status DeleteInProgress.
func (c *Cleaner) groupLeaving(ctx context.Context, name string) (bool, error) {
	out, err := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return false, err
	}
	return !slices.ContainsFunc(out.AutoScalingGroups, func(g astypes.AutoScalingGroup) bool {
		return aws.ToString(g.AutoScalingGroupName) == name && aws.ToString(g.Status) != DeleteInProgress
	}), nil
}

// removeImage deregisters an AMI with its snapshots, lifting its
// deregistration protection first (a run that failed midway may leave it on);
// a snapshot EC2 did not delete is an error naming it (the sweep finds it by
// its tag).
func (c *Cleaner) removeImage(ctx context.Context, id string) error {
	// An AMI without protection answers as well; a failure shows in DeregisterImage's.
	_, _ = c.ec2.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	out, err := c.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id), DeleteAssociatedSnapshots: aws.Bool(true)})
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range out.DeleteSnapshotResults {
		if r.ReturnCode != ec2types.SnapshotReturnCodesSuccess {
			errs = append(errs, fmt.Errorf("snapshot %s of %s not deleted: %s", aws.ToString(r.SnapshotId), id, r.ReturnCode))
		}
	}
	return errors.Join(errs...)
}

// retry calls f until it succeeds, fails for good (again false), or patience
// ends (then with f's last error).
func retry(patience context.Context, f func() (again bool, err error)) error {
	delay := time.Second
	for {
		again, err := f()
		if err == nil || !again {
			return err
		}
		select {
		case <-patience.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 15*time.Second)
	}
}

// List finds what carries TagKey: with run's value, or, run "", any value
// (every run's leftovers). Terminated instances and groups being deleted are
// left out.
func (c *Cleaner) List(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	var errs []error
	for _, k := range kinds {
		rs, err := c.list(ctx, k, run)
		out = append(out, rs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("list %ss tagged %s: %w", k, TagKey, err))
		}
	}
	return out, errors.Join(errs...)
}

// Sweep removes what List finds, kind by kind in dependency order, and returns
// what it removed; it carries on past a failure and reports every one.
func (c *Cleaner) Sweep(ctx context.Context, run string) ([]Resource, error) {
	var removed []Resource
	var errs []error
	for _, k := range kinds {
		rs, err := c.list(ctx, k, run)
		if err != nil {
			errs = append(errs, fmt.Errorf("list %ss tagged %s: %w", k, TagKey, err))
		}
		for _, r := range rs {
			if err := c.Remove(ctx, r); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, r)
		}
	}
	return removed, errors.Join(errs...)
}

// ec2TagFilter selects run's resources, or every run's when run is "".
func ec2TagFilter(run string) ec2types.Filter {
	if run == "" {
		return ec2types.Filter{Name: aws.String("tag-key"), Values: []string{TagKey}}
	}
	return ec2types.Filter{Name: aws.String("tag:" + TagKey), Values: []string{run}}
}

func (c *Cleaner) list(ctx context.Context, k Kind, run string) ([]Resource, error) {
	switch k {
	case Group:
		return c.listGroups(ctx, run)
	case Instance:
		return c.listInstances(ctx, run)
	case Template:
		return c.listTemplates(ctx, run)
	case Image:
		return c.listImages(ctx, run)
	case Snapshot:
		return c.listSnapshots(ctx, run)
	case Parameter:
		return c.listParameters(ctx, run)
	}
	return nil, fmt.Errorf("unknown kind %q", k)
}

func (c *Cleaner) listGroups(ctx context.Context, run string) ([]Resource, error) {
	f := astypes.Filter{Name: aws.String("tag:" + TagKey), Values: []string{run}}
	if run == "" {
		f = astypes.Filter{Name: aws.String("tag-key"), Values: []string{TagKey}}
	}
	var out []Resource
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c.asg, &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{f}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, g := range page.AutoScalingGroups {
			if aws.ToString(g.Status) == DeleteInProgress {
				continue // on its way out, with its instances: nothing left to do
			}
			out = append(out, Resource{Group, aws.ToString(g.AutoScalingGroupName), groupRun(g.Tags)})
		}
	}
	return out, nil
}

func groupRun(tags []astypes.TagDescription) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == TagKey {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func ec2Run(tags []ec2types.Tag) string {
	i := slices.IndexFunc(tags, func(t ec2types.Tag) bool { return aws.ToString(t.Key) == TagKey })
	if i < 0 {
		return ""
	}
	return aws.ToString(tags[i].Value)
}

func (c *Cleaner) listInstances(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{ec2TagFilter(run),
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				out = append(out, Resource{Instance, aws.ToString(in.InstanceId), ec2Run(in.Tags)})
			}
		}
	}
	return out, nil
}

func (c *Cleaner) listTemplates(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	p := ec2.NewDescribeLaunchTemplatesPaginator(c.ec2, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{ec2TagFilter(run)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, lt := range page.LaunchTemplates {
			out = append(out, Resource{Template, aws.ToString(lt.LaunchTemplateId), ec2Run(lt.Tags)})
		}
	}
	return out, nil
}

func (c *Cleaner) listImages(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	// A disabled AMI is listed only with IncludeDisabled, and a state filter
	// may not match it (its documented values are available, pending and
	// failed): the states are picked here.
	p := ec2.NewDescribeImagesPaginator(c.ec2, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDisabled: aws.Bool(true),
		Filters: []ec2types.Filter{ec2TagFilter(run)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, img := range page.Images {
			if img.State == ec2types.ImageStateDeregistered {
				continue
			}
			out = append(out, Resource{Image, aws.ToString(img.ImageId), ec2Run(img.Tags)})
		}
	}
	return out, nil
}

func (c *Cleaner) listSnapshots(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	p := ec2.NewDescribeSnapshotsPaginator(c.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{ec2TagFilter(run)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, s := range page.Snapshots {
			out = append(out, Resource{Snapshot, aws.ToString(s.SnapshotId), ec2Run(s.Tags)})
		}
	}
	return out, nil
}

func (c *Cleaner) listParameters(ctx context.Context, run string) ([]Resource, error) {
	var out []Resource
	p := ssm.NewDescribeParametersPaginator(c.ssm, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{ParameterPrefix(run)}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, err
		}
		for _, m := range page.Parameters {
			name := aws.ToString(m.Name)
			run, _, _ := strings.Cut(strings.TrimPrefix(name, ParameterPrefix("")), "/")
			out = append(out, Resource{Parameter, name, run})
		}
	}
	return out, nil
}
