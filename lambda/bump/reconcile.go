package bump

import (
	"context"
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
	"github.com/amibump/amibump/lambda/metrics"
	"github.com/amibump/amibump/lambda/plan"
)

// staleTick tells whether a reconcile tick is older than the reconcile period,
// and then logs and counts it (StaleTicksSkipped): Lambda keeps a throttled
// event in its queue for up to the function's maximum event age, hours, and a
// tick that old is worth nothing, since the next one is already due. Skipping
// it keeps a backlog of ticks from taking the slots deploys need.
func (r *run) staleTick(ctx context.Context) bool {
	now := r.now()
	if !plan.StaleTick(r.env.Time, now, r.cfg.ReconcilePeriod) {
		return false
	}
	r.log.InfoContext(ctx, "stale reconcile tick skipped", "tickTime", r.env.Time.UTC(), "age", now.Sub(r.env.Time).Round(time.Second).String(),
		"reconcilePeriod", r.cfg.ReconcilePeriod.String())
	r.emit(ctx, now, []string{}, map[string]float64{metrics.StaleTicksSkipped: 1})
	return true
}

// reconcileTick handles a tick of the reconcile schedule: a stale one is
// skipped (errSkipped), any other reconciles.
func (r *run) reconcileTick(ctx context.Context) ([]event.Result, error) {
	if r.staleTick(ctx) {
		return nil, errSkipped
	}
	return r.reconcile(ctx)
}

// reconcile is the level-triggered safety net: it reads the account in three
// paginated listings (managed templates, amibump AMIs, every template's
// $Latest and $Default), asks plan.Reconcile what is due for each template,
// reports AMIs pending too long, and runs the jobs concurrently; then the
// templates that replicate from another region follow it (followAll).
func (r *run) reconcile(ctx context.Context) ([]event.Result, error) {
	inv, err := r.readInventory(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now()
	var jobs []reconcileJob
	var results []event.Result
	for _, t := range inv.targets {
		p := plan.Reconcile(inv.view(t), now, r.cfg.PendingLimit)
		for _, img := range p.Overdue {
			results = append(results, r.overdue(ctx, t, inv.images[img.ID]))
		}
		for _, j := range p.Jobs {
			jobs = append(jobs, reconcileJob{Job: j, t: t})
		}
	}
	r.log.InfoContext(ctx, "reconcile planned", "templates", len(inv.targets), "images", len(inv.images), "jobs", len(jobs))
	slices.SortFunc(jobs, func(a, b reconcileJob) int {
		if a.t.Name != b.t.Name {
			return strings.Compare(a.t.Name, b.t.Name)
		}
		return strings.Compare(a.Image.ID, b.Image.ID)
	})
	out := make([]event.Result, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { out[i], errs[i] = r.runJob(ctx, j, inv) })
	}
	wg.Wait()
	for _, res := range out {
		if res.Status != "" {
			results = append(results, res)
		}
	}
	followed, err := r.followAll(ctx, inv)
	return append(results, followed...), joinTransient(append(errs, err))
}

// inventory is what reconcile reads of the account before it decides anything.
type inventory struct {
	targets    []target
	images     map[string]image   // every amibump AMI, by id
	byTemplate map[string][]image // the same, by launch template id
	heads      map[string]head
}

// readInventory makes reconcile's three listings.
func (r *run) readInventory(ctx context.Context) (inventory, error) {
	var a inventory
	var err error
	if a.targets, err = r.listTemplates(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagApp}}}); err != nil {
		return a, err
	}
	if a.images, err = r.listImages(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagLaunchTemplate}}}); err != nil {
		return a, err
	}
	if a.heads, err = r.templateHeads(ctx); err != nil {
		return a, err
	}
	a.byTemplate = map[string][]image{}
	for _, img := range a.images {
		id := img.Tags[event.TagLaunchTemplate]
		a.byTemplate[id] = append(a.byTemplate[id], img)
	}
	return a, nil
}

// view is what plan.Reconcile needs to know of a template.
func (a inventory) view(t target) plan.ReconcileTemplate {
	h := a.heads[t.ID]
	v := plan.ReconcileTemplate{
		Settings:   t.Settings,
		Latest:     plan.Version{Number: h.latestVersion, ImageID: h.latestImage, Marked: h.latestMarked, Rollback: h.latestRollback},
		Default:    plan.Version{Number: h.defaultVersion, ImageID: h.defaultImage, Default: true},
		Parameters: hasParameters(t, h.latestAlias),
		Hold:       t.Tags[event.TagHold],
	}
	for _, img := range a.byTemplate[t.ID] {
		v.Images = append(v.Images, plan.AgedImage{Image: img.Image, Created: img.Created})
	}
	if img, ok := a.images[h.latestImage]; ok {
		v.Carried = &img.Image
	}
	if img, ok := a.images[h.defaultImage]; ok {
		v.DefaultCarried = &img.Image
	}
	return v
}

// overdue is the result that reports an image pending longer than the limit.
func (r *run) overdue(ctx context.Context, t target, img image) event.Result {
	res := imageResult(r.env.ID, img)
	res.LaunchTemplateID, res.LaunchTemplateName, res.Status = t.ID, t.Name, event.Pending
	res.Reason = fmt.Sprintf("image %s has been pending since %s, longer than %s; check it in the EC2 console (a very large volume, or a stuck snapshot)",
		img.ID, img.Created.Format(time.RFC3339), r.cfg.PendingLimit)
	r.log.WarnContext(ctx, "image pending too long", "launchTemplateId", t.ID, "imageId", img.ID, "since", img.Created)
	return res
}

// reconcileJob is one job of plan.Reconcile, for one target.
type reconcileJob struct {
	plan.Job
	t target
}

// runJob executes one reconcile job. A promotion found already in place is no
// news: only a change or an error makes a result.
func (r *run) runJob(ctx context.Context, j reconcileJob, inv inventory) (event.Result, error) {
	log := r.log.With("launchTemplateId", j.t.ID, "imageId", j.Image.ID)
	img := inv.images[j.Image.ID]
	if j.Kind == plan.Parameters {
		return event.Result{}, r.checkParameters(ctx, log, j.t, img, inv.heads[j.t.ID].latestAlias, inv.byTemplate[j.t.ID])
	}
	// Each job gets its own map: promotion adds to it.
	known := map[string]image{}
	for _, k := range inv.byTemplate[j.t.ID] {
		known[k.ID] = k
	}
	var fresh *templateState
	if j.Kind == plan.CheckThenSettle || j.Kind == plan.Tidy {
		st, err := r.readTemplate(ctx, j.t, known)
		if err != nil {
			return r.jobError(ctx, log, j.t, err)
		}
		if _, top, ok := st.Plan.Top(); j.Kind == plan.Tidy || (ok && img.Deploy.Compare(top.Deploy) <= 0) {
			return r.tidy(ctx, log, j.t, st)
		}
		known, fresh = st.Images, &st
	}
	res, changed, err := r.settleImage(ctx, log, j.t, img, known, fresh)
	if !changed && err == nil {
		return event.Result{}, nil
	}
	return res, err
}

// tidy is retention and the drift check, housekeeping: logged by prune, no
// result unless drift is found (nothing was promoted).
func (r *run) tidy(ctx context.Context, log *slog.Logger, t target, st templateState) (event.Result, error) {
	var pinned map[int64]bool
	if groups, err := r.autoScalingGroups(ctx); err == nil {
		pinned = pinnedVersions(groups, t)
	}
	r.prune(ctx, log, t, st, pinned)
	return r.drift(ctx, log, t, st)
}

// head is what the account-wide version listing says of one template.
type head struct {
	latestVersion, defaultVersion int64
	latestImage, defaultImage     string
	latestMarked                  bool
	latestRollback                plan.RollbackMark
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
				h.latestRollback = plan.ParseRollback(aws.ToString(v.VersionDescription))
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
