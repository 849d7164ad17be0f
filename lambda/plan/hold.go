package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// A rollback puts an older release back on a template: a new version, made
// from the version that carries it, marked in its description as a rollback
// (RollbackDescription: the event that asked for it, when it was asked for,
// and the build rolled back from), and the template tagged
// amibump:hold=<build rolled back from>@<when the rollback was asked for>
// (HoldTag). While the hold is in force, no deploy of that build or an older
// one is promoted again, nor a deploy made before the rollback was asked for
// (a deploy in flight during the incident, whose AMI becomes available after
// the rollback, likely carries the same bad code): the first deploy newer than
// the held build and deployed after the rollback is promoted, and ends the
// hold.
//
// The hold is read from both: the tag, which a person sees and may write by
// hand (to freeze a template where it is: a build alone, without a time, as
// older rollbacks wrote it, holds that build and older ones), and the marks of
// the rollback versions, which a read shows with the version (EC2's reads of
// tags and versions lag independently). Removing the tag therefore does not
// lift a rollback's hold: a newer deploy does.

// Hold is a hold in force: the newest deploy held and when the latest
// rollback that holds it was asked for (zero: not known, a hold by hand or
// written before amibump recorded the time).
type Hold struct {
	Deploy Deploy
	Since  time.Time
}

// Covers reports whether the hold keeps a deploy from being promoted: a
// deploy of the held build or an older one, or one deployed (its event's
// time) no later than the rollback was asked for.
func (h Hold) Covers(d Deploy) bool {
	return d.Compare(h.Deploy) <= 0 || (!h.Since.IsZero() && !d.At.After(h.Since))
}

// HoldTag is the value of amibump:hold for a hold of build since a rollback
// asked for at since: "<build>@<RFC3339>", or the build alone for a zero time.
func HoldTag(build string, since time.Time) string {
	if since.IsZero() {
		return build
	}
	return build + "@" + since.UTC().Format(time.RFC3339)
}

// ParseHoldTag reads a value of amibump:hold: "<build>@<RFC3339>", or a build
// alone (a hold by hand, or one written before the time was recorded).
func ParseHoldTag(v string) (build string, since time.Time) {
	if i := strings.LastIndex(v, "@"); i >= 0 {
		if at, err := time.Parse(time.RFC3339, v[i+1:]); err == nil {
			return v[:i], at.UTC()
		}
	}
	return v, time.Time{}
}

// rollbackMark starts the description of a rollback's version, after VersionMark.
const rollbackMark = VersionMark + " rollback "

// RollbackMark is what a rollback's version says of itself: the id of the
// rollback-requested event that made it, when that rollback was asked for
// (zero in descriptions written before amibump recorded it) and the build it
// rolled back from. The zero value: not a rollback.
type RollbackMark struct {
	Event string
	At    time.Time
	From  string
}

// IsRollback reports whether the mark is a rollback's.
func (m RollbackMark) IsRollback() bool { return m.Event != "" }

// RollbackDescription is the description of a rollback's version:
// "amibump: rollback <event id> at <RFC3339> to build <to> from build <from>",
// cut to EC2's 255 characters (the event id and time come first, so that they
// are never cut).
func RollbackDescription(to, from, eventID string, at time.Time) string {
	return Cut(rollbackMark + eventID + " at " + at.UTC().Format(time.RFC3339) + " to build " + to + " from build " + from)
}

// ParseRollback reads a version description written by RollbackDescription,
// or by amibump before it recorded the time ("rollback <event id> to build");
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
	if id, at, ok := strings.Cut(ev, " at "); ok {
		if t, err := time.Parse(time.RFC3339, at); err == nil && id != "" {
			m.Event, m.At = id, t.UTC()
		}
	}
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

// held is the hold the template's tag and rollback versions make: the newest
// deploy of the builds they name, since the latest rollback time they tell.
// known is false when nothing holds; resolved is false when a hold names no
// build an AMI of the template tells (deregistered by hand): then the newest
// promoted deploy stands in for it, the harsher reading.
func (t Template) held() (h Hold, known, resolved bool) {
	builds := []string{}
	if t.Hold != "" {
		b, since := ParseHoldTag(t.Hold)
		builds = append(builds, b)
		h.Since = later(h.Since, since)
	}
	for _, v := range t.Versions {
		if _, mine := t.ours(v); mine && v.Rollback.IsRollback() && v.Rollback.From != "" {
			builds = append(builds, v.Rollback.From)
			h.Since = later(h.Since, v.Rollback.At)
		}
	}
	if len(builds) == 0 {
		return Hold{}, false, false
	}
	resolved = true
	for _, b := range builds {
		bd, ok := t.deployOf(b)
		if !ok {
			resolved = false
			continue
		}
		if bd.Compare(h.Deploy) > 0 {
			h.Deploy = bd
		}
	}
	if !resolved {
		if _, top, ok := t.Top(); ok && top.Deploy.Compare(h.Deploy) > 0 {
			h.Deploy = top.Deploy
		}
	}
	return h, true, resolved
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

// Holding tells whether a hold is in force and what it holds: no deploy it
// covers is promoted. A deploy it does not cover, on top, has lifted it.
func (t Template) Holding() (Hold, bool) {
	h, known, _ := t.held()
	if !known {
		return Hold{}, false
	}
	if _, top, ok := t.Top(); ok && !h.Covers(top.Deploy) {
		return Hold{}, false
	}
	return h, true
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
