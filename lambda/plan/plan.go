// Package plan makes amibump's decisions from state it is given: names and tokens,
// which deploy is newer, what to do next to a launch template, what retention
// removes. No I/O: state in, decision out.
package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/event"
)

// Defaults for the settings a launch template carries in its tags.
const (
	DefaultKeep = 5
	MaxKeep     = 100
	// DefaultDeleteAfter is how many days a retired AMI stays deprecated and
	// disabled before it is deregistered; MaxDeleteAfter the most a template
	// may ask for.
	DefaultDeleteAfter = 14
	MaxDeleteAfter     = 365
	// VersionMark starts the description of every launch template version amibump
	// makes; with an amibump AMI of the template it marks the version as amibump's.
	VersionMark = "amibump:"
	// maxAMIName is EC2's limit on an AMI name.
	maxAMIName = 128
	// TemplateNameKept is how much of a template's name an AMI name keeps:
	// the rest of the 128 characters is "-<20261126T021500Z>-<8 hex>".
	TemplateNameKept = maxAMIName - len("-20060102T150405Z-") - 8
	// MaxDescription is EC2's limit on an AMI's or a launch template
	// version's description.
	MaxDescription = 255
)

// Deploy orders deploys: by deploy time, then by build id, so that two deploys
// in the same second still have one winner that every promoter agrees on.
type Deploy struct {
	At      time.Time
	BuildID string
}

// Compare returns -1, 0 or +1 as d is older than, the same as or newer than o.
func (d Deploy) Compare(o Deploy) int {
	if c := d.At.Compare(o.At); c != 0 {
		return c
	}
	return strings.Compare(d.BuildID, o.BuildID)
}

// BuildHash is the first 8 hex digits of sha256(build id).
func BuildHash(buildID string) string {
	sum := sha256.Sum256([]byte(buildID))
	return hex.EncodeToString(sum[:4])
}

// AMIName is the deterministic AMI name of a deploy for a template:
// <template name>-<deployed-at as 20261126T021500Z>-<8 hex of sha256(build id)>.
// Long template names are cut so that the name stays within EC2's 128 characters.
func AMIName(templateName string, d Deploy) string {
	suffix := "-" + d.At.UTC().Format("20060102T150405Z") + "-" + BuildHash(d.BuildID)
	if len(templateName)+len(suffix) > maxAMIName {
		templateName = templateName[:maxAMIName-len(suffix)]
	}
	return templateName + suffix
}

// ClientToken is the idempotency token of the launch template version that
// carries an AMI: the same AMI and template always give the same token (56 chars).
func ClientToken(templateID, imageID string) string {
	sum := sha256.Sum256([]byte(templateID + "/" + imageID))
	return "amibump-" + hex.EncodeToString(sum[:24])
}

// Marked reports whether a version description is amibump's (starts with VersionMark).
func Marked(description string) bool { return strings.HasPrefix(description, VersionMark) }

// VersionDescription names the build and commit a version carries.
func VersionDescription(buildID, commit string) string {
	s := VersionMark + " build " + buildID
	if commit != "" {
		s += " commit " + commit
	}
	return Cut(s)
}

// Cut shortens a description to MaxDescription bytes, as EC2 allows.
func Cut(s string) string {
	if len(s) > MaxDescription {
		return s[:MaxDescription]
	}
	return s
}

// Settings are the per-template settings read from its amibump: tags.
type Settings struct {
	Keep            int
	SetDefault      bool
	InstanceRefresh bool
	// DeleteAfter is how many days an AMI that left the keep window stays
	// deprecated and disabled before it is deregistered; 0 deregisters it at
	// once.
	DeleteAfter int
}

// ReadSettings reads a template's settings from its tags. A tag with a value it
// cannot use leaves the default in place and is reported, naming the tag and
// what is allowed.
func ReadSettings(tags map[string]string) (Settings, []string) {
	s := Settings{Keep: DefaultKeep, SetDefault: true, DeleteAfter: DefaultDeleteAfter}
	var warnings []string
	if v, ok := tags[event.TagKeep]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxKeep {
			warnings = append(warnings, fmt.Sprintf("tag amibump:keep=%q is not a whole number from 1 to %d; keeping %d", v, MaxKeep, DefaultKeep))
		} else {
			s.Keep = n
		}
	}
	if v, ok := tags[event.TagDeleteAfter]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > MaxDeleteAfter {
			warnings = append(warnings, fmt.Sprintf("tag %s=%q is not a whole number of days from 0 (deregister at once) to %d; "+
				"deregistering retired AMIs %d days after they leave the keep window", event.TagDeleteAfter, v, MaxDeleteAfter, DefaultDeleteAfter))
		} else {
			s.DeleteAfter = n
		}
	}
	readBool := func(tag string, def bool) bool {
		v, ok := tags[tag]
		if !ok {
			return def
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true
		case "false":
			return false
		}
		warnings = append(warnings, fmt.Sprintf("tag %s=%q is neither true nor false; using %t", tag, v, def))
		return def
	}
	s.SetDefault = readBool(event.TagSetDefault, true)
	s.InstanceRefresh = readBool(event.TagInstanceRefresh, false)
	return s, warnings
}

// Version is one launch template version as the decisions need it.
type Version struct {
	Number  int64
	ImageID string
	Default bool
	// Marked: the description starts with VersionMark.
	Marked bool
	// Rollback: the version was made by a rollback (ParseRollback).
	Rollback RollbackMark
}

// Image is one amibump AMI of a template.
type Image struct {
	ID     string
	Deploy Deploy
	State  string // pending | available | failed | disabled | ...
	Life   Lifecycle
}

// Template is what is known of one launch template: its versions and the
// amibump AMIs tagged for it, by id.
type Template struct {
	Versions []Version
	Images   map[string]Image
	// Hold is the value of the template's amibump:hold tag ("" for none;
	// ParseHoldTag reads it).
	Hold string
}

// ours reports whether a version is amibump's: marked and carrying an amibump
// AMI of the template.
func (t Template) ours(v Version) (Image, bool) {
	if !v.Marked {
		return Image{}, false
	}
	img, ok := t.Images[v.ImageID]
	return img, ok
}

// Top is the amibump version carrying the newest deploy (the highest number
// among equals), if there is one.
func (t Template) Top() (Version, Image, bool) {
	var (
		top    Version
		topImg Image
		found  bool
	)
	for _, v := range t.Versions {
		img, ok := t.ours(v)
		if !ok {
			continue
		}
		if !found || img.Deploy.Compare(topImg.Deploy) > 0 ||
			(img.Deploy.Compare(topImg.Deploy) == 0 && v.Number > top.Number) {
			top, topImg, found = v, img, true
		}
	}
	return top, topImg, found
}

// Default is the template's default version number (0 when not known).
func (t Template) Default() int64 {
	for _, v := range t.Versions {
		if v.Default {
			return v.Number
		}
	}
	return 0
}

// Latest is the template's highest version number.
func (t Template) Latest() int64 {
	var n int64
	for _, v := range t.Versions {
		n = max(n, v.Number)
	}
	return n
}

// Standing says where a deploy stands against a template before anything is made.
type Standing int

// The standings Check returns.
const (
	// Behind: no newer deploy is promoted; go ahead.
	Behind Standing = iota
	// Current: this very deploy is already carried by an amibump version.
	Current
	// Overtaken: a newer deploy is already carried; nothing is to be made.
	Overtaken
)

// Check tells where deploy d stands against the template's promoted deploys.
func Check(t Template, d Deploy) (Standing, Version) {
	top, img, ok := t.Top()
	if !ok {
		return Behind, Version{}
	}
	switch c := img.Deploy.Compare(d); {
	case c > 0:
		return Overtaken, top
	case c == 0:
		return Current, top
	}
	return Behind, top
}

// StepKind is what to do next to a template.
type StepKind int

// The steps Next returns.
const (
	// Create a version carrying our image from $Latest.
	Create StepKind = iota
	// Delete a version carrying an older deploy that landed above the newest one.
	Delete
	// SetDefault moves $Default to Step.Version.
	SetDefault
	// Done: our image is carried by Step.Version and everything is in order.
	Done
	// Superseded: a newer deploy is carried by Step.Version and everything is in order.
	Superseded
	// Held: the template holds this deploy (a rollback, amibump:hold): the
	// rollback's version, Step.Version, stays, and everything is in order.
	Held
)

func (k StepKind) String() string {
	return [...]string{"create", "delete", "set-default", "done", "superseded", "held"}[k]
}

// Step is one decision of Next.
type Step struct {
	Kind    StepKind
	Version int64
}

// Next decides the next step of promoting image ours onto a template, given its
// current state. Every promoter of every deploy applies Next until it returns
// Done or Superseded, re-reading the state after each write, so that whatever
// the interleaving the template ends with $Latest (and $Default when setDefault)
// on the newest deploy's version:
//   - if ours is newer than every promoted deploy, create its version;
//   - an amibump version above the newest deploy's that carries an older deploy
//     (a promoter that lost a race) is deleted, after moving $Default off it;
//   - $Default is moved to the newest deploy's version.
//
// A deploy the template holds (a rollback: a deploy of the held build or an
// older one, or one deployed before the rollback was asked for; Hold.Covers)
// is never promoted: Held, after the rollback's version is put back
// in order (nextHeld). A rollback's version above the newest deploy is
// therefore kept while the hold is in force; once a newer deploy is promoted
// it is below it, and only a hold lifted by hand (tag and version marks
// both) leaves it above the newest as a stale version.
//
// Versions amibump did not make are never deleted or judged.
func Next(t Template, ours Image, setDefault bool) Step {
	if held, holding := t.Holding(); holding && held.Covers(ours.Deploy) {
		return nextHeld(t, setDefault)
	}
	top, topImg, ok := t.Top()
	if !ok || ours.Deploy.Compare(topImg.Deploy) > 0 {
		return Step{Kind: Create}
	}
	def := t.Default()
	// Stale versions above the newest, highest first so that $Latest falls back
	// one step at a time.
	stale := slices.SortedFunc(func(yield func(Version) bool) {
		for _, v := range t.Versions {
			if img, mine := t.ours(v); mine && v.Number > top.Number && img.Deploy.Compare(topImg.Deploy) < 0 {
				if !yield(v) {
					return
				}
			}
		}
	}, func(a, b Version) int { return cmp.Compare(b.Number, a.Number) })
	if len(stale) > 0 {
		switch v := stale[0]; {
		case v.Number != def:
			return Step{Kind: Delete, Version: v.Number}
		case setDefault:
			return Step{Kind: SetDefault, Version: top.Number}
		}
		// A stale default on a template that opts out of set-default is not ours
		// to move; leave it and the versions under it.
	}
	if setDefault && def != top.Number {
		return Step{Kind: SetDefault, Version: top.Number}
	}
	if ours.Deploy.Compare(topImg.Deploy) == 0 {
		return Step{Kind: Done, Version: top.Number}
	}
	return Step{Kind: Superseded, Version: top.Number}
}

// Prune is what retention removes from a template.
type Prune struct {
	Versions []int64  // amibump versions to delete, ascending
	Images   []string // amibump AMIs no kept version carries, candidates to deregister
}

// Retain decides retention for a template: keep the newest keep amibump versions
// (by deploy) plus $Default, $Latest, the versions in pinned (Auto Scaling
// groups launch them by number) and every version amibump did not make; delete
// the other amibump versions. AMIs of the template that no remaining
// version carries and that are older than the newest promoted deploy are
// candidates to deregister (the caller still checks instances and other
// templates for references). Pending AMIs and AMIs of newer deploys are never
// candidates: they may be on their way to promotion.
func Retain(t Template, keep int, pinned map[int64]bool) Prune {
	_, topImg, ok := t.Top()
	if !ok {
		return Prune{}
	}
	type mine struct {
		v   Version
		img Image
	}
	var ours []mine
	for _, v := range t.Versions {
		if img, ok := t.ours(v); ok {
			ours = append(ours, mine{v, img})
		}
	}
	slices.SortFunc(ours, func(a, b mine) int {
		if c := b.img.Deploy.Compare(a.img.Deploy); c != 0 {
			return c
		}
		return cmp.Compare(b.v.Number, a.v.Number)
	})
	def, latest := t.Default(), t.Latest()
	var p Prune
	deleted := map[int64]bool{}
	for i, m := range ours {
		if i < keep || m.v.Number == def || m.v.Number == latest || pinned[m.v.Number] {
			continue
		}
		p.Versions = append(p.Versions, m.v.Number)
		deleted[m.v.Number] = true
	}
	slices.Sort(p.Versions)
	carried := map[string]bool{}
	for _, v := range t.Versions {
		if !deleted[v.Number] {
			carried[v.ImageID] = true
		}
	}
	for id, img := range t.Images {
		if carried[id] || img.State == "pending" || img.Deploy.Compare(topImg.Deploy) >= 0 {
			continue
		}
		p.Images = append(p.Images, id)
	}
	slices.Sort(p.Images)
	return p
}

// AfterPromotion is the template as it will stand once img is promoted onto
// it: a new marked version above $Latest carrying img, made $Default when the
// template moves it. The dry run previews retention on it.
func AfterPromotion(t Template, img Image, setDefault bool) Template {
	after := Template{Images: map[string]Image{img.ID: img}}
	for id, im := range t.Images {
		after.Images[id] = im
	}
	for _, v := range t.Versions {
		v.Default = v.Default && !setDefault
		after.Versions = append(after.Versions, v)
	}
	after.Versions = append(after.Versions, Version{Number: t.Latest() + 1, ImageID: img.ID, Marked: true, Default: setDefault})
	return after
}
