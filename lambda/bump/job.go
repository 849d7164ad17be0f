package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// job is one target's share of a deploy: what its steps read and learn. The
// steps (jobSteps) are its methods; a dry run walks the same steps with the
// changes checked (EC2's DryRun) instead of made.
type job struct {
	*run
	log    *slog.Logger
	d      *event.Deploy
	deploy plan.Deploy
	t      target
	source imageSource // where the deploy's image comes from

	st    templateState  // the template as last read
	fresh *templateState // a read made with nothing written or waited for since; nil once stale
	mine  *image         // the deploy's image: one to resume on, then the one made
	// resumed: mine was made by an earlier attempt, not by this job's source.
	resumed bool
	res     event.Result
	dry     *dryRunner // nil: a real run
}

// outcome is what a step tells the pipeline: go on, or the target has its
// result.
type outcome bool

const (
	next     outcome = false
	finished outcome = true
)

// jobStep is one named step of a target's deploy.
type jobStep struct {
	name string
	do   func(*job, context.Context) (outcome, error)
}

// jobSteps is the deploy's pipeline for one template, in order. Each step
// either leaves the rest to the next or ends the target with its result.
var jobSteps = []jobStep{
	{"read the template", (*job).readTemplate},
	{"find the image to resume", (*job).findResumable},
	{"check superseded", (*job).checkSuperseded},
	{"check the parameters' names", (*job).checkParameterNames},
	{"ensure the image", (*job).ensureImage},
	{"wait for the image", (*job).awaitImage},
	{"promote and tidy", (*job).promote},
}

// newJob is the job of target t for the deploy d.
func (r *run) newJob(log *slog.Logger, d *event.Deploy, deploy plan.Deploy, t target) *job {
	j := &job{run: r, log: log, d: d, deploy: deploy, t: t, source: instanceSource{}}
	if d.DryRun {
		j.dry = &dryRunner{run: r, t: t, res: &j.res}
	}
	return j
}

// bumpTarget runs the job's steps until one ends it.
func (j *job) bumpTarget(ctx context.Context) (event.Result, error) {
	for _, s := range jobSteps {
		end, err := s.do(j, ctx)
		if err != nil {
			return j.res, err
		}
		if end == finished {
			break
		}
	}
	if j.dry != nil {
		return j.res, j.dry.deniedErr()
	}
	return j.res, nil
}

// readTemplate reads the template and its amibump AMIs; its $Latest must
// carry an image.
func (j *job) readTemplate(ctx context.Context) (outcome, error) {
	known, err := j.templateImagesOnce(ctx, j.t)
	if err != nil {
		return next, err
	}
	st, err := j.run.readTemplate(ctx, j.t, known)
	if err == nil {
		err = checkLatestImage(j.t, st.Plan)
	}
	j.st = st
	j.fresh = &j.st
	return next, err
}

// findResumable finds this deploy's AMI, if an earlier attempt (a retry, a
// replay, a resent event) made it: found by build id, whatever the event's
// time, whose deploy time then counts.
func (j *job) findResumable(context.Context) (outcome, error) {
	for _, img := range j.st.Images {
		if img.Deploy.BuildID == j.deploy.BuildID && img.Tags[event.TagLaunchTemplate] == j.t.ID {
			j.mine, j.resumed = &img, true
			j.deploy = img.Deploy
			return next, nil
		}
	}
	return next, nil
}

// checkSuperseded ends the target when the template already carries a newer
// deploy.
func (j *job) checkSuperseded(ctx context.Context) (outcome, error) {
	s, ok := superseded(j.st, j.t, j.deploy)
	if !ok {
		return next, nil
	}
	s.fill(&j.res)
	j.log.InfoContext(ctx, "superseded before imaging", "version", s.version)
	return finished, nil
}

// checkParameterNames refuses a bad amibump:ssm-parameter tag before anything
// is made.
func (j *job) checkParameterNames(context.Context) (outcome, error) {
	_, err := j.parameterNames(j.t, j.st.Alias)
	return next, err
}

// ensureImage makes sure the deploy has its image: the one an earlier attempt
// made, unless it failed (then it is removed), else a new one from the source.
// A dry run that finds the template already carrying this build ends here.
func (j *job) ensureImage(ctx context.Context) (outcome, error) {
	if j.dry != nil {
		j.res.Status = event.DryRun
		if standing, v := plan.Check(j.st.Plan, j.deploy); standing == plan.Current {
			j.res.Version, j.res.ImageID = v.Number, v.ImageID
			j.dry.say("nothing to do: version %d of %s already carries this build's AMI %s", v.Number, j.t.Name, v.ImageID)
			return finished, nil
		}
	}
	if j.mine != nil && j.mine.State == string(ec2types.ImageStateFailed) {
		if err := j.removeFailed(ctx); err != nil {
			return next, err
		}
	}
	if j.mine != nil {
		if j.dry != nil {
			j.dry.say("resume on image %s (%s), made by an earlier attempt", j.mine.ID, j.mine.State)
			return next, nil
		}
		j.res.SourceInstance = j.mine.Tags[event.TagSourceInstance]
		j.res.ImageID = j.mine.ID
		j.log.InfoContext(ctx, "image found", "imageId", j.mine.ID, "state", j.mine.State)
		return next, nil
	}
	img, err := j.source.makeImage(ctx, j)
	var overtaken *sourceOvertakenError
	var waits *copyWaitsError
	var lost *sourceLostError
	switch {
	case errors.As(err, &overtaken):
		j.res.Status, j.res.Reason = event.Superseded, overtaken.Error()
		return finished, nil
	case errors.As(err, &waits):
		j.res.Status, j.res.Reason = event.Pending, waits.Error()
		return finished, nil
	case errors.As(err, &lost):
		j.res.Status, j.res.Reason = event.Failed, lost.Error()
		return finished, nil
	}
	if err != nil {
		return next, err
	}
	j.mine, j.resumed = &img, false
	if j.dry == nil {
		j.st.Images[img.ID] = img
		j.res.ImageID = img.ID
		j.fresh = nil // an image was made: a read after it decides the promotion
	}
	return next, nil
}

// removeFailed removes the failed AMI of an earlier attempt, so that a fresh
// one is made.
func (j *job) removeFailed(ctx context.Context) error {
	if j.dry != nil {
		j.dry.say("remove the failed image %s of an earlier attempt (%s), then make a fresh one", j.mine.ID, j.mine.Reason)
		j.mine = nil
		return nil
	}
	j.log.InfoContext(ctx, "failed image of an earlier attempt removed", "imageId", j.mine.ID, "reason", j.mine.Reason)
	if _, err := j.deregister(ctx, j.mine.ID); err != nil {
		return err
	}
	delete(j.st.Images, j.mine.ID)
	j.mine = nil
	return nil
}

// awaitImage waits for the deploy's image to be available. It ends the target
// when there is nothing to promote: still pending when time ran out, failed,
// gone. A dry run plans the wait with the new version (promote).
func (j *job) awaitImage(ctx context.Context) (outcome, error) {
	if j.dry != nil || j.mine.State == string(ec2types.ImageStateAvailable) {
		return next, nil
	}
	if j.mine.State == string(ec2types.ImageStateDisabled) {
		// A replay of a retired deploy (or one a person disabled): a disabled
		// AMI is never promoted by a deploy, a state change or reconcile.
		gone := &imageGoneError{ImageID: j.mine.ID, State: j.mine.State}
		return finished, j.imageGone(ctx, j.mine.ID, gone, gone)
	}
	if done, err := j.waitFor(ctx, j.mine.ID); done || err != nil {
		return finished, err
	}
	j.mine.State = string(ec2types.ImageStateAvailable)
	j.st.Images[j.mine.ID] = *j.mine
	j.fresh = nil // waited: others may have promoted meanwhile
	j.log.InfoContext(ctx, "image available", "imageId", j.mine.ID)
	return next, nil
}

// promote puts the available image on the template and tidies up
// (promoteAndTidy); a dry run checks each change instead (dryRunner.promotion).
func (j *job) promote(ctx context.Context) (outcome, error) {
	if j.dry != nil {
		return finished, j.dry.promotion(ctx, j.st, j.mine.Image)
	}
	res, _, err := j.promoteAndTidy(ctx, j.log, j.t, *j.mine, j.st.Images, j.fresh, j.res)
	j.res = res
	return finished, err
}

// supersession says that a template carries a deploy newer than this one.
type supersession struct {
	version int64
	reason  string
}

// fill writes the supersession into a result.
func (s supersession) fill(res *event.Result) {
	res.Status, res.Version, res.Reason = event.Superseded, s.version, s.reason
}

// superseded tells whether the template already carries a newer deploy than
// deploy, and why.
func superseded(st templateState, t target, deploy plan.Deploy) (supersession, bool) {
	standing, v := plan.Check(st.Plan, deploy)
	if standing != plan.Overtaken {
		return supersession{}, false
	}
	return supersession{version: v.Number, reason: fmt.Sprintf("version %d of %s already carries %s, deployed at %s, newer than this deploy (%s); nothing was promoted",
		v.Number, t.Name, v.ImageID, st.Plan.Images[v.ImageID].Deploy.At.Format(time.RFC3339), deploy.At.Format(time.RFC3339))}, true
}

// waitFor waits for the deploy's image. done (with the result filled in) when
// there is nothing to promote: still pending when time ran out, or failed.
func (j *job) waitFor(ctx context.Context, imageID string) (done bool, _ error) {
	err := j.waitAvailable(ctx, imageID)
	var failed *imageFailedError
	var gone *imageGoneError
	var unreadable *imageStateError
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, errStillPending):
		j.res.Status = event.Pending
		j.res.Reason = fmt.Sprintf("image %s is still pending; the AMI state change event or the reconcile schedule will promote it", imageID)
		j.log.InfoContext(ctx, "image still pending", "imageId", imageID)
		return true, nil
	case errors.As(err, &unreadable):
		// An answer amibump cannot read: reported, and returned so that
		// Lambda's retry asks again (a later answer may be a good one).
		j.res.Status, j.res.Reason = event.Failed, err.Error()+"; amibump promotes only an available image: check it in the EC2 console"
		return true, err
	case errors.As(err, &gone):
		if c, ok := j.source.(regionCopy); ok && !j.resumed {
			return true, j.copyGone(ctx, c, imageID, gone, err)
		}
		return true, j.imageGone(ctx, imageID, gone, err)
	case errors.As(err, &failed):
		if c, ok := j.source.(regionCopy); ok {
			j.copyFailed(ctx, c, imageID, failed.Reason)
			return true, nil
		}
		j.res.Status, j.res.Reason = event.Failed, "EC2 could not make the image: "+failed.Reason
		if _, derr := j.deregister(ctx, imageID); derr != nil {
			j.log.WarnContext(ctx, "failed image not removed", "imageId", imageID, "error", derr)
		}
		// Returned as transient: Lambda's retry makes a fresh attempt.
		return true, fmt.Errorf("image %s of %s for %s: %w", imageID, j.res.SourceInstance, j.t.Name, err)
	}
	return true, err
}

// imageGone judges an image that went away while the job waited for it.
// Retention removes the AMIs of deploys a newer one overtook, pending ones too
// once that one is promoted: then this deploy is superseded.
func (j *job) imageGone(ctx context.Context, imageID string, gone *imageGoneError, err error) error {
	st, rerr := j.run.readTemplate(ctx, j.t, nil)
	if rerr != nil {
		return rerr
	}
	if s, ok := superseded(st, j.t, j.deploy); ok {
		s.fill(&j.res)
		j.res.Reason += fmt.Sprintf("; its image %s, no longer needed, was removed by retention", imageID)
		j.log.InfoContext(ctx, "superseded while waiting", "imageId", imageID, "version", j.res.Version)
		return nil
	}
	if gone.State == "" {
		// Not listed past the grace: deregistered (by retention of a newer
		// deploy this read may not show yet, or by a person), or a read that
		// lags. Nothing is called permanent on a read that may be stale: the
		// retry finds this deploy superseded, or images the instance again.
		return fmt.Errorf("%w; no newer deploy is visible on %s yet (EC2 is eventually consistent), so a retry decides", err, j.t.Name)
	}
	// Seen deregistered or disabled while pending: a person or a tool meant it.
	return rejectf("%v: it was deregistered or disabled (by a person or another tool) before amibump promoted it; nothing was promoted. To promote this build, replay its deploy event", err)
}

// copyFailed reports a copy that EC2 could not make (most often a KMS key
// the role may not use: EC2 reads the keys after CopyImage answered) and
// removes it. Not retried within the event (a retry would fail the same
// way): the next reconcile or forward copies afresh, so the copy follows
// as soon as the keys can be used.
func (j *job) copyFailed(ctx context.Context, c regionCopy, imageID, reason string) {
	j.res.Status = event.Failed
	j.res.Reason = fmt.Sprintf("EC2 could not copy %s from %s as %s: %s. The KMS keys a copy uses: %s. The failed copy was removed; let the function's role use each customer managed key (kmsKeyArns, or copyKmsKeyArn for the copy's key) and check the keys' policies: the next reconcile copies again",
		c.src.ID, c.region, imageID, reason, copyKeys(j.cfg.CopyKMSKey, c, j.scope.Region))
	if _, err := j.deregister(ctx, imageID); err != nil {
		j.log.WarnContext(ctx, "failed copy not removed", "imageId", imageID, "error", err)
	}
	j.log.ErrorContext(ctx, "copy failed", "imageId", imageID, "sourceImageId", c.src.ID, "kmsKey", j.cfg.CopyKMSKey, "sourceKeys", c.src.KMSKeys, "reason", reason)
}

// copyKeys names the KMS keys a copy uses: the copy's (copyKmsKeyArn, else
// the region's default KMS key for EBS, used when EBS encryption by default
// is on or the source is encrypted) and the source's.
func copyKeys(copyKey string, c regionCopy, region string) string {
	dst := "copyKmsKeyArn " + copyKey
	if copyKey == "" {
		dst = "no copyKmsKeyArn, so " + region + "'s default KMS key for EBS (used when EBS encryption by default is on there or the source is encrypted; it may be a customer managed key)"
	}
	src := "unencrypted"
	if len(c.src.KMSKeys) > 0 {
		src = strings.Join(c.src.KMSKeys, ", ")
	}
	return fmt.Sprintf("the copy's, %s; the source's in %s, %s", dst, c.region, src)
}

// copyGone judges a copy that EC2 answered CopyImage with but that is gone
// while the job waited: a copy whose deploy a newer one overtook is
// superseded (retention removed it). Else it failed and whoever removed it
// reported it (the AMI state change event of its failure, or an earlier
// attempt of this event whose ClientToken EC2 answers with the removed
// copy), or a person deregistered it, or a read lags: no result here, so a
// failure is reported once, and no error: the next reconcile copies afresh.
func (j *job) copyGone(ctx context.Context, c regionCopy, imageID string, gone *imageGoneError, err error) error {
	st, rerr := j.run.readTemplate(ctx, j.t, nil)
	if rerr != nil {
		return rerr
	}
	if s, ok := superseded(st, j.t, j.deploy); ok {
		s.fill(&j.res)
		return nil
	}
	j.res.Status = ""
	j.log.InfoContext(ctx, "copy gone while waiting; the next reconcile copies afresh", "imageId", imageID, "sourceImageId", c.src.ID, "state", gone.State, "error", err)
	return nil
}
