package bump

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// drift reports a template whose $Latest was made by someone else and carries
// an older AMI than the newest release amibump promoted for it (a template
// managed as code): typically an infrastructure-as-code apply that
// wrote the AMI id from its code. amibump does not fight it: the next deploy is
// promoted on top of that version, keeping its other changes.
//
// Each such version is reported once. Reconcile keeps no state between runs, so
// the version reported is remembered on the template, in its
// amibump:drift-reported tag. When the tag cannot be written the report is made
// anyway, and made again at the next run: reported twice beats never.
func (r *run) drift(ctx context.Context, log *slog.Logger, t target, st templateState) (event.Result, error) {
	latest, top, topImg, ok := plan.DriftSuspect(st.Plan)
	if !ok || t.Tags[event.TagDriftReported] == strconv.FormatInt(latest.Number, 10) {
		return event.Result{}, nil
	}
	made, said, err := r.imageMade(ctx, latest.ImageID, st.Images)
	if err != nil {
		log.WarnContext(ctx, "drift not checked", "version", latest.Number, "error", err)
		return event.Result{}, nil // the next run looks again
	}
	if !plan.Drifted(made, topImg) {
		return event.Result{}, nil
	}
	res := event.Result{Status: event.Drifted, EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name, Version: latest.Number, ImageID: latest.ImageID}
	res.Reason = fmt.Sprintf("version %d of %s was made outside amibump and carries %s (%s), older than %s (build %s, deployed at %s), which amibump promoted in version %d; "+
		"groups launching $Latest%s now start the old release. Likely cause: an infrastructure-as-code apply (Terraform, CloudFormation, the CDK) wrote the AMI id from its code; "+
		"read it from an SSM parameter instead (tag the template %s=true, or set its ImageId to resolve:ssm:%s%s). amibump leaves this version alone; the next deploy is promoted on top of it",
		latest.Number, t.Name, latest.ImageID, said, topImg.ID, topImg.Deploy.BuildID, topImg.Deploy.At.Format(time.RFC3339), top.Number,
		defaultSaid(st.Plan, latest.Number), event.TagSSMParameter, r.cfg.SSMPrefix, t.Name)
	_, err = r.ec2.CreateTags(ctx, &ec2.CreateTagsInput{
		Resources: []string{t.ID},
		Tags:      []ec2types.Tag{{Key: aws.String(event.TagDriftReported), Value: aws.String(strconv.FormatInt(latest.Number, 10))}},
	})
	if err != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("could not record this report in tag %s of %s, so the next reconcile reports it again: %v", event.TagDriftReported, t.Name, err))
	}
	log.WarnContext(ctx, "template drifted", "version", latest.Number, "imageId", latest.ImageID, "promotedImageId", topImg.ID)
	return res, nil
}

func defaultSaid(t plan.Template, latest int64) string {
	if t.Default() == latest {
		return " or $Default"
	}
	return ""
}

// imageMade tells when the AMI a version carries was made: the deploy time of
// an amibump AMI, the creation date of another; zero when it is gone.
func (r *run) imageMade(ctx context.Context, id string, known map[string]image) (time.Time, string, error) {
	if img, ok := known[id]; ok {
		return img.Deploy.At, "an amibump AMI of build " + img.Deploy.BuildID, nil
	}
	out, err := r.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if hasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed") || (err == nil && len(out.Images) == 0) {
		return time.Time{}, "an AMI that no longer exists", nil
	}
	if err != nil {
		return time.Time{}, "", fmt.Errorf("describe image %s: %w", id, err)
	}
	created, err := time.Parse(time.RFC3339, aws.ToString(out.Images[0].CreationDate))
	if err != nil {
		return time.Time{}, "an AMI of unknown age", nil
	}
	return created, "created " + created.UTC().Format(time.RFC3339), nil
}
