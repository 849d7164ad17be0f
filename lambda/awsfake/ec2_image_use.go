package awsfake

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// What other calls do with an AMI: launch it, copy it. amibump makes neither;
// the fake has them so that a disabled AMI's refusals (ec2_image_lifecycle.go)
// are pinned by the same calls a real account refuses.

// usableImage finds the AMI a launch or a copy names: it must be available
// (a deprecated one is, too). A disabled, pending or failed one is
// InvalidAMIID.Unavailable: AWS says a disabled AMI "can't be used for
// instance launches" and documents no code for it; this is EC2's code for an
// AMI "in an unavailable state".
func (c *Cloud) usableImage(id *string, now time.Time) (*image, error) {
	if id == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	img, err := c.lookupImage(*id, now)
	if err != nil {
		return nil, err
	}
	if img.state != ec2types.ImageStateAvailable {
		return nil, errorf("InvalidAMIID.Unavailable", "The image id '[%s]' is not available: its state is %s", img.id, img.state)
	}
	return img, nil
}

// RunInstances launches MaxCount instances of an available AMI, running at
// once, one EBS volume per snapshot of the AMI, tagged per TagSpecifications
// ("instance"). The fake has no capacity to run out of, and no network: the
// request's subnet, security groups and instance type are not checked.
func (e *EC2) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	return serve(ctx, e.c, svcEC2, "RunInstances", in, e.c.runInstances)
}

func (c *Cloud) runInstances(in *ec2.RunInstancesInput) (*ec2.RunInstancesOutput, error) {
	if in == nil {
		in = &ec2.RunInstancesInput{}
	}
	if in.MinCount == nil || in.MaxCount == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameters MinCount and MaxCount")
	}
	if *in.MinCount < 1 || *in.MaxCount < *in.MinCount {
		return nil, errorf("InvalidParameterValue", "MinCount (%d) must be at least 1 and at most MaxCount (%d)", *in.MinCount, *in.MaxCount)
	}
	now := c.settleAll()
	img, err := c.usableImage(in.ImageId, now)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for _, spec := range in.TagSpecifications {
		if spec.ResourceType != ec2types.ResourceTypeInstance {
			continue // volumes and network interfaces: the fake does not keep them
		}
		for _, t := range spec.Tags {
			if err := checkTag(t); err != nil {
				return nil, err
			}
			tags[derefString(t.Key)] = derefString(t.Value)
		}
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	out := &ec2.RunInstancesOutput{ReservationId: ptr("r-" + c.newID("i")[2:]), OwnerId: ptr(c.scope.Account)}
	for range *in.MaxCount {
		inst := &instance{id: c.newID("i"), state: ec2types.InstanceStateNameRunning, tags: copyTags(tags),
			volumes: max(1, len(img.snapshots)), imageID: img.id, launched: now}
		c.instances[inst.id] = inst
		out.Instances = append(out.Instances, inst.describe())
	}
	return out, nil
}

// CopyImage copies an available AMI of the Cloud's account and region into a
// new, pending one of that account (a new snapshot per snapshot), named Name,
// tagged per TagSpecifications ("image", "snapshot") and, with CopyImageTags,
// with the source's tags. A copy across regions (a source in another Cloud of
// the World) is not modelled: such a source is not found.
func (e *EC2) CopyImage(ctx context.Context, in *ec2.CopyImageInput, _ ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "CopyImage", in, e.c.copyImage)
}

func (c *Cloud) copyImage(in *ec2.CopyImageInput) (*ec2.CopyImageOutput, error) {
	if in == nil || in.SourceImageId == nil || in.SourceRegion == nil || in.Name == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameters SourceImageId, SourceRegion and Name")
	}
	now := c.settleAll()
	if *in.SourceRegion != c.scope.Region {
		return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist in %s", *in.SourceImageId, *in.SourceRegion)
	}
	src, err := c.usableImage(in.SourceImageId, now)
	if err != nil {
		return nil, err
	}
	name := *in.Name
	if !imageNamePattern.MatchString(name) {
		return nil, errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long: %q", name)
	}
	for _, img := range c.images {
		if img.name == name {
			return nil, errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, img.id)
		}
	}
	imageTags, snapshotTags := map[string]string{}, map[string]string{}
	if derefBool(in.CopyImageTags) {
		imageTags = copyTags(src.tags)
	}
	for _, spec := range in.TagSpecifications {
		dst := map[ec2types.ResourceType]map[string]string{ec2types.ResourceTypeImage: imageTags, ec2types.ResourceTypeSnapshot: snapshotTags}[spec.ResourceType]
		if dst == nil {
			return nil, errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", spec.ResourceType)
		}
		for _, t := range spec.Tags {
			if err := checkTag(t); err != nil {
				return nil, err
			}
			dst[derefString(t.Key)] = derefString(t.Value)
		}
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img := &image{id: c.newID("ami"), owner: c.scope.Account, name: name, description: derefString(in.Description), created: now,
		readyAt: now.Add(c.imageDelay), visibleAt: now.Add(max(c.visibilityDelay, c.lag())),
		state: ec2types.ImageStatePending, tags: imageTags}
	c.addSnapshots(img, len(src.snapshots), snapshotTags)
	c.images[img.id] = img
	return &ec2.CopyImageOutput{ImageId: ptr(img.id)}, nil
}
