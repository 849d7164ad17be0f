package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// deploy handles a deploy-finished event: the event is checked, its targets
// resolved, and every target bumped concurrently and independently.
func (r *run) deploy(ctx context.Context) ([]event.Result, error) {
	d, deploy, err := r.parseDeploy()
	if err != nil {
		res := event.Result{EventID: r.env.ID}
		if d != nil {
			res.Build = &d.Build
		}
		return []event.Result{rejected(ctx, r.log, res, err)}, nil
	}
	targets, err := r.resolve(ctx, d)
	if err != nil {
		if IsPermanent(err) {
			return []event.Result{rejected(ctx, r.log, event.Result{EventID: r.env.ID, Build: &d.Build}, err)}, nil
		}
		return nil, err
	}
	r.log.InfoContext(ctx, "targets resolved", "count", len(targets), "build", d.Build.ID, "replay", r.env.ReplayName)
	if err := instanceScope(d, targets); err != nil {
		results := make([]event.Result, len(targets))
		for i, t := range targets {
			results[i] = rejected(ctx, r.log, event.Result{EventID: r.env.ID, Build: &d.Build, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name}, err)
		}
		return results, nil
	}
	r.reads.targets = targets // the event's shared reads (shared.go)
	results := make([]event.Result, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i := range targets {
		wg.Go(func() { results[i], errs[i] = r.bumpOne(ctx, d, deploy, targets[i]) })
	}
	wg.Wait()
	return withStatus(results), joinTransient(errs)
}

// parseDeploy reads the event's detail and time: the deploy it announces.
// A time beyond the clock-skew allowance is refused: a newer deploy always
// wins, so one event from the future would freeze its templates.
func (r *run) parseDeploy() (*event.Deploy, plan.Deploy, error) {
	d, err := event.ParseDeploy(r.env.Detail)
	if err == nil && r.env.Time.IsZero() {
		err = errors.New(`event has no "time": amibump records it as the deploy time`)
	}
	if err == nil {
		err = event.CheckTime(r.env.Time, r.now(), r.cfg.ClockSkew, "AMIBUMP_CLOCK_SKEW")
	}
	if err != nil {
		return d, plan.Deploy{}, err
	}
	return d, plan.Deploy{At: r.env.Time.UTC().Truncate(time.Second), BuildID: d.Build.ID}, nil
}

// instanceScope refuses an instanceId for more than one template: one
// instance cannot be the release of several.
func instanceScope(d *event.Deploy, targets []target) error {
	if d.InstanceID == "" || len(targets) <= 1 {
		return nil
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return rejectf("detail.instanceId %s names one instance, but %d launch templates match (%s); narrow the event with layer and group, or leave instanceId out",
		d.InstanceID, len(targets), strings.Join(names, ", "))
}

// bumpOne bumps one target and turns the outcome into its result: a permanent
// error is a rejection; a transient one is returned for Lambda's retry and,
// unless the target has a result of its own (a failed image), reports nothing
// now: its retry will.
func (r *run) bumpOne(ctx context.Context, d *event.Deploy, deploy plan.Deploy, t target) (event.Result, error) {
	log := r.log.With("launchTemplateId", t.ID)
	res, err := r.bumpTarget(ctx, log, d, deploy, t)
	res.EventID, res.LaunchTemplateID, res.LaunchTemplateName, res.Build = r.env.ID, t.ID, t.Name, &d.Build
	res.Warnings = append(append([]string{}, t.Warnings...), res.Warnings...)
	switch {
	case err != nil && IsPermanent(err):
		return rejected(ctx, log, res, err), nil
	case err != nil:
		log.WarnContext(ctx, "target failed, to be retried", "imageId", res.ImageID, "error", err)
	default:
		log.InfoContext(ctx, "target finished", "status", res.Status, "imageId", res.ImageID, "version", res.Version)
	}
	return res, err
}

// withStatus drops the results of targets that have none to report yet.
func withStatus(results []event.Result) []event.Result {
	out := results[:0]
	for _, r := range results {
		if r.Status != "" {
			out = append(out, r)
		}
	}
	return out
}

// bumpTarget is the deploy's pipeline for one template, step by step: read the
// template (its $Latest must carry an image), find the image to resume, check
// superseded, check the parameters' names, ensure the image, wait for it,
// promote and tidy. Each step returns early with the target's outcome.
func (r *run) bumpTarget(ctx context.Context, log *slog.Logger, d *event.Deploy, deploy plan.Deploy, t target) (event.Result, error) {
	var res event.Result
	known, err := r.templateImagesOnce(ctx, t)
	if err != nil {
		return res, err
	}
	st, err := r.readTemplate(ctx, t, known)
	if err == nil {
		err = checkLatestImage(t, st.Plan)
	}
	if err != nil {
		return res, err
	}
	mine := resumable(st, t, deploy)
	if mine != nil {
		deploy = mine.Deploy
	}
	if superseded(st, t, deploy, &res) {
		log.InfoContext(ctx, "superseded before imaging", "version", res.Version)
		return res, nil
	}
	if _, err := r.parameterNames(t, st.Alias); err != nil {
		return res, err // before anything is made
	}
	if d.DryRun {
		return r.dryRun(ctx, d, deploy, t, st, mine)
	}
	fresh := &st // the read made before anything was written or waited for
	resumed := mine
	mine, err = r.ensureImage(ctx, log, d, deploy, t, &st, mine, &res)
	if err != nil {
		return res, err
	}
	if mine != resumed {
		fresh = nil // an image was made: a read after it decides the promotion
	}
	res.ImageID = mine.ID
	if mine.State != string(ec2types.ImageStateAvailable) {
		if done, err := r.awaitImage(ctx, log, t, deploy, mine.ID, &res); done || err != nil {
			return res, err
		}
		mine.State = string(ec2types.ImageStateAvailable)
		st.Images[mine.ID] = *mine
		fresh = nil // waited: others may have promoted meanwhile
		log.InfoContext(ctx, "image available", "imageId", mine.ID)
	}
	res, _, err = r.promoteAndTidy(ctx, log, t, *mine, st.Images, fresh, res)
	return res, err
}

// resumable is this deploy's AMI, if an earlier attempt (a retry, a replay, a
// resent event) made it: found by build id, whatever the event's time.
func resumable(st templateState, t target, deploy plan.Deploy) *image {
	for _, img := range st.Images {
		if img.Deploy.BuildID == deploy.BuildID && img.Tags[event.TagLaunchTemplate] == t.ID {
			return &img
		}
	}
	return nil
}

// superseded tells whether the template already carries a newer deploy than
// deploy, and fills in res to say so.
func superseded(st templateState, t target, deploy plan.Deploy, res *event.Result) bool {
	standing, v := plan.Check(st.Plan, deploy)
	if standing != plan.Overtaken {
		return false
	}
	res.Status, res.Version = event.Superseded, v.Number
	res.Reason = fmt.Sprintf("version %d of %s already carries %s, deployed at %s, newer than this deploy (%s); nothing was promoted",
		v.Number, t.Name, v.ImageID, st.Plan.Images[v.ImageID].Deploy.At.Format(time.RFC3339), deploy.At.Format(time.RFC3339))
	return true
}

// ensureImage returns the deploy's image: mine, the one an earlier attempt
// made, unless it failed (then it is removed), else a new one of the source
// instance. st learns of a new image; res gets the source instance.
func (r *run) ensureImage(ctx context.Context, log *slog.Logger, d *event.Deploy, deploy plan.Deploy, t target, st *templateState, mine *image, res *event.Result) (*image, error) {
	if mine != nil && mine.State == string(ec2types.ImageStateFailed) {
		// A failed AMI of an earlier attempt: remove it and make a fresh one.
		log.InfoContext(ctx, "failed image of an earlier attempt removed", "imageId", mine.ID, "reason", mine.Reason)
		if _, err := r.deregister(ctx, mine.ID); err != nil {
			return nil, err
		}
		delete(st.Images, mine.ID)
		mine = nil
	}
	if mine != nil {
		res.SourceInstance = mine.Tags[event.TagSourceInstance]
		log.InfoContext(ctx, "image found", "imageId", mine.ID, "state", mine.State)
		return mine, nil
	}
	src, err := r.pickSource(ctx, t, d.InstanceID)
	if err != nil {
		return nil, err
	}
	res.SourceInstance = src.InstanceID
	log.InfoContext(ctx, "source picked", "instanceId", src.InstanceID, "why", src.Why)
	img, err := r.createImage(ctx, log, d, deploy, t, src.InstanceID, false)
	if err != nil {
		return nil, err
	}
	st.Images[img.ID] = img
	return &img, nil
}

// awaitImage waits for the deploy's image. done (with res filled in) when
// there is nothing to promote: still pending when time ran out, or failed.
func (r *run) awaitImage(ctx context.Context, log *slog.Logger, t target, deploy plan.Deploy, imageID string, res *event.Result) (done bool, _ error) {
	err := r.waitAvailable(ctx, imageID)
	var failed *imageFailedError
	var gone *imageGoneError
	var unreadable *imageStateError
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, errStillPending):
		res.Status = event.Pending
		res.Reason = fmt.Sprintf("image %s is still pending; the AMI state change event or the reconcile schedule will promote it", imageID)
		log.InfoContext(ctx, "image still pending", "imageId", imageID)
		return true, nil
	case errors.As(err, &unreadable):
		// An answer amibump cannot read: reported, and returned so that
		// Lambda's retry asks again (a later answer may be a good one).
		res.Status, res.Reason = event.Failed, err.Error()+"; amibump promotes only an available image: check it in the EC2 console"
		return true, err
	case errors.As(err, &gone):
		// Retention removes the AMIs of deploys a newer one overtook, pending
		// ones too once that one is promoted: then this deploy is superseded.
		if st, rerr := r.readTemplate(ctx, t, nil); rerr != nil {
			return true, rerr
		} else if superseded(st, t, deploy, res) {
			res.Reason += fmt.Sprintf("; its image %s, no longer needed, was removed by retention", imageID)
			log.InfoContext(ctx, "superseded while waiting", "imageId", imageID, "version", res.Version)
			return true, nil
		}
		if gone.State == "" {
			// Not listed past the grace: deregistered (by retention of a newer
			// deploy this read may not show yet, or by a person), or a read that
			// lags. Nothing is called permanent on a read that may be stale: the
			// retry finds this deploy superseded, or images the instance again.
			return true, fmt.Errorf("%w; no newer deploy is visible on %s yet (EC2 is eventually consistent), so a retry decides", err, t.Name)
		}
		// Seen deregistered or disabled while pending: a person or a tool meant it.
		return true, rejectf("%v: it was deregistered or disabled (by a person or another tool) before amibump promoted it; nothing was promoted. To promote this build, replay its deploy event", err)
	case errors.As(err, &failed):
		res.Status, res.Reason = event.Failed, "EC2 could not make the image: "+failed.Reason
		if _, derr := r.deregister(ctx, imageID); derr != nil {
			log.WarnContext(ctx, "failed image not removed", "imageId", imageID, "error", derr)
		}
		// Returned as transient: Lambda's retry makes a fresh attempt.
		return true, fmt.Errorf("image %s of %s for %s: %w", imageID, res.SourceInstance, t.Name, err)
	}
	return true, err
}

// createImage requests the deploy's AMI of the source instance, tagged on the
// AMI and its snapshots. A name already taken is the AMI an earlier attempt made.
func (r *run) createImage(ctx context.Context, log *slog.Logger, d *event.Deploy, deploy plan.Deploy, t target, instanceID string, dryRun bool) (image, error) {
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
		DryRun: aws.Bool(dryRun),
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
		img, found, ferr := r.findImageByName(ctx, name)
		if ferr != nil {
			return image{}, ferr
		}
		if !found {
			return image{}, fmt.Errorf("AMI name %s is taken but the image is not visible yet; retrying", name)
		}
		if img.Tags[event.TagLaunchTemplate] != t.ID || img.Deploy.BuildID != deploy.BuildID {
			return image{}, rejectf("AMI name %s is taken by %s, which amibump made for launch template %s, build %s; rename one of the templates (their first %d characters are the same)",
				name, img.ID, img.Tags[event.TagLaunchTemplate], img.Deploy.BuildID, plan.TemplateNameKept)
		}
		log.InfoContext(ctx, "image found by name", "imageId", img.ID, "state", img.State)
		return img, nil
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
