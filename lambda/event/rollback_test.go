package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func rollbackEvent(detail string) []byte {
	return []byte(`{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"rollback-requested","source":"ci.jenkins",` +
		`"account":"123456789012","time":"2026-11-26T03:00:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`)
}

func TestParseRollback(t *testing.T) {
	tests := []struct {
		name, detail string
		want         *Rollback
		errs         []string // each must be in the error
	}{
		{"the least", `{"app":"shop","env":"prod"}`, &Rollback{App: "shop", Env: "prod"}, nil},
		{"every field", `{"app":"shop","env":"prod","layer":"web","group":"a","toBuild":"jenkins-shop-141","reason":"5xx after 142","dryRun":true}`,
			&Rollback{App: "shop", Env: "prod", Layer: "web", Group: "a", ToBuild: "jenkins-shop-141", Reason: "5xx after 142", DryRun: true}, nil},
		{"null optional fields count as left out", `{"app":"shop","env":"prod","layer":null,"toBuild":null,"reason":null}`, &Rollback{App: "shop", Env: "prod"}, nil},
		{"every problem at once", `{"app":"","env":"p r o d","toBuild":" x","reason":"a\u0007b"}`, nil,
			[]string{"detail.app is required", "detail.env \"p r o d\" is not allowed", "detail.toBuild \" x\" is not allowed", "detail.reason is not allowed"}},
		{"a typo is refused, naming the fields", `{"app":"shop","env":"prod","grup":"a"}`, nil, []string{`unknown field "grup"`, "allowed: app, env, layer, group, toBuild, reason, dryRun"}},
		{"a name in another case is refused", `{"app":"shop","env":"prod","ToBuild":"b"}`, nil, []string{`unknown field "ToBuild" (names are case-sensitive)`}},
		{"a wrong type", `{"app":"shop","env":"prod","dryRun":"yes"}`, nil, []string{"detail.dryRun must be a boolean"}},
		{"a reason too long", `{"app":"shop","env":"prod","reason":"` + strings.Repeat("x", 257) + `"}`, nil, []string{"at most 256"}},
		{"a deploy's detail is not a rollback's", `{"app":"shop","env":"prod","build":{"id":"b"}}`, nil, []string{`unknown field "build"`}},
		{"trailing data", `{"app":"shop","env":"prod"} {}`, nil, []string{"trailing data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRollback([]byte(tt.detail))
			if tt.errs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if *got != *tt.want {
					t.Errorf("got %+v, want %+v", *got, *tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %s", tt.detail)
			}
			for _, e := range tt.errs {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error %q does not say %q", err, e)
				}
			}
		})
	}
}

func TestRollbackEventNeedsItsTypeAndTime(t *testing.T) {
	if _, _, err := ParseRollbackEvent(rollbackEvent(`{"app":"shop","env":"prod"}`)); err != nil {
		t.Fatal(err)
	}
	noTime := strings.Replace(string(rollbackEvent(`{"app":"shop","env":"prod"}`)), `"time":"2026-11-26T03:00:00Z",`, "", 1)
	if _, _, err := ParseRollbackEvent([]byte(noTime)); err == nil || !strings.Contains(err.Error(), `no "time"`) {
		t.Errorf("an event without time: %v", err)
	}
	env, _ := ParseEnvelope(rollbackEvent(`{"app":"shop","env":"prod"}`))
	if k := env.Classify(); k != KindRollback {
		t.Errorf("classified as %v, want the rollback kind", k)
	}
}

func TestRollbackDryRunDetail(t *testing.T) {
	out, err := KindRollback.DryRun([]byte(`{"app":"shop","env":"prod","toBuild":"b-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRollback(out)
	if err != nil || !r.DryRun || r.ToBuild != "b-1" {
		t.Errorf("dry run detail %s: %+v, %v", out, r, err)
	}
}

// TestRollbackSchemaAgrees: the schema and the Go validation accept and refuse
// the same events.
func TestRollbackSchemaAgrees(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(RollbackRequestedSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	const url = "mem://rollback-requested.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(RollbackRequestedSchema, &meta); err != nil || meta["x-amazon-events-detail-type"] != RollbackRequested {
		t.Errorf("x-amazon-events-detail-type = %v, %v", meta["x-amazon-events-detail-type"], err)
	}
	details := []string{
		`{"app":"shop","env":"prod"}`,
		`{"app":"shop","env":"prod","layer":"web","group":"a","toBuild":"jenkins-shop-141","reason":"5xx after 142","dryRun":true}`,
		`{"app":"shop","env":"prod","layer":null,"group":"","toBuild":null,"reason":null,"dryRun":null}`,
		`{"app":"` + strings.Repeat("a", 32) + `","env":"prod","toBuild":"` + strings.Repeat("b", 128) + `","reason":"` + strings.Repeat("r", 256) + `"}`,
		`{"app":"` + strings.Repeat("a", 33) + `","env":"prod"}`,
		`{"app":"shop","env":"prod","toBuild":"` + strings.Repeat("b", 129) + `"}`,
		`{"app":"shop","env":"prod","reason":"` + strings.Repeat("r", 257) + `"}`,
		`{"app":"shop","env":"prod","reason":"tab\there"}`,
		`{"app":"shop","env":"prod","toBuild":"trailing "}`,
		`{"app":"shop"}`,
		`{"app":"shop","env":"prod","grup":"a"}`,
		`{"app":"shop","env":"prod","dryRun":"yes"}`,
		`{"app":"shop","env":"prod","layer":"a b"}`,
	}
	for _, d := range details {
		raw := rollbackEvent(d)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		schemaErr := sch.Validate(inst)
		_, _, goErr := ParseRollbackEvent(raw)
		if (schemaErr == nil) != (goErr == nil) {
			t.Errorf("%s: schema says %v, Go says %v", d, schemaErr, goErr)
		}
	}
}
