package plan

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPlanRollback(t *testing.T) {
	images := map[string]int{"ami-a": 1, "ami-b": 2, "ami-c": 3}
	at := t0.Add(time.Hour)
	req := func(ev, to string) RollbackRequest { return RollbackRequest{EventID: ev, ToBuild: to, At: at} }
	with := func(tm Template, mut func(*Template)) Template {
		tm.Images = maps.Clone(tm.Images)
		tm.Versions = slices.Clone(tm.Versions)
		mut(&tm)
		return tm
	}
	three := tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, false), v(3, "ami-c", true, true))
	rolled := tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, false), v(3, "ami-c", true, false), rb(4, "ami-b", true, "e1", "ami-c"))
	rolled.Hold = "ami-c"
	tests := []struct {
		name     string
		t        Template
		req      RollbackRequest
		kind     RollbackKind
		source   int64
		to, hold string
		reason   string
	}{
		{"to the release before the current one", three, req("e1", ""), RollbackMake, 2, "ami-b", "ami-c", ""},
		{"to a named build", three, req("e1", "ami-a"), RollbackMake, 1, "ami-a", "ami-c", ""},
		{"to a disabled AMI (enabled first)", with(three, func(t *Template) { t.Images["ami-b"] = Image{ID: "ami-b", Deploy: dep(2, "ami-b"), State: "disabled"} }), req("e1", ""), RollbackMake, 2, "ami-b", "ami-c", ""},
		{"a replay resumes on its version", rolled, req("e1", ""), RollbackResume, 4, "ami-b", "ami-c", ""},
		{"a second rollback goes one further back and keeps the hold on the newest", rolled, req("e2", ""), RollbackMake, 1, "ami-a", "ami-c", ""},
		{"a rollback never picks a build a rollback rolled back from",
			with(tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, false), v(3, "ami-c", true, false), rb(4, "ami-b", false, "e1", "ami-c"), v(5, "ami-d", true, true)),
				func(t *Template) { t.Images["ami-d"] = Image{ID: "ami-d", Deploy: dep(4, "ami-d"), State: "available"} }),
			req("e2", ""), RollbackMake, 4, "ami-b", "ami-d", ""},
		{"a deploy after the request supersedes it", with(three, func(t *Template) {
			t.Images["ami-c"] = Image{ID: "ami-c", Deploy: Deploy{At: at.Add(time.Second), BuildID: "ami-c"}, State: "available"}
		}),
			req("e1", ""), RollbackSuperseded, 0, "", "", "after the rollback was asked for"},
		{"a replay after a later rollback is superseded",
			with(rolled, func(t *Template) { t.Versions = append(t.Versions, rb(5, "ami-a", true, "e2", "ami-b")) }),
			req("e1", ""), RollbackSuperseded, 0, "ami-b", "", "no longer the one the template launches"},
		{"nothing earlier kept", tmpl(images, v(3, "ami-c", true, true)), req("e1", ""), RollbackRejected, 0, "", "", "no other release is kept"},
		{"the earlier AMI is gone", tmpl(images, v(2, "ami-gone", true, false), v(3, "ami-c", true, true)), req("e1", ""), RollbackRejected, 0, "", "", "whose AMI no longer exists: version 2 (ami-gone)"},
		{"a named build that is the current one", three, req("e1", "ami-c"), RollbackRejected, 0, "", "", "version 3 already carries build ami-c"},
		{"a new event for the build already rolled back to finishes that rollback", rolled, req("e2", "ami-b"), RollbackResume, 4, "ami-b", "ami-c", ""},
		{"a named build that is not kept", three, req("e1", "nope"), RollbackRejected, 0, "", "", "kept: build ami-b in version 2 (ami-b, available), build ami-a in version 1"},
		{"a pending AMI cannot be rolled back to", with(three, func(t *Template) { t.Images["ami-b"] = Image{ID: "ami-b", Deploy: dep(2, "ami-b"), State: "pending"} }), req("e1", ""), RollbackMake, 1, "ami-a", "ami-c", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanRollback(tt.t, tt.req)
			if got.Kind != tt.kind || got.Source.Number != tt.source || got.To.ID != tt.to || got.Hold != tt.hold || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("got kind %d, source %d, to %q, hold %q, reason %q; want kind %d, source %d, to %q, hold %q, reason with %q",
					got.Kind, got.Source.Number, got.To.ID, got.Hold, got.Reason, tt.kind, tt.source, tt.to, tt.hold, tt.reason)
			}
		})
	}
}

// TestPlanRollbackHoldsSinceItWasAskedFor: the hold a rollback writes carries
// when it was asked for, or the hold's own time if that is later.
func TestPlanRollbackHoldsSinceItWasAskedFor(t *testing.T) {
	images := map[string]int{"ami-a": 1, "ami-b": 2, "ami-c": 3}
	at := t0.Add(time.Hour)
	three := tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, false), v(3, "ami-c", true, true))
	if p := PlanRollback(three, RollbackRequest{EventID: "e1", At: at}); p.Kind != RollbackMake || !p.HoldSince.Equal(at) || HoldTag(p.Hold, p.HoldSince) != "ami-c@2026-11-26T03:15:00Z" {
		t.Errorf("first rollback: %+v, want held at ami-c since %s", p, at)
	}
	rolled := tmpl(images, v(1, "ami-a", true, false), v(2, "ami-b", true, false), v(3, "ami-c", true, false),
		Version{Number: 4, ImageID: "ami-b", Marked: true, Default: true, Rollback: RollbackMark{Event: "e1", At: at.Add(time.Minute), From: "ami-c"}})
	if p := PlanRollback(rolled, RollbackRequest{EventID: "e2", At: at}); p.Kind != RollbackMake || !p.HoldSince.Equal(at.Add(time.Minute)) {
		t.Errorf("second rollback, asked for before the first: %+v, want held since %s", p, at.Add(time.Minute))
	}
}
