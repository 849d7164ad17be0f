package event

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchema compiles DeployFinishedSchema as a draft-04 validator would.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(DeployFinishedSchema))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.AssertFormat()
	const url = "mem://deploy-finished.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

// verdicts returns what the schema and the Go validation say of one event.
func verdicts(t *testing.T, sch *jsonschema.Schema, raw []byte) (schemaErr, goErr error) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		schemaErr = err
	} else {
		schemaErr = sch.Validate(doc)
	}
	_, _, goErr = ParseDeployEvent(raw)
	return schemaErr, goErr
}

func TestSchemaIsDraft4ForTheRegistry(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(DeployFinishedSchema, &s); err != nil {
		t.Fatal(err)
	}
	if s["$schema"] != "http://json-schema.org/draft-04/schema#" || DeployFinishedSchemaType != "JSONSchemaDraft4" {
		t.Errorf("$schema = %v, type %s; the registry takes JSONSchemaDraft4 (or OpenApi3)", s["$schema"], DeployFinishedSchemaType)
	}
	if s["x-amazon-events-detail-type"] != DeployFinished || s["x-amazon-events-source"] != DefaultCISource {
		t.Errorf("x-amazon-events-* = %v, %v; want %s, %s", s["x-amazon-events-detail-type"], s["x-amazon-events-source"], DeployFinished, DefaultCISource)
	}
}

// TestSchemaAgreesOnSamples: every deploy-finished sample passes the schema and
// the Go validation; every invalid sample fails both.
func TestSchemaAgreesOnSamples(t *testing.T) {
	sch := compileSchema(t)
	dir := filepath.Join("..", "..", "testdata", "events")
	for _, glob := range []string{"deploy-finished*.json", "invalid-*.json"} {
		files, _ := filepath.Glob(filepath.Join(dir, glob))
		if len(files) < 5 {
			t.Fatalf("found %d samples %s, want at least 5", len(files), glob)
		}
		wantValid := strings.HasPrefix(glob, "deploy-finished")
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				schemaErr, goErr := verdicts(t, sch, raw)
				if (schemaErr == nil) != wantValid || (goErr == nil) != wantValid {
					t.Errorf("schema: %v\ngo: %v\nwant valid = %v for both", schemaErr, goErr, wantValid)
				}
			})
		}
	}
}

// envelope wraps a detail (raw JSON) in a deploy-finished event.
func envelope(detail string) []byte {
	return []byte(`{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"deploy-finished","source":"ci.jenkins",` +
		`"account":"123456789012","time":"2026-11-26T02:15:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`)
}

// TestSchemaAgreesOnEdges: values at and beyond each rule's edge get the same
// verdict from the schema and from the Go validation.
func TestSchemaAgreesOnEdges(t *testing.T) {
	sch := compileSchema(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name, detail string
		valid        bool
	}{
		{"minimal", `{"app":"shop","env":"prod","build":{"id":"b"}}`, true},
		{"every field", `{"app":"shop","env":"prod","layer":"web","group":"a","build":{"id":"jenkins-shop-deploy-1","url":"https://ci.example.com:8443/job/shop%20deploy/1/?x=1#top","commit":"9f1c2e7d"},"instanceId":"i-0123456789abcdef0","dryRun":true}`, true},
		{"32-character app", `{"app":"` + long(32) + `","env":"prod","build":{"id":"b"}}`, true},
		{"33-character app", `{"app":"` + long(33) + `","env":"prod","build":{"id":"b"}}`, false},
		{"33-character group", `{"app":"a","env":"prod","group":"` + long(33) + `","build":{"id":"b"}}`, false},
		{"uppercase and punctuation", `{"app":"Shop.V2_x-y","env":"PROD","build":{"id":"b"}}`, true},
		{"unicode app", `{"app":"shöp","env":"prod","build":{"id":"b"}}`, false},
		{"unicode build id", `{"app":"a","env":"prod","build":{"id":"bü"}}`, false},
		{"empty app", `{"app":"","env":"prod","build":{"id":"b"}}`, false},
		{"missing env", `{"app":"a","build":{"id":"b"}}`, false},
		{"empty layer is left out", `{"app":"a","env":"prod","layer":"","build":{"id":"b"}}`, true},
		{"null group is left out", `{"app":"a","env":"prod","group":null,"build":{"id":"b"}}`, true},
		{"null dryRun is left out", `{"app":"a","env":"prod","build":{"id":"b"},"dryRun":null}`, true},
		{"null app", `{"app":null,"env":"prod","build":{"id":"b"}}`, false},
		{"null build", `{"app":"a","env":"prod","build":null}`, false},
		{"space in env", `{"app":"a","env":"pr od","build":{"id":"b"}}`, false},
		{"newline after app", `{"app":"a\n","env":"prod","build":{"id":"b"}}`, false},
		{"extra field", `{"app":"a","env":"prod","build":{"id":"b"},"grup":"a"}`, false},
		{"extra build field", `{"app":"a","env":"prod","build":{"id":"b","number":142}}`, false},
		{"field name in another case", `{"App":"a","env":"prod","build":{"id":"b"}}`, false},
		{"build field name in another case", `{"app":"a","env":"prod","build":{"ID":"b"}}`, false},
		{"field name with a folding letter", `{"app":"a","env":"prod","build":{"id":"b"},"inſtanceId":"i-01234567"}`, false},
		{"dryRun as a string", `{"app":"a","env":"prod","build":{"id":"b"},"dryRun":"yes"}`, false},
		{"app as a number", `{"app":5,"env":"prod","build":{"id":"b"}}`, false},
		{"build as a string", `{"app":"a","env":"prod","build":"b"}`, false},
		{"detail as a list", `["a","prod"]`, false},
		{"detail as null", `null`, false},
		{"8-digit instance id", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":"i-01234567"}`, true},
		{"17-digit instance id", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":"i-0123456789abcdef0"}`, true},
		{"12-digit instance id", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":"i-0123456789ab"}`, false},
		{"uppercase instance id", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":"i-0123456789ABCDEF0"}`, false},
		{"instance id without prefix", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":"0123456789abcdef0"}`, false},
		{"empty instance id is left out", `{"app":"a","env":"prod","build":{"id":"b"},"instanceId":""}`, true},
		{"128-character build id", `{"app":"a","env":"prod","build":{"id":"` + long(128) + `"}}`, true},
		{"129-character build id", `{"app":"a","env":"prod","build":{"id":"` + long(129) + `"}}`, false},
		{"build id with inner spaces", `{"app":"a","env":"prod","build":{"id":"jenkins-shop deploy-142"}}`, true},
		{"build id with a leading space", `{"app":"a","env":"prod","build":{"id":" b"}}`, false},
		{"build id with a trailing space", `{"app":"a","env":"prod","build":{"id":"b "}}`, false},
		{"build id with a tab", `{"app":"a","env":"prod","build":{"id":"a\tb"}}`, false},
		{"empty build id", `{"app":"a","env":"prod","build":{"id":""}}`, false},
		{"missing build id", `{"app":"a","env":"prod","build":{"url":"https://ci/1"}}`, false},
		{"64-character commit", `{"app":"a","env":"prod","build":{"id":"b","commit":"` + long(64) + `"}}`, true},
		{"65-character commit", `{"app":"a","env":"prod","build":{"id":"b","commit":"` + long(65) + `"}}`, false},
		{"url with port and query", `{"app":"a","env":"prod","build":{"id":"b","url":"http://ci:8080/job/x/1/?a=b&c=d"}}`, true},
		{"url without a path", `{"app":"a","env":"prod","build":{"id":"b","url":"https://ci.example.com"}}`, true},
		{"url without a scheme", `{"app":"a","env":"prod","build":{"id":"b","url":"ci.example.com/job/1"}}`, false},
		{"ftp url", `{"app":"a","env":"prod","build":{"id":"b","url":"ftp://ci/1"}}`, false},
		{"uppercase scheme", `{"app":"a","env":"prod","build":{"id":"b","url":"HTTPS://ci/1"}}`, false},
		{"url with a space", `{"app":"a","env":"prod","build":{"id":"b","url":"https://ci/job/a b"}}`, false},
		{"url with a bad escape", `{"app":"a","env":"prod","build":{"id":"b","url":"https://ci/job/%zz"}}`, false},
		{"url with user info", `{"app":"a","env":"prod","build":{"id":"b","url":"https://me@ci/1"}}`, false},
		{"url without a host", `{"app":"a","env":"prod","build":{"id":"b","url":"https:///job/1"}}`, false},
		{"256-character url", `{"app":"a","env":"prod","build":{"id":"b","url":"https://ci/` + long(256-len("https://ci/")) + `"}}`, true},
		{"257-character url", `{"app":"a","env":"prod","build":{"id":"b","url":"https://ci/` + long(257-len("https://ci/")) + `"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schemaErr, goErr := verdicts(t, sch, envelope(tt.detail))
			if (schemaErr == nil) != tt.valid || (goErr == nil) != tt.valid {
				t.Errorf("schema: %v\ngo: %v\nwant valid = %v for both", schemaErr, goErr, tt.valid)
			}
		})
	}
}

func TestSchemaAgreesOnEnvelopes(t *testing.T) {
	sch := compileSchema(t)
	ok := `{"app":"a","env":"prod","build":{"id":"b"}}`
	tests := []struct {
		name, event string
		valid       bool
	}{
		{"replay", `{"detail-type":"deploy-finished","source":"ci.jenkins","time":"2026-11-26T02:15:00Z","replay-name":"r","detail":` + ok + `}`, true},
		{"extra top-level field", `{"detail-type":"deploy-finished","source":"ci.jenkins","time":"2026-11-26T02:15:00Z","new-field":1,"detail":` + ok + `}`, true},
		{"other detail type", `{"detail-type":"deploy-started","source":"ci.jenkins","time":"2026-11-26T02:15:00Z","detail":` + ok + `}`, false},
		{"no source", `{"detail-type":"deploy-finished","time":"2026-11-26T02:15:00Z","detail":` + ok + `}`, false},
		{"no time", `{"detail-type":"deploy-finished","source":"ci.jenkins","detail":` + ok + `}`, false},
		{"time not RFC 3339", `{"detail-type":"deploy-finished","source":"ci.jenkins","time":"26/11/2026","detail":` + ok + `}`, false},
		{"no detail", `{"detail-type":"deploy-finished","source":"ci.jenkins","time":"2026-11-26T02:15:00Z"}`, false},
		{"id as a number", `{"id":7,"detail-type":"deploy-finished","source":"ci.jenkins","time":"2026-11-26T02:15:00Z","detail":` + ok + `}`, false},
		{"resources as a string", `{"resources":"x","detail-type":"deploy-finished","source":"ci.jenkins","time":"2026-11-26T02:15:00Z","detail":` + ok + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schemaErr, goErr := verdicts(t, sch, []byte(tt.event))
			if (schemaErr == nil) != tt.valid || (goErr == nil) != tt.valid {
				t.Errorf("schema: %v\ngo: %v\nwant valid = %v for both", schemaErr, goErr, tt.valid)
			}
		})
	}
}

// TestSchemaAgreesOnRandomDetails generates details near the edges of every
// rule and checks that the schema and the Go validation agree on each.
func TestSchemaAgreesOnRandomDetails(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	sch := compileSchema(t)
	alphabets := []string{
		"abcXYZ019._-",
		"abcXYZ019._- /!~\t\"\\",
		"abcdef0123456789",
		"éß☃ſK",
		"abc:/?#[]@!$&'()*+,;=%20zZ.-",
	}
	str0 := func(alphabet string, n int) string {
		alpha := []rune(alphabet)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	str := func(maxLen int) string {
		alpha := []rune(alphabets[rng.IntN(len(alphabets))])
		n := rng.IntN(maxLen + 1)
		var b strings.Builder
		for range n {
			b.WriteRune(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	good := map[string]func() string{
		"selector": func() string { return str0("abcXYZ019._-", 1+rng.IntN(34)) },
		"id":       func() string { return "j" + str0("abc -_/XYZ019", rng.IntN(130)) + "9" },
		"commit":   func() string { return str0("abcdef0123456789", 1+rng.IntN(66)) },
		"instance": func() string { return "i-" + str0("0123456789abcdef", []int{8, 17}[rng.IntN(2)]) },
		"url": func() string {
			return "https://ci.example.com" + []string{"", ":8443"}[rng.IntN(2)] + "/job/" + str0("abc019-._~%20", rng.IntN(240))
		},
	}
	value := func(kind string) any {
		switch rng.IntN(40) {
		case 0:
			return nil
		case 1:
			return 42
		case 2:
			return true
		case 3:
			return map[string]any{}
		}
		if kind == "bool" {
			return rng.IntN(2) == 0
		}
		if rng.IntN(4) > 0 {
			return good[kind]()
		}
		switch kind {
		case "instance":
			prefix := []string{"i-", "i-", "I-", ""}[rng.IntN(4)]
			digits := []int{8, 17, 17, 9, 16, 18}[rng.IntN(6)]
			return prefix + strings.Repeat(string("0123456789abcdefA"[rng.IntN(17)]), digits)
		case "url":
			scheme := []string{"https://", "http://", "HTTP://", "ftp://", ""}[rng.IntN(5)]
			return scheme + str(12) + []string{"", "/", ":8080/"}[rng.IntN(3)] + str(40)
		}
		return str(map[string]int{"selector": 36, "id": 140, "commit": 70}[kind])
	}
	fields := []struct{ name, kind string }{{"app", "selector"}, {"env", "selector"}, {"layer", "selector"}, {"group", "selector"}, {"instanceId", "instance"}, {"dryRun", "bool"}}
	buildFields := []struct{ name, kind string }{{"id", "id"}, {"url", "url"}, {"commit", "commit"}}
	rename := func(name string) string {
		switch rng.IntN(60) {
		case 0:
			return strings.ToUpper(name[:1]) + name[1:]
		case 1:
			return name + "x"
		}
		return name
	}
	const n = 3000
	valid := 0
	for i := range n {
		detail := map[string]any{}
		for _, f := range fields {
			if rng.IntN(4) > 0 || f.name == "app" || f.name == "env" {
				detail[rename(f.name)] = value(f.kind)
			}
		}
		if rng.IntN(10) > 0 {
			build := map[string]any{}
			for _, f := range buildFields {
				if rng.IntN(3) > 0 || f.name == "id" {
					build[rename(f.name)] = value(f.kind)
				}
			}
			detail["build"] = build
		}
		raw, err := json.Marshal(detail)
		if err != nil {
			t.Fatal(err)
		}
		schemaErr, goErr := verdicts(t, sch, envelope(string(raw)))
		if (schemaErr == nil) != (goErr == nil) {
			t.Fatalf("case %d (seed %d): %s\nschema: %v\ngo: %v", i, seed, raw, schemaErr, goErr)
		}
		if goErr == nil {
			valid++
		}
	}
	if valid < n/50 {
		t.Errorf("only %d of %d generated details were valid: the generator misses the valid side", valid, n)
	}
	t.Logf("%d of %d generated details valid", valid, n)
}
