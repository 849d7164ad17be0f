package plan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rb is a rollback version: marked, made by event ev, rolled back from build from.
func rb(n int64, image string, def bool, ev, from string) Version {
	return Version{Number: n, ImageID: image, Marked: true, Default: def, Rollback: RollbackMark{Event: ev, From: from}}
}

func TestNextUnderHold(t *testing.T) {
	images := map[string]int{"ami-a": 1, "ami-b": 2, "ami-c": 3, "ami-d": 4}
	img := func(id string) Image { return Image{ID: id, Deploy: dep(images[id], id), State: "available"} }
	held := func(hold string, versions ...Version) Template {
		t := tmpl(images, versions...)
		t.Hold = hold
		return t
	}
	tests := []struct {
		name string
		t    Template
		ours string
		want Step
	}{
		{"the rollback version above the newest is kept: the held build is superseded",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", true, "e1", "ami-c")), "ami-c", Step{Held, 3}},
		{"an older build than the held one is superseded too",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", true, "e1", "ami-c")), "ami-a", Step{Held, 3}},
		{"the rollback's mark holds while the tag is not read yet",
			held("", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", true, "e1", "ami-c")), "ami-c", Step{Held, 3}},
		{"$Default moved back onto the rollback",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, true), rb(3, "ami-b", false, "e1", "ami-c")), "ami-c", Step{SetDefault, 3}},
		{"a held build's version made above the rollback (a promoter that raced it) is deleted",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", true, "e1", "ami-c"), v(4, "ami-c", true, false)), "ami-c", Step{Delete, 4}},
		{"a $Default that no read shows yet is not moved",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", false, "e1", "ami-c")), "ami-c", Step{Held, 3}},
		{"a hold put by hand, with no rollback version, freezes the template as it is",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, true)), "ami-c", Step{Held, 2}},
		{"a newer deploy than the hold is created",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", true, "e1", "ami-c")), "ami-d", Step{Kind: Create}},
		{"once a newer deploy is on top, the hold is over",
			held("ami-c", v(1, "ami-b", true, false), v(2, "ami-c", true, false), rb(3, "ami-b", false, "e1", "ami-c"), v(4, "ami-d", true, true)), "ami-d", Step{Done, 4}},
		{"a rollback version above the newest without a hold in force (lifted by hand, mark and tag) is stale",
			held("", v(1, "ami-b", true, false), v(2, "ami-d", true, false), rb(3, "ami-b", true, "e1", "ami-a")), "ami-d", Step{SetDefault, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.t, img(tt.ours), true)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReconcileUnderHold(t *testing.T) {
	// ami-b is the live release, protected already: nothing is due but
	// what the hold decides.
	b := AgedImage{Image: Image{ID: "ami-b", Deploy: dep(2, "ami-b"), State: "available", Life: Lifecycle{Protected: true}}}
	c := AgedImage{Image: Image{ID: "ami-c", Deploy: dep(3, "ami-c"), State: "available"}}
	d := AgedImage{Image: Image{ID: "ami-d", Deploy: dep(4, "ami-d"), State: "available"}}
	keep := Settings{Keep: 5, SetDefault: true}
	rollback := Version{Number: 3, ImageID: "ami-b", Marked: true, Rollback: RollbackMark{Event: "e1", From: "ami-c"}}
	tests := []struct {
		name string
		t    ReconcileTemplate
		want ReconcilePlan
	}{
		{"the held build is not promoted again",
			ReconcileTemplate{Settings: keep, Hold: "ami-c", Images: []AgedImage{b, c}, Latest: rollback, Default: rollback, Carried: &b.Image, DefaultCarried: &b.Image},
			ReconcilePlan{}},
		{"a newer build than the hold is",
			ReconcileTemplate{Settings: keep, Hold: "ami-c", Images: []AgedImage{b, c, d}, Latest: rollback, Default: rollback, Carried: &b.Image, DefaultCarried: &b.Image},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: d}}}},
		{"the rollback's own mark holds while the tag is not read yet",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{b, c}, Latest: rollback, Default: rollback, Carried: &b.Image, DefaultCarried: &b.Image},
			ReconcilePlan{}},
		{"a hold whose build no AMI tells promotes nothing",
			ReconcileTemplate{Settings: keep, Hold: "gone", Images: []AgedImage{b, d}, Latest: rollback, Default: rollback, Carried: &b.Image, DefaultCarried: &b.Image},
			ReconcilePlan{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reconcile(tt.t, t0, 0)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reconcile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRollbackToken(t *testing.T) {
	a := RollbackToken("lt-1", "ami-1", "ev-1")
	if len(a) > 64 {
		t.Errorf("token %q is %d characters, want at most 64", a, len(a))
	}
	if b := RollbackToken("lt-1", "ami-1", "ev-1"); a != b {
		t.Errorf("a replay of the same rollback gave %q then %q", a, b)
	}
	for _, other := range []string{RollbackToken("lt-1", "ami-1", "ev-2"), ClientToken("lt-1", "ami-1"), RollbackToken("lt-2", "ami-1", "ev-1")} {
		if other == a {
			t.Errorf("another rollback, template or the promotion gave the same token %q", a)
		}
	}
}

func TestRollbackDescription(t *testing.T) {
	d := RollbackDescription("build b", "build c", "11111111-2222-3333-4444-555555555555", t0)
	if !Marked(d) {
		t.Errorf("%q is not marked as amibump's", d)
	}
	got := ParseRollback(d)
	want := RollbackMark{Event: "11111111-2222-3333-4444-555555555555", At: t0, From: "build c"}
	if got != want {
		t.Errorf("ParseRollback(%q) = %+v, want %+v", d, got, want)
	}
	// Written before amibump recorded the time: read, without it.
	old := "amibump: rollback ev-1 to build b from build c"
	if got, want := ParseRollback(old), (RollbackMark{Event: "ev-1", From: "c"}); got != want {
		t.Errorf("ParseRollback(%q) = %+v, want %+v", old, got, want)
	}
	if got := ParseRollback(VersionDescription("b", "abc")); got != (RollbackMark{}) {
		t.Errorf("a promotion's description read as a rollback: %+v", got)
	}
}

func TestHoldTag(t *testing.T) {
	for _, tt := range []struct {
		value string
		build string
		since time.Time
	}{
		{HoldTag("build-7", t0), "build-7", t0},
		{"build-7@2026-11-26T02:15:00Z", "build-7", t0},
		{"build-7", "build-7", time.Time{}},                       // by hand, or written before the time was recorded
		{"me@example.com", "me@example.com", time.Time{}},         // an @ that is no time
		{HoldTag("build@7", time.Time{}), "build@7", time.Time{}}, // no time: the build alone
	} {
		b, since := ParseHoldTag(tt.value)
		if b != tt.build || !since.Equal(tt.since) {
			t.Errorf("ParseHoldTag(%q) = %q, %s; want %q, %s", tt.value, b, since, tt.build, tt.since)
		}
	}
}

// TestHoldLiftedOnlyByADeployAfterTheRollback: under a hold since a rollback
// asked for at minute 10, a deploy of a newer build made before it (in
// flight during the incident) is held too; one made after it is promoted and
// lifts the hold. A hold without a time (by hand, or an older tag) is lifted
// by any newer build.
func TestHoldLiftedOnlyByADeployAfterTheRollback(t *testing.T) {
	images := map[string]int{"ami-b": 2, "ami-c": 3, "ami-d": 4, "ami-e": 12}
	img := func(id string) Image { return Image{ID: id, Deploy: dep(images[id], id), State: "available"} }
	since := t0.Add(10 * time.Minute)
	mark := RollbackMark{Event: "e1", At: since, From: "ami-c"}
	rolled := func(hold string, more ...Version) Template {
		vs := append([]Version{v(1, "ami-b", true, false), v(2, "ami-c", true, false), {Number: 3, ImageID: "ami-b", Marked: true, Default: true, Rollback: mark}}, more...)
		t := tmpl(images, vs...)
		t.Hold = hold
		return t
	}
	tests := []struct {
		name string
		t    Template
		ours string
		want Step
	}{
		{"a newer build deployed before the rollback is held", rolled(HoldTag("ami-c", since)), "ami-d", Step{Held, 3}},
		{"by the version's mark alone, the tag not read yet", rolled(""), "ami-d", Step{Held, 3}},
		{"by the tag alone (the version's description written before the time was recorded)",
			func() Template {
				t := rolled(HoldTag("ami-c", since))
				t.Versions[2].Rollback.At = time.Time{}
				return t
			}(), "ami-d", Step{Held, 3}},
		{"its version, made by a promoter that raced the rollback, is deleted",
			rolled(HoldTag("ami-c", since), v(4, "ami-d", true, false)), "ami-d", Step{Delete, 4}},
		{"a newer build deployed after the rollback is promoted", rolled(HoldTag("ami-c", since)), "ami-e", Step{Kind: Create}},
		{"a hold without a time is lifted by any newer build",
			func() Template { t := rolled("ami-c"); t.Versions[2].Rollback.At = time.Time{}; return t }(), "ami-d", Step{Kind: Create}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Next(tt.t, img(tt.ours), true); got != tt.want {
				t.Errorf("Next = %+v, want %+v", got, tt.want)
			}
		})
	}
	// Reconcile promotes the in-flight deploy's AMI neither.
	b := AgedImage{Image: Image{ID: "ami-b", Deploy: dep(2, "ami-b"), State: "available", Life: Lifecycle{Protected: true}}}
	c := AgedImage{Image: Image{ID: "ami-c", Deploy: dep(3, "ami-c"), State: "available"}}
	d := AgedImage{Image: Image{ID: "ami-d", Deploy: dep(4, "ami-d"), State: "available"}}
	e := AgedImage{Image: Image{ID: "ami-e", Deploy: dep(12, "ami-e"), State: "available"}}
	latest := Version{Number: 3, ImageID: "ami-b", Marked: true, Rollback: mark}
	rt := ReconcileTemplate{Settings: Settings{Keep: 5, SetDefault: true}, Hold: HoldTag("ami-c", since), Images: []AgedImage{b, c, d}, Latest: latest, Default: latest, Carried: &b.Image, DefaultCarried: &b.Image}
	if got := Reconcile(rt, t0.Add(time.Hour), 0); len(got.Jobs) != 0 {
		t.Errorf("reconcile with the in-flight deploy's AMI: %+v, want nothing", got)
	}
	rt.Images = append(rt.Images, e)
	if got := Reconcile(rt, t0.Add(time.Hour), 0); len(got.Jobs) != 1 || got.Jobs[0].Image.ID != "ami-e" {
		t.Errorf("reconcile with a deploy after the rollback: %+v, want it settled", got)
	}
}
