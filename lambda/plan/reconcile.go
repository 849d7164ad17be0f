package plan

import (
	"time"
)

// AgedImage is an amibump AMI with the time EC2 says it was created.
type AgedImage struct {
	Image
	Created time.Time
}

// ReconcileTemplate is what one reconcile run knows of a managed template,
// from the account-wide listings, before it reads anything per template.
type ReconcileTemplate struct {
	Settings Settings
	// Images are the template's amibump AMIs.
	Images []AgedImage
	// Latest and Default are $Latest and $Default as listed.
	Latest, Default Version
	// Carried and DefaultCarried are the amibump AMIs (of any template) that
	// $Latest and $Default carry; nil when theirs is not an amibump AMI.
	Carried, DefaultCarried *Image
	// Parameters: the template has SSM parameters to keep (it is tagged
	// amibump:ssm-parameter, or its $Latest resolves one).
	Parameters bool
	// Hold is the value of the template's amibump:hold tag ("" for none;
	// ParseHoldTag reads it).
	Hold string
}

// JobKind says what a reconcile job does.
type JobKind int

// The jobs reconcile runs.
const (
	// Settle the image: promote it (or finish its promotion: move $Default),
	// or remove it and report it when it failed.
	Settle JobKind = iota
	// CheckThenSettle: $Latest is not amibump's, so whether the image is newer
	// than what amibump last promoted needs the template's versions: settle it
	// if it is, else tidy as Tidy does.
	CheckThenSettle
	// Tidy: retention, and a look for drift (someone else's older $Latest).
	Tidy
	// Parameters: see that the template's SSM parameters hold the release
	// $Latest carries.
	Parameters
)

// Job is one thing reconcile does for one template.
type Job struct {
	Kind  JobKind
	Image AgedImage // the image to settle, or the one $Latest carries for Parameters
}

// ReconcilePlan is what reconcile does for one template: its jobs, and the
// images pending longer than the limit, to report.
type ReconcilePlan struct {
	Jobs    []Job
	Overdue []AgedImage
}

// retainedExtra is how many amibump AMIs a template may hold beyond its keep
// count once retention has run: those of $Default and $Latest, which retention
// keeps whatever their age. More than keep + retainedExtra settled AMIs means
// retention has work to do (an earlier run was throttled or denied).
const retainedExtra = 2

// Reconcile decides what one reconcile run does for a template, at now, with
// images pending longer than pendingLimit reported: every failed AMI is
// settled (removed, reported); the newest available AMI newer than the one
// $Latest carries is promoted (checked against the versions first when
// $Latest is not amibump's); else a $Default left behind by an interrupted
// promotion is moved; else a template holding more AMIs than retention keeps,
// or with a retired AMI due for deletion or a live AMI not yet protected
// (RetireDue), is tidied; and a template whose parameters should hold the release $Latest
// carries, and that has nothing else due, has them checked. Under a hold (a
// rollback), no image of the held build or an older one is promoted, and a
// hold whose build no AMI of the template tells lets reconcile promote
// nothing: the next deploy event decides (Next).
func Reconcile(t ReconcileTemplate, now time.Time, pendingLimit time.Duration) ReconcilePlan {
	var p ReconcilePlan
	carried := t.Carried
	if carried != nil && !t.Latest.Marked {
		carried = nil // an amibump AMI in someone else's version: not a promotion amibump made
	}
	held, holding, resolved := t.held()
	var newest *AgedImage
	settled := 0
	for i, img := range t.Images {
		switch img.State {
		case "available":
			settled++
			if holding && (!resolved || held.Covers(img.Deploy)) {
				continue
			}
			if (carried == nil || img.Deploy.Compare(carried.Deploy) > 0) && (newest == nil || img.Deploy.Compare(newest.Deploy) > 0) {
				newest = &t.Images[i]
			}
		case "failed":
			p.Jobs = append(p.Jobs, Job{Kind: Settle, Image: img})
		case "pending":
			if !img.Created.IsZero() && now.Sub(img.Created) > pendingLimit {
				p.Overdue = append(p.Overdue, img)
			}
		}
	}
	switch {
	case newest != nil && carried == nil:
		p.Jobs = append(p.Jobs, Job{Kind: CheckThenSettle, Image: *newest})
	case newest != nil:
		p.Jobs = append(p.Jobs, Job{Kind: Settle, Image: *newest})
	case carried != nil && defaultBehind(t, *carried):
		// Promoted, but $Default was not moved yet (a promoter stopped between the two).
		p.Jobs = append(p.Jobs, Job{Kind: Settle, Image: AgedImage{Image: *carried}})
	case settled > t.Settings.Keep+retainedExtra || RetireDue(t, now):
		p.Jobs = append(p.Jobs, Job{Kind: Tidy})
	}
	if carried != nil && newest == nil && t.Parameters && !settling(p.Jobs) {
		p.Jobs = append(p.Jobs, Job{Kind: Parameters, Image: AgedImage{Image: *carried}})
	}
	return p
}

// defaultBehind: the template moves $Default, it is not $Latest, and it
// carries an older deploy than $Latest's (or no amibump AMI).
func defaultBehind(t ReconcileTemplate, carried Image) bool {
	if !t.Settings.SetDefault || t.Default.Number == t.Latest.Number {
		return false
	}
	var def Deploy
	if t.DefaultCarried != nil {
		def = t.DefaultCarried.Deploy
	}
	return def.Compare(carried.Deploy) < 0
}

// held is the hold the template's tag and the mark of its $Latest (when that
// is a rollback's version; reconcile reads no other version) make; resolved is
// false when the build of one of them is none of the template's AMIs.
func (t ReconcileTemplate) held() (h Hold, holding, resolved bool) {
	builds := []string{}
	if t.Hold != "" {
		b, since := ParseHoldTag(t.Hold)
		builds = append(builds, b)
		h.Since = later(h.Since, since)
	}
	if t.Latest.Marked && t.Latest.Rollback.From != "" {
		builds = append(builds, t.Latest.Rollback.From)
		h.Since = later(h.Since, t.Latest.Rollback.At)
	}
	if len(builds) == 0 {
		return Hold{}, false, true
	}
	resolved = true
	for _, b := range builds {
		found := false
		for _, img := range t.Images {
			if img.Deploy.BuildID == b {
				found = true
				if img.Deploy.Compare(h.Deploy) > 0 {
					h.Deploy = img.Deploy
				}
			}
		}
		resolved = resolved && found
	}
	return h, true, resolved
}

// settling reports whether a job settles an image (its promotion writes the
// parameters anyway).
func settling(jobs []Job) bool {
	for _, j := range jobs {
		if j.Kind == Settle || j.Kind == CheckThenSettle {
			return true
		}
	}
	return false
}

// StaleTick tells whether a reconcile tick stamped at tick is too old to run
// at now: older than the reconcile period, so that the next tick is already
// due. A period of 0 (not known) or a tick without a time is never stale.
func StaleTick(tick, now time.Time, period time.Duration) bool {
	return period > 0 && !tick.IsZero() && now.Sub(tick) > period
}
