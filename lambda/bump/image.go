package bump

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// image is an amibump AMI as read from EC2.
type image struct {
	plan.Image
	Name    string
	Reason  string // EC2's reason when failed
	Tags    map[string]string
	Created time.Time
	// Snapshots counts its EBS snapshots (a copy copies each); KMSKeys are
	// the keys that encrypt them.
	Snapshots int
	KMSKeys   []string
}

// amibumpImage reads an EC2 image's amibump tags; ok is false for an image
// amibump did not make (or whose tags it cannot read).
func amibumpImage(img ec2types.Image) (image, bool) {
	tags := map[string]string{}
	for _, t := range img.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	at, err := time.Parse(time.RFC3339, tags[event.TagDeployedAt])
	if err != nil || tags[event.TagBuildID] == "" || tags[event.TagLaunchTemplate] == "" {
		return image{}, false
	}
	out := image{
		Image: plan.Image{ID: aws.ToString(img.ImageId), Deploy: plan.Deploy{At: at.UTC(), BuildID: tags[event.TagBuildID]}, State: string(img.State)},
		Name:  aws.ToString(img.Name),
		Tags:  tags,
	}
	if img.StateReason != nil {
		out.Reason = stateReason(img.StateReason)
	}
	out.Created, _ = time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		if aws.ToString(m.Ebs.SnapshotId) != "" {
			out.Snapshots++
		}
		if k := aws.ToString(m.Ebs.KmsKeyId); k != "" && !slices.Contains(out.KMSKeys, k) {
			out.KMSKeys = append(out.KMSKeys, k)
		}
	}
	out.Life = LifecycleOf(img)
	return out, true
}

// templateImages lists the amibump AMIs tagged for a template.
func (r *run) templateImages(ctx context.Context, templateID string) (map[string]image, error) {
	return r.listImages(ctx, []ec2types.Filter{{Name: aws.String("tag:" + event.TagLaunchTemplate), Values: []string{templateID}}})
}

// listImages lists this account's amibump images matching filters
// (amibumpImages).
func (r *run) listImages(ctx context.Context, filters []ec2types.Filter) (map[string]image, error) {
	found, err := amibumpImages(ctx, r.ec2, filters)
	if err != nil {
		return nil, err
	}
	images := make(map[string]image, len(found))
	for _, img := range found {
		im, _ := amibumpImage(img)
		images[im.ID] = im
	}
	return images, nil
}

// ListImages lists the amibump AMIs of the given launch templates as the
// function counts them (amibumpImages), for amibump status.
func ListImages(ctx context.Context, api ec2.DescribeImagesAPIClient, templateIDs []string) ([]ec2types.Image, error) {
	var out []ec2types.Image
	for batch := range slices.Chunk(templateIDs, 200) {
		found, err := amibumpImages(ctx, api, []ec2types.Filter{{Name: aws.String("tag:" + event.TagLaunchTemplate), Values: batch}})
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
	}
	return out, nil
}

// amibumpImages lists this account's images matching filters that amibump
// made (amibumpImage), in the states CreateImage goes through and disabled:
// EC2 leaves a disabled AMI out unless IncludeDisabled, and retention
// disables the AMIs it retires, then deregisters them days later, so it must
// go on seeing them. The states are picked here, not by a state filter, whose
// documented values are available, pending and failed only (DescribeImages):
// a filter naming disabled may match nothing. A disabled AMI is never promoted
// (only an available one is). A deregistered image, which EC2 may still list
// for a while, counts as gone.
// listedStates are the states amibumpImages keeps.
var listedStates = map[ec2types.ImageState]bool{
	ec2types.ImageStatePending: true, ec2types.ImageStateAvailable: true, ec2types.ImageStateFailed: true, ec2types.ImageStateDisabled: true,
}

func amibumpImages(ctx context.Context, api ec2.DescribeImagesAPIClient, filters []ec2types.Filter) ([]ec2types.Image, error) {
	var images []ec2types.Image
	p := ec2.NewDescribeImagesPaginator(api, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: filters, IncludeDisabled: aws.Bool(true), MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list amibump images: %w", err)
		}
		for _, img := range page.Images {
			if _, ok := amibumpImage(img); ok && listedStates[img.State] {
				images = append(images, img)
			}
		}
	}
	return images, nil
}

// templateState is what is known of one template while it is promoted.
type templateState struct {
	Plan   plan.Template
	Images map[string]image
	// Alias is $Latest's ImageId when it is resolve:ssm:<parameter>.
	Alias string
	// Resolving are the versions whose ImageId is resolve:ssm:.
	Resolving map[int64]bool
	// Created is each version's CreateTime, as EC2 tells it.
	Created map[int64]time.Time
}

// readTemplate reads a template's versions, and its amibump AMIs unless the
// ones already known cover every marked version.
func (r *run) readTemplate(ctx context.Context, t target, known map[string]image) (templateState, error) {
	return r.readTemplateThen(ctx, t, func(context.Context) (map[string]image, error) { return known, nil })
}

// readTemplateThen is readTemplate with the known AMIs asked for after the
// versions are read (a listing shared by the event's targets, which their
// reads of versions need not wait for).
func (r *run) readTemplateThen(ctx context.Context, t target, knownFn func(context.Context) (map[string]image, error)) (templateState, error) {
	var versions []plan.Version
	var alias string
	var latest int64
	resolving, created := map[int64]bool{}, map[int64]time.Time{}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(r.ec2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(t.ID), MaxResults: aws.Int32(200)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if hasCode(err, "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException") {
			return templateState{}, rejectf("launch template %s (%s) no longer exists; it was deleted while amibump worked on it", t.Name, t.ID)
		}
		if err != nil {
			return templateState{}, fmt.Errorf("describe versions of launch template %s: %w", t.Name, err)
		}
		for _, v := range page.LaunchTemplateVersions {
			if v.VersionNumber == nil || v.LaunchTemplateData == nil {
				// A malformed answer, like a 5xx: Lambda's retry asks again.
				return templateState{}, fmt.Errorf("describe versions of launch template %s: EC2 answered a version without its number or data", t.Name)
			}
			pv := plan.Version{Number: aws.ToInt64(v.VersionNumber), Default: aws.ToBool(v.DefaultVersion)}
			pv.Marked = plan.Marked(aws.ToString(v.VersionDescription))
			pv.Rollback = plan.ParseRollback(aws.ToString(v.VersionDescription))
			pv.ImageID = versionImageID(v)
			created[pv.Number] = aws.ToTime(v.CreateTime)
			if versionAlias(v) != "" {
				resolving[pv.Number] = true
			}
			if pv.Number > latest {
				latest, alias = pv.Number, versionAlias(v)
			}
			versions = append(versions, pv)
		}
	}
	images, err := knownFn(ctx)
	if err != nil {
		return templateState{}, err
	}
	if images == nil || unknownMarked(versions, images) {
		if images, err = r.templateImages(ctx, t.ID); err != nil {
			return templateState{}, err
		}
	}
	st := templateState{Plan: plan.Template{Versions: versions, Images: map[string]plan.Image{}, Hold: t.Tags[event.TagHold]}, Images: images, Alias: alias, Resolving: resolving, Created: created}
	for id, img := range images {
		if img.Tags[event.TagLaunchTemplate] == t.ID {
			st.Plan.Images[id] = img.Image
		}
	}
	return st, nil
}

func unknownMarked(versions []plan.Version, images map[string]image) bool {
	for _, v := range versions {
		if _, ok := images[v.ImageID]; v.Marked && !ok {
			return true
		}
	}
	return false
}

// findImageByName finds an image of this account by its exact name.
func (r *run) findImageByName(ctx context.Context, name string) (image, bool, error) {
	images, err := r.listImages(ctx, []ec2types.Filter{{Name: aws.String("name"), Values: []string{name}}})
	if err != nil {
		return image{}, false, err
	}
	for _, img := range images {
		if img.Name == name {
			return img, true, nil
		}
	}
	return image{}, false, nil
}

// imageFailedError says that EC2 could not make an image.
type imageFailedError struct {
	ImageID, Reason string
}

func (e *imageFailedError) Error() string {
	return fmt.Sprintf("image %s failed: %s", e.ImageID, e.Reason)
}

// imageGoneError says that an image vanished or left the states CreateImage goes through.
type imageGoneError struct {
	ImageID, State string
}

func (e *imageGoneError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("image %s disappeared while amibump waited for it", e.ImageID)
	}
	return fmt.Sprintf("image %s is %s, not pending or available", e.ImageID, e.State)
}

// imageStateError: EC2 answered with a state amibump does not know (or none):
// not one it can promote, nor one that says the image is gone.
type imageStateError struct {
	ImageID, State string
}

func (e *imageStateError) Error() string {
	return fmt.Sprintf("image %s is in state %q, which amibump does not know", e.ImageID, e.State)
}

// errStillPending: the time left ran out before the image was available.
var errStillPending = errors.New("image still pending")

// notFoundGrace is how long an image may be invisible right after CreateImage
// (EC2 is eventually consistent) before amibump decides it is gone.
const notFoundGrace = 2 * time.Minute

// waitAvailable waits with the SDK's ImageAvailable waiter until the image is
// available, within the invocation's time left minus the margin kept for
// promotion. It returns errStillPending when time runs out, *imageFailedError
// when EC2 failed the image.
func (r *run) waitAvailable(ctx context.Context, imageID string) error {
	budget := r.cfg.MaxWait
	if deadline, ok := ctx.Deadline(); ok {
		// A context's deadline is wall-clock time (Lambda's invocation deadline).
		budget = time.Until(deadline) - r.cfg.PromoteMargin //nolint:forbidigo // measured against the context's wall-clock deadline
	}
	if budget <= 0 {
		return errStillPending
	}
	waitCtx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	start := r.now()
	// The waiters of one event share their polls (poller): the poller sets the pace.
	waiter := ec2.NewImageAvailableWaiter(r.poller(ctx), func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = waiterDelay(r.cfg.PollMin), waiterDelay(r.cfg.PollMin)
		o.Retryable = r.imageRetryable(imageID, start)
	})
	// The wait ends by waitCtx: the waiter's own bound is set beyond it.
	err := waiter.Wait(waitCtx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}}, budget+2*r.cfg.PollMax+time.Second)
	switch {
	case err == nil:
		return nil
	case ctx.Err() == nil && waitCtx.Err() != nil:
		return errStillPending
	case ctx.Err() != nil:
		return errStillPending // the invocation's deadline: the other triggers finish the job
	}
	var failed *imageFailedError
	var gone *imageGoneError
	var unreadable *imageStateError
	if errors.As(err, &failed) || errors.As(err, &gone) || errors.As(err, &unreadable) {
		return err
	}
	return fmt.Errorf("wait for image %s: %w", imageID, err)
}

// imageRetryable is the ImageAvailable waiter's judgement of one poll of
// imageID: retry while pending (or, for notFoundGrace after start, not
// visible yet; or throttled), stop when available, and say why otherwise.
func (r *run) imageRetryable(imageID string, start time.Time) func(context.Context, *ec2.DescribeImagesInput, *ec2.DescribeImagesOutput, error) (bool, error) {
	return func(_ context.Context, _ *ec2.DescribeImagesInput, out *ec2.DescribeImagesOutput, err error) (bool, error) {
		switch {
		case err != nil && hasCode(err, "InvalidAMIID.NotFound"):
			if r.now().Sub(start) < notFoundGrace {
				return true, nil
			}
			return false, &imageGoneError{ImageID: imageID}
		case err != nil && isThrottle(err):
			return true, nil // the next poll comes later anyway
		case err != nil:
			return false, err
		case len(out.Images) == 0:
			return true, nil
		}
		img := out.Images[0]
		switch img.State {
		case ec2types.ImageStateAvailable:
			return false, nil
		case ec2types.ImageStatePending:
			return true, nil
		case ec2types.ImageStateFailed:
			return false, &imageFailedError{ImageID: imageID, Reason: stateReason(img.StateReason)}
		case ec2types.ImageStateDeregistered, ec2types.ImageStateDisabled:
			return false, &imageGoneError{ImageID: imageID, State: string(img.State)}
		}
		return false, &imageStateError{ImageID: imageID, State: string(img.State)}
	}
}

// deregister removes an amibump image with its snapshots. An image already
// gone counts as removed. Snapshots EC2 could not delete are returned as a
// *snapshotsLeftError: the image is gone, and nothing lists them again.
func (r *run) deregister(ctx context.Context, imageID string) (snapshots int, err error) {
	out, err := r.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(imageID), DeleteAssociatedSnapshots: aws.Bool(true)})
	if hasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deregister image %s: %w", imageID, err)
	}
	var left []string
	for _, s := range out.DeleteSnapshotResults {
		if s.ReturnCode == ec2types.SnapshotReturnCodesSuccess {
			snapshots++
		} else {
			left = append(left, fmt.Sprintf("%s (%s)", aws.ToString(s.SnapshotId), s.ReturnCode))
		}
	}
	if len(left) > 0 {
		return snapshots, &snapshotsLeftError{ImageID: imageID, Snapshots: left}
	}
	return snapshots, nil
}

// snapshotsLeftError: the image was deregistered but some of its snapshots stay.
type snapshotsLeftError struct {
	ImageID   string
	Snapshots []string
}

func (e *snapshotsLeftError) Error() string {
	return fmt.Sprintf("image %s deregistered, but snapshots %s were not deleted; delete them in the EC2 console", e.ImageID, strings.Join(e.Snapshots, ", "))
}
