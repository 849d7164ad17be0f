package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// maxPromoteSteps bounds the steps of one promotion. A promotion alone takes
// three (create, set default, confirm); races with other promoters add a few.
const maxPromoteSteps = 16

// promoteAndTidy promotes an available AMI onto its template, then, in order
// (each a method of release): publishes it to the template's SSM parameters,
// reports the groups and starts their instance refresh where opted in, and
// prunes. A deploy a newer one overtook meanwhile is superseded instead, and
// only pruned. changed tells whether the promotion changed the template (a
// version made or deleted, $Default moved): a promotion found already done
// changes nothing.
//
// known are the template's AMIs known so far; fresh, when not nil, is a read of
// the template made with nothing written or waited for since.
func (r *run) promoteAndTidy(ctx context.Context, log *slog.Logger, t target, img image, known map[string]image, fresh *templateState, res event.Result) (_ event.Result, changed bool, _ error) {
	res.ImageID = img.ID
	if _, err := r.parameterNames(t, ""); err != nil {
		return res, false, err // a bad amibump:ssm-parameter tag: nothing is promoted
	}
	st, step, changed, err := r.promote(ctx, log, t, img, known, fresh)
	if err != nil {
		return res, changed, err
	}
	res.Version = step.Version
	rel := &release{run: r, log: log, t: t, img: img, st: st, changed: changed, res: &res}
	rel.groups, rel.groupsErr = r.autoScalingGroups(ctx)
	var refreshErr error
	switch step.Kind {
	case plan.Superseded:
		rel.superseded(ctx, step.Version)
	case plan.Held:
		rel.held(ctx, step.Version)
	default:
		res.Status = event.Promoted
		rel.liftHold(ctx)
		if err := rel.publish(ctx); err != nil {
			// Transient: the retry finds the promotion done and writes again.
			return res, changed, err
		}
		refreshErr = rel.reportGroups(ctx)
	}
	rel.prune(ctx)
	if refreshErr != nil {
		// Transient: the retry finds the promotion done and starts the refresh.
		return res, changed, fmt.Errorf("instance refresh for %s not started: %w", t.Name, refreshErr)
	}
	return res, changed, nil
}

// release is what follows a promotion, for one template: what its steps read,
// and the result they write.
type release struct {
	*run
	log       *slog.Logger
	t         target
	img       image
	st        templateState
	changed   bool
	groups    []astypes.AutoScalingGroup
	groupsErr error // the groups could not be listed
	res       *event.Result
	// back: a rollback's release, an older deploy than the one the
	// parameters may hold, written all the same.
	back bool
	// rolledBack: when the rollback's version was created (back only; zero
	// when unknown: no refresh is cancelled).
	rolledBack time.Time
}

// superseded reports that version carries a newer deploy than the image.
func (rel *release) superseded(ctx context.Context, version int64) {
	top := rel.st.Plan.Images[versionImage(rel.st.Plan, version)]
	rel.res.Status = event.Superseded
	rel.res.Reason = fmt.Sprintf("version %d of %s carries a newer deploy (build %s, deployed at %s); %s was not promoted",
		version, rel.t.Name, top.Deploy.BuildID, top.Deploy.At.Format("2006-01-02T15:04:05Z07:00"), rel.img.ID)
	rel.log.InfoContext(ctx, "superseded before promoting", "imageId", rel.img.ID, "version", version)
}

// held reports that the template holds the image's deploy (a rollback).
func (rel *release) held(ctx context.Context, version int64) {
	h, _ := rel.st.Plan.Holding()
	rel.res.Status = event.Superseded
	rel.res.Reason = holdReason(rel.t.Name, h, rel.img.Deploy) + fmt.Sprintf(", and version %d stays; %s (build %s) was not promoted. %s",
		version, rel.img.ID, rel.img.Deploy.BuildID, liftedBy(h))
	rel.log.InfoContext(ctx, "held: not promoted", "imageId", rel.img.ID, "version", version, "hold", h.Deploy.BuildID, "since", h.Since)
}

// holdReason says why a hold covers deploy d: its build is the held one or
// older, or it was deployed before the rollback was asked for.
func holdReason(name string, h plan.Hold, d plan.Deploy) string {
	if d.Compare(h.Deploy) > 0 {
		return fmt.Sprintf("%s holds build %s since a rollback asked for at %s (%s=%s): build %s was deployed at %s, before the rollback, and may carry what it rolled back; no deploy made before the rollback is promoted",
			name, h.Deploy.BuildID, h.Since.Format(time.RFC3339), event.TagHold, plan.HoldTag(h.Deploy.BuildID, h.Since), d.BuildID, d.At.Format(time.RFC3339))
	}
	since := ""
	if !h.Since.IsZero() {
		since = " since a rollback asked for at " + h.Since.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s holds build %s%s (%s=%s, a rollback): no deploy of it or an older one is promoted again",
		name, h.Deploy.BuildID, since, event.TagHold, plan.HoldTag(h.Deploy.BuildID, h.Since))
}

// liftedBy says what lifts a hold.
func liftedBy(h plan.Hold) string {
	if h.Since.IsZero() {
		return "A newer deploy lifts the hold"
	}
	return "A deploy of a newer build than " + h.Deploy.BuildID + ", made after " + h.Since.Format(time.RFC3339) + ", lifts the hold"
}

// liftHold removes the template's hold tag once a deploy newer than the hold
// is promoted. A failure is a warning: the tag no longer holds anything (a
// newer deploy is on top), and the next promotion removes it.
func (rel *release) liftHold(ctx context.Context) {
	hold := rel.t.Tags[event.TagHold]
	if hold == "" {
		return
	}
	if _, holding := rel.st.Plan.Holding(); holding {
		return
	}
	_, err := rel.ec2.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{rel.t.ID}, Tags: []ec2types.Tag{{Key: aws.String(event.TagHold), Value: aws.String(hold)}}})
	if err != nil {
		rel.res.Warnings = append(rel.res.Warnings, fmt.Sprintf("the hold %s=%s on %s, which this newer deploy ended, was not removed: %v; the next promotion removes it", event.TagHold, hold, rel.t.Name, err))
		return
	}
	rel.log.InfoContext(ctx, "hold lifted", "hold", hold)
}

// publish writes the release to the template's SSM parameters. A retry that
// finds the promotion done follows an attempt that may have written the
// parameters already.
func (rel *release) publish(ctx context.Context) error {
	warnings, err := rel.writeParameters(ctx, rel.log, rel.t, rel.img, rel.st, paramWrite{confirm: true, earlier: !rel.changed, back: rel.back})
	rel.res.Warnings = append(rel.res.Warnings, warnings...)
	return err
}

// reportGroups warns about the groups that will not launch the release, and
// starts the instance refresh where the template opts in. The error is a
// refresh that was due and not started.
func (rel *release) reportGroups(ctx context.Context) error {
	if rel.groupsErr != nil {
		rel.res.Warnings = append(rel.res.Warnings, "could not check the Auto Scaling groups: "+rel.groupsErr.Error())
		if rel.t.Settings.InstanceRefresh {
			return rel.groupsErr
		}
		return nil
	}
	rel.res.Warnings = append(rel.res.Warnings, groupWarnings(rel.groups, rel.t, rel.st.Resolving)...)
	// A deploy event refreshes even when a retry finds the promotion done:
	// the attempt before may have stopped short of it (SkipMatching makes
	// a second refresh cheap).
	due := rel.changed || rel.env.Classify() == event.KindDeploy || rel.env.Classify() == event.KindRollback
	if !rel.t.Settings.InstanceRefresh || !due {
		return nil
	}
	var rolledBack time.Time
	if rel.back {
		rolledBack = rel.rolledBack
	}
	// The attempt that made the rollback's version hands a wait that runs
	// out to Lambda's retry; the retry, which finds the version made, waits
	// once more and then says what is left.
	warnings, err := rel.refresh(ctx, rel.log, rel.groups, rel.t, rel.st.Alias != "", rolledBack, rel.back && rel.changed)
	if rel.back {
		warnings = rollbackRefreshWarnings(warnings)
	}
	rel.res.Warnings = append(rel.res.Warnings, warnings...)
	return err
}

// prune applies retention, keeping the versions groups are pinned to (none
// deleted when the groups could not be listed).
func (rel *release) prune(ctx context.Context) {
	var pinned map[int64]bool
	if rel.groupsErr == nil {
		pinned = pinnedVersions(rel.groups, rel.t)
	}
	pruned, warnings := rel.run.prune(ctx, rel.log, rel.t, rel.st, pinned)
	rel.res.Pruned = pruned
	rel.res.Warnings = append(rel.res.Warnings, warnings...)
}

// versionImage is the ImageId of version n of t, "" when unknown.
func versionImage(t plan.Template, n int64) string {
	for _, v := range t.Versions {
		if v.Number == n {
			return v.ImageID
		}
	}
	return ""
}

// promote applies plan.Next until the template is in order: our AMI carried by
// the newest amibump version and $Default on it, or a newer deploy there.
// changed tells whether it wrote anything. Every step is decided on a read made
// after the last write; a fresh read it is given serves for the first. A read
// that does not show the last write yet is read again (unseen).
func (r *run) promote(ctx context.Context, log *slog.Logger, t target, img image, known map[string]image, fresh *templateState) (st templateState, step plan.Step, changed bool, err error) {
	var p promotion
	var wrote bool
	for range maxPromoteSteps {
		if wrote {
			// A read right after a write may not show it, nor a racing promoter's.
			if err := r.pause(ctx, 1); err != nil {
				return st, step, changed, fmt.Errorf("promote %s on %s: %w", img.ID, t.Name, err)
			}
		}
		if fresh != nil {
			st, fresh = *fresh, nil
		} else if st, err = r.readTemplate(ctx, t, known); err != nil {
			return st, plan.Step{}, changed, err
		}
		known = st.Images
		if err := checkLatestImage(t, st.Plan); err != nil {
			return st, plan.Step{}, changed, err
		}
		if _, ok := st.Plan.Images[img.ID]; !ok {
			// Not listed yet (eventual consistency) or listed under another state.
			st.Plan.Images[img.ID] = img.Image
			st.Images[img.ID] = img
		}
		step = plan.Next(st.Plan, img.Image, t.Settings.SetDefault)
		if step.Kind != plan.Create && step == p.last {
			// The write made for this step does not show yet: wait, then make it
			// again (it is idempotent) and read again.
			if err := r.unseen(ctx, &p, writeOf(step, t)); err != nil {
				return st, step, changed, err
			}
		} else if step.Kind != plan.Create {
			p.stale = 0
		}
		p.last = step
		var did bool
		switch step.Kind {
		case plan.Done, plan.Superseded, plan.Held:
			return st, step, changed, nil
		case plan.Create:
			did, err = r.createVersion(ctx, log, t, img, st, &p)
		case plan.SetDefault:
			did, err = true, r.setDefault(ctx, log, t, step.Version, nil)
		case plan.Delete:
			did, err = r.deleteStale(ctx, log, t, st, step.Version)
		}
		changed, wrote = changed || did, true
		if err != nil {
			return st, step, changed, err
		}
	}
	return templateState{}, plan.Step{}, changed, fmt.Errorf("launch template %s did not settle after %d steps: other promoters are racing; a retry finishes the job", t.Name, maxPromoteSteps)
}

// createVersion creates the version carrying img from $Latest, with the
// promotion's ClientToken, then moves $Default to it where the template opts
// in. When a version was created before and the read does not show it, EC2
// answered the token with a version that may not be visible yet (read again)
// or that was deleted since, by a person (a rollback) or a tool: the token is
// spent, and making another version would undo that deletion.
func (r *run) createVersion(ctx context.Context, log *slog.Logger, t target, img image, st templateState, p *promotion) (changed bool, err error) {
	if p.created != 0 {
		if r.mayBeStale(p.createdAt) {
			return false, r.unseen(ctx, p, fmt.Sprintf("version %d of %s, just created,", p.created, t.Name))
		}
		return false, rejectf("version %d of %s, which carried %s (build %s), was deleted after amibump created it; amibump does not create it again. "+
			"To promote this build, deploy it again; to stop this report, deregister %s",
			p.created, t.Name, img.ID, img.Deploy.BuildID, img.ID)
	}
	imageID, description, err := r.versionData(t, st, img)
	if err != nil {
		return false, err
	}
	out, err := r.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(t.ID),
		SourceVersion:      aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(imageID)},
		VersionDescription: aws.String(description),
		ClientToken:        aws.String(plan.ClientToken(t.ID, img.ID)),
	})
	if err != nil {
		return false, templateErr(t, fmt.Errorf("create version of %s with %s: %w", t.Name, img.ID, err))
	}
	p.created, p.createdAt = aws.ToInt64(out.LaunchTemplateVersion.VersionNumber), aws.ToTime(out.LaunchTemplateVersion.CreateTime)
	changed = !slices.ContainsFunc(st.Plan.Versions, func(v plan.Version) bool { return v.Number == p.created })
	log.InfoContext(ctx, "version created", "imageId", img.ID, "version", p.created)
	if t.Settings.SetDefault {
		return changed, r.setDefault(ctx, log, t, p.created, p)
	}
	return changed, nil
}

// deleteStale deletes a version of an older deploy that landed above the newest one.
func (r *run) deleteStale(ctx context.Context, log *slog.Logger, t target, st templateState, n int64) (bool, error) {
	_, err := r.deleteVersions(ctx, t, []int64{n})
	var notDeleted *versionsNotDeletedError
	switch {
	case errors.As(err, &notDeleted):
		// Refused for this version (it may have just become $Default): read again.
		log.WarnContext(ctx, "stale version not deleted", "version", n, "error", err)
		return false, nil
	case err != nil:
		return false, err
	}
	log.InfoContext(ctx, "stale version deleted", "version", n, "imageId", versionImage(st.Plan, n))
	return true, nil
}

// setDefault moves $Default to version n. p is the promotion when n is the
// version it just created: EC2 may answer VersionNotFound until the version
// is visible, so the call is repeated (bounded) instead of given up. For a
// version a read showed, VersionNotFound means a racing promoter deleted it:
// the next read decides again.
func (r *run) setDefault(ctx context.Context, log *slog.Logger, t target, n int64, p *promotion) error {
	for {
		_, err := r.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(t.ID), DefaultVersion: aws.String(strconv.FormatInt(n, 10))})
		switch {
		case hasCode(err, "InvalidLaunchTemplateId.VersionNotFound") && p != nil && r.mayBeStale(p.createdAt):
			if err := r.unseen(ctx, p, fmt.Sprintf("version %d of %s, just created,", n, t.Name)); err != nil {
				return err
			}
			continue
		case hasCode(err, "InvalidLaunchTemplateId.VersionNotFound"):
			return nil
		case err != nil:
			return templateErr(t, fmt.Errorf("set default version of %s to %d: %w", t.Name, n, err))
		}
		log.InfoContext(ctx, "default version set", "version", n)
		return nil
	}
}

// templateErr turns "the template is gone" into a permanent error a person can read.
func templateErr(t target, err error) error {
	if hasCode(err, "InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException") {
		return rejectf("launch template %s (%s) no longer exists; it was deleted while amibump worked on it: %w", t.Name, t.ID, err)
	}
	if hasCode(err, "VersionLimitExceeded") {
		return rejectf("launch template %s has reached EC2's quota of 10,000 versions; amibump deletes only versions it made: delete old versions, then replay the deploy event: %w", t.Name, err)
	}
	return err
}

// deleteVersions deletes versions, 200 at a time. A version already gone counts
// as deleted; other per-version failures, which EC2 reports in the output, are
// returned as one error after the rest were deleted.
func (r *run) deleteVersions(ctx context.Context, t target, versions []int64) (int, error) {
	deleted := 0
	var errs []error
	for start := 0; start < len(versions); start += 200 {
		batch := versions[start:min(start+200, len(versions))]
		in := &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(t.ID)}
		for _, v := range batch {
			in.Versions = append(in.Versions, strconv.FormatInt(v, 10))
		}
		out, err := r.ec2.DeleteLaunchTemplateVersions(ctx, in)
		if err != nil {
			return deleted, templateErr(t, fmt.Errorf("delete versions of %s: %w", t.Name, err))
		}
		deleted += len(out.SuccessfullyDeletedLaunchTemplateVersions)
		for _, u := range out.UnsuccessfullyDeletedLaunchTemplateVersions {
			if u.ResponseError != nil && u.ResponseError.Code == ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist {
				deleted++
				continue
			}
			code, msg := "", ""
			if u.ResponseError != nil {
				code, msg = string(u.ResponseError.Code), aws.ToString(u.ResponseError.Message)
			}
			errs = append(errs, fmt.Errorf("delete version %d of %s: %s: %s", aws.ToInt64(u.VersionNumber), t.Name, code, msg))
		}
	}
	if len(errs) > 0 {
		return deleted, &versionsNotDeletedError{errors.Join(errs...)}
	}
	return deleted, nil
}

// versionsNotDeletedError: DeleteLaunchTemplateVersions refused some versions
// (reported inside its output, not as an error of the call).
type versionsNotDeletedError struct{ err error }

func (e *versionsNotDeletedError) Error() string { return e.err.Error() }
func (e *versionsNotDeletedError) Unwrap() error { return e.err }

// prune applies retention, within amibump's guarantees: housekeeping whose failures are warnings;
// the promotion stands and the next promotion or reconcile tries again. It
// deletes the versions that left the keep window, protects the live AMIs
// (protectLive) and takes the AMIs that left the window one stage on
// (retireImages).
//
// pinned are the versions Auto Scaling groups are pinned to (nil when the groups
// could not be listed: then no version is deleted).
func (r *run) prune(ctx context.Context, log *slog.Logger, t target, st templateState, pinned map[int64]bool) (*event.Pruned, []string) {
	p := plan.Retain(st.Plan, t.Settings.Keep, pinned)
	if pinned == nil {
		p.Versions = nil
	}
	pruned := &event.Pruned{}
	var warnings []string
	warn := func(err error) {
		warnings = append(warnings, "retention: "+err.Error()+"; the next promotion or reconcile tries again")
		log.WarnContext(ctx, "retention incomplete", "error", err)
	}
	if len(p.Versions) > 0 {
		n, err := r.deleteVersions(ctx, t, p.Versions)
		pruned.Versions = n
		if err != nil {
			warn(err)
			// A version that could not be deleted may still carry its AMI.
			return pruned, warnings
		}
	}
	r.protectLive(ctx, log, t, st, warn)
	r.retireImages(ctx, log, t, st, p.Images, pruned, warn)
	if pruned.Versions+pruned.Images+pruned.Retired > 0 {
		log.InfoContext(ctx, "pruned", "versions", pruned.Versions, "retired", pruned.Retired, "images", pruned.Images, "snapshots", pruned.Snapshots)
	}
	return pruned, warnings
}

// referenceScope is what retention asks DescribeImageReferences to look at:
// instances, launch templates and SSM parameters.
// AWS's defaults would miss references: version-depth checks only the newest
// 10 versions of each template, so every version is asked for (10000 is the
// most AWS allows, and its quota of versions per template). An instance keeps
// its AMI in every state but terminated: a stopped instance starts again from
// its own volumes, but a person may still want the AMI it came from, and
// pending, shutting-down and stopping are on their way somewhere.
var referenceScope = []ec2types.ResourceTypeRequest{
	{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []ec2types.ResourceTypeOption{{
		OptionName: ec2types.ImageReferenceOptionNameStateName,
		OptionValues: []string{string(ec2types.InstanceStateNamePending), string(ec2types.InstanceStateNameRunning),
			string(ec2types.InstanceStateNameShuttingDown), string(ec2types.InstanceStateNameStopping), string(ec2types.InstanceStateNameStopped)},
	}}},
	{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate, ResourceTypeOptions: []ec2types.ResourceTypeOption{{
		OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{"10000"},
	}}},
	// A parameter (data type aws:ec2:image) holding the AMI: whatever resolves it launches it.
	{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter},
}

// referencedImages tells which images an instance, any version of a launch
// template or an SSM parameter still refers to, with EC2's DescribeImageReferences (10 images a request).
func (r *run) referencedImages(ctx context.Context, ids []string) (map[string]bool, error) {
	refs := map[string]bool{}
	for batch := range slices.Chunk(ids, 10) {
		p := ec2.NewDescribeImageReferencesPaginator(r.ec2, &ec2.DescribeImageReferencesInput{
			ImageIds: batch, ResourceTypes: referenceScope,
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("find references to images %s: %w", strings.Join(batch, ", "), err)
			}
			for _, ref := range page.ImageReferences {
				refs[aws.ToString(ref.ImageId)] = true
			}
		}
	}
	return refs, nil
}

// pinnedVersions are the version numbers groups launch the template at.
func pinnedVersions(groups []astypes.AutoScalingGroup, t target) map[int64]bool {
	pinned := map[int64]bool{}
	for _, g := range groups {
		for _, u := range uses(g, t) {
			if n, err := strconv.ParseInt(u.Version, 10, 64); err == nil {
				pinned[n] = true
			}
		}
	}
	return pinned
}

// refreshPreferences: SkipMatching, so that instances already on the AMI stay;
// ScaleInProtectedInstances Ignore, because AWS's default (Wait) waits an hour
// for someone to lift the protection and then fails the whole refresh, and
// Refresh would replace instances someone protected on purpose (amibump's
// favourite image source among them). Protected instances are reported.
var refreshPreferences = &astypes.RefreshPreferences{
	SkipMatching:              aws.Bool(true),
	ScaleInProtectedInstances: astypes.ScaleInProtectedInstancesIgnore,
}

// parameterRefreshPreferences are for a group whose template reads an SSM
// parameter: Auto Scaling supports no rollback there, and no instance refresh
// "that specifies a desired configuration or uses skip matching" (Auto
// Scaling User Guide, "Use AWS Systems Manager parameters instead of AMI IDs
// in launch templates", Limitations); matching could not tell an instance of
// the old AMI from one of the new anyway when only the parameter changed.
// Every instance is replaced.
var parameterRefreshPreferences = &astypes.RefreshPreferences{
	ScaleInProtectedInstances: astypes.ScaleInProtectedInstancesIgnore,
}

// protectedWarning tells a person which instances the refresh leaves alone.
func protectedWarning(g astypes.AutoScalingGroup) []string {
	var ids []string
	for _, in := range g.Instances {
		if aws.ToBool(in.ProtectedFromScaleIn) {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("group %s: the instance refresh leaves the instances protected from scale-in as they are (%s); replace them when you are ready",
		aws.ToString(g.AutoScalingGroupName), strings.Join(ids, ", "))}
}

// followsTemplate tells whether a group launches the template at $Latest, or
// at a $Default that amibump moves: the groups an instance refresh concerns.
func followsTemplate(g astypes.AutoScalingGroup, t target) bool {
	for _, u := range uses(g, t) {
		if u.Version == "$Latest" || (u.Version == "$Default" && t.Settings.SetDefault) {
			return true
		}
	}
	return false
}

// refreshAllowed tells whether the group carries amibump:instance-refresh=true,
// the tag on which amibump's role allows StartInstanceRefresh (IAM compares
// the value exactly: "True" does not match).
func refreshAllowed(g astypes.AutoScalingGroup) bool {
	return slices.ContainsFunc(g.Tags, func(t astypes.TagDescription) bool {
		return aws.ToString(t.Key) == event.TagInstanceRefresh && aws.ToString(t.Value) == "true"
	})
}

// refreshNotAllowedWarning tells a person how to let amibump refresh a group.
func refreshNotAllowedWarning(group string) string {
	return fmt.Sprintf("group %s: instance refresh not started: the template opts in, but the group does not carry the tag %s=true, "+
		"without which amibump's role may not refresh it; tag the group (aws autoscaling create-or-update-tags --tags "+
		"ResourceId=%s,ResourceType=auto-scaling-group,Key=%s,Value=true,PropagateAtLaunch=false)",
		group, event.TagInstanceRefresh, group, event.TagInstanceRefresh)
}

// refresh starts an instance refresh (refreshPreferences) on each group that launches
// the template at $Latest or at a $Default that amibump moves and that carries
// amibump:instance-refresh=true (a group without it is named in a warning that
// says how to tag it). For a deploy, a refresh already running is reported,
// not fought; a rollback replaces it: it cancels every group's refresh from
// before its version first (replaceForRollback), waits for them together in
// one window (awaitCancelled), and starts its own on the groups whose refresh
// ended.
//
// A refresh that failed for a reason a retry may fix is returned as an error.
// resolving: the version the groups now launch reads an SSM parameter
// (parameterRefreshPreferences). rolledBack, for a rollback only, is when
// its version was created: a refresh that started before it is replaced
// first (replaceForRollback); zero for a deploy, which fights no refresh.
// retryWait: when the wait runs out with a refresh still running, return a
// transient error that says what is left (Lambda's retry skips the cancel and
// waits again) instead of the warnings.
func (r *run) refresh(ctx context.Context, log *slog.Logger, groups []astypes.AutoScalingGroup, t target, resolving bool, rolledBack time.Time, retryWait bool) ([]string, error) {
	prefs := refreshPreferences
	if resolving {
		prefs = parameterRefreshPreferences
	}
	var warnings []string
	var errs []error
	var waits []cancelled
	byName := map[string]astypes.AutoScalingGroup{}
	for _, g := range groups {
		if !followsTemplate(g, t) {
			continue
		}
		name := aws.ToString(g.AutoScalingGroupName)
		if !refreshAllowed(g) {
			warnings = append(warnings, refreshNotAllowedWarning(name))
			continue
		}
		if !rolledBack.IsZero() {
			w, start, wait, err := r.replaceForRollback(ctx, log, name, rolledBack, prefs)
			warnings = append(warnings, w...)
			if err != nil {
				errs = append(errs, fmt.Errorf("group %s: %w", name, err))
			}
			if wait != nil {
				waits, byName[name] = append(waits, *wait), g
			}
			if !start {
				continue
			}
		}
		w, err := r.startRefresh(ctx, log, g, prefs, resolving)
		warnings, errs = append(warnings, w...), append(errs, err)
	}
	if len(waits) > 0 {
		// Every group's refresh is cancelled first: they end together, in one window.
		ended, w, err := r.awaitCancelled(ctx, log, waits, prefs)
		errs = append(errs, err)
		if len(w) > 0 && retryWait {
			errs = append(errs, fmt.Errorf("the wait ran out; a retry waits again: %s", strings.Join(w, "; ")))
		} else {
			warnings = append(warnings, w...)
		}
		for _, c := range ended {
			w, err := r.startRefresh(ctx, log, byName[c.group], prefs, resolving)
			warnings, errs = append(warnings, w...), append(errs, err)
		}
	}
	return warnings, errors.Join(errs...)
}

// startRefresh starts the instance refresh of group g with prefs. A refresh
// already running, or refused for good, is a warning; the error is one a
// retry may fix.
func (r *run) startRefresh(ctx context.Context, log *slog.Logger, g astypes.AutoScalingGroup, prefs *astypes.RefreshPreferences, resolving bool) ([]string, error) {
	name := aws.ToString(g.AutoScalingGroupName)
	out, err := r.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String(name),
		Preferences:          prefs,
	})
	var warnings []string
	if err == nil {
		warnings = append(warnings, protectedWarning(g)...)
	}
	if err == nil && resolving {
		warnings = append(warnings, fmt.Sprintf("group %s: its launch template reads an SSM parameter, for which Auto Scaling supports no skip matching: the instance refresh replaces every instance", name))
	}
	var inProgress *astypes.InstanceRefreshInProgressFault
	switch {
	case errors.As(err, &inProgress) || hasCode(err, "InstanceRefreshInProgress"):
		warnings = append(warnings, fmt.Sprintf(refreshRunning, name))
	case err != nil && IsPermanent(err):
		warnings = append(warnings, fmt.Sprintf("group %s: instance refresh not started: %v", name, err))
	case err != nil:
		return warnings, fmt.Errorf("group %s: %w", name, err)
	default:
		log.InfoContext(ctx, "instance refresh started", "group", name, "instanceRefreshId", aws.ToString(out.InstanceRefreshId))
	}
	return warnings, nil
}

// refreshRunning is the warning for a group whose instance refresh is already
// running, with the group's name.
const refreshRunning = "group %s: an instance refresh is already running; amibump did not start another, so instances launched before this AMI stay until the next refresh"

// rollbackRefreshWarnings rewrites a promotion's warning of a running instance
// refresh for a rollback: the refresh running is likely the bad release's,
// which may go on launching it. A rollback cancels such a refresh before it
// starts its own (replaceForRollback); this warning is for one it could not
// see (its refreshes not readable) or that started meanwhile.
// RollbackInstanceRefresh does not help a group at $Latest or $Default, the
// only groups amibump refreshes (Auto Scaling API reference,
// RollbackInstanceRefresh: not supported when "the Auto Scaling group uses
// the launch template's $Latest or $Default version").
func rollbackRefreshWarnings(warnings []string) []string {
	out := make([]string, len(warnings))
	for i, w := range warnings {
		rest, _ := strings.CutPrefix(w, "group ")
		if group, _, ok := strings.Cut(rest, ": "); ok && fmt.Sprintf(refreshRunning, group) == w {
			w = fmt.Sprintf("group %s: an instance refresh is already running, likely the release rolled back from's, and may go on launching it; amibump did not start another. "+
				"Cancel it and start one (aws autoscaling cancel-instance-refresh --auto-scaling-group-name %s, wait until describe-instance-refreshes shows it Cancelled, then aws autoscaling start-instance-refresh --auto-scaling-group-name %s); "+
				"rollback-instance-refresh does not apply to a group at $Latest or $Default", group, group, group)
		}
		out[i] = w
	}
	return out
}
