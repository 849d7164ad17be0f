package awsfake

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"time"

	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// EC2 is the fake EC2 client. Its methods have the SDK's exact signatures, so it
// fits any interface *ec2.Client fits, including the SDK's waiters and paginators.
type EC2 struct{ c *Cloud }

// Instance seeds an EC2 instance.
type Instance struct {
	ID      string                     // "" = generated i-<17 hex>
	State   ec2types.InstanceStateName // "" = running
	Tags    map[string]string
	Volumes int    // EBS volumes, one snapshot each when imaged; 0 = 1
	ImageID string // the AMI it was launched from; "" = none
	// InstanceStore: the root volume is instance store, not EBS; CreateImage refuses it.
	InstanceStore bool
}

type instance struct {
	id       string
	state    ec2types.InstanceStateName
	tags     map[string]string
	volumes  int
	imageID  string
	launched time.Time
	store    bool // instance-store root volume
}

var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// AddInstance adds an instance and returns its id.
func (c *Cloud) AddInstance(in Instance) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.ID == "" {
		in.ID = c.newID("i")
	}
	if in.State == "" {
		in.State = ec2types.InstanceStateNameRunning
	}
	if in.Volumes <= 0 {
		in.Volumes = 1
	}
	c.instances[in.ID] = &instance{id: in.ID, state: in.State, tags: copyTags(in.Tags),
		volumes: in.Volumes, imageID: in.ImageID, launched: c.now(), store: in.InstanceStore}
	return in.ID
}

// TerminateInstance terminates an instance; its pending images fail with the
// reason "instance terminated".
func (c *Cloud) TerminateInstance(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.terminate(id)
}

// terminate is TerminateInstance with c.mu held.
func (c *Cloud) terminate(id string) {
	in, ok := c.instances[id]
	if !ok {
		return
	}
	in.state = ec2types.InstanceStateNameTerminated
	// Auto Scaling notices: the instance leaves every group it was in.
	for _, g := range c.groups {
		g.Instances = slices.DeleteFunc(g.Instances, func(gi astypes.Instance) bool { return derefString(gi.InstanceId) == id })
	}
	now := c.now()
	for _, img := range c.images {
		c.settle(img, now)
		if img.sourceInstance == id && img.state == ec2types.ImageStatePending {
			img.failReason = "instance terminated"
			img.readyAt = now
			c.settle(img, now)
		}
	}
}

var instanceStateCodes = map[ec2types.InstanceStateName]int32{
	ec2types.InstanceStateNamePending:      0,
	ec2types.InstanceStateNameRunning:      16,
	ec2types.InstanceStateNameShuttingDown: 32,
	ec2types.InstanceStateNameTerminated:   48,
	ec2types.InstanceStateNameStopping:     64,
	ec2types.InstanceStateNameStopped:      80,
}

func (in *instance) describe() ec2types.Instance {
	out := ec2types.Instance{
		InstanceId:     ptr(in.id),
		InstanceType:   ec2types.InstanceTypeT3Micro,
		LaunchTime:     ptr(in.launched),
		State:          &ec2types.InstanceState{Name: in.state, Code: ptr(instanceStateCodes[in.state])},
		Tags:           ec2Tags(in.tags),
		RootDeviceName: ptr("/dev/xvda"),
		RootDeviceType: ec2types.DeviceTypeEbs,
	}
	if in.store {
		out.RootDeviceType = ec2types.DeviceTypeInstanceStore
	}
	if in.imageID != "" {
		out.ImageId = ptr(in.imageID)
	}
	return out
}

func (in *instance) filterable() filterable {
	return filterable{
		attrs: map[string][]string{
			"instance-id":         {in.id},
			"instance-state-name": {string(in.state)},
			"image-id":            {in.imageID},
		},
		tags: in.tags,
	}
}

// lookupInstance finds an instance by id for a request naming it.
func (c *Cloud) lookupInstance(id string) (*instance, error) {
	if !instanceIDPattern.MatchString(id) {
		return nil, errorf("InvalidInstanceID.Malformed", "Invalid id: \"%s\" (expecting \"i-...\")", id)
	}
	in, ok := c.instances[id]
	if !ok {
		return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return in, nil
}

// DescribeInstances describes instances by id or filter (instance-id,
// instance-state-name, image-id, tag:<key>, tag-key, tag-value), one reservation
// per instance, paginated with MaxResults 5..1000 when no ids are given.
func (e *EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeInstances", in, e.c.describeInstances)
}

func (c *Cloud) describeInstances(in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
	if in == nil {
		in = &ec2.DescribeInstancesInput{}
	}
	if len(in.InstanceIds) > 0 && in.MaxResults != nil {
		return nil, errorf("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if err := checkRange("MaxResults", in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	filters, err := ec2Filters(in.Filters, "instance-id", "instance-state-name", "image-id")
	if err != nil {
		return nil, err
	}
	var found []*instance
	if len(in.InstanceIds) > 0 {
		for _, id := range dedupe(in.InstanceIds) {
			inst, err := c.lookupInstance(id)
			if err != nil {
				return nil, err
			}
			found = append(found, inst)
		}
	} else {
		for _, inst := range c.instances {
			found = append(found, inst)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].id < found[j].id })
	var matched []*instance
	for _, inst := range found {
		if inst.filterable().matches(filters) {
			matched = append(matched, inst)
		}
	}
	size := 0
	if len(in.InstanceIds) == 0 {
		size = c.pageSizeFor(in.MaxResults, 0)
	}
	page, next, err := paginate(matched, func(i *instance) string { return i.id }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeInstancesOutput{NextToken: next, Reservations: []ec2types.Reservation{}}
	for _, inst := range page {
		out.Reservations = append(out.Reservations, ec2types.Reservation{
			ReservationId: ptr("r-" + inst.id[2:]),
			OwnerId:       ptr(c.scope.Account),
			Instances:     []ec2types.Instance{inst.describe()},
		})
	}
	return out, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
