package plan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReconcile(t *testing.T) {
	// An available image here is protected, as promotion leaves the live ones.
	aged := func(id, state string, minutes int) AgedImage {
		return AgedImage{Image: Image{ID: id, Deploy: dep(minutes, id), State: state, Life: Lifecycle{Protected: state == "available"}},
			Created: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	ptr := func(a AgedImage) *Image { return &a.Image }
	old, mid, top := aged("ami-old", "available", 1), aged("ami-mid", "available", 2), aged("ami-top", "available", 3)
	keep := Settings{Keep: 2, SetDefault: true, DeleteAfter: 14}
	unprotected := aged("ami-new", "available", 4)
	unprotected.Life.Protected = false
	retired := func(at time.Time) AgedImage {
		img := aged("ami-retired", "disabled", 0)
		img.Life.Deprecated = at
		return img
	}
	ours := func(img AgedImage, n int64) Version { return Version{Number: n, ImageID: img.ID, Marked: true} }
	now := t0.Add(10 * time.Hour)
	tests := []struct {
		name string
		t    ReconcileTemplate
		want ReconcilePlan
	}{
		{"nothing made yet: nothing due", ReconcileTemplate{Settings: keep, Latest: Version{Number: 1, ImageID: "ami-base"}, Default: Version{Number: 1}}, ReconcilePlan{}},
		{"a newer available image is settled",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old, mid}, Latest: ours(old, 2), Default: Version{Number: 2}, Carried: ptr(old), DefaultCarried: ptr(old)},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: mid}}}},
		{"only the newest of several is settled",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{mid, old, top}, Latest: ours(old, 2), Default: Version{Number: 2}, Carried: ptr(old), DefaultCarried: ptr(old)},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: top}}}},
		{"$Latest not amibump's: check the versions first",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old}, Latest: Version{Number: 5, ImageID: "ami-base"}, Default: Version{Number: 5}},
			ReconcilePlan{Jobs: []Job{{Kind: CheckThenSettle, Image: old}}}},
		{"an amibump AMI in someone else's version is not a promotion",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{mid}, Latest: Version{Number: 5, ImageID: "ami-mid"}, Default: Version{Number: 5}, Carried: ptr(mid)},
			ReconcilePlan{Jobs: []Job{{Kind: CheckThenSettle, Image: mid}}}},
		{"failed images are settled, each",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{aged("ami-f1", "failed", 1), aged("ami-f2", "failed", 2)}, Latest: Version{Number: 1}, Default: Version{Number: 1}},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: aged("ami-f1", "failed", 1)}, {Kind: Settle, Image: aged("ami-f2", "failed", 2)}}}},
		{"pending longer than the limit is overdue; younger is not",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{aged("ami-p1", "pending", 1), aged("ami-p2", "pending", 9*60)}, Latest: Version{Number: 1}, Default: Version{Number: 1}},
			ReconcilePlan{Overdue: []AgedImage{aged("ami-p1", "pending", 1)}}},
		{"pending with no creation date is never overdue",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{{Image: Image{ID: "ami-p", State: "pending"}}}, Latest: Version{Number: 1}, Default: Version{Number: 1}},
			ReconcilePlan{}},
		{"$Default left behind is moved",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old, mid}, Latest: ours(mid, 3), Default: Version{Number: 2}, Carried: ptr(mid), DefaultCarried: ptr(old)},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: AgedImage{Image: mid.Image}}}}},
		{"$Default left alone when the template opts out",
			ReconcileTemplate{Settings: Settings{Keep: 2}, Images: []AgedImage{old, mid}, Latest: ours(mid, 3), Default: Version{Number: 2}, Carried: ptr(mid), DefaultCarried: ptr(old)},
			ReconcilePlan{}},
		{"keep + 2 settled images are what retention leaves: nothing due",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old, mid, top, aged("ami-0", "available", 0)}, Latest: ours(top, 4), Default: Version{Number: 4}, Carried: ptr(top), DefaultCarried: ptr(top)},
			ReconcilePlan{}},
		{"more than keep + 2 settled images: tidy",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old, mid, top, aged("ami-0", "available", 0), aged("ami-00", "available", -1)}, Latest: ours(top, 5), Default: Version{Number: 5}, Carried: ptr(top), DefaultCarried: ptr(top)},
			ReconcilePlan{Jobs: []Job{{Kind: Tidy}}}},
		{"the live AMI not protected yet: tidy",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{unprotected}, Latest: ours(unprotected, 2), Default: Version{Number: 2}, Carried: ptr(unprotected), DefaultCarried: ptr(unprotected)},
			ReconcilePlan{Jobs: []Job{{Kind: Tidy}}}},
		{"a retired AMI whose deletion is due: tidy",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{retired(now.AddDate(0, 0, -14)), top}, Latest: ours(top, 4), Default: Version{Number: 4}, Carried: ptr(top), DefaultCarried: ptr(top)},
			ReconcilePlan{Jobs: []Job{{Kind: Tidy}}}},
		{"a retired AMI not due yet: nothing due",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{retired(now.AddDate(0, 0, -13)), top}, Latest: ours(top, 4), Default: Version{Number: 4}, Carried: ptr(top), DefaultCarried: ptr(top)},
			ReconcilePlan{}},
		{"parameters checked when nothing else is due",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{top}, Latest: ours(top, 2), Default: Version{Number: 2}, Carried: ptr(top), DefaultCarried: ptr(top), Parameters: true},
			ReconcilePlan{Jobs: []Job{{Kind: Parameters, Image: AgedImage{Image: top.Image}}}}},
		{"parameters left to the promotion that is due",
			ReconcileTemplate{Settings: keep, Images: []AgedImage{old, mid}, Latest: ours(old, 2), Default: Version{Number: 2}, Carried: ptr(old), DefaultCarried: ptr(old), Parameters: true},
			ReconcilePlan{Jobs: []Job{{Kind: Settle, Image: mid}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Reconcile(tt.t, now, 6*time.Hour)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reconcile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAfterPromotion(t *testing.T) {
	before := Template{
		Versions: []Version{{Number: 1, ImageID: "ami-base"}, {Number: 2, ImageID: "ami-a", Marked: true, Default: true}},
		Images:   map[string]Image{"ami-a": {ID: "ami-a", Deploy: dep(1, "a"), State: "available"}},
	}
	img := Image{ID: "ami-b", Deploy: dep(2, "b"), State: "available"}
	tests := []struct {
		name       string
		setDefault bool
		want       []Version
	}{
		{"moves $Default to the new version", true, []Version{{Number: 1, ImageID: "ami-base"}, {Number: 2, ImageID: "ami-a", Marked: true}, {Number: 3, ImageID: "ami-b", Marked: true, Default: true}}},
		{"leaves $Default where it is", false, []Version{{Number: 1, ImageID: "ami-base"}, {Number: 2, ImageID: "ami-a", Marked: true, Default: true}, {Number: 3, ImageID: "ami-b", Marked: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := AfterPromotion(before, img, tt.setDefault)
			if diff := cmp.Diff(tt.want, after.Versions); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
			if _, ok := after.Images["ami-b"]; !ok || len(after.Images) != 2 {
				t.Errorf("images %v, want ami-a and ami-b", after.Images)
			}
			if len(before.Versions) != 2 || !before.Versions[1].Default {
				t.Errorf("the template before was changed: %+v", before.Versions)
			}
		})
	}
}

func TestStaleTick(t *testing.T) {
	period := 10 * time.Minute
	tests := []struct {
		name   string
		tick   time.Time
		period time.Duration
		want   bool
	}{
		{"on time", t0, period, false},
		{"late by less than the period", t0.Add(-9 * time.Minute), period, false},
		{"exactly one period old: the next tick is only now due", t0.Add(-period), period, false},
		{"older than the period", t0.Add(-period - time.Second), period, true},
		{"hours old, from Lambda's queue", t0.Add(-5 * time.Hour), period, true},
		{"from the future (clock skew)", t0.Add(time.Minute), period, false},
		{"period unknown", t0.Add(-5 * time.Hour), 0, false},
		{"no time", time.Time{}, period, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StaleTick(tt.tick, t0, tt.period); got != tt.want {
				t.Errorf("StaleTick(%v, %v, %v) = %v, want %v", tt.tick, t0, tt.period, got, tt.want)
			}
		})
	}
}
