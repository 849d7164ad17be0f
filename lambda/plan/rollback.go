package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RollbackRequest is what a rollback asks of one template.
type RollbackRequest struct {
	// EventID identifies the rollback: a replay of the same event resumes.
	EventID string
	// ToBuild is the build to put back; "" for the release before the current one.
	ToBuild string
	// At is when the rollback was asked for: a deploy after it supersedes it.
	At time.Time
}

// RollbackKind is what a rollback does to one template.
type RollbackKind int

// The decisions PlanRollback makes.
const (
	// RollbackMake: make a version from Source carrying To, $Default to it,
	// hold the template at Hold.
	RollbackMake RollbackKind = iota
	// RollbackResume: this rollback's version (Source) exists, or the
	// template is already rolled back to the build asked for: finish it
	// ($Default, the hold, the parameters), make nothing.
	RollbackResume
	// RollbackSuperseded: a later deploy or rollback replaced this one.
	RollbackSuperseded
	// RollbackRejected: nothing to roll back to; Reason says what exists.
	RollbackRejected
)

// RollbackPlan is PlanRollback's decision for one template.
type RollbackPlan struct {
	Kind RollbackKind
	// Source is the version the new one is made from (it carries To), or the
	// rollback's own version when resuming.
	Source Version
	// To is the release put back; From the release the template was on.
	To, From Image
	// Hold is the build the template is held at: the newest promoted deploy
	// or the hold already in force, whichever is newer; HoldSince when the
	// rollback was asked for (or the hold's, if later). HoldTag(Hold,
	// HoldSince) is the value of amibump:hold.
	Hold      string
	HoldSince time.Time
	Reason    string
}

// rollbackable: an AMI a version can be made with (a disabled one is enabled first).
func rollbackable(img Image) bool { return img.State == "available" || img.State == "disabled" }

// PlanRollback decides a rollback of one template. t's Images must include
// the disabled AMIs its amibump versions carry (the caller lists them with
// EC2's IncludeDisabled, which a listing otherwise leaves them out without).
//
//   - A version this event made that is still the one the template is meant
//     to launch (Target) is resumed; one that a later deploy or rollback
//     replaced makes the event superseded.
//   - A deploy promoted after the rollback was asked for supersedes it.
//   - Otherwise the release to put back is the named build's newest version,
//     or else the newest release older than the current one that no
//     rollback has rolled back from, carried by a version amibump made, whose
//     AMI is available or disabled. None: rejected, saying what exists.
func PlanRollback(t Template, req RollbackRequest) RollbackPlan {
	cur, curImg, ok := t.Target()
	if !ok {
		return RollbackPlan{Kind: RollbackRejected, Reason: "no release amibump promoted is carried by any version of the template: there is nothing to roll back from"}
	}
	if p, ok := resumeRollback(t, req, cur); ok {
		return p
	}
	_, topImg, _ := t.Top()
	if topImg.Deploy.At.After(req.At) {
		return RollbackPlan{Kind: RollbackSuperseded, Reason: fmt.Sprintf("build %s was deployed at %s, after the rollback was asked for (%s); nothing was rolled back",
			topImg.Deploy.BuildID, topImg.Deploy.At.Format(time.RFC3339), req.At.UTC().Format(time.RFC3339))}
	}
	hold, since := topImg.Deploy, req.At.UTC()
	held, holding := t.Holding()
	if holding && held.Deploy.Compare(hold) > 0 {
		hold = held.Deploy
	}
	if holding {
		since = later(since, held.Since)
	}
	if holding && cur.Rollback.IsRollback() && req.ToBuild != "" && curImg.Deploy.BuildID == req.ToBuild {
		// Sent again (a new event for the same build): already rolled back there.
		return RollbackPlan{Kind: RollbackResume, Source: cur, To: curImg, From: fromOf(t, cur), Hold: hold.BuildID, HoldSince: since}
	}
	src, to, found := rollbackSource(t, req, curImg)
	if !found {
		return RollbackPlan{Kind: RollbackRejected, From: curImg, Reason: nothingToRollBackTo(t, req, cur, curImg)}
	}
	return RollbackPlan{Kind: RollbackMake, Source: src, To: to, From: curImg, Hold: hold.BuildID, HoldSince: since}
}

// resumeRollback finds the version this event made.
func resumeRollback(t Template, req RollbackRequest, cur Version) (RollbackPlan, bool) {
	var mine *Version
	for i, v := range t.Versions {
		if v.Rollback.Event == req.EventID && req.EventID != "" && (mine == nil || v.Number > mine.Number) {
			mine = &t.Versions[i]
		}
	}
	if mine == nil {
		return RollbackPlan{}, false
	}
	img := t.Images[mine.ImageID]
	if mine.Number != cur.Number {
		return RollbackPlan{Kind: RollbackSuperseded, To: img, Reason: fmt.Sprintf("version %d, which this rollback made, is no longer the one the template launches (version %d is: a later deploy or rollback); nothing was changed", mine.Number, cur.Number)}, true
	}
	hold, since := mine.Rollback.From, later(req.At.UTC(), mine.Rollback.At)
	if held, holding := t.Holding(); holding {
		hold, since = held.Deploy.BuildID, later(since, held.Since)
	}
	return RollbackPlan{Kind: RollbackResume, Source: *mine, To: img, From: fromOf(t, *mine), Hold: hold, HoldSince: since}, true
}

// fromOf is the release a rollback's version rolled back from: its AMI when
// one of the template's tells the build, else the build alone.
func fromOf(t Template, v Version) Image {
	from := Image{Deploy: Deploy{BuildID: v.Rollback.From}}
	if d, ok := t.deployOf(v.Rollback.From); ok {
		for _, im := range t.Images {
			if im.Deploy == d {
				from = im
			}
		}
	}
	return from
}

// rollbackSource picks the version to make the rollback's from.
func rollbackSource(t Template, req RollbackRequest, cur Image) (Version, Image, bool) {
	rolledFrom := map[string]bool{}
	for _, v := range t.Versions {
		if v.Rollback.IsRollback() {
			rolledFrom[v.Rollback.From] = true
		}
	}
	var best Version
	var bestImg Image
	found := false
	for _, v := range t.Versions {
		img, mine := t.ours(v)
		if !mine || !rollbackable(img) || img.ID == cur.ID {
			continue
		}
		if req.ToBuild != "" {
			if img.Deploy.BuildID != req.ToBuild {
				continue
			}
		} else if img.Deploy.Compare(cur.Deploy) >= 0 || rolledFrom[img.Deploy.BuildID] {
			continue
		}
		if !found || img.Deploy.Compare(bestImg.Deploy) > 0 || (img.Deploy == bestImg.Deploy && v.Number > best.Number) {
			best, bestImg, found = v, img, true
		}
	}
	return best, bestImg, found
}

// nothingToRollBackTo says why there is nothing to roll back to, and what the
// template keeps.
func nothingToRollBackTo(t Template, req RollbackRequest, cur Version, curImg Image) string {
	var kept, gone []string
	for _, v := range slices.Backward(sortedVersions(t)) {
		if !v.Marked || v.Number == cur.Number {
			continue
		}
		img, ok := t.Images[v.ImageID]
		switch {
		case !ok:
			gone = append(gone, fmt.Sprintf("version %d (%s)", v.Number, v.ImageID))
		default:
			kept = append(kept, fmt.Sprintf("build %s in version %d (%s, %s)", img.Deploy.BuildID, v.Number, img.ID, img.State))
		}
	}
	var b strings.Builder
	if req.ToBuild != "" {
		if curImg.Deploy.BuildID == req.ToBuild {
			fmt.Fprintf(&b, "version %d already carries build %s", cur.Number, req.ToBuild)
		} else {
			fmt.Fprintf(&b, "no version amibump made carries build %s with an AMI that is available or disabled", req.ToBuild)
		}
	} else {
		fmt.Fprintf(&b, "no earlier release than build %s (version %d) is kept that no rollback rolled back from, with an AMI that is available or disabled", curImg.Deploy.BuildID, cur.Number)
	}
	if len(kept) > 0 {
		b.WriteString("; kept: " + strings.Join(kept, ", "))
	} else {
		b.WriteString("; no other release is kept")
	}
	if len(gone) > 0 {
		b.WriteString("; amibump versions whose AMI no longer exists: " + strings.Join(gone, ", "))
	}
	b.WriteString("; nothing was rolled back. Name a kept build with toBuild (amibump rollback --to-build), or deploy the fix")
	return b.String()
}

func sortedVersions(t Template) []Version {
	vs := slices.Clone(t.Versions)
	slices.SortFunc(vs, func(a, b Version) int { return int(a.Number - b.Number) })
	return vs
}
