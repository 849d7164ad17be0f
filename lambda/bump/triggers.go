package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// amiState handles an EC2 AMI State Change event: an amibump AMI that became
// available is promoted, one that failed is removed and reported. AMIs amibump
// did not make are ignored quietly.
func (r *run) amiState(ctx context.Context) ([]event.Result, error) {
	s, err := event.ParseAMIState(r.env.Detail)
	if err != nil {
		r.log.ErrorContext(ctx, "event rejected", "error", err)
		return []event.Result{{Status: event.Rejected, EventID: r.env.ID, Reason: err.Error()}}, nil
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
		res.LaunchTemplateID, res.Status = templateID, event.Rejected
		res.Reason = fmt.Sprintf("launch template %s of image %s no longer exists; nothing to promote", templateID, img.ID)
		log.ErrorContext(ctx, "target rejected", "reason", res.Reason)
		return []event.Result{res}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe launch template %s: %w", templateID, err)
	}
	t := newTarget(lts.LaunchTemplates[0])
	if missing := t.missingTags(); len(missing) > 0 {
		res := imageResult(r.env.ID, img)
		res.LaunchTemplateID, res.LaunchTemplateName, res.Status = t.ID, t.Name, event.Rejected
		res.Reason = fmt.Sprintf("launch template %s is no longer managed by amibump (it has no %s tag), so image %s was not promoted; tag the template again and replay the deploy event, or deregister %s",
			t.Name, strings.Join(missing, " or "), img.ID, img.ID)
		log.ErrorContext(ctx, "target rejected", "reason", res.Reason)
		return []event.Result{res}, nil
	}
	res, _, err := r.settleImage(ctx, log, t, img, templateState{})
	return withStatus([]event.Result{res}), joinTransient([]error{err})
}

// settleImage finishes the job for an amibump AMI found by a trigger other than
// its deploy event: promote it when available, remove and report it when failed.
// An image in another state has no result (its status is empty). changed tells
// whether anything was changed.
func (r *run) settleImage(ctx context.Context, log *slog.Logger, t target, img image, st templateState) (event.Result, bool, error) {
	res := imageResult(r.env.ID, img)
	res.LaunchTemplateID, res.LaunchTemplateName = t.ID, t.Name
	res.Warnings = append(res.Warnings, t.Warnings...)
	var (
		err     error
		changed bool
	)
	switch img.State {
	case string(ec2types.ImageStateAvailable):
		if st.Images == nil {
			st.Images = map[string]image{}
		}
		st.Images[img.ID] = img
		res, changed, err = r.promoteAndTidy(ctx, log, t, img, st, res)
	case string(ec2types.ImageStateFailed):
		res.Status, res.Reason = event.Failed, "EC2 could not make the image: "+img.Reason+"; if the deploy's own retries did not make it again, replay the deploy event from the archive"
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
		res.Status, res.Reason = event.Rejected, err.Error()
		log.ErrorContext(ctx, "target rejected", "error", err)
		return res, true, nil
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
	log.ErrorContext(ctx, "target rejected", "error", err)
	return event.Result{Status: event.Rejected, EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name, Reason: err.Error()}, nil
}

func imageResult(eventID string, img image) event.Result {
	return event.Result{
		EventID:        eventID,
		ImageID:        img.ID,
		SourceInstance: img.Tags[event.TagSourceInstance],
		Build:          &event.Build{ID: img.Tags[event.TagBuildID], URL: img.Tags[event.TagBuildURL], Commit: img.Tags[event.TagCommit]},
	}
}

// reconcile is the level-triggered safety net: for every managed template, the
// newest available amibump AMI newer than what $Latest carries is promoted;
// failed AMIs are removed and reported; AMIs pending beyond the limit are
// reported; templates with more AMIs than retention keeps are pruned. It reads
// the account in a few paginated calls, then acts only where something is due.
func (r *run) reconcile(ctx context.Context) ([]event.Result, error) {
	targets, err := r.listTemplates(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagApp}}})
	if err != nil {
		return nil, err
	}
	images, err := r.listImages(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagLaunchTemplate}}})
	if err != nil {
		return nil, err
	}
	heads, err := r.templateHeads(ctx)
	if err != nil {
		return nil, err
	}
	byTemplate := map[string][]image{}
	for _, img := range images {
		id := img.Tags[event.TagLaunchTemplate]
		byTemplate[id] = append(byTemplate[id], img)
	}
	now := r.now()
	type job struct {
		t   target
		img image
		// prune: retention only. check: $Latest is not amibump's, so whether img is
		// newer than what the template carries needs the template's versions.
		prune, check bool
		// params: only see that the template's SSM parameters hold img, the
		// release $Latest carries (alias: $Latest's resolve:ssm: ImageId).
		params bool
		alias  string
	}
	var jobs []job
	var results []event.Result
	for _, t := range targets {
		imgs := byTemplate[t.ID]
		h := heads[t.ID]
		carried, carriedOK := images[h.latestImage]
		if carriedOK && !h.latestMarked {
			carriedOK = false
		}
		var newest *image
		settled := 0
		for i := range imgs {
			img := imgs[i]
			switch img.State {
			case string(ec2types.ImageStateAvailable):
				settled++
				if !carriedOK || img.Deploy.Compare(carried.Deploy) > 0 {
					if newest == nil || img.Deploy.Compare(newest.Deploy) > 0 {
						newest = &imgs[i]
					}
				}
			case string(ec2types.ImageStateFailed):
				jobs = append(jobs, job{t: t, img: img})
			case string(ec2types.ImageStatePending):
				if !img.Created.IsZero() && now.Sub(img.Created) > r.cfg.PendingLimit {
					res := imageResult(r.env.ID, img)
					res.LaunchTemplateID, res.LaunchTemplateName, res.Status = t.ID, t.Name, event.Pending
					res.Reason = fmt.Sprintf("image %s has been pending since %s, longer than %s; check it in the EC2 console (a very large volume, or a stuck snapshot)",
						img.ID, img.Created.Format(time.RFC3339), r.cfg.PendingLimit)
					r.log.WarnContext(ctx, "image pending too long", "launchTemplateId", t.ID, "imageId", img.ID, "since", img.Created)
					results = append(results, res)
				}
			}
		}
		switch {
		case newest != nil:
			jobs = append(jobs, job{t: t, img: *newest, check: !carriedOK})
		case carriedOK && t.Settings.SetDefault && h.defaultVersion != h.latestVersion && images[h.defaultImage].Deploy.Compare(carried.Deploy) < 0:
			// Promoted, but $Default was not moved yet (a promoter stopped between the two).
			jobs = append(jobs, job{t: t, img: carried})
		case settled > t.Settings.Keep+2:
			jobs = append(jobs, job{t: t, prune: true})
		}
		if carriedOK && newest == nil && hasParameters(t, h.latestAlias) && !slices.ContainsFunc(jobs, func(j job) bool { return j.t.ID == t.ID && !j.prune }) {
			jobs = append(jobs, job{t: t, img: carried, params: true, alias: h.latestAlias})
		}
	}
	r.log.InfoContext(ctx, "reconcile planned", "templates", len(targets), "images", len(images), "jobs", len(jobs))
	slices.SortFunc(jobs, func(a, b job) int {
		if a.t.Name != b.t.Name {
			return strings.Compare(a.t.Name, b.t.Name)
		}
		return strings.Compare(a.img.ID, b.img.ID)
	})
	out := make([]event.Result, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			log := r.log.With("launchTemplateId", j.t.ID, "imageId", j.img.ID)
			if j.params {
				errs[i] = r.checkParameters(ctx, log, j.t, j.img, j.alias, byTemplate[j.t.ID])
				return
			}
			// Each job gets its own map: promotion adds to it.
			known := map[string]image{}
			for _, img := range byTemplate[j.t.ID] {
				known[img.ID] = img
			}
			st := templateState{Images: known}
			if j.prune || j.check {
				var err error
				st, err = r.readTemplate(ctx, j.t, known)
				if err != nil {
					out[i], errs[i] = r.jobError(ctx, log, j.t, err)
					return
				}
				if _, topImg, ok := st.Plan.Top(); j.check && (!ok || j.img.Deploy.Compare(topImg.Deploy) > 0) {
					j.prune = false // due after all
				} else {
					// Housekeeping only: logged by prune, no result (nothing was promoted).
					var pinned map[int64]bool
					if groups, err := r.autoScalingGroups(ctx); err == nil {
						pinned = pinnedVersions(groups, j.t)
					}
					r.prune(ctx, log, j.t, st, pinned)
					out[i], errs[i] = r.drift(ctx, log, j.t, st)
					return
				}
			}
			res, changed, err := r.settleImage(ctx, log, j.t, j.img, st)
			if changed || err != nil {
				// A promotion found already in place is no news.
				out[i] = res
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, res := range out {
		if res.Status != "" {
			results = append(results, res)
		}
	}
	return results, joinTransient(errs)
}

// head is what the account-wide version listing says of one template.
type head struct {
	latestVersion, defaultVersion int64
	latestImage, defaultImage     string
	latestMarked                  bool
	latestAlias                   string // $Latest's ImageId when resolve:ssm:
}

// templateHeads reads $Latest and $Default of every launch template in the
// account in one paginated listing.
func (r *run) templateHeads(ctx context.Context) (map[string]head, error) {
	heads := map[string]head{}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(r.ec2, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}, MaxResults: aws.Int32(200)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe $Latest and $Default of every launch template: %w", err)
		}
		for _, v := range page.LaunchTemplateVersions {
			id := aws.ToString(v.LaunchTemplateId)
			h := heads[id]
			n := aws.ToInt64(v.VersionNumber)
			imageID := versionImageID(v)
			if n >= h.latestVersion {
				h.latestVersion, h.latestImage = n, imageID
				h.latestMarked = plan.Marked(aws.ToString(v.VersionDescription))
				h.latestAlias = versionAlias(v)
			}
			if aws.ToBool(v.DefaultVersion) {
				h.defaultVersion, h.defaultImage = n, imageID
			}
			heads[id] = h
		}
	}
	return heads, nil
}
