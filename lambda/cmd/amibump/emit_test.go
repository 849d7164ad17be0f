package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

func TestEmitPutsTheEventAndPrintsItsID(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	before := w.cloud.Clock().Now()
	code, stdout, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--layer", "web", "--group", "a", "--profile", "ci", "--region", "eu-west-1")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	sent := w.cloud.Events()
	if len(sent) != 1 {
		t.Fatalf("%d events on the bus, want 1", len(sent))
	}
	e := sent[0]
	if got := strings.TrimSpace(stdout); got == "" || strings.Contains(got, "\n") {
		t.Errorf("stdout = %q, want the event id alone", stdout)
	}
	if aws.ToString(e.Source) != "ci.jenkins" || aws.ToString(e.DetailType) != "deploy-finished" || aws.ToString(e.EventBusName) != "amibump" {
		t.Errorf("entry source %q, detail-type %q, bus %q; want ci.jenkins, deploy-finished, amibump", aws.ToString(e.Source), aws.ToString(e.DetailType), aws.ToString(e.EventBusName))
	}
	if e.Time == nil || e.Time.Before(before) {
		t.Errorf("entry time %v, want now", e.Time)
	}
	want := event.Deploy{App: "shop", Env: "prod", Layer: "web", Group: "a", Build: event.Build{
		ID: "jenkins-shop-deploy-142", URL: "https://jenkins.example.com/job/shop-deploy/142/", Commit: "9f1c2e7d0a1b2c3d4e5f60718293a4b5c6d7e8f9"}}
	got, err := event.ParseDeploy([]byte(aws.ToString(e.Detail)))
	if err != nil {
		t.Fatalf("the function would reject the detail it was sent: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if w.profile != "ci" || w.region != "eu-west-1" {
		t.Errorf("clients for profile %q, region %q; want ci, eu-west-1", w.profile, w.region)
	}
}

func TestEmitFlagsOverrideJenkinsVariables(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	code, _, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--build-id", "manual-1", "--build-url", "", "--commit", "abc123",
		"--instance-id", namedInstance, "--dry-run", "--source", "ci.manual", "--bus", "amibump")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
	}
	e := w.cloud.Events()[0]
	want := `{"app":"shop","env":"prod","build":{"id":"manual-1","commit":"abc123"},"instanceId":"i-0123456789abcdef0","dryRun":true}`
	if got := aws.ToString(e.Detail); got != want {
		t.Errorf("detail\n got %s\nwant %s", got, want)
	}
	if aws.ToString(e.Source) != "ci.manual" {
		t.Errorf("source %q, want ci.manual", aws.ToString(e.Source))
	}
}

// TestEmitFailedEntry: PutEvents answers HTTP 200 with FailedEntryCount > 0;
// emit reports the entry's code and message and exits non-zero.
func TestEmitFailedEntry(t *testing.T) {
	tests := []struct {
		name, code, message string
		bus                 string
		want                int
	}{
		{"EventBridge trouble may pass", "InternalFailure", "Internal failure", "amibump", exitFailure},
		{"throttled", "ThrottlingException", "Rate exceeded", "amibump", exitFailure},
		{"not allowed", "AccessDeniedException", "not authorized to put events on bus amibump", "amibump", exitRejected},
		{"no such bus", "", "", "amibmup", exitRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.jenkins("142")
			if tt.code != "" {
				w.cloud.FailEntries(1, tt.code, tt.message)
			}
			code, stdout, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--bus", tt.bus)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.want, stderr)
			}
			wantCode := tt.code
			if wantCode == "" {
				wantCode = "ResourceNotFoundException"
			}
			if !strings.Contains(stderr, wantCode) || !strings.Contains(stderr, tt.message) {
				t.Errorf("stderr %q does not give the entry's code %s and message %q", stderr, wantCode, tt.message)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing (no event id)", stdout)
			}
			if len(w.cloud.Events()) != 0 {
				t.Errorf("the failed entry is on the bus")
			}
		})
	}
}

func TestEmitCallError(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	w.cloud.FailNext("PutEvents", awsfake.APIError("InternalException", "service unavailable"))
	code, _, stderr := w.amibump("emit", "--app", "shop", "--env", "prod")
	if code != exitFailure || !strings.Contains(stderr, "InternalException") {
		t.Errorf("exit %d, stderr %q; want 4 and the error", code, stderr)
	}
}

func TestEmitJSON(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	code, stdout, _ := w.amibump("emit", "--app", "shop", "--env", "prod", "--json")
	var got emitResult
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitOK || got.EventID == "" {
		t.Fatalf("exit %d, stdout %q (%v); want 0 and {\"eventId\": ...}", code, stdout, err)
	}

	w.cloud.FailEntries(1, "AccessDeniedException", "denied")
	code, stdout, _ = w.amibump("emit", "--app", "shop", "--env", "prod", "--json")
	got = emitResult{}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitRejected {
		t.Fatalf("exit %d, stdout %q (%v); want 3 and JSON", code, stdout, err)
	}
	if diff := cmp.Diff(emitResult{ErrorCode: "AccessDeniedException", ErrorMessage: "denied"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestEmitPrint: --print prints the entry as `aws events put-events --entries`
// takes it, and sends nothing (no credentials needed).
func TestEmitPrint(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	code, stdout, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--layer", "web", "--group", "a", "--print")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	if w.clientCalls != 0 || len(w.cloud.Events()) != 0 {
		t.Errorf("--print built clients (%d) or sent events (%d)", w.clientCalls, len(w.cloud.Events()))
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("stdout is not a JSON list: %v\n%s", err, stdout)
	}
	want := []map[string]any{{
		"Source": "ci.jenkins", "DetailType": "deploy-finished", "EventBusName": "amibump",
		"Detail": `{"app":"shop","env":"prod","layer":"web","group":"a","build":{"id":"jenkins-shop-deploy-142","url":"https://jenkins.example.com/job/shop-deploy/142/","commit":"9f1c2e7d0a1b2c3d4e5f60718293a4b5c6d7e8f9"}}`,
	}}
	if diff := cmp.Diff(want, entries); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

// TestEmitInvalidInput: exit 2 before anything is sent, with a message naming
// the field and the flag or variable that sets it.
func TestEmitInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"no app", map[string]string{"BUILD_TAG": "b-1"}, []string{"--env", "prod"}, []string{"detail.app (--app) is required"}},
		{"no build id", nil, []string{"--app", "shop", "--env", "prod"}, []string{"detail.build.id (--build-id or BUILD_TAG) is required"}},
		{"group with a slash", map[string]string{"BUILD_TAG": "b-1"}, []string{"--app", "shop", "--env", "prod", "--group", "a/b"}, []string{`detail.group (--group) "a/b" is not allowed`}},
		{"bad Jenkins URL", map[string]string{"BUILD_TAG": "b-1", "BUILD_URL": "jenkins/job/1"}, []string{"--app", "shop", "--env", "prod"}, []string{"detail.build.url (--build-url or BUILD_URL)"}},
		{"every problem at once", nil, []string{"--app", "shop!", "--env", "", "--instance-id", "i-1"}, []string{"detail.app (--app)", "detail.env (--env)", "detail.build.id", "detail.instanceId (--instance-id)"}},
		{"aws source", map[string]string{"BUILD_TAG": "b-1"}, []string{"--app", "shop", "--env", "prod", "--source", "aws.ec2"}, []string{"--source"}},
		{"unknown flag", nil, []string{"--app", "shop", "--grup", "a"}, []string{"-grup"}},
		{"an argument", map[string]string{"BUILD_TAG": "b-1"}, []string{"--app", "shop", "--env", "prod", "extra"}, []string{`unexpected argument "extra"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			w.env = tt.env
			code, stdout, stderr := w.amibump(append([]string{"emit"}, tt.args...)...)
			if code != exitInvalid {
				t.Errorf("exit %d, want 2", code)
			}
			for _, want := range tt.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
			if stdout != "" || w.clientCalls != 0 || len(w.cloud.Events()) != 0 {
				t.Errorf("something was sent: stdout %q, %d client calls, %d events", stdout, w.clientCalls, len(w.cloud.Events()))
			}
		})
	}
}

func TestUsage(t *testing.T) {
	w := newWorld(t, nil)
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, exitInvalid},
		{[]string{"bump"}, exitInvalid},
		{[]string{"help"}, exitOK},
		{[]string{"-h"}, exitOK},
		{[]string{"emit", "-h"}, exitOK},
		{[]string{"help", "emit"}, exitOK},
		{[]string{"plan", "--help"}, exitOK},
		{[]string{"help", "bump"}, exitInvalid},
	} {
		code, stdout, stderr := w.amibump(tt.args...)
		if code != tt.want {
			t.Errorf("amibump %v: exit %d, want %d", tt.args, code, tt.want)
		}
		// Asked for, help goes to stdout (amibump help emit | less); a usage
		// shown because of a mistake goes to stderr.
		shown, other := stdout, stderr
		if code != exitOK {
			shown, other = stderr, stdout
		}
		if !strings.Contains(shown, "Exit codes") || (code == exitOK && other != "") {
			t.Errorf("amibump %v: exit %d; the usage, with the exit codes, belongs on %s only:\nstdout %q\nstderr %q", tt.args, code,
				map[bool]string{true: "stdout", false: "stderr"}[code == exitOK], stdout, stderr)
		}
	}
	if _, stdout, _ := w.amibump("help", "emit"); !strings.Contains(stdout, "--build-id id") || !strings.Contains(stdout, "--check") {
		t.Errorf("help emit does not list emit's flags as --name:\n%s", stdout)
	}
}

// TestUnknownFlags: a mistyped flag or command is exit 2, with the one it
// resembles; a flag of run given to plan says so.
func TestUnknownFlags(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"emit", "--ap", "shop", "--env", "prod"}, "unknown flag --ap; did you mean --app?"},
		{[]string{"emit", "--app", "shop", "--env", "prod", "--instance", "i-1"}, "did you mean --instance-id?"},
		{[]string{"status", "--layr", "web"}, "did you mean --layer?"},
		{[]string{"plan", "--app", "shop", "--env", "prod", "--publish-results"}, "unknown flag --publish-results (run takes it"},
		{[]string{"plan", "--app", "shop", "--env", "prod", "--max-wait", "1m"}, "unknown flag --max-wait (run takes it"},
		{[]string{"stauts"}, "did you mean status?"},
		{[]string{"emit", "-app", "shop", "--env", "prod", "--zzzzzz"}, "unknown flag --zzzzzz\n"},
	} {
		code, stdout, stderr := w.amibump(tt.args...)
		if code != exitInvalid || !strings.Contains(stderr, tt.want) || stdout != "" {
			t.Errorf("amibump %v: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	if len(w.cloud.Events()) != 0 || w.clientCalls != 0 {
		t.Errorf("bad flags sent %d events, built clients %d times", len(w.cloud.Events()), w.clientCalls)
	}
	// -app and --app are the same flag.
	if code, _, stderr := w.amibump("emit", "-app", "shop", "-env", "prod"); code != exitOK {
		t.Errorf("emit -app shop -env prod: exit %d\n%s", code, stderr)
	}
}

type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestLostOutputIsAFailure: an event id that could not be printed is not a success.
func TestLostOutputIsAFailure(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	var stderr strings.Builder
	code := run(context.Background(), []string{"emit", "--app", "shop", "--env", "prod", "--print"}, func(k string) string { return w.env[k] }, brokenPipe{}, &stderr, w.clients, w.cloud.Clock().Now)
	if code != exitFailure {
		t.Errorf("exit %d, want 4", code)
	}
}
