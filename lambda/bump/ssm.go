package bump

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// Templates managed as code.
//
// A release is published to SSM parameters after a promotion that leaves its
// AMI the newest: the parameter the template's amibump:ssm-parameter tag names,
// and the one its $Latest ImageId resolves (resolve:ssm:<name>). A resolve:ssm:
// template still gets a new version for each release, one that keeps the
// indirection and names the AMI it stands for in its description: the version
// number is what $Default moves to, and how the template's history shows which
// build each version is. Its groups are refreshed without skip matching
// (parameterRefreshPreferences), and only once the parameter holds the AMI.

// dataTypeImage is the SSM data type of a parameter holding an AMI id.
const dataTypeImage = "aws:ec2:image"

// versionImageID is the AMI a version stands for: its ImageId, or for an
// amibump version that resolves an SSM parameter, the AMI its description names.
func versionImageID(v ec2types.LaunchTemplateVersion) string {
	if v.LaunchTemplateData == nil {
		return ""
	}
	id := aws.ToString(v.LaunchTemplateData.ImageId)
	if plan.IsSSMAlias(id) && plan.Marked(aws.ToString(v.VersionDescription)) {
		if named := plan.DescribedImage(aws.ToString(v.VersionDescription)); named != "" {
			return named
		}
	}
	return id
}

// versionAlias is a version's ImageId when it is resolve:ssm:, else "".
func versionAlias(v ec2types.LaunchTemplateVersion) string {
	if v.LaunchTemplateData == nil || !plan.IsSSMAlias(aws.ToString(v.LaunchTemplateData.ImageId)) {
		return ""
	}
	return aws.ToString(v.LaunchTemplateData.ImageId)
}

// hasParameters reports whether a template has a parameter to keep: its tag
// asks for one, or $Latest resolves one (alias).
func hasParameters(t target, alias string) bool {
	v := strings.ToLower(strings.TrimSpace(t.Tags[event.TagSSMParameter]))
	return alias != "" || (v != "" && v != "false")
}

// checkParameters is reconcile's look at a template whose $Latest is an
// amibump version: its parameters should hold img, the release $Latest
// carries. A write that failed for a moment, or lost a race to an older
// promotion, is put right here. Problems a person must fix are logged: the
// deploy's result reported them already.
func (r *run) checkParameters(ctx context.Context, log *slog.Logger, t target, img image, alias string, known []image) error {
	st := templateState{Images: map[string]image{}, Alias: alias}
	for _, k := range known {
		st.Images[k.ID] = k
	}
	warnings, err := r.writeParameters(ctx, log, t, img, st, paramWrite{earlier: true})
	for _, w := range warnings {
		log.WarnContext(ctx, "parameter not kept", "reason", w)
	}
	return err
}

// versionData is the ImageId and description of the version that promotes img:
// the AMI id, or, when $Latest resolves an SSM parameter, that indirection kept.
func (r *run) versionData(t target, st templateState, img image) (imageID, description string, err error) {
	if st.Alias == "" {
		return img.ID, plan.VersionDescription(img.Deploy.BuildID, img.Tags[event.TagCommit]), nil
	}
	if _, err := r.parameterNames(t, st.Alias); err != nil {
		return "", "", err
	}
	return st.Alias, plan.ResolvedDescription(img.ID, img.Deploy.BuildID, img.Tags[event.TagCommit]), nil
}

// parameterNames are the parameters a template's releases are written to: the
// one its tag names and the one alias (its $Latest's resolve:ssm: ImageId, or
// "") resolves. A name amibump may not write is a permanent error, found before
// anything is made.
func (r *run) parameterNames(t target, alias string) ([]string, error) {
	var names []string
	name, err := plan.TagParameter(event.TagSSMParameter, t.Tags[event.TagSSMParameter], t.Name, r.cfg.SSMPrefix)
	if err != nil {
		return nil, permanent(err)
	}
	if name != "" {
		names = append(names, name)
	}
	if alias != "" {
		name, err := plan.AliasParameter(alias, t.Name, r.cfg.SSMPrefix)
		if err != nil {
			return nil, permanent(err)
		}
		if len(names) == 0 || names[0] != name {
			names = append(names, name)
		}
	}
	if len(names) > 0 && r.ssm == nil {
		return nil, rejectf("launch template %s needs SSM parameter %s written, but amibump runs without an SSM client", t.Name, names[0])
	}
	return names, nil
}

// paramWrite says how writeParameters writes.
type paramWrite struct {
	// confirm: wait until each parameter reads img (or a newer deploy's AMI),
	// so that nothing that follows (an instance refresh) runs while the
	// parameter still resolves the old AMI.
	confirm bool
	// earlier: an earlier write of amibump's (a deploy's attempt before, or
	// the promotion reconcile puts right) may still be validating.
	earlier bool
	// back: a rollback: img replaces whatever the parameter holds, a newer
	// deploy's AMI included (never backwards holds for deploys, not for a
	// person's rollback).
	back bool
}

// writeParameters publishes img, the newest release of t, to its parameters.
// A write that no retry can fix (access denied, a parameter of another data
// type) is a warning: the promotion stands. Others are returned, for a retry.
func (r *run) writeParameters(ctx context.Context, log *slog.Logger, t target, img image, st templateState, mode paramWrite) ([]string, error) {
	names, err := r.parameterNames(t, st.Alias)
	if err != nil {
		return []string{err.Error()}, nil
	}
	var warnings []string
	for _, name := range names {
		err := r.writeParameter(ctx, log, t, name, img, st.Images, mode)
		switch {
		case err != nil && IsPermanent(err):
			log.ErrorContext(ctx, "parameter not written", "parameter", name, "error", err)
			warnings = append(warnings, err.Error())
		case err != nil:
			return warnings, err
		}
	}
	return warnings, nil
}

// writeParameter writes img's id to one parameter, never backwards: read
// first, then write only when it holds neither img nor a newer deploy's AMI.
// Reading first also keeps a repeat from making a new parameter version.
//
// EC2 validates an aws:ec2:image value asynchronously, which "can take up to
// a few minutes": until it has, reads return the value before (or
// ParameterNotFound), and a write meanwhile is refused. Either only means
// "not yet": with confirm, the parameter is read again until it holds img or
// a newer deploy's AMI, for maxStaleReads reads and then while parameterWait
// lasts, and then a transient error lets the retry look again; without, the
// next reconcile does.
func (r *run) writeParameter(ctx context.Context, log *slog.Logger, t target, name string, img image, known map[string]image, mode paramWrite) error {
	wrote, until := false, r.parameterWait(ctx)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > maxStaleReads && !time.Now().Before(until) { //nolint:forbidigo // measured against the context's wall-clock deadline
				return fmt.Errorf("parameter %s of %s does not hold %s yet (EC2 validates aws:ec2:image values asynchronously, which can take minutes); a retry looks again", name, t.Name, img.ID)
			}
			if err := r.pause(ctx, min(attempt, maxStaleReads+1)); err != nil {
				return fmt.Errorf("parameter %s of %s: waiting for %s: %w", name, t.Name, img.ID, err)
			}
		}
		current, err := r.readParameter(ctx, t, name)
		if err != nil {
			return err
		}
		held, err := r.heldDeploy(ctx, current, known)
		if err != nil {
			return fmt.Errorf("read image %s held by parameter %s: %w", current, name, err)
		}
		step := plan.ParameterStep(current, held, img.Image)
		if mode.back && step == plan.Newer {
			step = plan.Write
		}
		switch step {
		case plan.Keep:
			return nil
		case plan.Newer:
			log.InfoContext(ctx, "parameter holds a newer deploy, left", "parameter", name, "held", current)
			return nil
		}
		if !wrote {
			busy, err := r.putParameter(ctx, log, t, name, img, mode.earlier)
			if err != nil {
				return err
			}
			wrote = !busy
		}
		if !mode.confirm {
			return nil
		}
	}
}

// parameterWait is when the wait for a parameter's validation ends:
// ParameterWait from now, and no later than the invocation's deadline minus
// PromoteMargin (a context's deadline is wall-clock time, and the pauses
// between reads run on real time: pause).
func (r *run) parameterWait(ctx context.Context) time.Time {
	now := time.Now() //nolint:forbidigo // measured against the context's wall-clock deadline
	until := now.Add(r.cfg.ParameterWait)
	if deadline, ok := ctx.Deadline(); ok && deadline.Add(-r.cfg.PromoteMargin).Before(until) {
		until = deadline.Add(-r.cfg.PromoteMargin)
	}
	return until
}

// putParameter writes img's id to a parameter in the tier it has (a write
// that names no tier gets the account's default tier, which may differ, and
// SSM refuses to turn Advanced into Standard). busy: SSM refused the write
// because another is being validated. AWS says such a write is refused ("the
// system reports that validation is still in process ... you can try again
// after five minutes") but not with which code: TooManyUpdates, and, when an
// earlier write of ours may still be validating, any refusal but a denial (a
// denial is the role's, whatever is validating).
func (r *run) putParameter(ctx context.Context, log *slog.Logger, t target, name string, img image, earlier bool) (busy bool, err error) {
	tier, err := r.parameterTier(ctx, t, name)
	if err != nil {
		return false, err
	}
	out, err := r.ssm.PutParameter(ctx, &ssm.PutParameterInput{
		Name:        aws.String(name),
		Value:       aws.String(img.ID),
		Type:        ssmtypes.ParameterTypeString,
		DataType:    aws.String(dataTypeImage),
		Tier:        tier,
		Overwrite:   aws.Bool(true),
		Description: aws.String(fmt.Sprintf("amibump: newest release of launch template %s", t.Name)),
	})
	if hasCode(err, "TooManyUpdates") || (err != nil && earlier && !isAccessDenied(errorCode(err))) {
		log.InfoContext(ctx, "parameter write waits: another may be being validated", "parameter", name, "error", err)
		return true, nil
	}
	if hasCode(err, "HierarchyTypeMismatchException", "UnsupportedParameterType", "ParameterLimitExceeded", "ParameterMaxVersionLimitExceeded", "ParameterPatternMismatchException", "HierarchyLevelLimitExceededException") {
		err = permanent(err)
	}
	if err != nil {
		return false, fmt.Errorf("write %s to parameter %s for %s: %w", img.ID, name, t.Name, err)
	}
	log.InfoContext(ctx, "parameter written", "parameter", name, "imageId", img.ID, "parameterVersion", out.Version, "tier", out.Tier)
	return false, nil
}

// parameterTier is the tier a parameter has now (its newest version's, from
// its history: GetParameter does not tell it), or Intelligent-Tiering for a
// new one: SSM makes it Standard (an AMI id needs no more, and Standard costs
// nothing) unless the account's 10,000 standard parameters are reached, where
// naming Standard fails and the account's default might be Advanced anyway
// (SSM User Guide, "Specifying a default parameter tier").
func (r *run) parameterTier(ctx context.Context, t target, name string) (ssmtypes.ParameterTier, error) {
	tier, newest := ssmtypes.ParameterTierIntelligentTiering, int64(0)
	p := ssm.NewGetParameterHistoryPaginator(r.ssm, &ssm.GetParameterHistoryInput{Name: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if hasCode(err, "ParameterNotFound") {
			return tier, nil
		}
		if err != nil {
			return "", fmt.Errorf("read the tier of parameter %s for %s: %w", name, t.Name, err)
		}
		for _, h := range page.Parameters {
			if h.Version > newest && h.Tier != "" {
				tier, newest = h.Tier, h.Version
			}
		}
	}
	return tier, nil
}

// readParameter returns the AMI id a parameter holds ("" when it does not
// exist). A parameter of another data type cannot hold it: SSM does not change
// a parameter's data type to or from aws:ec2:image.
func (r *run) readParameter(ctx context.Context, t target, name string) (string, error) {
	out, err := r.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if hasCode(err, "ParameterNotFound") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read parameter %s for %s: %w", name, t.Name, err)
	}
	p := out.Parameter
	if p == nil {
		return "", nil
	}
	if dt := aws.ToString(p.DataType); p.Type != ssmtypes.ParameterTypeString || dt != dataTypeImage {
		return "", rejectf("parameter %s is a %s of data type %q; amibump writes AMI ids as a String of data type %s, and SSM cannot change a parameter's data type: "+
			"delete the parameter (amibump creates it) or create it with data type %s", name, p.Type, dt, dataTypeImage, dataTypeImage)
	}
	return aws.ToString(p.Value), nil
}

// heldDeploy is the deploy of the AMI a parameter holds, when amibump made it;
// nil for an AMI it did not make, one that is gone, or none.
func (r *run) heldDeploy(ctx context.Context, imageID string, known map[string]image) (*plan.Deploy, error) {
	if imageID == "" {
		return nil, nil
	}
	if img, ok := known[imageID]; ok {
		return &img.Deploy, nil
	}
	out, err := r.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
	if hasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, i := range out.Images {
		if img, ok := amibumpImage(i); ok {
			return &img.Deploy, nil
		}
	}
	return nil, nil
}

// parameters plans the parameter writes of a dry run. SSM has no DryRun, so
// what EC2's DryRun checks elsewhere is checked by reading: each parameter is
// under the prefix (else rejected, as the deploy would be), exists or may be
// created, and is a String of data type aws:ec2:image (else a warning, as on
// the deploy's result). What reading cannot tell is said in the plan.
func (dr *dryRunner) parameters(ctx context.Context, st templateState) error {
	names, err := dr.parameterNames(dr.t, st.Alias)
	if err != nil {
		return err
	}
	if st.Alias != "" {
		dr.say("keep ImageId %s in the new version (EC2 resolves it at launch); it stands for the new AMI once the parameter holds it", st.Alias)
	}
	for _, name := range names {
		current, err := dr.readParameter(ctx, dr.t, name)
		switch {
		case err != nil && isAccessDenied(errorCode(err)):
			dr.denied = append(dr.denied, fmt.Sprintf("ssm:GetParameter on %s: %s", name, errorCode(err)))
		case err != nil && IsPermanent(err):
			dr.res.Warnings = append(dr.res.Warnings, err.Error())
		case err != nil:
			return err
		case current == "":
			dr.say("create SSM parameter %s (String, data type %s, tier Intelligent-Tiering: Standard unless the account's standard parameters are used up) with the new AMI id", name, dataTypeImage)
		default:
			tier, err := dr.parameterTier(ctx, dr.t, name)
			if isAccessDenied(errorCode(err)) {
				dr.denied = append(dr.denied, fmt.Sprintf("ssm:GetParameterHistory on %s: %s", name, errorCode(err)))
				continue
			}
			if err != nil {
				return err
			}
			dr.say("write the new AMI id to SSM parameter %s (String, data type %s, tier %s; holds %s now), unless it holds a newer deploy's AMI", name, dataTypeImage, tier, current)
		}
	}
	if len(names) > 0 {
		dr.say("not checked (SSM has no DryRun): permission to write the parameters (ssm:PutParameter), and EC2's validation of the new AMI id, which happens after the write")
	}
	return nil
}
