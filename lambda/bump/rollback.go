package bump

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// rollback handles a rollback-requested event: the event is checked, its
// targets resolved, and every target rolled back concurrently and
// independently.
func (r *run) rollback(ctx context.Context) ([]event.Result, error) {
	rb, err := event.ParseRollback(r.env.Detail)
	if err == nil && r.env.Time.IsZero() {
		err = fmt.Errorf(`event has no "time": a deploy after it supersedes the rollback`)
	}
	if err == nil {
		err = event.CheckTime(r.env.Time, r.now(), r.cfg.ClockSkew, "AMIBUMP_CLOCK_SKEW")
	}
	if err != nil {
		return []event.Result{rejected(ctx, r.log, event.Result{EventID: r.env.ID}, err)}, nil
	}
	targets, err := r.resolveSelector(ctx, rb.Selector())
	if err != nil {
		if IsPermanent(err) {
			return []event.Result{rejected(ctx, r.log, event.Result{EventID: r.env.ID}, err)}, nil
		}
		return nil, err
	}
	r.log.InfoContext(ctx, "rollback targets resolved", "count", len(targets), "toBuild", rb.ToBuild, "reason", rb.Reason)
	r.reads.targets = targets // one listing of the targets' AMIs (eventReads)
	req := plan.RollbackRequest{EventID: r.env.ID, ToBuild: rb.ToBuild, At: r.env.Time.UTC()}
	jobs := make([]*rollbackJob, len(targets))
	for i, t := range targets {
		jobs[i] = &rollbackJob{run: r, log: r.log.With("launchTemplateId", t.ID), rb: rb, req: req, t: t}
		if rb.DryRun {
			jobs[i].dry = &dryRunner{run: r, t: t, res: &jobs[i].res}
		}
	}
	// Read beside the templates' versions: the groups, which every release
	// needs (a failure is asked again), and the targets' AMIs, one listing.
	var groups sync.WaitGroup
	groups.Go(func() { _, _ = r.autoScalingGroups(ctx) })
	groups.Go(func() { _, _ = r.templateImagesOnce(ctx, targets[0]) })
	// Read and decide for every target, hold them all (one CreateTags per
	// build held), then make the versions: the hold comes first.
	eachJob(jobs, func(j *rollbackJob) { j.runSteps(ctx, prepareSteps) })
	r.holdAll(ctx, jobs)
	eachJob(jobs, func(j *rollbackJob) { j.runSteps(ctx, applySteps) })
	groups.Wait()
	results := make([]event.Result, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		results[i], errs[i] = j.result(ctx)
	}
	return withStatus(results), joinTransient(errs)
}

// eachJob runs f for every job concurrently (the run's gate bounds the calls).
func eachJob(jobs []*rollbackJob, f func(*rollbackJob)) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { f(j) })
	}
	wg.Wait()
}

// result turns a job's outcome into its result, as bumpOne does.
func (j *rollbackJob) result(ctx context.Context) (event.Result, error) {
	err := j.err
	if err == nil && j.dry != nil {
		err = j.dry.deniedErr()
	}
	res := j.res
	res.EventID, res.LaunchTemplateID, res.LaunchTemplateName = j.env.ID, j.t.ID, j.t.Name
	res.Warnings = append(append([]string{}, j.t.Warnings...), res.Warnings...)
	switch {
	case err != nil && IsPermanent(err):
		return rejected(ctx, j.log, res, err), nil
	case err != nil:
		j.log.WarnContext(ctx, "rollback failed, to be retried", "error", err)
	default:
		j.log.InfoContext(ctx, "rollback finished", "status", res.Status, "imageId", res.ImageID, "version", res.Version)
	}
	return res, err
}

// holdAll tags the templates that are not held at their hold yet: one
// CreateTags for all the templates held at the same build (EC2 takes up to
// 1,000 resources a call). A call that fails (one template deleted meanwhile
// fails them all) is made again per template, so that each gets its own
// answer. A dry run checks each template's tag on its own.
func (r *run) holdAll(ctx context.Context, jobs []*rollbackJob) {
	byHold := map[string][]*rollbackJob{}
	var holds []string
	for _, j := range jobs {
		value := j.holdTag()
		switch {
		case j.done || j.err != nil || (j.dry == nil && j.t.Tags[event.TagHold] == value):
			continue
		case j.dry != nil:
			_, j.err = j.hold(ctx)
			continue
		}
		if byHold[value] == nil {
			holds = append(holds, value)
		}
		byHold[value] = append(byHold[value], j)
	}
	for _, hold := range holds {
		for batch := range slices.Chunk(byHold[hold], 1000) {
			r.holdBatch(ctx, hold, batch)
		}
	}
}

// holdTag is the value of amibump:hold the rollback writes: the build held
// and when the rollback was asked for (plan.HoldTag).
func (j *rollbackJob) holdTag() string { return plan.HoldTag(j.p.Hold, j.p.HoldSince) }

// holdBatch tags a batch of templates held at the same build, since the same time.
func (r *run) holdBatch(ctx context.Context, hold string, batch []*rollbackJob) {
	ids := make([]string, len(batch))
	for i, j := range batch {
		ids[i] = j.t.ID
	}
	_, err := r.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String(event.TagHold), Value: aws.String(hold)}}})
	for _, j := range batch {
		switch {
		case err != nil && len(batch) > 1:
			_, j.err = j.hold(ctx)
		case err != nil:
			j.err = templateErr(j.t, fmt.Errorf("tag %s %s=%s: %w", j.t.Name, event.TagHold, hold, err))
		default:
			j.log.InfoContext(ctx, "template held", "hold", hold)
		}
	}
}

// rollbackJob is one target's share of a rollback: what its steps read and
// decide. A dry run walks the same steps with each change checked (EC2's
// DryRun) instead of made.
type rollbackJob struct {
	*run
	log     *slog.Logger
	rb      *event.Rollback
	req     plan.RollbackRequest
	t       target
	st      templateState
	p       plan.RollbackPlan
	version int64      // the rollback's version
	made    *promotion // the version this attempt created, for $Default
	res     event.Result
	dry     *dryRunner // nil: a real run
	done    bool       // a step ended the target
	err     error      // a step failed
}

// rollbackStep is one named step of a target's rollback.
type rollbackStep struct {
	name string
	do   func(*rollbackJob, context.Context) (outcome, error)
}

// A rollback's pipeline for one template, in two parts: prepareSteps, then
// the hold (holdAll, for every target at once), then applySteps. The hold is
// written before the version: a reader that sees the version above the
// newest deploy without the hold would take it for a stale one (the version's
// own mark holds too, once it is visible).
var (
	prepareSteps = []rollbackStep{
		{"read the template", (*rollbackJob).read},
		{"decide", (*rollbackJob).decide},
		{"protect and enable the AMI", (*rollbackJob).enable},
	}
	applySteps = []rollbackStep{
		{"make the version", (*rollbackJob).makeVersion},
		{"move $Default", (*rollbackJob).moveDefault},
		{"check the AMI", (*rollbackJob).checkImage},
		{"publish and refresh", (*rollbackJob).release},
	}
)

// runSteps runs steps until one ends the target or fails; a job already
// ended or failed runs none.
func (j *rollbackJob) runSteps(ctx context.Context, steps []rollbackStep) {
	for _, s := range steps {
		if j.done || j.err != nil {
			return
		}
		end, err := s.do(j, ctx)
		j.done, j.err = end == finished, err
	}
}

// read reads the template, its amibump AMIs (disabled ones included), and
// any disabled one its versions carry that the listing did not show (a
// listing made before it was disabled, shared with the other targets).
func (j *rollbackJob) read(ctx context.Context) (outcome, error) {
	st, err := j.readTemplateThen(ctx, j.t, func(ctx context.Context) (map[string]image, error) { return j.templateImagesOnce(ctx, j.t) })
	if err == nil {
		err = checkLatestImage(j.t, st.Plan)
	}
	if err != nil {
		return next, err
	}
	if st.Alias != "" {
		return next, rejectf("launch template %s reads its AMI from SSM parameter %s (resolve:ssm:): amibump rollback does not roll such a template back; "+
			"write the older AMI to the parameter (aws ssm put-parameter --overwrite) and start an instance refresh", j.t.Name, strings.TrimPrefix(st.Alias, "resolve:ssm:"))
	}
	j.st = st
	return next, j.readDisabled(ctx)
}

// readDisabled adds the disabled amibump AMIs of the template to what is
// known, when a marked version carries an AMI the listing did not show.
func (j *rollbackJob) readDisabled(ctx context.Context) error {
	missing := false
	for _, v := range j.st.Plan.Versions {
		if _, ok := j.st.Plan.Images[v.ImageID]; v.Marked && !ok {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	p := ec2.NewDescribeImagesPaginator(j.ec2, &ec2.DescribeImagesInput{
		Owners: []string{"self"}, IncludeDisabled: aws.Bool(true), MaxResults: aws.Int32(1000),
		// DescribeImages documents the state filter's values as available,
		// pending and failed only: disabled AMIs are picked here, not filtered.
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + event.TagLaunchTemplate), Values: []string{j.t.ID}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list disabled images of %s: %w", j.t.Name, err)
		}
		for _, raw := range page.Images {
			if img, ok := amibumpImage(raw); ok && raw.State == ec2types.ImageStateDisabled && img.Tags[event.TagLaunchTemplate] == j.t.ID {
				j.st.Images[img.ID] = img
				j.st.Plan.Images[img.ID] = img.Image
			}
		}
	}
	return nil
}

// decide asks plan.PlanRollback; a rollback with nothing to roll back to is
// rejected, one a later deploy or rollback replaced is superseded.
func (j *rollbackJob) decide(ctx context.Context) (outcome, error) {
	j.p = plan.PlanRollback(j.st.Plan, j.req)
	j.res.Build, j.res.RolledBackFrom = j.buildOf(j.p.To), j.buildOf(j.p.From)
	switch j.p.Kind {
	case plan.RollbackRejected:
		return finished, rejectf("cannot roll back %s: %s", j.t.Name, j.p.Reason)
	case plan.RollbackSuperseded:
		j.res.Status, j.res.Reason = event.Superseded, j.p.Reason
		j.log.InfoContext(ctx, "rollback superseded", "reason", j.p.Reason)
		return finished, nil
	case plan.RollbackResume:
		j.version = j.p.Source.Number
	}
	if j.dry != nil {
		j.res.Status = event.DryRun
	}
	j.res.ImageID = j.p.To.ID
	return next, nil
}

// buildOf is the build of an amibump AMI of the template, from its tags.
func (j *rollbackJob) buildOf(img plan.Image) *event.Build {
	if img.Deploy.BuildID == "" {
		return nil
	}
	b := &event.Build{ID: img.Deploy.BuildID}
	if known, ok := j.st.Images[img.ID]; ok {
		b.URL, b.Commit = known.Tags[event.TagBuildURL], known.Tags[event.TagCommit]
	}
	return b
}

// enable protects the AMI put back from deregistration, then makes it
// available again if it is disabled: a version may carry a disabled AMI, but
// no instance launches from it. The protection comes first, with its
// cooldown: retention in a concurrent invocation, whose read of the AMI's
// references may not show the rollback's version yet, reads the AMI again
// before it disables or deregisters it, and leaves one whose state or
// protection changed (changedSinceRead); DeregisterImage is refused meanwhile.
func (j *rollbackJob) enable(ctx context.Context) (outcome, error) {
	if err := j.protect(ctx); err != nil {
		return next, err
	}
	if j.p.To.State != string(ec2types.ImageStateDisabled) {
		return next, nil
	}
	in := &ec2.EnableImageInput{ImageId: aws.String(j.p.To.ID)}
	if j.dry != nil {
		j.dry.say("enable the disabled AMI %s (build %s)", j.p.To.ID, j.p.To.Deploy.BuildID)
		in.DryRun = aws.Bool(true)
		_, err := j.ec2.EnableImage(ctx, in)
		return next, j.dry.check("ec2:EnableImage", err)
	}
	_, err := j.ec2.EnableImage(ctx, in)
	if hasCode(err, "IncorrectState") {
		err = nil // enabled meanwhile (an earlier attempt): what it asks is done
	}
	if err != nil {
		return next, fmt.Errorf("enable image %s for %s: %w", j.p.To.ID, j.t.Name, err)
	}
	j.log.InfoContext(ctx, "image enabled", "imageId", j.p.To.ID)
	return next, nil
}

// protect enables the deregistration protection of the AMI put back, with
// its cooldown, unless the read shows it so protected already.
func (j *rollbackJob) protect(ctx context.Context) error {
	if j.p.To.Life.Protected && j.p.To.Life.Cooldown {
		return nil
	}
	in := &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(j.p.To.ID), WithCooldown: aws.Bool(true)}
	if j.dry != nil {
		j.dry.say("protect %s (build %s) from deregistration, with cooldown", j.p.To.ID, j.p.To.Deploy.BuildID)
		in.DryRun = aws.Bool(true)
		_, err := j.ec2.EnableImageDeregistrationProtection(ctx, in)
		return j.dry.check("ec2:EnableImageDeregistrationProtection", err)
	}
	if _, err := j.ec2.EnableImageDeregistrationProtection(ctx, in); err != nil {
		return fmt.Errorf("protect image %s of %s from deregistration: %w", j.p.To.ID, j.t.Name, err)
	}
	j.log.InfoContext(ctx, "image protected from deregistration", "imageId", j.p.To.ID)
	return nil
}

// hold tags one template amibump:hold=<build held>@<since> (holdAll tags them
// together; this is the dry run's check, and the way a failed batch is made
// again one template at a time).
func (j *rollbackJob) hold(ctx context.Context) (outcome, error) {
	value := j.holdTag()
	in := &ec2.CreateTagsInput{Resources: []string{j.t.ID}, Tags: []ec2types.Tag{{Key: aws.String(event.TagHold), Value: aws.String(value)}}}
	if j.dry != nil {
		j.dry.say("tag %s %s=%s: no deploy of build %s or an older one, nor one made before the rollback, is promoted until a deploy of a newer build made after it", j.t.Name, event.TagHold, value, j.p.Hold)
		in.DryRun = aws.Bool(true)
		_, err := j.ec2.CreateTags(ctx, in)
		return next, j.dry.check("ec2:CreateTags", err)
	}
	if _, err := j.ec2.CreateTags(ctx, in); err != nil {
		return next, templateErr(j.t, fmt.Errorf("tag %s %s=%s: %w", j.t.Name, event.TagHold, value, err))
	}
	j.log.InfoContext(ctx, "template held", "hold", value)
	return next, nil
}

// makeVersion creates the rollback's version from the version that carries
// the release, with the rollback's own ClientToken (plan.RollbackToken).
func (j *rollbackJob) makeVersion(ctx context.Context) (outcome, error) {
	if j.p.Kind != plan.RollbackMake {
		return next, nil
	}
	in := &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   aws.String(j.t.ID),
		SourceVersion:      aws.String(strconv.FormatInt(j.p.Source.Number, 10)),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(j.p.To.ID)},
		VersionDescription: aws.String(plan.RollbackDescription(j.p.To.Deploy.BuildID, j.p.From.Deploy.BuildID, j.req.EventID, j.req.At)),
		ClientToken:        aws.String(plan.RollbackToken(j.t.ID, j.p.To.ID, j.req.EventID)),
	}
	if j.dry != nil {
		j.dry.say("create version %d of %s from version %d (build %s, %s): roll back from build %s", j.st.Plan.Latest()+1, j.t.Name, j.p.Source.Number, j.p.To.Deploy.BuildID, j.p.To.ID, j.p.From.Deploy.BuildID)
		in.DryRun, in.ClientToken = aws.Bool(true), nil
		_, err := j.ec2.CreateLaunchTemplateVersion(ctx, in)
		return next, j.dry.check("ec2:CreateLaunchTemplateVersion", err)
	}
	out, err := j.ec2.CreateLaunchTemplateVersion(ctx, in)
	if err != nil {
		return next, templateErr(j.t, fmt.Errorf("create rollback version of %s from version %d: %w", j.t.Name, j.p.Source.Number, err))
	}
	j.version = aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
	j.made = &promotion{created: j.version, createdAt: aws.ToTime(out.LaunchTemplateVersion.CreateTime)}
	j.log.InfoContext(ctx, "rollback version created", "version", j.version, "imageId", j.p.To.ID)
	if out.Warning != nil {
		for _, e := range out.Warning.Errors {
			j.res.Warnings = append(j.res.Warnings, fmt.Sprintf("EC2 warns of version %d of %s: %s: %s", j.version, j.t.Name, aws.ToString(e.Code), aws.ToString(e.Message)))
		}
	}
	return next, nil
}

// checkImage reads the AMI put back again once its version exists and
// $Default is on it: a version may carry a disabled or deregistered AMI, from
// which every launch fails ("Disable an AMI"), and retention or a person may
// have disabled it since it was enabled. Unless it is available, the rollback
// fails, to be retried: the retry finds its version and enables the AMI
// again. It comes after $Default, not before: during an incident the groups
// should leave the bad release at once, and the read changes nothing the
// retry would not do; it comes before the parameter and the refresh, which
// must not start from an AMI no instance launches from.
func (j *rollbackJob) checkImage(ctx context.Context) (outcome, error) {
	if j.dry != nil {
		return next, nil
	}
	out, err := j.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{j.p.To.ID}, IncludeDisabled: aws.Bool(true)})
	state := "deregistered"
	switch {
	case hasCode(err, "InvalidAMIID.NotFound"):
	case err != nil:
		return next, fmt.Errorf("read image %s put back on %s: %w", j.p.To.ID, j.t.Name, err)
	case len(out.Images) == 1:
		state = string(out.Images[0].State)
	}
	if state != string(ec2types.ImageStateAvailable) {
		return next, fmt.Errorf("image %s put back on %s by version %d is %s, not available: no instance launches from it; the rollback is retried", j.p.To.ID, j.t.Name, j.version, state)
	}
	return next, nil
}

// moveDefault moves $Default to the rollback's version, unless the template
// opts out (amibump:set-default=false: amibump never moved it there either).
func (j *rollbackJob) moveDefault(ctx context.Context) (outcome, error) {
	if !j.t.Settings.SetDefault {
		if j.dry != nil {
			j.dry.say("leave $Default of %s alone (%s=false)", j.t.Name, event.TagSetDefault)
		}
		return next, nil
	}
	if j.dry != nil {
		return next, j.dry.setDefault(ctx, j.st.Plan.Latest())
	}
	if j.made == nil && j.st.Plan.Default() == j.version {
		return next, nil
	}
	return next, j.setDefault(ctx, j.log, j.t, j.version, j.made)
}

// release writes the SSM parameters, reports the groups and starts their
// instance refresh where the template opts in, as a promotion does; and
// writes the result.
func (j *rollbackJob) release(ctx context.Context) (outcome, error) {
	if j.dry != nil {
		_, err := j.dry.groups(ctx, j.st)
		if j.t.Settings.InstanceRefresh {
			j.dry.say("an instance refresh still running on those groups that started before the rollback's version is cancelled first (%s=true groups only), and the rollback's started once it ends", event.TagInstanceRefresh)
		}
		return finished, err
	}
	img := j.st.Images[j.p.To.ID]
	img.Image = j.p.To
	rel := &release{run: j.run, log: j.log, t: j.t, img: img, st: j.st, changed: j.made != nil, res: &j.res, back: true, rolledBack: j.st.Created[j.version]}
	if j.made != nil {
		rel.rolledBack = j.made.createdAt
	}
	rel.groups, rel.groupsErr = j.autoScalingGroups(ctx)
	j.res.Status, j.res.Version = event.RolledBack, j.version
	j.res.Reason = j.reason()
	if err := rel.publish(ctx); err != nil {
		return finished, err
	}
	err := rel.reportRollbackGroups(ctx, j.version)
	if err != nil {
		return finished, fmt.Errorf("instance refresh for %s not started: %w", j.t.Name, err)
	}
	return finished, nil
}

// reason says what the rollback did, naming both releases.
func (j *rollbackJob) reason() string {
	made := fmt.Sprintf("made from version %d", j.p.Source.Number)
	if j.p.Kind == plan.RollbackResume {
		made = "made before (nothing new was made)"
	}
	s := fmt.Sprintf("rolled back from build %s (%s) to build %s (%s): version %d of %s, %s; held at build %s (%s=%s) until a deploy of a newer build made after %s",
		j.p.From.Deploy.BuildID, j.p.From.ID, j.p.To.Deploy.BuildID, j.p.To.ID, j.version, j.t.Name, made, j.p.Hold, event.TagHold, j.holdTag(), j.p.HoldSince.Format(time.RFC3339))
	if j.p.To.State == string(ec2types.ImageStateDisabled) {
		s += fmt.Sprintf("; %s was disabled and is enabled again", j.p.To.ID)
	}
	if j.rb.Reason != "" {
		s += "; reason given: " + j.rb.Reason
	}
	at := j.p.To.Deploy.At
	if !at.IsZero() {
		s += "; the release put back was deployed at " + at.Format(time.RFC3339)
	}
	return s
}

// reportRollbackGroups starts the instance refresh where due, and tells what
// each group pinned to a version must do: a pinned group keeps launching its
// version, the bad release or not.
func (rel *release) reportRollbackGroups(ctx context.Context, version int64) error {
	if rel.groupsErr != nil {
		return rel.reportGroups(ctx)
	}
	saved := rel.res.Warnings
	err := rel.reportGroups(ctx)
	var kept []string
	for _, w := range rel.res.Warnings[len(saved):] {
		if !strings.Contains(w, "is pinned to launch template version") {
			kept = append(kept, w)
		}
	}
	rel.res.Warnings = append(saved, kept...)
	for _, g := range rel.groups {
		for _, u := range uses(g, rel.t) {
			if n := parseVersion(u.Version); n != 0 && n != version && !rel.st.Resolving[n] {
				rel.res.Warnings = append(rel.res.Warnings, fmt.Sprintf("group %s is pinned to version %d of %s and keeps launching it, whatever the rollback: "+
					"point it at version %d (the rollback's), $Default or $Latest (aws autoscaling update-auto-scaling-group --auto-scaling-group-name %s --launch-template LaunchTemplateId=%s,Version=%d), then start an instance refresh",
					u.Group, n, rel.t.Name, version, u.Group, rel.t.ID, version))
			}
		}
	}
	return err
}
