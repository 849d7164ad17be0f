package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go/logging"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// runWith runs the command line against the world with other clients or
// options than w.amibump gives.
func (w *world) runWith(ctx context.Context, clients clientsFunc, opts []option, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	if clients == nil {
		clients = w.clients
	}
	code = run(ctx, args, func(k string) string { return w.env[k] }, &out, &errOut, clients, w.cloud.Clock().Now, opts...)
	return code, out.String(), errOut.String()
}

// TestCredentialErrors: credentials that cannot be found or refreshed are
// exit 2 with what to do, not a failure a retry would cure.
func TestCredentialErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		profile string
		want    string
	}{
		{"no credentials anywhere", &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", errors.New("no EC2 IMDS role found"))}, "",
			"no usable AWS credentials: set AWS_PROFILE"},
		{"an SSO profile never logged in", &v4.SigningError{Err: fmt.Errorf("failed to retrieve credentials: %w", &ssocreds.InvalidTokenError{Err: errors.New("token file not found")})}, "prod",
			"run aws sso login --profile prod"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"emit", "--app", "shop", "--env", "prod"},
				{"status"},
				{"plan", "--app", "shop", "--env", "prod"},
			} {
				w := newWorld(t, nil)
				w.jenkins("142")
				w.env["AWS_PROFILE"] = tt.profile
				for _, op := range []string{"PutEvents", "DescribeLaunchTemplates"} {
					w.cloud.FailNext(op, tt.err)
				}
				code, _, stderr := w.amibump(args...)
				if code != exitInvalid || !strings.Contains(stderr, tt.want) {
					t.Errorf("%v: exit %d, want 2 and %q:\n%s", args, code, tt.want, stderr)
				}
			}
		})
	}
}

// hangingEvents never answers: an endpoint that accepts the connection and
// says nothing.
type hangingEvents struct{}

func (hangingEvents) PutEvents(ctx context.Context, _ *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (w *world) hangingClients(ctx context.Context, profile, region string) (bump.Clients, error) {
	clients, err := w.clients(ctx, profile, region)
	clients.Events = hangingEvents{}
	return clients, err
}

// TestTimeout: emit gives up after --timeout (exit 4, saying so) rather than
// hold the build; Ctrl-C is exit 130.
func TestTimeout(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	code, stdout, stderr := w.runWith(context.Background(), w.hangingClients, nil, "emit", "--app", "shop", "--env", "prod", "--timeout", "20ms", "--json")
	var got errorJSON
	if code != exitFailure || !strings.Contains(stderr, "no answer from AWS within --timeout 20ms") {
		t.Errorf("exit %d, want 4 and the timeout named:\n%s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.ExitCode != exitFailure {
		t.Errorf("--json: %q (%v); want the error object", stdout, err)
	}
	if _, stdout, _ := w.amibump("help", "emit"); !strings.Contains(stdout, "(default 30s)") {
		t.Errorf("emit's --timeout does not default to 30s:\n%s", stdout)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C
	code, _, stderr = w.runWith(ctx, w.hangingClients, nil, "emit", "--app", "shop", "--env", "prod")
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted") {
		t.Errorf("interrupted emit: exit %d, want 130:\n%s", code, stderr)
	}
}

// TestBadRegion: a --region that is no Region is invalid input, found before
// any client is built.
func TestBadRegion(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	for _, args := range [][]string{
		{"emit", "--app", "shop", "--env", "prod", "--region", "us-east"},
		{"status", "--region", "US-EAST-1"},
		{"plan", "--app", "shop", "--env", "prod", "--region", "useast1"},
	} {
		code, _, stderr := w.amibump(args...)
		if code != exitInvalid || !strings.Contains(stderr, "is not an AWS Region name") || w.clientCalls != 0 {
			t.Errorf("%v: exit %d, %d clients built; want 2 and none:\n%s", args, code, w.clientCalls, stderr)
		}
	}
	for _, region := range []string{"us-east-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1", "ap-southeast-5"} {
		if err := checkRegion(region); err != nil {
			t.Errorf("%s: %v", region, err)
		}
	}
}

// TestJSONErrors: with --json, a command that fails without results prints
// one JSON error object, never {"results": null}.
func TestJSONErrors(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	w.cloud.FailNext("DescribeLaunchTemplates", errors.New("connection reset"))
	for _, args := range [][]string{
		{"plan", "--app", "shop", "--env", "prod", "--json"},
		{"emit", "--app", "shop", "--json"},
		{"status", "--json", "--bogus"},
	} {
		code, stdout, _ := w.amibump(args...)
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || got["error"] == nil || got["exitCode"] != float64(code) || code == exitOK {
			t.Errorf("%v: exit %d, stdout %q (%v); want {\"error\": …, \"exitCode\": %d}", args, code, stdout, err, code)
		}
		if _, ok := got["results"]; ok {
			t.Errorf("%v: %s has results", args, stdout)
		}
	}
}

// TestEmitCheck: emit --check sends nothing, exit 3, when no template is
// tagged for the event, and sends it when one is.
func TestEmitCheck(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("142")
	code, _, stderr := w.amibump("emit", "--app", "shop", "--env", "staging", "--check")
	if code != exitRejected || !strings.Contains(stderr, "no launch template is tagged app=shop env=staging") || len(w.cloud.Events()) != 0 {
		t.Errorf("no template: exit %d, %d events; want 3 and none sent:\n%s", code, len(w.cloud.Events()), stderr)
	}
	code, stdout, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--check")
	if code != exitOK || strings.TrimSpace(stdout) == "" || len(w.cloud.Events()) != 1 || !strings.Contains(stderr, "1 launch template(s) tagged app=shop env=prod") {
		t.Errorf("a template: exit %d, %d events, stdout %q; want 0, one sent:\n%s", code, len(w.cloud.Events()), stdout, stderr)
	}
	if code, _, _ := w.amibump("emit", "--app", "shop", "--env", "prod", "--check", "--print"); code != exitInvalid {
		t.Errorf("--check --print: exit %d, want 2", code)
	}
}

// TestPublishResultsToAMissingBus: run --publish-results fails when a result
// does not reach the bus.
func TestPublishResultsToAMissingBus(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("170")
	code, _, stderr := w.amibump("run", "--app", "shop", "--env", "prod", "--publish-results", "--bus", "amibmup")
	if code != exitFailure || !strings.Contains(stderr, "results were not all put on bus amibmup") || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("exit %d, want 4 naming the bus and AWS's error:\n%s", code, stderr)
	}
	if latest, _, _ := w.head(); latest != 2 {
		t.Errorf("$Latest is version %d; the bump itself is done (2) even when its result could not be published", latest)
	}
}

// TestRunHeartbeat: run says on stderr that the AMI is still pending while it
// waits.
func TestRunHeartbeat(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("171")
	code, _, stderr := w.runWith(context.Background(), nil, []option{withHeartbeat(time.Nanosecond)},
		"run", "--app", "shop", "--env", "prod", "--poll-min", "1ms", "--poll-max", "2ms", "--max-wait", "10s")
	if code != exitOK || !strings.Contains(stderr, "is still pending after") || !strings.Contains(stderr, "waiting up to --max-wait 10s") {
		t.Errorf("exit %d; want 0 and a heartbeat on stderr:\n%s", code, stderr)
	}
}

// TestPlanFromStdinWithTheSSMPrefix: plan - reads the event from standard
// input, and AMIBUMP_SSM_PREFIX sets the parameter path as it does for status.
func TestPlanFromStdinWithTheSSMPrefix(t *testing.T) {
	w := newWorld(t, map[string]string{event.TagSSMParameter: "/releases/shop-web-prod-a"})
	w.env["AMIBUMP_SSM_PREFIX"] = "/releases/"
	w.jenkins("172")
	_, entry, _ := w.amibump("emit", "--app", "shop", "--env", "prod", "--print")
	code, stdout, stderr := w.runWith(context.Background(), nil, []option{withStdin(strings.NewReader(entry))}, "plan", "-")
	if code != exitOK || !strings.Contains(stdout, "/releases/shop-web-prod-a") || strings.Contains(stdout+stderr, "outside") {
		t.Errorf("exit %d; want the plan to write /releases/shop-web-prod-a:\n%s%s", code, stdout, stderr)
	}
}

// TestSDKLogsOff: the SDK's own warnings do not reach the person's output.
func TestSDKLogsOff(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	cfg, err := loadConfig(context.Background(), "", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Logger.(logging.Nop); !ok || cfg.ClientLogMode != 0 {
		t.Errorf("logger %T, client log mode %v; want the SDK silent", cfg.Logger, cfg.ClientLogMode)
	}
}

// TestHeadersNameAccountAndRegion: plan, run and status say which account and
// region they looked at.
func TestHeadersNameAccountAndRegion(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("173")
	for _, args := range [][]string{
		{"plan", "--app", "shop", "--env", "prod", "--region", "eu-west-1"},
		{"run", "--app", "shop", "--env", "prod", "--region", "eu-west-1"},
		{"status", "--region", "eu-west-1"},
	} {
		code, stdout, stderr := w.amibump(args...)
		first, _, _ := strings.Cut(stdout, "\n")
		if code != exitOK || !strings.Contains(first, "account 123456789012, region eu-west-1") {
			t.Errorf("%v: exit %d, first line %q; want the account and region in it\n%s", args, code, first, stderr)
		}
	}
}
