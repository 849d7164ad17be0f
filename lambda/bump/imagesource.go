package bump

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// imageSource is where a deploy's image comes from: the job's one step that
// makes an AMI: an instance imaged (instanceSource), or the release of
// another region copied (regionCopy).
type imageSource interface {
	// makeImage requests the job's image and returns it, pending, with the
	// source named in the job's result; in a dry run it checks that the
	// request would be allowed, says so in the plan, and returns the image
	// as it would be once available.
	makeImage(ctx context.Context, j *job) (image, error)
}

// instanceSource images a freshly deployed instance of the template, without
// reboot.
type instanceSource struct{}

func (instanceSource) makeImage(ctx context.Context, j *job) (image, error) {
	src, err := j.pickSource(ctx, j.t, j.d.InstanceID)
	if err != nil {
		return image{}, err
	}
	j.res.SourceInstance = src.InstanceID
	if j.dry != nil {
		j.dry.say("image instance %s (%s) without reboot as AMI %s", src.InstanceID, src.Why, plan.AMIName(j.t.Name, j.deploy))
		_, err = j.createImage(ctx, src.InstanceID)
		return image{Image: plan.Image{ID: "(new AMI)", Deploy: j.deploy, State: string(ec2types.ImageStateAvailable)}}, j.dry.check("ec2:CreateImage", err)
	}
	j.log.InfoContext(ctx, "source picked", "instanceId", src.InstanceID, "why", src.Why)
	return j.createImage(ctx, src.InstanceID)
}

// createImage requests the deploy's AMI of the source instance, tagged on the
// AMI and its snapshots (in a dry run, with EC2's DryRun). A name already taken
// is the AMI an earlier attempt made.
func (j *job) createImage(ctx context.Context, instanceID string) (image, error) {
	r, log, d, deploy, t := j.run, j.log, j.d, j.deploy, j.t
	name := plan.AMIName(t.Name, deploy)
	tags := imageTags(r.env, d, deploy, t, instanceID, name)
	in := &ec2.CreateImageInput{
		InstanceId:  aws.String(instanceID),
		Name:        aws.String(name),
		NoReboot:    aws.Bool(true),
		Description: aws.String(fmt.Sprintf("amibump: %s build %s", t.Name, d.Build.ID)),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeImage, Tags: tags},
			{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags},
		},
		DryRun: aws.Bool(j.dry != nil),
	}
	in.Description = aws.String(plan.Cut(aws.ToString(in.Description)))
	out, err := r.callCreateImage(ctx, in)
	switch {
	case err == nil:
		img := image{Image: plan.Image{ID: aws.ToString(out.ImageId), Deploy: deploy, State: string(ec2types.ImageStatePending)}, Name: name, Tags: map[string]string{}}
		for _, tag := range tags {
			img.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		log.InfoContext(ctx, "image requested", "instanceId", instanceID, "imageId", img.ID, "name", name)
		return img, nil
	case hasCode(err, "InvalidAMIName.Duplicate"):
		return j.resumeByName(ctx, name)
	case hasCode(err, "UnsupportedOperation"):
		// An instance-store root volume: CreateImage images only EBS-backed instances.
		return image{}, rejectf("create image of %s for %s: EC2 cannot image this instance (CreateImage makes AMIs of EBS-backed instances only; an instance-store root volume cannot be imaged); tag an EBS-backed instance %s=%s or name one in detail.instanceId: %w",
			instanceID, t.Name, event.TagSourceFor, t.Name, err)
	case isKMSKeyCode(errorCode(err)):
		return image{}, rejectf("create image of %s for %s: %w; %s", instanceID, t.Name, err, kmsKeyAdvice)
	case hasCode(err, "InvalidInstanceID.NotFound", "IncorrectInstanceState", "InvalidParameterValue"):
		return image{}, r.sourceErr(ctx, d, t, instanceID, err)
	}
	return image{}, fmt.Errorf("create image of %s for %s: %w", instanceID, t.Name, err)
}

// callCreateImage calls CreateImage. EC2 is eventually consistent: an instance
// that has just been started, or is stopping, may still be refused
// (InvalidParameterValue) while a read already shows it running, stopping or
// stopped. Such a refusal is tried again, after a pause, maxStaleReads times
// within the invocation; what then remains is sourceErr's to judge.
func (r *run) callCreateImage(ctx context.Context, in *ec2.CreateImageInput) (*ec2.CreateImageOutput, error) {
	for attempt := 1; ; attempt++ {
		out, err := r.ec2.CreateImage(ctx, in)
		if !hasCode(err, "InvalidParameterValue") || attempt > maxStaleReads || aws.ToBool(in.DryRun) {
			return out, err
		}
		state, rerr := r.instanceState(ctx, aws.ToString(in.InstanceId))
		if rerr != nil || !imageable(state) {
			return out, err
		}
		if perr := r.pause(ctx, attempt); perr != nil {
			return out, err
		}
	}
}

// sourceErr judges a CreateImage refused for its instance. EC2 answers an
// instance that is no longer running, stopping or stopped with
// InvalidParameterValue, the code it also gives a bad parameter, so the
// instance is read again rather than the message: one that went away
// (scale-in, replacement) is transient, and a retry picks another source,
// unless the event named it; one still there after callCreateImage's tries
// means EC2 refused a parameter, which no retry fixes.
func (r *run) sourceErr(ctx context.Context, d *event.Deploy, t target, instanceID string, err error) error {
	state, rerr := r.instanceState(ctx, instanceID)
	if rerr != nil {
		return fmt.Errorf("create image of %s for %s: %w (and reading the instance again: %w)", instanceID, t.Name, err, rerr)
	}
	switch {
	case imageable(state):
		return rejectf("create image of %s for %s (refused %d times while the instance is %s): %w", instanceID, t.Name, maxStaleReads+1, state, err)
	case d.InstanceID != "":
		return rejectf("create image of %s for %s: the instance named in detail.instanceId cannot be imaged (it is %s): %w", instanceID, t.Name, orGone(state), err)
	}
	// %v, not %w: EC2's code says "bad parameter", which is not what happened.
	return fmt.Errorf("create image of %s for %s: the instance went away (it is %s); a retry picks another source: %v", instanceID, t.Name, orGone(state), err)
}

// instanceState reads an instance's state; "" when EC2 does not know it.
func (r *run) instanceState(ctx context.Context, id string) (ec2types.InstanceStateName, error) {
	out, err := r.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if hasCode(err, "InvalidInstanceID.NotFound") {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, res := range out.Reservations {
		for i := range res.Instances {
			if aws.ToString(res.Instances[i].InstanceId) == id {
				return instanceState(&res.Instances[i]), nil
			}
		}
	}
	return "", nil
}

// imageable: CreateImage takes an instance that is running, stopping or stopped.
func imageable(s ec2types.InstanceStateName) bool {
	switch s {
	case ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped:
		return true
	}
	return false
}

func orGone(s ec2types.InstanceStateName) string {
	if s == "" {
		return "gone"
	}
	return string(s)
}

func imageTags(env *event.Envelope, d *event.Deploy, deploy plan.Deploy, t target, instanceID, name string) []ec2types.Tag {
	tags := []ec2types.Tag{
		{Key: aws.String(event.TagName), Value: aws.String(name)},
		{Key: aws.String(event.TagLaunchTemplate), Value: aws.String(t.ID)},
	}
	for _, k := range []string{event.TagApp, event.TagEnv, event.TagLayer, event.TagGroup} {
		if v, ok := t.Tags[k]; ok {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	add := func(k, v string) {
		if v != "" {
			tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	add(event.TagBuildID, d.Build.ID)
	add(event.TagBuildURL, d.Build.URL)
	add(event.TagCommit, d.Build.Commit)
	add(event.TagSourceInstance, instanceID)
	add(event.TagDeployedAt, deploy.At.Format(time.RFC3339))
	add(event.TagEventID, env.ID)
	return tags
}

// regionCopy copies the newest release of a template's source template from
// another region of the account (amibump:replicate-from): CopyImage in this
// region, named and tagged like any amibump AMI of the template, with every
// amibump tag of the source and amibump:copy-of=<region>/<source AMI>.
type regionCopy struct {
	region string
	src    image
}

func (c regionCopy) makeImage(ctx context.Context, j *job) (image, error) {
	name := plan.AMIName(j.t.Name, j.deploy)
	j.res.CopyOf = c.region + "/" + c.src.ID
	in := c.input(j, name)
	if j.dry != nil {
		j.dry.say("copy AMI %s from %s as AMI %s", c.src.ID, c.region, name)
		_, err := j.ec2.CopyImage(ctx, in)
		return image{Image: plan.Image{ID: "(new AMI)", Deploy: j.deploy, State: string(ec2types.ImageStateAvailable)}}, j.dry.check("ec2:CopyImage", err)
	}
	out, err := j.ec2.CopyImage(ctx, in)
	switch {
	case err == nil:
		img := image{Image: plan.Image{ID: aws.ToString(out.ImageId), Deploy: j.deploy, State: string(ec2types.ImageStatePending)}, Name: name, Tags: map[string]string{}}
		for _, tag := range in.TagSpecifications[0].Tags {
			img.Tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
		j.res.SourceInstance = img.Tags[event.TagSourceInstance]
		j.log.InfoContext(ctx, "copy requested", "sourceRegion", c.region, "sourceImageId", c.src.ID, "imageId", img.ID, "name", name)
		return img, nil
	case hasCode(err, "InvalidAMIName.Duplicate"):
		return j.resumeByName(ctx, name)
	case hasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"):
		return image{}, c.sourceGone(ctx, j, err)
	case hasCode(err, "ResourceLimitExceeded"):
		// EBS's snapshot copies in flight into the region are at its quota
		// (other tools' copies count too): not retried here, which would
		// only ask again while the copies run for minutes.
		return image{}, &copyWaitsError{fmt.Errorf("the copy of %s from %s waits: EC2 refused it, at the quota of %d snapshot copies in flight into %s (Concurrent snapshot copies per destination Region); nothing was started, the next reconcile starts it (%w)", c.src.ID, c.region, plan.CopySnapshotsPerRegion, j.scope.Region, err)}
	case isKMSKeyCode(errorCode(err)):
		return image{}, rejectf("copy AMI %s from %s for %s with KMS key %s: %w; %s", c.src.ID, c.region, j.t.Name, cmp.Or(j.cfg.CopyKMSKey, "(the region's default EBS key)"), err, kmsKeyAdvice)
	}
	return image{}, fmt.Errorf("copy AMI %s from %s for %s: %w", c.src.ID, c.region, j.t.Name, err)
}

// sourceGone judges a source AMI that EC2 no longer copies (deregistered or
// disabled in its region). Retention there removes an AMI once a newer
// release is promoted: when the source template has a newer available
// release, this copy is superseded (that release's forward, or the next
// reconcile, copies it). Else a person or another tool removed or disabled
// the source's release itself: failed, naming it, nothing copied.
func (c regionCopy) sourceGone(ctx context.Context, j *job, err error) error {
	sr, rerr := j.inRegion(c.region)
	if rerr != nil {
		return fmt.Errorf("copy AMI %s from %s: %w (and reading the source again: %w)", c.src.ID, c.region, err, rerr)
	}
	images, rerr := sr.templateImages(ctx, c.src.Tags[event.TagLaunchTemplate])
	if rerr != nil {
		return fmt.Errorf("copy AMI %s from %s: %w (and reading the source again: %w)", c.src.ID, c.region, err, rerr)
	}
	if newest, ok := newestOf(slices.Collect(maps.Values(images))); ok && newest.Deploy.Compare(c.src.Deploy) > 0 {
		return &sourceOvertakenError{fmt.Errorf("the source AMI %s in %s is no longer available, and %s has a newer release there (%s, build %s); nothing was copied: the newest release is copied by its own forward or the next reconcile (%w)",
			c.src.ID, c.region, c.src.Tags[event.TagLaunchTemplate], newest.ID, newest.Deploy.BuildID, err)}
	}
	return &sourceLostError{fmt.Errorf("the source AMI %s in %s is no longer available (deregistered or disabled there, by a person or another tool) and its template %s has no newer release; nothing was copied and %s stays on its last release: enable the AMI again, or deploy a new release in %s (%w)",
		c.src.ID, c.region, c.src.Tags[event.TagLaunchTemplate], j.t.Name, c.region, err)}
}

// input is the CopyImage request: its ClientToken from the source AMI, the
// template, the key and the event (plan.CopyToken), so that a retried
// request makes one copy.
func (c regionCopy) input(j *job, name string) *ec2.CopyImageInput {
	tags := copyTags(c, j.t, name)
	in := &ec2.CopyImageInput{
		SourceImageId: aws.String(c.src.ID),
		SourceRegion:  aws.String(c.region),
		Name:          aws.String(name),
		Description:   aws.String(plan.Cut(fmt.Sprintf("amibump: %s build %s, copy of %s/%s", j.t.Name, j.deploy.BuildID, c.region, c.src.ID))),
		ClientToken:   aws.String(plan.CopyToken(c.region+"/"+c.src.ID, j.t.ID, j.cfg.CopyKMSKey, j.env.ID)),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeImage, Tags: tags},
			{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags},
		},
		DryRun: aws.Bool(j.dry != nil),
	}
	if j.cfg.CopyKMSKey != "" {
		in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String(j.cfg.CopyKMSKey)
	}
	return in
}

// copyTags are a copy's tags: every amibump tag of the source, then its
// name, the template it is for and where it was copied from.
func copyTags(c regionCopy, t target, name string) []ec2types.Tag {
	tags := map[string]string{}
	for k, v := range c.src.Tags {
		if strings.HasPrefix(k, "amibump:") {
			tags[k] = v
		}
	}
	tags[event.TagName] = name
	tags[event.TagLaunchTemplate] = t.ID
	tags[event.TagCopyOf] = c.region + "/" + c.src.ID
	out := make([]ec2types.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

// resumeByName is the image of this deploy for the template that an earlier
// attempt made under name (a name already taken); a name taken by another
// template's AMI is rejected.
func (j *job) resumeByName(ctx context.Context, name string) (image, error) {
	img, found, err := j.findImageByName(ctx, name)
	if err != nil {
		return image{}, err
	}
	if !found {
		return image{}, fmt.Errorf("AMI name %s is taken but the image is not visible yet; retrying", name)
	}
	if img.Tags[event.TagLaunchTemplate] != j.t.ID || img.Deploy.BuildID != j.deploy.BuildID {
		return image{}, rejectf("AMI name %s is taken by %s, which amibump made for launch template %s, build %s; rename one of the templates (their first %d characters are the same)",
			name, img.ID, img.Tags[event.TagLaunchTemplate], img.Deploy.BuildID, plan.TemplateNameKept)
	}
	j.log.InfoContext(ctx, "image found by name", "imageId", img.ID, "state", img.State)
	return img, nil
}

// sourceOvertakenError: the AMI a copy was to be made of is gone from its
// region; the job's result is superseded.
type sourceOvertakenError struct{ err error }

func (e *sourceOvertakenError) Error() string { return e.err.Error() }
func (e *sourceOvertakenError) Unwrap() error { return e.err }

// copyWaitsError: EC2 refused a copy at the quota of snapshot copies in
// flight into the region; the job's result is pending, nothing started.
type copyWaitsError struct{ err error }

func (e *copyWaitsError) Error() string { return e.err.Error() }
func (e *copyWaitsError) Unwrap() error { return e.err }

// sourceLostError: the AMI a copy was to be made of is gone from its region
// and nothing newer replaced it; the job's result is failed.
type sourceLostError struct{ err error }

func (e *sourceLostError) Error() string { return e.err.Error() }
func (e *sourceLostError) Unwrap() error { return e.err }
