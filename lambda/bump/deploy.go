package bump

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

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
	r.reads.targets = targets // the event's shared reads (eventReads)
	results := make([]event.Result, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i := range targets {
		wg.Go(func() { results[i], errs[i] = r.bumpOne(ctx, d, deploy, targets[i], instanceSource{}) })
	}
	wg.Wait()
	return withStatus(results), joinTransient(errs)
}

// replicaErr refuses a deploy for a template that replicates from another
// region: its image comes from there (followAll, sourcePromoted), and an
// image of an instance here would compete with the copies.
func replicaErr(t target) error {
	from, ok := t.Tags[event.TagReplicateFrom]
	if !ok {
		return nil
	}
	return rejectf("launch template %s follows the release of %s (tag %s): its AMIs are copies from there, not images of a deploy here; leave it out of the event (amibump:layer, amibump:group), or remove the tag to image its own instances",
		t.Name, from, event.TagReplicateFrom)
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

// bumpOne bumps one target with its image from source and turns the outcome
// into its result: a permanent error is a rejection; a transient one is
// returned for Lambda's retry and, unless the target has a result of its own
// (a failed image), reports nothing now: its retry will. A template that
// replicates from another region takes no image of a deploy (replicaErr).
func (r *run) bumpOne(ctx context.Context, d *event.Deploy, deploy plan.Deploy, t target, source imageSource) (event.Result, error) {
	log := r.log.With("launchTemplateId", t.ID)
	j := r.newJob(log, d, deploy, t)
	j.source = source
	var res event.Result
	err := replicaErr(t)
	if _, copying := source.(regionCopy); err == nil || copying {
		res, err = j.bumpTarget(ctx)
	}
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
