package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)

func dep(minutes int, build string) Deploy {
	return Deploy{At: t0.Add(time.Duration(minutes) * time.Minute), BuildID: build}
}

func TestAMIName(t *testing.T) {
	tests := []struct {
		name, template string
		deploy         Deploy
		want           string
	}{
		{"as the design shows", "shop-web-prod-a", Deploy{At: t0, BuildID: "jenkins-shop-deploy-142"}, "shop-web-prod-a-20261126T021500Z-" + BuildHash("jenkins-shop-deploy-142")},
		{"a time in another zone is written in UTC", "t", Deploy{At: t0.In(time.FixedZone("x", 3600)), BuildID: "b"}, "t-20261126T021500Z-" + BuildHash("b")},
		{"a long template name is cut to keep 128 characters", strings.Repeat("n", 128), Deploy{At: t0, BuildID: "b"}, strings.Repeat("n", 102) + "-20261126T021500Z-" + BuildHash("b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AMIName(tt.template, tt.deploy)
			if got != tt.want {
				t.Errorf("AMIName = %q, want %q", got, tt.want)
			}
			if len(got) > 128 {
				t.Errorf("AMIName is %d characters, EC2 allows 128", len(got))
			}
		})
	}
}

func TestBuildHash(t *testing.T) {
	// sha256("abc") is ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
	if got, want := BuildHash("abc"), "ba7816bf"; got != want {
		t.Errorf("BuildHash(abc) = %q, want %q", got, want)
	}
}

func TestClientToken(t *testing.T) {
	a := ClientToken("lt-0123456789abcdef0", "ami-0123456789abcdef0")
	if len(a) > 64 {
		t.Errorf("token %q is %d characters, want at most 64", a, len(a))
	}
	if b := ClientToken("lt-0123456789abcdef0", "ami-0123456789abcdef0"); a != b {
		t.Errorf("same AMI and template gave %q then %q", a, b)
	}
	if c := ClientToken("lt-0123456789abcdef0", "ami-0123456789abcdef1"); a == c {
		t.Errorf("different AMIs gave the same token %q", a)
	}
	if c := ClientToken("lt-0123456789abcdef1", "ami-0123456789abcdef0"); a == c {
		t.Errorf("different templates gave the same token %q", a)
	}
}

func TestDeployCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b Deploy
		want int
	}{
		{"later deploy is newer", dep(1, "a"), dep(0, "b"), 1},
		{"earlier deploy is older", dep(0, "z"), dep(1, "a"), -1},
		{"same second is ordered by build id", dep(0, "b"), dep(0, "a"), 1},
		{"same deploy", dep(0, "a"), dep(0, "a"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Errorf("Compare = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestReadSettings(t *testing.T) {
	tests := []struct {
		name     string
		tags     map[string]string
		want     Settings
		warnings int
	}{
		{"defaults", nil, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 0},
		{"all set", map[string]string{"amibump:keep": "3", "amibump:set-default": "false", "amibump:instance-refresh": "TRUE", "amibump:delete-after": "30"},
			Settings{Keep: 3, SetDefault: false, InstanceRefresh: true, DeleteAfter: 30}, 0},
		{"keep of zero keeps the default and warns", map[string]string{"amibump:keep": "0"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
		{"keep that is no number warns", map[string]string{"amibump:keep": "five"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
		{"a boolean that is neither warns", map[string]string{"amibump:set-default": "no"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
		{"delete-after of zero deregisters at once", map[string]string{"amibump:delete-after": "0"}, Settings{Keep: 5, SetDefault: true}, 0},
		{"negative delete-after keeps the default and warns", map[string]string{"amibump:delete-after": "-1"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
		{"delete-after beyond a year warns", map[string]string{"amibump:delete-after": "366"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
		{"delete-after in weeks warns", map[string]string{"amibump:delete-after": "2w"}, Settings{Keep: 5, SetDefault: true, DeleteAfter: 14}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := ReadSettings(tt.tags)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
			if len(warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", warnings, tt.warnings)
			}
			for _, w := range warnings {
				if !strings.Contains(w, "amibump:") {
					t.Errorf("warning %q does not name the tag", w)
				}
			}
		})
	}
}

// tmpl builds a template: images by id with their deploy minute, and versions.
func tmpl(images map[string]int, versions ...Version) Template {
	t := Template{Images: map[string]Image{}, Versions: versions}
	for id, m := range images {
		t.Images[id] = Image{ID: id, Deploy: dep(m, id), State: "available"}
	}
	return t
}

func v(n int64, image string, marked, def bool) Version {
	return Version{Number: n, ImageID: image, Marked: marked, Default: def}
}

func TestCheck(t *testing.T) {
	images := map[string]int{"ami-old": 1, "ami-new": 5}
	tests := []struct {
		name    string
		t       Template
		deploy  Deploy
		want    Standing
		version int64
	}{
		{"no amibump version yet", tmpl(nil, v(1, "ami-base", false, true)), dep(3, "x"), Behind, 0},
		{"newer deploy than the carried one", tmpl(images, v(1, "ami-base", false, false), v(2, "ami-old", true, true)), dep(3, "x"), Behind, 2},
		{"older deploy than the carried one", tmpl(images, v(2, "ami-new", true, true)), dep(3, "x"), Overtaken, 2},
		{"the same deploy is current", tmpl(images, v(2, "ami-new", true, true)), dep(5, "ami-new"), Current, 2},
		{"an unmarked version carrying an amibump AMI is not judged", tmpl(images, v(2, "ami-new", false, true)), dep(3, "x"), Behind, 0},
		{"an older version carrying a newer deploy still wins", tmpl(images, v(2, "ami-new", true, true), v(3, "ami-old", true, false)), dep(3, "x"), Overtaken, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ver := Check(tt.t, tt.deploy)
			if got != tt.want || ver.Number != tt.version {
				t.Errorf("Check = %v at version %d, want %v at version %d", got, ver.Number, tt.want, tt.version)
			}
		})
	}
}

func TestNext(t *testing.T) {
	images := map[string]int{"ami-a": 1, "ami-b": 2, "ami-c": 3}
	img := func(id string) Image { return Image{ID: id, Deploy: dep(images[id], id), State: "available"} }
	tests := []struct {
		name       string
		t          Template
		ours       string
		setDefault bool
		want       Step
	}{
		{"first promotion creates", tmpl(images, v(1, "ami-base", false, true)), "ami-b", true, Step{Kind: Create}},
		{"newer than the carried deploy creates", tmpl(images, v(1, "ami-a", true, true)), "ami-b", true, Step{Kind: Create}},
		{"created but default not moved", tmpl(images, v(1, "ami-a", true, true), v(2, "ami-b", true, false)), "ami-b", true, Step{SetDefault, 2}},
		{"created, default left alone by opt-out", tmpl(images, v(1, "ami-a", true, true), v(2, "ami-b", true, false)), "ami-b", false, Step{Done, 2}},
		{"all in order", tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, true)), "ami-b", true, Step{Done, 2}},
		{"older deploy is superseded", tmpl(images, v(1, "ami-c", true, true)), "ami-b", true, Step{Superseded, 1}},
		{"an older deploy that landed on top is deleted", tmpl(images, v(1, "ami-c", true, true), v(2, "ami-b", true, false)), "ami-b", true, Step{Delete, 2}},
		{"the newest promoter deletes a stale version above it too", tmpl(images, v(1, "ami-c", true, true), v(2, "ami-b", true, false)), "ami-c", true, Step{Delete, 2}},
		{"stale default is moved before it is deleted", tmpl(images, v(1, "ami-c", true, false), v(2, "ami-b", true, true)), "ami-b", true, Step{SetDefault, 1}},
		{"stale default on an opted-out template is left", tmpl(images, v(1, "ami-c", true, false), v(2, "ami-b", true, true)), "ami-c", false, Step{Done, 1}},
		{"highest stale version goes first", tmpl(images, v(1, "ami-c", true, true), v(2, "ami-a", true, false), v(3, "ami-b", true, false)), "ami-c", true, Step{Delete, 3}},
		{"a version amibump did not make above ours is left", tmpl(images, v(1, "ami-b", true, true), v(2, "ami-a", false, false)), "ami-b", true, Step{Done, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Next(tt.t, img(tt.ours), tt.setDefault)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNextConverges applies Next's steps for every deploy in turn to a model of
// a template and checks that it always ends with the newest deploy on top and
// as default, whichever promoter goes first.
func TestNextConverges(t *testing.T) {
	images := map[string]int{"ami-a": 1, "ami-b": 2, "ami-c": 3}
	orders := [][]string{{"ami-a", "ami-b", "ami-c"}, {"ami-c", "ami-b", "ami-a"}, {"ami-b", "ami-c", "ami-a"}}
	for _, order := range orders {
		t.Run(strings.Join(order, ","), func(t *testing.T) {
			state := tmpl(images, v(1, "ami-base", false, true))
			for _, id := range order {
				ours := state.Images[id]
				for i := 0; ; i++ {
					if i > 10 {
						t.Fatalf("no convergence for %s: %+v", id, state.Versions)
					}
					step := Next(state, ours, true)
					if step.Kind == Done || step.Kind == Superseded {
						break
					}
					state = apply(state, step, id)
				}
			}
			top, img, _ := state.Top()
			if img.ID != "ami-c" || state.Default() != top.Number || state.Latest() != top.Number {
				t.Errorf("ended with top %d (%s), default %d, latest %d; want ami-c on top, default and latest", top.Number, img.ID, state.Default(), state.Latest())
			}
		})
	}
}

func apply(t Template, s Step, ours string) Template {
	out := Template{Images: t.Images}
	switch s.Kind {
	case Create:
		out.Versions = append(append(out.Versions, t.Versions...), Version{Number: t.Latest() + 1, ImageID: ours, Marked: true})
	case Delete:
		for _, v := range t.Versions {
			if v.Number != s.Version {
				out.Versions = append(out.Versions, v)
			}
		}
	case SetDefault:
		for _, v := range t.Versions {
			v.Default = v.Number == s.Version
			out.Versions = append(out.Versions, v)
		}
	}
	return out
}

func TestRetain(t *testing.T) {
	images := map[string]int{"ami-1": 1, "ami-2": 2, "ami-3": 3, "ami-4": 4, "ami-5": 5}
	withState := func(t Template, id, state string) Template {
		img := t.Images[id]
		img.State = state
		t.Images[id] = img
		return t
	}
	tests := []struct {
		name   string
		t      Template
		keep   int
		pinned map[int64]bool
		want   Prune
	}{
		{"nothing to prune", tmpl(images, v(1, "ami-base", false, false), v(2, "ami-5", true, true)), 5, nil, Prune{Images: []string{"ami-1", "ami-2", "ami-3", "ami-4"}}},
		{"keeps the newest versions, deletes older amibump ones",
			tmpl(images, v(1, "ami-base", false, false), v(2, "ami-1", true, false), v(3, "ami-2", true, false), v(4, "ami-3", true, false), v(5, "ami-4", true, false), v(6, "ami-5", true, true)), 2, nil,
			Prune{Versions: []int64{2, 3, 4}, Images: []string{"ami-1", "ami-2", "ami-3"}}},
		{"the default version is kept however old",
			tmpl(images, v(2, "ami-1", true, true), v(3, "ami-2", true, false), v(4, "ami-3", true, false), v(5, "ami-4", true, false)), 1, nil,
			Prune{Versions: []int64{3, 4}, Images: []string{"ami-2", "ami-3"}}}, // ami-5 is newer than the top: maybe on its way
		{"an AMI a version amibump did not make carries is kept",
			tmpl(images, v(2, "ami-1", false, false), v(3, "ami-2", true, false), v(4, "ami-5", true, true)), 1, nil,
			Prune{Versions: []int64{3}, Images: []string{"ami-2", "ami-3", "ami-4"}}},
		{"pending AMIs and newer deploys are never candidates",
			withState(tmpl(images, v(4, "ami-3", true, true)), "ami-2", "pending"), 5, nil,
			Prune{Images: []string{"ami-1"}}},
		{"a version a group is pinned to is kept",
			tmpl(images, v(2, "ami-1", true, false), v(3, "ami-2", true, false), v(4, "ami-3", true, true)), 1, map[int64]bool{2: true},
			Prune{Versions: []int64{3}, Images: []string{"ami-2"}}},
		{"no amibump version: nothing decided", tmpl(images, v(1, "ami-base", false, true)), 1, nil, Prune{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Retain(tt.t, tt.keep, tt.pinned)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Retain (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarked(t *testing.T) {
	if !Marked(VersionDescription("b-1", "abc")) {
		t.Error("amibump's own description is not marked")
	}
	for _, d := range []string{"", "amibump", "ops: amibump: bigger instances"} {
		if Marked(d) {
			t.Errorf("Marked(%q) = true", d)
		}
	}
}
