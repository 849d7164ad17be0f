package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// ImageLifecycle is the part of the EC2 API that staged retirement and the
// live release's protection call. The role allows each only on AMIs amibump
// made (tagged amibump:launch-template).
type ImageLifecycle interface {
	EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, opts ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	DisableImage(ctx context.Context, in *ec2.DisableImageInput, opts ...func(*ec2.Options)) (*ec2.DisableImageOutput, error)
	EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, opts ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error)
	DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, opts ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error)
}

func (c gatedEC2) EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, opts ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "EnableImageDeprecation", c.api.EnableImageDeprecation, in, opts)
}

func (c gatedEC2) DisableImage(ctx context.Context, in *ec2.DisableImageInput, opts ...func(*ec2.Options)) (*ec2.DisableImageOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DisableImage", c.api.DisableImage, in, opts)
}

func (c gatedEC2) EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, opts ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "EnableImageDeregistrationProtection", c.api.EnableImageDeregistrationProtection, in, opts)
}

func (c gatedEC2) DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, opts ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error) {
	return call(ctx, c.g, c.b, c.scope, "EC2", "DisableImageDeregistrationProtection", c.api.DisableImageDeregistrationProtection, in, opts)
}

// The values of an Image's DeregistrationProtection that amibump reads. AWS
// documents the field only as a string naming the setting (disabled, enabled
// with or without cooldown); during the cooldown the fake reads
// disabled-until-<time>, and a value amibump does not know is read as a
// cooldown (LifecycleOf).
const (
	protectionOff          = "disabled"
	protectionWithCooldown = "enabled-with-cooldown"
	protectionCoolingUntil = "disabled-until-"
)

// LifecycleOf reads an image's deprecation time and deregistration
// protection. A protection value amibump does not know is read the harsher
// way: as a cooldown that refuses DeregisterImage for now.
func LifecycleOf(img ec2types.Image) plan.Lifecycle {
	var l plan.Lifecycle
	if at, err := time.Parse(time.RFC3339, aws.ToString(img.DeprecationTime)); err == nil {
		l.Deprecated = at.UTC()
	}
	switch p := aws.ToString(img.DeregistrationProtection); {
	case p == "" || p == protectionOff:
	case strings.HasPrefix(p, "enabled"):
		l.Protected, l.Cooldown = true, p == protectionWithCooldown
	case strings.HasPrefix(p, protectionCoolingUntil):
		l.Cooling = true
		l.CoolingUntil, _ = time.Parse(time.RFC3339, strings.TrimPrefix(p, protectionCoolingUntil))
	default:
		l.Cooling = true
	}
	return l
}

// protectLive gives the AMIs the template's groups launch deregistration
// protection: the newest release (what $Latest and the published parameter
// carry) and the AMIs of $Latest and $Default, where amibump made them for
// this template and they are available. WithCooldown, where the template
// keeps retired AMIs for a day or more (amibump:delete-after, default 14):
// whoever lifts the protection (a person, another tool) still cannot
// deregister the AMI for 24 hours, time to notice, and amibump, which lifts it
// when the AMI leaves the keep window, deregisters it days later anyway.
// Without cooldown where amibump:delete-after is 0, so that an AMI leaving the
// window is deregistered at once, as the template asks. Housekeeping: a
// failure is a warning.
func (r *run) protectLive(ctx context.Context, log *slog.Logger, t target, st templateState, warn func(error)) {
	ids := map[string]bool{}
	if _, top, ok := st.Plan.Top(); ok {
		ids[top.ID] = true
	}
	latest, def := st.Plan.Latest(), st.Plan.Default()
	for _, v := range st.Plan.Versions {
		if v.Number == latest || v.Number == def {
			ids[v.ImageID] = true
		}
	}
	for id := range ids {
		img, ok := st.Plan.Images[id]
		if !ok || img.State != string(ec2types.ImageStateAvailable) || img.Life.Protected {
			continue
		}
		_, err := r.ec2.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(t.Settings.DeleteAfter > 0)})
		if err != nil {
			warn(fmt.Errorf("protect image %s from deregistration: %w", id, err))
			continue
		}
		log.InfoContext(ctx, "image protected from deregistration", "imageId", id)
	}
}

// retireImages takes the AMIs that left the keep window (candidates) one
// stage on (plan.RetireStage): lift their protection, deprecate and disable
// them, deregister them with their snapshots when due. An AMI an instance, a
// version of any template or an SSM parameter uses is left as it is, at every
// stage. Deregistrations of retired AMIs are bounded per invocation
// (plan.MaxDeletionsPerRun).
func (r *run) retireImages(ctx context.Context, log *slog.Logger, t target, st templateState, candidates []string, pruned *event.Pruned, warn func(error)) {
	now := r.now()
	steps := map[string]plan.RetireStep{}
	var due []string
	for _, id := range candidates {
		if step, _ := plan.RetireStage(st.Plan.Images[id], now, t.Settings.DeleteAfter); step != plan.RetireWait {
			steps[id] = step
			due = append(due, id)
		}
	}
	if len(due) == 0 {
		return
	}
	referenced, err := r.referencedImages(ctx, due)
	if err == nil {
		err = r.launchedNow(ctx, t, referenced)
	}
	if err != nil {
		warn(err)
		return
	}
	for _, id := range due {
		if referenced[id] {
			continue
		}
		img := st.Plan.Images[id]
		var err error
		switch steps[id] {
		case plan.RetireNow:
			if err = r.retireImage(ctx, img, now); err == nil {
				pruned.Retired++
				log.InfoContext(ctx, "image retired", "imageId", id, "deleteAfterDays", t.Settings.DeleteAfter)
			}
		case plan.RetireDelete:
			err = r.deleteRetired(ctx, log, img, now, pruned)
		}
		if err != nil {
			warn(err)
		}
	}
}

// retireImage lifts an AMI's protection, deprecates it now (the time records
// the retirement) and disables it. An AMI that changed since the read (a
// rollback put it back meanwhile: unchanged) is left for the next run.
func (r *run) retireImage(ctx context.Context, img plan.Image, now time.Time) error {
	if changed, err := r.changedSinceRead(ctx, img); err != nil || changed {
		return err
	}
	if err := r.unprotect(ctx, img); err != nil {
		return err
	}
	_, err := r.ec2.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(img.ID), DeprecateAt: aws.Time(plan.DeprecateAt(now))})
	if err != nil {
		return fmt.Errorf("deprecate image %s: %w", img.ID, err)
	}
	if img.State != string(ec2types.ImageStateAvailable) {
		return nil
	}
	_, err = r.ec2.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(img.ID)})
	if hasCode(err, "IncorrectState") {
		return nil // disabled already (a read that lagged, or a retry)
	}
	if err != nil {
		return fmt.Errorf("disable image %s: %w", img.ID, err)
	}
	return nil
}

// unprotect lifts an AMI's deregistration protection, if it has one.
func (r *run) unprotect(ctx context.Context, img plan.Image) error {
	if !img.Life.Protected {
		return nil
	}
	if _, err := r.ec2.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(img.ID)}); err != nil {
		return fmt.Errorf("lift the deregistration protection of image %s: %w", img.ID, err)
	}
	return nil
}

// deleteRetired deregisters an AMI whose deletion is due, with its snapshots.
// A protection enabled with its cooldown is lifted and the AMI retired
// meanwhile (if it was not yet): a run after the cooldown finds it disabled
// and deregisters it.
// A retired (disabled) AMI counts against the invocation's bound.
func (r *run) deleteRetired(ctx context.Context, log *slog.Logger, img plan.Image, now time.Time, pruned *event.Pruned) error {
	if img.Life.Protected && img.Life.Cooldown && img.State == string(ec2types.ImageStateAvailable) {
		if err := r.retireImage(ctx, img, now); err != nil {
			return err
		}
		pruned.Retired++
		log.InfoContext(ctx, "image retired; deregistered after its protection's cooldown", "imageId", img.ID)
		return nil
	}
	if img.Life.Protected && img.Life.Cooldown {
		// Retired already (its clock is not started again): lifted now,
		// deregistered by a run after the cooldown.
		log.InfoContext(ctx, "image protection lifted; deregistered after its cooldown", "imageId", img.ID)
		return r.unprotect(ctx, img)
	}
	if changed, err := r.changedSinceRead(ctx, img); err != nil || changed {
		return err
	}
	if err := r.unprotect(ctx, img); err != nil {
		return err
	}
	if img.State == string(ec2types.ImageStateDisabled) && r.deletions.Add(1) > plan.MaxDeletionsPerRun {
		log.InfoContext(ctx, "retired image left for the next run", "imageId", img.ID, "bound", plan.MaxDeletionsPerRun)
		return nil
	}
	snaps, err := r.deregister(ctx, img.ID)
	var left *snapshotsLeftError
	switch {
	case errors.As(err, &left):
		// the image is gone; its snapshots are reported for a person
	case err != nil:
		return err
	}
	pruned.Images++
	pruned.Snapshots += snaps
	log.InfoContext(ctx, "image deregistered", "imageId", img.ID, "state", img.State)
	return err
}

// changedSinceRead reads an AMI again just before retention disables or
// deregisters it: one whose state or deregistration protection is not what
// the run read (a rollback enables the AMI it puts back and protects it, and
// DescribeImageReferences may not show the rollback's version yet) is left
// for the next run, which sees the version. An AMI gone meanwhile is changed
// too: nothing is left to do.
func (r *run) changedSinceRead(ctx context.Context, img plan.Image) (bool, error) {
	out, err := r.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{img.ID}, IncludeDisabled: aws.Bool(true)})
	if hasCode(err, "InvalidAMIID.NotFound") {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read image %s again before retiring it: %w", img.ID, err)
	}
	if len(out.Images) != 1 {
		return true, nil
	}
	now := out.Images[0]
	life := LifecycleOf(now)
	changed := string(now.State) != img.State || (life.Protected && !img.Life.Protected) || (life.Protected && life.Cooldown && !img.Life.Cooldown)
	if changed {
		r.log.InfoContext(ctx, "image changed since the read; left for the next run", "imageId", img.ID, "read", img.State, "now", now.State, "protection", aws.ToString(now.DeregistrationProtection))
	}
	return changed, nil
}

// launchedNow adds the AMIs of the template's $Latest and $Default, read
// again after the references: a rollback in a concurrent invocation may have
// put an AMI back since the template was read, in a version that
// DescribeImageReferences does not show yet.
func (r *run) launchedNow(ctx context.Context, t target, referenced map[string]bool) error {
	out, err := r.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(t.ID), Versions: []string{"$Latest", "$Default"}})
	if err != nil {
		return fmt.Errorf("read $Latest and $Default of %s again before retiring: %w", t.Name, err)
	}
	for _, v := range out.LaunchTemplateVersions {
		if v.LaunchTemplateData != nil && v.LaunchTemplateData.ImageId != nil {
			referenced[aws.ToString(v.LaunchTemplateData.ImageId)] = true
		}
	}
	return nil
}
