package bump

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// A template tagged amibump:replicate-from=<region> follows the release of
// the template with the same app, env, layer and group tags in that region
// (its source template): the newest available amibump AMI of the source is
// copied here (regionCopy) and then promoted like any amibump AMI. Two
// triggers start a copy: a promotion forwarded from the source region
// (sourcePromoted, the push) and every reconcile (followAll, the pull).

// WithRegions gives the Bumper the clients of the other regions of its
// account, where templates that replicate from them read their source: the
// function passes NewClients with the other region, the command-line tool
// its profile's clients there. Without it, or when it fails, such a
// template's source region is reported unreachable.
func (b *Bumper) WithRegions(regions func(region string) (Clients, error)) *Bumper {
	c := *b
	c.regions = regions
	return &c
}

// selectorKeys are the tags that name a replicating template's source.
var selectorKeys = []string{event.TagApp, event.TagEnv, event.TagLayer, event.TagGroup}

// inRegion is a run over the clients of another region of the run's account,
// for reading a source there; it shares the run's gate and the budget (kept
// per region).
func (r *run) inRegion(region string) (*run, error) {
	c, err := r.regions(region)
	if err != nil {
		return nil, fmt.Errorf("clients for %s: %w", region, err)
	}
	return &run{scope: c.Scope, ec2: c.EC2, env: r.env, log: r.log.With("sourceRegion", region), cfg: r.cfg, now: r.now, obs: r.obs}, nil
}

// sourcePromoted handles a promotion forwarded from another region: every
// template here that replicates from that region and follows the promoted
// template gets its newest release. A result of this region, or of another
// account, is not for this function and is skipped.
func (r *run) sourcePromoted(ctx context.Context) ([]event.Result, error) {
	fwd, err := event.ParseForwarded(r.env.Detail)
	if err != nil {
		return []event.Result{rejected(ctx, r.log, event.Result{EventID: r.env.ID}, err)}, nil
	}
	if fwd.Region == r.scope.Region || (fwd.Account != "" && r.scope.Account != "" && fwd.Account != r.scope.Account) {
		r.log.DebugContext(ctx, "promotion of this region or of another account, skipped", "region", fwd.Region, "account", fwd.Account)
		return nil, errSkipped
	}
	followers, err := r.listTemplates(ctx, []ec2types.Filter{
		{Name: aws.String("tag:" + event.TagReplicateFrom), Values: []string{fwd.Region}},
		{Name: aws.String("tag-key"), Values: []string{event.TagApp}},
	})
	if err != nil {
		return nil, err
	}
	if len(followers) == 0 {
		r.log.InfoContext(ctx, "no template replicates from the region", "region", fwd.Region)
		return nil, nil
	}
	return r.follow(ctx, fwd.Region, followers, fwd, nil)
}

// followAll is reconcile's pull: the templates of the inventory that
// replicate from another region, each region read once, so that a lost
// forward or a stack deployed later still catches up. A bad
// amibump:replicate-from is rejected.
func (r *run) followAll(ctx context.Context, inv inventory) ([]event.Result, error) {
	byRegion := map[string][]target{}
	var results []event.Result
	for _, t := range inv.targets {
		from, ok := t.Tags[event.TagReplicateFrom]
		if !ok {
			continue
		}
		if err := plan.CheckReplicateFrom(from, r.scope.Region); err != nil {
			results = append(results, rejected(ctx, r.log, event.Result{EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name}, permanent(err)))
			continue
		}
		byRegion[from] = append(byRegion[from], t)
	}
	var errs []error
	for _, region := range slices.Sorted(maps.Keys(byRegion)) {
		res, err := r.follow(ctx, region, byRegion[region], nil, inv.byTemplate)
		results = append(results, res...)
		errs = append(errs, err)
	}
	return results, joinTransient(errs)
}

// sourceRegion is what follow reads of a source region, in two listings:
// its managed templates and its amibump AMIs, by template.
type sourceRegion struct {
	name       string
	candidates []plan.Candidate
	images     map[string][]image // by launch template id
}

// readSourceRegion lists the source region's managed templates and amibump AMIs.
func (r *run) readSourceRegion(ctx context.Context, region string) (sourceRegion, error) {
	src := sourceRegion{name: region, images: map[string][]image{}}
	sr, err := r.inRegion(region)
	if err != nil {
		return src, err
	}
	templates, err := sr.listTemplates(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagApp}}})
	if err != nil {
		return src, err
	}
	for _, t := range templates {
		src.candidates = append(src.candidates, plan.Candidate{ID: t.ID, Name: t.Name, Tags: t.Tags})
	}
	images, err := sr.listImages(ctx, []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagLaunchTemplate}}})
	if err != nil {
		return src, err
	}
	for _, img := range images {
		id := img.Tags[event.TagLaunchTemplate]
		src.images[id] = append(src.images[id], img)
	}
	return src, nil
}

// follow brings the followers of region up to its release: for each, its
// source template there (exactly one), the newest available AMI of it, and
// a copy job when the follower has neither that deploy nor a newer one.
// fwd, when the push started it, limits the followers to those of the
// promoted template; have are the followers' amibump AMIs when the caller
// read them (reconcile), else each follower's are read. A region that cannot
// be read is one unreachable result for all its followers.
func (r *run) follow(ctx context.Context, region string, followers []target, fwd *event.Result, have map[string][]image) ([]event.Result, error) {
	src, err := r.readSourceRegion(ctx, region)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return []event.Result{r.unreachable(ctx, region, followers, err)}, nil
	}
	var results []event.Result
	var jobs []copyJob
	for _, t := range followers {
		j, res, err := r.planCopy(ctx, src, t, fwd, have)
		switch {
		case err != nil && IsPermanent(err):
			results = append(results, rejected(ctx, r.log, event.Result{EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name}, err))
		case err != nil:
			return results, err
		case res != nil:
			results = append(results, *res)
		case j != nil:
			jobs = append(jobs, *j)
		}
	}
	jobs, waiting, err := r.startable(ctx, jobs, have)
	if err != nil {
		return results, err
	}
	results = append(results, waiting...)
	out := make([]event.Result, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { out[i], errs[i] = r.bumpOne(ctx, j.d, j.copy.src.Deploy, j.t, j.copy) })
	}
	wg.Wait()
	return append(results, withStatus(out)...), joinTransient(errs)
}

// startable keeps the copy jobs whose snapshots fit beside the snapshot
// copies in flight into this region (plan.CopiesThatFit: EBS copies at most
// 20 at once into a region), in template name order; each other one is a
// pending result, nothing started: the next reconcile or forward starts it.
// Copies that fit the quota by themselves start without the read of those
// in flight (the push's usual one copy): EC2 refuses those that find no
// room, each once, pending too (regionCopy), so a run asks at most the
// quota's worth of copies, never a storm.
func (r *run) startable(ctx context.Context, jobs []copyJob, have map[string][]image) ([]copyJob, []event.Result, error) {
	wanted := make([]int, len(jobs))
	total := 0
	for i, j := range jobs {
		wanted[i] = j.copy.src.Snapshots
		total += max(wanted[i], 1)
	}
	if total <= plan.CopySnapshotsPerRegion {
		return jobs, nil, nil
	}
	inFlight, err := r.copiesInFlight(ctx, have)
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(jobs, func(a, b copyJob) int { return cmp.Compare(a.t.Name, b.t.Name) })
	for i, j := range jobs {
		wanted[i] = j.copy.src.Snapshots
	}
	var start []copyJob
	var waiting []event.Result
	for i, fit := range plan.CopiesThatFit(inFlight, wanted) {
		if fit {
			start = append(start, jobs[i])
			continue
		}
		why := fmt.Sprintf("%d snapshot copies are in flight into %s and this AMI has %d", inFlight, r.scope.Region, max(wanted[i], 1))
		waiting = append(waiting, r.copyWaits(ctx, jobs[i], why))
	}
	return start, waiting, nil
}

// copiesInFlight counts the snapshots of amibump's copies pending in this
// region: from the caller's read (reconcile), else listed.
func (r *run) copiesInFlight(ctx context.Context, have map[string][]image) (int, error) {
	var images []image
	if have != nil {
		for _, imgs := range have {
			images = append(images, imgs...)
		}
	} else {
		found, err := r.listImages(ctx, []ec2types.Filter{
			{Name: aws.String("tag-key"), Values: []string{event.TagCopyOf}},
			{Name: aws.String("state"), Values: []string{string(ec2types.ImageStatePending)}},
		})
		if err != nil {
			return 0, err
		}
		images = slices.Collect(maps.Values(found))
	}
	n := 0
	for _, img := range images {
		if img.State == string(ec2types.ImageStatePending) && img.Tags[event.TagCopyOf] != "" {
			n += max(img.Snapshots, 1)
		}
	}
	return n, nil
}

// copyWaits is the pending result of a copy not started for EBS's quota of
// snapshot copies into a region: not failed, nothing to retry; the next
// reconcile (or forward) starts it once copies in flight complete.
func (r *run) copyWaits(ctx context.Context, j copyJob, why string) event.Result {
	r.log.InfoContext(ctx, "copy waits for room", "launchTemplate", j.t.Name, "sourceImageId", j.copy.src.ID, "why", why)
	return event.Result{Status: event.Pending, EventID: r.env.ID, Account: r.scope.Account, Region: r.scope.Region,
		LaunchTemplateID: j.t.ID, LaunchTemplateName: j.t.Name, Build: &j.d.Build,
		Reason: fmt.Sprintf("the copy of %s from %s waits: %s, and EBS copies at most %d snapshots into a region at once (Concurrent snapshot copies per destination Region); nothing was started, the next reconcile starts it",
			j.copy.src.ID, j.copy.region, why, plan.CopySnapshotsPerRegion)}
}

// copyJob is a follower's copy of its source's release.
type copyJob struct {
	t    target
	d    *event.Deploy
	copy regionCopy
}

// planCopy decides what follow does for one follower: a copy job, a result
// (a forwarded promotion already overtaken here), or nothing.
func (r *run) planCopy(ctx context.Context, src sourceRegion, t target, fwd *event.Result, have map[string][]image) (*copyJob, *event.Result, error) {
	if fwd != nil && !follows(t, src, fwd.LaunchTemplateID) {
		return nil, nil, nil
	}
	s, err := plan.SourceTemplate(t.Tags, selectorKeys, src.name, src.candidates)
	if err != nil {
		return nil, nil, permanent(fmt.Errorf("launch template %s replicates from %s: %w", t.Name, src.name, err))
	}
	newest, ok := newestOf(src.images[s.ID])
	if !ok {
		return nil, nil, nil
	}
	mine, err := r.followerImages(ctx, t, have)
	if err != nil {
		return nil, nil, err
	}
	if !plan.CopyDue(mine, newest.Image) {
		if fwd != nil && fwd.ImageID != newest.ID {
			res := event.Result{Status: event.Superseded, EventID: r.env.ID, LaunchTemplateID: t.ID, LaunchTemplateName: t.Name, ImageID: fwd.ImageID, Build: fwd.Build,
				Reason: fmt.Sprintf("%s already has a newer release of %s in %s (%s, deployed at %s) than the forwarded %s; nothing was copied", t.Name, s.Name, src.name, newest.ID, newest.Deploy.At.Format(time.RFC3339), fwd.ImageID)}
			return nil, &res, nil
		}
		return nil, nil, nil
	}
	d := &event.Deploy{Build: event.Build{ID: newest.Tags[event.TagBuildID], URL: newest.Tags[event.TagBuildURL], Commit: newest.Tags[event.TagCommit]}}
	return &copyJob{t: t, d: d, copy: regionCopy{region: src.name, src: newest}}, nil, nil
}

// follows tells whether t's tags name the source template templateID of src
// (any of its candidates with the same selector tags).
func follows(t target, src sourceRegion, templateID string) bool {
	for _, c := range src.candidates {
		if c.ID != templateID {
			continue
		}
		for _, k := range selectorKeys {
			if c.Tags[k] != t.Tags[k] {
				return false
			}
		}
		return true
	}
	return false
}

// newestOf is the newest available image (plan.NewestRelease) of images.
func newestOf(images []image) (image, bool) {
	plain := make([]plan.Image, len(images))
	for i, img := range images {
		plain[i] = img.Image
	}
	best, ok := plan.NewestRelease(plain)
	if !ok {
		return image{}, false
	}
	i := slices.IndexFunc(images, func(img image) bool { return img.ID == best.ID })
	return images[i], true
}

// followerImages are the amibump AMIs of a follower: as the caller read
// them, else listed.
func (r *run) followerImages(ctx context.Context, t target, have map[string][]image) ([]plan.Image, error) {
	var images []image
	if have != nil {
		images = have[t.ID]
	} else {
		found, err := r.templateImages(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, img := range found {
			images = append(images, img)
		}
	}
	out := make([]plan.Image, len(images))
	for i, img := range images {
		out[i] = img.Image
	}
	return out, nil
}

// unreachable is the one result of a run for a source region it could not
// read: its followers stay on their last release. Not failed, not rejected
// (no alarm for another region's outage), and no error (no retry of the
// event): the next reconcile reads the region again.
func (r *run) unreachable(ctx context.Context, region string, followers []target, err error) event.Result {
	names := make([]string, len(followers))
	for i, t := range followers {
		names[i] = t.Name
	}
	slices.SortFunc(names, cmp.Compare)
	r.log.WarnContext(ctx, "source region unreachable", "sourceRegion", region, "templates", names, "error", err)
	return event.Result{Status: event.Unreachable, EventID: r.env.ID, Region: r.scope.Region, Account: r.scope.Account,
		Reason: fmt.Sprintf("could not read the source region %s (%v); %s stay on their last release, and the next reconcile tries again",
			region, err, strings.Join(names, ", "))}
}
