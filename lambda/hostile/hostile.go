// Package hostile makes the inputs a careless or hostile sender could give
// amibump, for its tests and as seeds of its fuzz targets: events at
// EventBridge's size limit with deep nesting, very long strings, NUL bytes,
// odd Unicode and values of the wrong kind. Only tests import it.
package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// MaxEventSize is EventBridge's limit on an event (PutEvents entry), 256 KB:
// nothing larger reaches the function.
const MaxEventSize = 256 * 1024

// Input is one hostile input: a whole event, or the detail alone.
type Input struct {
	Name   string
	Event  []byte
	Detail []byte
}

// envelope wraps a detail (JSON text) in a deploy-finished envelope.
func envelope(detailType, time, detail string) []byte {
	return fmt.Appendf(nil, `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":%q,"source":"ci.jenkins",`+
		`"account":"123456789012","time":%q,"region":"us-east-1","resources":[],"detail":%s}`, detailType, time, detail)
}

// deploy is a valid deploy-finished detail with one field replaced by raw JSON.
func deploy(field, raw string) string {
	fields := map[string]string{"app": `"shop"`, "env": `"prod"`, "layer": `"web"`, "group": `"a"`,
		"build": `{"id":"jenkins-shop-deploy-142","url":"https://jenkins.example.com/job/shop-deploy/142/","commit":"9f1c2e7d"}`}
	fields[field] = raw
	var b strings.Builder
	b.WriteString("{")
	for i, k := range []string{"app", "env", "layer", "group", "build"} {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", k, fields[k])
	}
	b.WriteString("}")
	return b.String()
}

// Inputs returns the hostile inputs, each at most MaxEventSize as an event.
func Inputs() []Input {
	const room = MaxEventSize - 1024 // for the envelope around a detail
	long := strings.Repeat("a", room)
	nested := func(open, close string) string {
		n := room / (len(open) + len(close))
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	manyKeys := func() string {
		var b strings.Builder
		b.WriteString(`{"app":"shop","env":"prod","build":{"id":"b"}`)
		for i := 0; b.Len() < room-32; i++ {
			fmt.Fprintf(&b, `,"k%d":%d`, i, i)
		}
		return b.String() + "}"
	}
	details := []struct{ name, detail string }{
		{"deep arrays", nested("[", "]")},
		{"deep objects", nested(`{"a":`, "}")},
		{"deep arrays in app", deploy("app", nested("[", "]"))},
		{"deep objects in build", deploy("build", nested(`{"id":`, "}"))},
		{"long app", deploy("app", `"`+long+`"`)},
		{"long build id", deploy("build", `{"id":"`+long+`"}`)},
		{"long build url", deploy("build", `{"id":"b","url":"https://`+long+`"}`)},
		{"long commit", deploy("build", `{"id":"b","commit":"`+long+`"}`)},
		{"long unknown field", `{"app":"shop","env":"prod","build":{"id":"b"},"` + long + `":1}`},
		{"many unknown fields", manyKeys()},
		{"escaped NUL in app", deploy("app", `"shop\u0000"`)},
		{"escaped NUL in build id", deploy("build", `{"id":"b\u0000uild"}`)},
		{"raw NUL in a string", deploy("app", "\"sh\x00op\"")},
		{"invalid UTF-8", deploy("app", "\"sh\xff\xfeop\"")},
		{"lone surrogate", deploy("build", `{"id":"\ud800"}`)},
		{"right-to-left override", deploy("group", `"a\u202eb"`)},
		{"combining marks", deploy("env", `"prod`+strings.Repeat("\u0301", 1000)+`"`)},
		{"fullwidth letters", deploy("app", `"ｓｈｏｐ"`)},
		{"huge number", deploy("app", "1"+strings.Repeat("0", 5000)+"e999999")},
		{"null detail", "null"},
		{"string detail", `"` + long + `"`},
		{"long escaped unicode", deploy("app", `"`+strings.Repeat(`\u00e9`, room/6)+`"`)},
	}
	var out []Input
	for _, d := range details {
		out = append(out, Input{Name: d.name, Detail: []byte(d.detail), Event: envelope("deploy-finished", "2026-11-26T02:15:00Z", d.detail)})
	}
	ok := deploy("app", `"shop"`)
	events := []struct {
		name  string
		event []byte
	}{
		{"from the end of time", envelope("deploy-finished", "9999-12-31T23:59:59Z", ok)},
		{"year 10000", envelope("deploy-finished", "10000-01-01T00:00:00Z", ok)},
		{"long time", envelope("deploy-finished", long, ok)},
		{"long detail-type", envelope(long, "2026-11-26T02:15:00Z", ok)},
		{"NUL detail-type", envelope("deploy-finished\x00", "2026-11-26T02:15:00Z", ok)},
		{"long AMI id", envelope("EC2 AMI State Change", "2026-11-26T02:31:07Z", `{"ImageId":"ami-`+long+`","State":"available"}`)},
		{"long AMI state", envelope("EC2 AMI State Change", "2026-11-26T02:31:07Z", `{"ImageId":"ami-0abcdef1234567890","State":"`+long+`"}`)},
		{"deep envelope", []byte(nested("[", "]"))},
		{"byte order mark", append([]byte("\xef\xbb\xbf"), envelope("deploy-finished", "2026-11-26T02:15:00Z", ok)...)},
		{"trailing garbage", append(envelope("deploy-finished", "2026-11-26T02:15:00Z", ok), "}}}"...)},
	}
	for _, e := range events {
		out = append(out, Input{Name: e.name, Event: e.event})
	}
	return out
}

// SampleEvents reads every event under testdata/events, the fuzz targets'
// first seeds.
func SampleEvents(tb testing.TB) [][]byte {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0) // lambda/hostile/hostile.go
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "events", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no sample events: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}
