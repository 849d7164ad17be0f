package awsfake

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Image seeds a pre-existing AMI owned by the account, e.g. the old base AMI.
type Image struct {
	Name         string
	State        ec2types.ImageState // "" = available; disabled seeds a disabled AMI
	Tags         map[string]string
	CreationDate time.Time // zero = now
	// DeprecationTime seeds an AMI deprecated then (zero = not deprecated),
	// which EnableImageDeprecation cannot set once it has passed.
	DeprecationTime time.Time
	// SnapshotTags tags its snapshot (amibump tags an AMI's snapshots as it
	// tags the AMI).
	SnapshotTags map[string]string
	// KMSKey encrypts its snapshot with that key's ARN ("": unencrypted).
	KMSKey string
}

type image struct {
	id, name, description string
	owner                 string // the account that made it
	created               time.Time
	readyAt               time.Time // pending until then
	visibleAt             time.Time // invisible to the API until then
	listedUntil           time.Time // deregistered: still listed until then
	state                 ec2types.ImageState
	failReason            string // when set, the image fails instead of becoming available
	failCode              string // its StateReason code ("": Server.InternalError)
	copiedFrom            string // CopyImage: <source region>/<source AMI id>
	kmsKey                string // CopyImage with KmsKeyId: the key's ARN
	sourceInstance        string
	snapshots             []string
	tags                  map[string]string
	lifecycle             // ec2_image_lifecycle.go
}

type snapshot struct {
	id, imageID, description string
	started                  time.Time
	tags                     map[string]string
}

var (
	imageIDPattern   = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	imageNamePattern = regexp.MustCompile(`^[A-Za-z0-9()\[\] ./'@_-]{3,128}$`)
)

// settle resolves a pending image's state from the clock: once readyAt has passed,
// it becomes available, or failed when its source instance was told to fail.
// A settled state never changes again.
func (c *Cloud) settle(img *image, now time.Time) {
	if img.state != ec2types.ImageStatePending || now.Before(img.readyAt) {
		return
	}
	if img.failReason == "" {
		img.failReason = c.failingInstances[img.sourceInstance]
	}
	if img.failReason != "" {
		img.state = ec2types.ImageStateFailed
		return
	}
	img.state = ec2types.ImageStateAvailable
}

func (c *Cloud) settleAll() time.Time {
	now := c.now()
	for _, img := range c.images {
		c.settle(img, now)
	}
	return now
}

// AddImage adds an AMI owned by the account, with one snapshot, and returns its id.
func (c *Cloud) AddImage(in Image) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if in.CreationDate.IsZero() {
		in.CreationDate = now
	}
	if in.State == "" {
		in.State = ec2types.ImageStateAvailable
	}
	img := &image{id: c.newID("ami"), owner: c.scope.Account, name: in.Name, created: in.CreationDate.UTC(),
		readyAt: in.CreationDate, visibleAt: in.CreationDate, state: in.State, tags: copyTags(in.Tags), kmsKey: in.KMSKey}
	switch in.State {
	case ec2types.ImageStatePending:
		img.readyAt = now.Add(c.imageDelay)
	case ec2types.ImageStateFailed:
		img.failReason = "seeded as failed"
	}
	if !in.DeprecationTime.IsZero() {
		img.deprecateAt = in.DeprecationTime.UTC().Round(time.Minute)
	}
	c.addSnapshots(img, 1, in.SnapshotTags)
	c.images[img.id] = img
	return img.id
}

func (c *Cloud) addSnapshots(img *image, n int, tags map[string]string) {
	for range n {
		s := &snapshot{id: c.newID("snap"), imageID: img.id, started: img.created, tags: copyTags(tags),
			description: fmt.Sprintf("Created by CreateImage(%s) for %s", img.sourceInstance, img.id)}
		c.snapshots[s.id] = s
		img.snapshots = append(img.snapshots, s.id)
	}
}

// FailSnapshotDeletion makes DeregisterImage with DeleteAssociatedSnapshots
// leave the next n snapshots in place, reporting code for each in
// DeleteSnapshotResults (the image is deregistered all the same, as in AWS).
func (c *Cloud) FailSnapshotDeletion(n int, code ec2types.SnapshotReturnCodes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshotFailures, c.snapshotFailureCode = n, code
}

// SetImageDelay sets how long the images created from now on stay pending
// (WithImageDelay's); images already created keep theirs.
func (c *Cloud) SetImageDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.imageDelay = d
}

// FailImagesOf makes images of instanceID go to failed, with reason as the
// StateReason message, when they would become available.
func (c *Cloud) FailImagesOf(instanceID, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleAll()
	c.failingInstances[instanceID] = reason
}

func (img *image) describe() ec2types.Image {
	out := ec2types.Image{
		ImageId:            ptr(img.id),
		Name:               ptr(img.name),
		State:              img.state,
		CreationDate:       ptr(rfc3339(img.created)),
		OwnerId:            ptr(img.owner),
		Public:             ptr(false),
		ImageType:          ec2types.ImageTypeValuesMachine,
		Architecture:       ec2types.ArchitectureValuesX8664,
		RootDeviceName:     ptr("/dev/xvda"),
		RootDeviceType:     ec2types.DeviceTypeEbs,
		VirtualizationType: ec2types.VirtualizationTypeHvm,
		Hypervisor:         ec2types.HypervisorTypeXen,
		Tags:               ec2Tags(img.tags),
	}
	if img.description != "" {
		out.Description = ptr(img.description)
	}
	if img.sourceInstance != "" {
		out.SourceInstanceId = ptr(img.sourceInstance)
	}
	if region, id, ok := strings.Cut(img.copiedFrom, "/"); ok {
		out.SourceImageRegion, out.SourceImageId = ptr(region), ptr(id)
	}
	for i, s := range img.snapshots {
		out.BlockDeviceMappings = append(out.BlockDeviceMappings, ec2types.BlockDeviceMapping{
			DeviceName: ptr(deviceName(i)),
			Ebs: &ec2types.EbsBlockDevice{SnapshotId: ptr(s), VolumeSize: ptr(int32(8)),
				VolumeType: ec2types.VolumeTypeGp3, DeleteOnTermination: ptr(true), Encrypted: ptr(img.kmsKey != "")},
		})
		if img.kmsKey != "" {
			out.BlockDeviceMappings[i].Ebs.KmsKeyId = ptr(img.kmsKey)
		}
	}
	if img.state == ec2types.ImageStateFailed {
		code := "Server.InternalError"
		if img.failCode != "" {
			code = img.failCode
		}
		out.StateReason = &ec2types.StateReason{Code: ptr(code), Message: ptr(img.failReason)}
	}
	return out
}

func deviceName(i int) string {
	if i == 0 {
		return "/dev/xvda"
	}
	return "/dev/xvd" + string(rune('a'+i))
}

// filterable: the state filter's documented values are available, pending
// and failed (DescribeImages): a disabled AMI matches no state filter, the
// harsher reading of a value AWS does not name.
func (img *image) filterable() filterable {
	state := []string{string(img.state)}
	if img.state == ec2types.ImageStateDisabled {
		state = nil
	}
	return filterable{
		attrs: map[string][]string{
			"name":     {img.name},
			"state":    state,
			"image-id": {img.id},
			"owner-id": {img.owner},
		},
		tags: img.tags,
	}
}

// Images returns every current (not deregistered) image, visible or not, sorted by
// CreationDate then id, with its state resolved from the clock.
func (c *Cloud) Images() []ec2types.Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleAll()
	imgs := make([]*image, 0, len(c.images))
	for _, img := range c.images {
		imgs = append(imgs, img)
	}
	sort.Slice(imgs, func(i, j int) bool {
		if !imgs[i].created.Equal(imgs[j].created) {
			return imgs[i].created.Before(imgs[j].created)
		}
		return imgs[i].id < imgs[j].id
	})
	now := c.now()
	out := make([]ec2types.Image, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, img.describeAt(now))
	}
	return out
}

// Image returns one current image, visible or not.
func (c *Cloud) Image(id string) (ec2types.Image, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.settleAll()
	img, ok := c.images[id]
	if !ok {
		return ec2types.Image{}, false
	}
	return img.describeAt(now), true
}

// Snapshots returns every current snapshot with its tags, sorted by id.
func (c *Cloud) Snapshots() []ec2types.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotsNow(c.settleAll())
}

// snapshotsNow is Snapshots with c.mu held and the images settled at now.
func (c *Cloud) snapshotsNow(now time.Time) []ec2types.Snapshot {
	ids := make([]string, 0, len(c.snapshots))
	for id := range c.snapshots {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]ec2types.Snapshot, 0, len(ids))
	for _, id := range ids {
		s := c.snapshots[id]
		state := ec2types.SnapshotStateCompleted
		if img, ok := c.images[s.imageID]; ok && img.state == ec2types.ImageStatePending && now.Before(img.readyAt) {
			state = ec2types.SnapshotStatePending
		}
		snap := ec2types.Snapshot{SnapshotId: ptr(s.id), OwnerId: ptr(c.scope.Account), State: state,
			StartTime: ptr(s.started), VolumeSize: ptr(int32(8)), Description: ptr(s.description),
			Tags: ec2Tags(s.tags), Encrypted: ptr(false)}
		if img, ok := c.images[s.imageID]; ok && img.kmsKey != "" {
			snap.Encrypted, snap.KmsKeyId = ptr(true), ptr(img.kmsKey)
		}
		out = append(out, snap)
	}
	return out
}

// lookupImage finds an image for a request naming its id. An image within its
// visibility delay is not found, as with EC2's eventual consistency.
func (c *Cloud) lookupImage(id string, now time.Time) (*image, error) {
	if !imageIDPattern.MatchString(id) {
		return nil, errorf("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	img, ok := c.images[id]
	if !ok || now.Before(img.visibleAt) {
		return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	return img, nil
}

// CreateImage images a running or stopped instance: a pending AMI with one snapshot
// per volume, tagged per TagSpecifications ("image" and "snapshot").
func (e *EC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, _ ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "CreateImage", in, e.c.createImage)
}

func (c *Cloud) createImage(in *ec2.CreateImageInput) (*ec2.CreateImageOutput, error) {
	if in == nil || in.InstanceId == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter instanceId")
	}
	if in.Name == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter name")
	}
	now := c.settleAll()
	inst, err := c.lookupInstance(*in.InstanceId)
	if err != nil {
		return nil, err
	}
	switch inst.state {
	case ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameStopped:
	default:
		// What EC2 answers for an instance that is pending, shutting down or gone:
		// a parameter error, not IncorrectInstanceState.
		return nil, errorf("InvalidParameterValue", "Invalid value '%s' for instanceId. Instance is not in state 'running' or 'stopping' or 'stopped'", inst.id)
	}
	if inst.store {
		// CreateImage "creates an Amazon EBS-backed AMI from an Amazon EBS-backed
		// instance"; AWS documents no error code for the others: UnsupportedOperation.
		return nil, errorf("UnsupportedOperation", "The instance '%s' has an instance-store root device; CreateImage supports only EBS-backed instances.", inst.id)
	}
	name := *in.Name
	if !imageNamePattern.MatchString(name) {
		return nil, errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/', '[', ']', ' ', '@', ''' and '_': %q", name)
	}
	if in.Description != nil && len(*in.Description) > 255 {
		return nil, errorf("InvalidParameterValue", "Value of parameter description is too long (maximum 255 characters)")
	}
	for _, img := range c.images {
		if img.name == name { // the name is taken even while the image is invisible
			return nil, errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, img.id)
		}
	}
	if c.nameInRecycleBin(name, now) {
		return nil, errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by an AMI in the Recycle Bin", name)
	}
	imageTags, snapshotTags := map[string]string{}, map[string]string{}
	for _, spec := range in.TagSpecifications {
		var dst map[string]string
		switch spec.ResourceType {
		case ec2types.ResourceTypeImage:
			dst = imageTags
		case ec2types.ResourceTypeSnapshot:
			dst = snapshotTags
		default:
			return nil, errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", spec.ResourceType)
		}
		for _, t := range spec.Tags {
			if err := checkTag(t); err != nil {
				return nil, err
			}
			dst[derefString(t.Key)] = derefString(t.Value)
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	img := &image{id: c.newID("ami"), owner: c.scope.Account, name: name, description: derefString(in.Description),
		created: now, readyAt: now.Add(c.imageDelay), visibleAt: now.Add(max(c.visibilityDelay, c.lag())),
		state: ec2types.ImageStatePending, sourceInstance: inst.id, tags: imageTags}
	c.addSnapshots(img, inst.volumes, snapshotTags)
	c.images[img.id] = img
	return &ec2.CreateImageOutput{ImageId: ptr(img.id)}, nil
}

func checkTag(t ec2types.Tag) error {
	k := derefString(t.Key)
	switch {
	case k == "" || len(k) > 128:
		return errorf("InvalidParameterValue", "Tag key must be 1 to 128 characters: %q", k)
	case len(derefString(t.Value)) > 256:
		return errorf("InvalidParameterValue", "Tag value for key %q exceeds 256 characters", k)
	case len(k) >= 4 && k[:4] == "aws:":
		return errorf("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// DescribeImages describes the account's images by id, owner and filter (name,
// state, image-id, owner-id, tag:<key>, tag-key, tag-value), paginated with
// MaxResults 5..1000; without MaxResults every match comes back at once.
func (e *EC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeImages", in, e.c.describeImages)
}

func (c *Cloud) describeImages(in *ec2.DescribeImagesInput) (*ec2.DescribeImagesOutput, error) {
	if in == nil {
		in = &ec2.DescribeImagesInput{}
	}
	if len(in.ImageIds) > 0 && in.MaxResults != nil {
		return nil, errorf("InvalidParameterCombination", "The parameter ImageIds cannot be used with the parameter MaxResults")
	}
	if err := checkRange("MaxResults", in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	filters, err := ec2Filters(in.Filters, "name", "state", "image-id", "owner-id")
	if err != nil {
		return nil, err
	}
	now := c.settleAll()
	ours := len(in.Owners) == 0
	for _, o := range in.Owners {
		ours = ours || o == "self" || o == c.scope.Account
	}
	for id, img := range c.lingering {
		if !now.Before(img.listedUntil) {
			delete(c.lingering, id)
		}
	}
	var found []*image
	if len(in.ImageIds) > 0 {
		for _, id := range dedupe(in.ImageIds) {
			img, err := c.lookupImage(id, now)
			if lingering, ok := c.lingering[id]; err != nil && ok {
				img, err = lingering, nil
			}
			if err != nil {
				return nil, err
			}
			found = append(found, img)
		}
	} else {
		for _, img := range c.images {
			if !now.Before(img.visibleAt) {
				found = append(found, img)
			}
		}
		for _, img := range c.lingering {
			found = append(found, img)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].id < found[j].id })
	var matched []*image
	for _, img := range found {
		if img.state == ec2types.ImageStateDisabled && !derefBool(in.IncludeDisabled) {
			continue // left out by default, even when named by id
		}
		if ours && img.filterable().matches(filters) {
			matched = append(matched, img)
		}
	}
	size := 0
	if len(in.ImageIds) == 0 {
		size = c.pageSizeFor(in.MaxResults, 0)
	}
	page, next, err := paginate(matched, func(i *image) string { return i.id }, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeImagesOutput{NextToken: next, Images: []ec2types.Image{}}
	for _, img := range page {
		out.Images = append(out.Images, img.describeAt(now))
	}
	return out, nil
}

// DeregisterImage removes an image; with DeleteAssociatedSnapshots its snapshots go
// too, reported in DeleteSnapshotResults.
func (e *EC2) DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, _ ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "DeregisterImage", in, e.c.deregisterImage)
}

func (c *Cloud) deregisterImage(in *ec2.DeregisterImageInput) (*ec2.DeregisterImageOutput, error) {
	if in == nil || in.ImageId == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter imageId")
	}
	now := c.settleAll()
	img, err := c.lookupImage(*in.ImageId, now)
	if err != nil {
		return nil, err
	}
	if img.guarded(now) {
		return nil, deregistrationRefused(img, now)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	delete(c.images, img.id)
	c.recycle(img, now)
	if linger := max(c.deregisteredLinger, c.lag()); linger > 0 {
		img.state, img.listedUntil = ec2types.ImageStateDeregistered, now.Add(linger)
		c.lingering[img.id] = img
	}
	out := &ec2.DeregisterImageOutput{Return: ptr(true)}
	if in.DeleteAssociatedSnapshots != nil && *in.DeleteAssociatedSnapshots {
		for _, s := range img.snapshots {
			code := ec2types.SnapshotReturnCodesSuccess
			if !c.permits("DeregisterImage", c.deleteSnapshotRequest(s)) {
				code = ec2types.SnapshotReturnCodesErrorMissingPermissions
			} else if c.snapshotFailures > 0 {
				c.snapshotFailures--
				code = c.snapshotFailureCode
			} else {
				delete(c.snapshots, s)
			}
			out.DeleteSnapshotResults = append(out.DeleteSnapshotResults,
				ec2types.DeleteSnapshotReturnCode{SnapshotId: ptr(s), ReturnCode: code})
		}
	}
	return out, nil
}

// DescribeImageReferences reports the resources that use the given images: instances
// launched from them, in the states state-name lists (default: every state,
// terminated included, as in AWS), and launch template versions whose ImageId is
// the image, among each template's most recent version-depth versions (default
// 10, as in AWS).
func (e *EC2) DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, _ ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeImageReferences", in, e.c.describeImageReferences)
}

type referenceScope struct {
	instances      bool
	instanceStates map[string]bool // nil: every state, terminated included (AWS's default)
	templates      bool
	versionDepth   int
	parameters     bool
}

func imageReferenceScope(in *ec2.DescribeImageReferencesInput) (referenceScope, error) {
	all := in.IncludeAllResourceTypes != nil && *in.IncludeAllResourceTypes
	if !all && len(in.ResourceTypes) == 0 {
		return referenceScope{}, errorf("MissingParameter", "Either IncludeAllResourceTypes or ResourceTypes must be specified")
	}
	s := referenceScope{instances: all, templates: all, versionDepth: 10, parameters: all}
	for _, rt := range in.ResourceTypes {
		switch rt.ResourceType {
		case ec2types.ImageReferenceResourceTypeEc2Instance:
			s.instances = true
		case ec2types.ImageReferenceResourceTypeEc2LaunchTemplate:
			s.templates = true
		case ec2types.ImageReferenceResourceTypeSsmParameter:
			s.parameters = true
		case ec2types.ImageReferenceResourceTypeImageBuilderImageRecipe, ec2types.ImageReferenceResourceTypeImageBuilderContainerRecipe:
			// valid, but the fake has no such resources
		default:
			return s, errorf("InvalidParameterValue", "Invalid resource type: %s", rt.ResourceType)
		}
		for _, o := range rt.ResourceTypeOptions {
			switch {
			case o.OptionName == ec2types.ImageReferenceOptionNameVersionDepth && rt.ResourceType == ec2types.ImageReferenceResourceTypeEc2LaunchTemplate:
				if len(o.OptionValues) != 1 {
					return s, errorf("InvalidParameterValue", "version-depth takes exactly one value")
				}
				d, err := strconv.Atoi(o.OptionValues[0])
				if err != nil || d < 1 || d > 10000 {
					return s, errorf("InvalidParameterValue", "Invalid version-depth %q: expecting an integer between 1 and 10000", o.OptionValues[0])
				}
				s.versionDepth = d
			case o.OptionName == ec2types.ImageReferenceOptionNameStateName && rt.ResourceType == ec2types.ImageReferenceResourceTypeEc2Instance:
				s.instanceStates = map[string]bool{}
				for _, v := range o.OptionValues {
					if _, ok := instanceStateCodes[ec2types.InstanceStateName(v)]; !ok {
						return s, errorf("InvalidParameterValue", "Invalid state-name %q", v)
					}
					s.instanceStates[v] = true
				}
			default:
				return s, errorf("InvalidParameterValue", "Option %s is not valid for resource type %s", o.OptionName, rt.ResourceType)
			}
		}
	}
	return s, nil
}

func (c *Cloud) describeImageReferences(in *ec2.DescribeImageReferencesInput) (*ec2.DescribeImageReferencesOutput, error) {
	if in == nil || len(in.ImageIds) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter ImageIds")
	}
	if len(in.ImageIds) > 10 {
		// ImageId.N: "Minimum number of 1 item. Maximum number of 10 items."
		return nil, errorf("InvalidParameterValue", "The maximum number of ImageIds is 10; %d were given", len(in.ImageIds))
	}
	if err := checkRange("MaxResults", in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	scope, err := imageReferenceScope(in)
	if err != nil {
		return nil, err
	}
	now := c.settleAll()
	ids := dedupe(in.ImageIds)
	for _, id := range ids {
		if _, err := c.lookupImage(id, now); err != nil {
			return nil, err
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	var refs []ec2types.ImageReference
	for _, id := range ids {
		if scope.instances {
			for _, inst := range sortedInstances(c.instances) {
				if inst.imageID != id {
					continue
				}
				if scope.instanceStates != nil && !scope.instanceStates[string(inst.state)] {
					continue
				}
				refs = append(refs, ec2types.ImageReference{ImageId: ptr(id), ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance,
					Arn: ptr(c.ec2ARN("instance", inst.id))})
			}
		}
		if scope.templates {
			for _, lt := range c.sortedTemplates() {
				for _, v := range lt.seen(now).recentVersions(scope.versionDepth) {
					if derefString(v.data.ImageId) != id {
						continue
					}
					// AWS names the version in the ARN: launch-template/<id>/<version>.
					refs = append(refs, ec2types.ImageReference{ImageId: ptr(id), ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate,
						Arn: ptr(c.ec2ARN("launch-template", fmt.Sprintf("%s/%d", lt.id, v.number)))})
				}
			}
		}
	}
	if scope.parameters {
		refs = append(refs, c.parameterReferences(ids)...)
	}
	// Sorting by ARN gives the pages a stable order.
	sort.Slice(refs, func(i, j int) bool { return refKey(refs[i]) < refKey(refs[j]) })
	page, next, err := paginate(refs, refKey, in.NextToken, c.pageSizeFor(in.MaxResults, 0))
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []ec2types.ImageReference{}
	}
	return &ec2.DescribeImageReferencesOutput{ImageReferences: page, NextToken: next}, nil
}

func refKey(r ec2types.ImageReference) string {
	return derefString(r.ImageId) + " " + derefString(r.Arn)
}

func sortedInstances(m map[string]*instance) []*instance {
	out := make([]*instance, 0, len(m))
	for _, in := range m {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
