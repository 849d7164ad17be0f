package awsfake

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// What other calls do with an AMI: launch it (here), copy it
// (ec2_image_copy.go). amibump does not launch; the fake has RunInstances so
// that a disabled AMI's refusals (ec2_image_lifecycle.go) are pinned by the
// same calls a real account refuses.

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
