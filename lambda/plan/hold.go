package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// A rollback puts an older release back on a template: a new version, made
// from the version that carries it, marked in its description as a rollback
// (RollbackDescription: the event that asked for it and the build rolled back
// from), and the template tagged amibump:hold=<build rolled back from>. While
// the hold is in force, no deploy of that build or an older one is promoted
// again; the first deploy newer than it is, and ends the hold.
//
// The hold is read from both: the tag, which a person sees and may write by
// hand (to freeze a template where it is), and the marks of the rollback
// versions, which a read shows with the version (EC2's reads of tags and
// versions lag independently). Removing the tag therefore does not lift a
// rollback's hold: a newer deploy does.

// rollbackMark starts the description of a rollback's version, after VersionMark.
const rollbackMark = VersionMark + " rollback "

// RollbackMark is what a rollback's version says of itself: the id of the
// rollback-requested event that made it and the build it rolled back from.
// The zero value: not a rollback.
type RollbackMark struct {
	Event string
	From  string
}

// IsRollback reports whether the mark is a rollback's.
func (m RollbackMark) IsRollback() bool { return m.Event != "" }

// RollbackDescription is the description of a rollback's version:
// "amibump: rollback <event id> to build <to> from build <from>", cut to
// EC2's 255 characters (the event id comes first, so that it is never cut).
func RollbackDescription(to, from, eventID string) string {
	return Cut(rollbackMark + eventID + " to build " + to + " from build " + from)
}

// ParseRollback reads a version description written by RollbackDescription;
// the zero mark for any other.
func ParseRollback(description string) RollbackMark {
	rest, ok := strings.CutPrefix(description, rollbackMark)
	if !ok {
		return RollbackMark{}
	}
	ev, rest, ok := strings.Cut(rest, " to build ")
	if !ok || ev == "" {
		return RollbackMark{}
	}
	m := RollbackMark{Event: ev}
	if i := strings.LastIndex(rest, " from build "); i >= 0 {
		m.From = rest[i+len(" from build "):]
	}
	return m
}

// RollbackToken is the ClientToken of a rollback's version: from the template,
// the AMI put back and the rollback's event id. A replay of the same event
// (Lambda's retries of a failed invocation, EventBridge's retries of a
// hand-over: the event keeps its id) gives the same token for the same
// request, and EC2 answers it with the version the
// first attempt made instead of a second one. Another rollback to the same
// AMI gets a token of its own: ClientToken(template, image) would answer the
// version of the AMI's first promotion (perhaps deleted since) or, with
// another source version, IdempotentParameterMismatch.
func RollbackToken(templateID, imageID, eventID string) string {
	sum := sha256.Sum256([]byte(templateID + "/" + imageID + "/rollback/" + eventID))
	return "amibump-" + hex.EncodeToString(sum[:24])
}

// held is the newest deploy the template holds: the deploy of the build its
// hold tag names or a rollback version rolled back from, whichever is newer.
// known is false when nothing holds; resolved is false when a hold names no
// build an AMI of the template tells (deregistered by hand): then the newest
// promoted deploy stands in for it, the harsher reading.
func (t Template) held() (d Deploy, known, resolved bool) {
	builds := []string{}
	if t.Hold != "" {
		builds = append(builds, t.Hold)
	}
	for _, v := range t.Versions {
		if _, mine := t.ours(v); mine && v.Rollback.IsRollback() && v.Rollback.From != "" {
			builds = append(builds, v.Rollback.From)
		}
	}
	if len(builds) == 0 {
		return Deploy{}, false, false
	}
	resolved = true
	for _, b := range builds {
		bd, ok := t.deployOf(b)
		if !ok {
			resolved = false
			continue
		}
		if bd.Compare(d) > 0 {
			d = bd
		}
	}
	if !resolved {
		if _, top, ok := t.Top(); ok && top.Deploy.Compare(d) > 0 {
			d = top.Deploy
		}
	}
	return d, true, resolved
}

// deployOf is the deploy of build b, from the template's AMIs.
func (t Template) deployOf(b string) (Deploy, bool) {
	var d Deploy
	found := false
	for _, img := range t.Images {
		if img.Deploy.BuildID == b && (!found || img.Deploy.Compare(d) > 0) {
			d, found = img.Deploy, true
		}
	}
	return d, found
}

// Holding tells whether a hold is in force and the deploy it holds: no deploy
// newer than the held one is promoted.
func (t Template) Holding() (Deploy, bool) {
	d, known, _ := t.held()
	if !known {
		return Deploy{}, false
	}
	if _, top, ok := t.Top(); ok && top.Deploy.Compare(d) > 0 {
		return Deploy{}, false
	}
	return d, true
}

// Target is the version the template is meant to launch: under a hold, the
// newest rollback version (the highest number), else the version of the
// newest deploy (Top).
func (t Template) Target() (Version, Image, bool) {
	if _, holding := t.Holding(); holding {
		var best Version
		var bestImg Image
		found := false
		for _, v := range t.Versions {
			if img, mine := t.ours(v); mine && v.Rollback.IsRollback() && (!found || v.Number > best.Number) {
				best, bestImg, found = v, img, true
			}
		}
		if found {
			return best, bestImg, true
		}
	}
	return t.Top()
}

// nextHeld is Next for a deploy the hold covers: nothing is promoted. Versions
// of held deploys above the rollback's (a promoter that raced the rollback) are
// deleted, highest first, and $Default is moved back to the rollback's version
// where the template moves it; a $Default that no read shows yet (moved by a
// write that is not visible) is left as it is.
func nextHeld(t Template, setDefault bool) Step {
	target, _, ok := t.Target()
	if !ok {
		return Step{Kind: Held}
	}
	def := t.Default()
	var above []Version
	for _, v := range t.Versions {
		if _, mine := t.ours(v); mine && v.Number > target.Number && !v.Rollback.IsRollback() {
			above = append(above, v)
		}
	}
	if !target.Rollback.IsRollback() {
		return Step{Kind: Held, Version: target.Number} // a hold by hand: nothing moves
	}
	if len(above) > 0 {
		highest := above[0]
		for _, v := range above {
			if v.Number > highest.Number {
				highest = v
			}
		}
		if highest.Number != def {
			return Step{Kind: Delete, Version: highest.Number}
		}
	}
	if setDefault && def != 0 && def != target.Number {
		return Step{Kind: SetDefault, Version: target.Number}
	}
	return Step{Kind: Held, Version: target.Number}
}
