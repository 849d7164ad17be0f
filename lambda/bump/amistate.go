package bump

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
)

// amiState handles an EC2 AMI State Change event: an amibump AMI that became
// available is promoted, one that failed is removed and reported. AMIs amibump
// did not make are ignored quietly.
func (r *run) amiState(ctx context.Context) ([]event.Result, error) {
	r.observeAMIState()
	s, err := event.ParseAMIState(r.env.Detail)
	if err != nil {
		return []event.Result{rejected(ctx, r.log, event.Result{EventID: r.env.ID}, err)}, nil
	}
	log := r.log.With("imageId", s.ImageID)
	if s.State != string(ec2types.ImageStateAvailable) && s.State != string(ec2types.ImageStateFailed) {
		log.DebugContext(ctx, "ami state ignored", "state", s.State)
		return nil, nil
	}
	out, err := r.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{s.ImageID}})
	if hasCode(err, "InvalidAMIID.NotFound") {
		log.DebugContext(ctx, "ami gone, ignored")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe image %s: %w", s.ImageID, err)
	}
	if len(out.Images) == 0 {
		return nil, nil
	}
	img, ok := amibumpImage(out.Images[0])
	if !ok {
		log.DebugContext(ctx, "ami not made by amibump, ignored")
		return nil, nil
	}
	templateID := img.Tags[event.TagLaunchTemplate]
	log = log.With("launchTemplateId", templateID)
	lts, err := r.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{templateID}})
	if hasCode(err, "InvalidLaunchTemplateId.NotFound") || (err == nil && len(lts.LaunchTemplates) == 0) {
		res := imageResult(r.env.ID, img)
		res.LaunchTemplateID = templateID
		return []event.Result{rejected(ctx, log, res, rejectf("launch template %s of image %s no longer exists; nothing to promote", templateID, img.ID))}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe launch template %s: %w", templateID, err)
	}
	t := newTarget(lts.LaunchTemplates[0])
	if missing := t.missingTags(); len(missing) > 0 {
		res := imageResult(r.env.ID, img)
		res.LaunchTemplateID, res.LaunchTemplateName = t.ID, t.Name
		return []event.Result{rejected(ctx, log, res, rejectf("launch template %s is no longer managed by amibump (it has no %s tag), so image %s was not promoted; tag the template again and replay the deploy event, or deregister %s",
			t.Name, strings.Join(missing, " or "), img.ID, img.ID))}, nil
	}
	res, _, err := r.settleImage(ctx, log, t, img, nil, nil)
	return withStatus([]event.Result{res}), joinTransient([]error{err})
}

// settleImage finishes the job for an amibump AMI found by a trigger other than
// its deploy event: promote it when available, remove and report it when failed.
// An image in another state has no result (its status is empty). changed tells
// whether anything was changed.
func (r *run) settleImage(ctx context.Context, log *slog.Logger, t target, img image, known map[string]image, fresh *templateState) (event.Result, bool, error) {
	res := imageResult(r.env.ID, img)
	res.LaunchTemplateID, res.LaunchTemplateName = t.ID, t.Name
	res.Warnings = append(res.Warnings, t.Warnings...)
	var (
		err     error
		changed bool
	)
	switch img.State {
	case string(ec2types.ImageStateAvailable):
		if known == nil {
			known = map[string]image{}
		}
		known[img.ID] = img
		res, changed, err = r.promoteAndTidy(ctx, log, t, img, known, fresh, res)
	case string(ec2types.ImageStateFailed):
		res.Status, res.Reason = event.Failed, "EC2 could not make the image: "+img.Reason+"; if the deploy's own retries did not make it again, replay the deploy event from the archive"
		if from := img.Tags[event.TagCopyOf]; from != "" {
			res.Reason = fmt.Sprintf("EC2 could not copy %s: %s; KMS key %s. The failed copy is removed; check that the function's role (copyKmsKeyArn) and the key's policy let it use the key: the next reconcile copies again",
				from, img.Reason, cmp.Or(r.cfg.CopyKMSKey, "none set (AMIBUMP_COPY_KMS_KEY_ARN)"))
		}
		changed = true
		_, err = r.deregister(ctx, img.ID)
		var left *snapshotsLeftError
		if errors.As(err, &left) {
			res.Warnings, err = append(res.Warnings, err.Error()), nil
		}
		if err == nil {
			log.ErrorContext(ctx, "image failed, removed", "reason", img.Reason)
		}
	default:
		log.DebugContext(ctx, "image neither available nor failed, left", "state", img.State)
		return event.Result{}, false, nil
	}
	if err != nil && IsPermanent(err) {
		return rejected(ctx, log, res, err), true, nil
	}
	if err == nil && res.Status != "" {
		log.InfoContext(ctx, "target finished", "status", res.Status, "version", res.Version, "changed", changed)
	}
	return res, changed, err
}

// jobError turns a permanent error of one reconcile job into its rejected
// result; a transient one is returned for Lambda to retry.
func (r *run) jobError(ctx context.Context, log *slog.Logger, t target, err error) (event.Result, error) {
	if !IsPermanent(err) {
		return event.Result{}, err
	}
	return rejected(ctx, log, event.Result{EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name}, err), nil
}

func imageResult(eventID string, img image) event.Result {
	return event.Result{
		EventID:        eventID,
		ImageID:        img.ID,
		SourceInstance: img.Tags[event.TagSourceInstance],
		Build:          &event.Build{ID: img.Tags[event.TagBuildID], URL: img.Tags[event.TagBuildURL], Commit: img.Tags[event.TagCommit]},
	}
}
