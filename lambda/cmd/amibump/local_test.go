package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

func TestRunPromotes(t *testing.T) {
	w := newWorld(t, nil)
	code, stdout, stderr := w.amibump("run", sample(t, "deploy-finished.json"))
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr: %s\n%s", code, stderr, stdout)
	}
	latest, def, image := w.head()
	if latest != 2 || def != 2 || image == w.baseAMI {
		t.Fatalf("$Latest %d (%s), $Default %d; want version 2 with the new AMI, default", latest, image, def)
	}
	for _, want := range []string{
		"Processed the deploy of build jenkins-shop-deploy-142 to app=shop env=prod layer=web group=a (event 6a7e8feb-b491-4cf7-a9f1-bf3703467718 at " + awsfake.Shift(time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)).Format(time.RFC3339) + ")",
		"shop-web-prod-a (" + w.lt + "): promoted",
		"image:    " + image,
		"version:  2",
		"source:   " + namedInstance,
		"build:    jenkins-shop-deploy-142, commit 9f1c2e7d",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output does not say %q:\n%s", want, stdout)
		}
	}
	if n := len(w.cloud.Events()); n != 0 {
		t.Errorf("%d results put on the bus, want none without --publish-results", n)
	}

	// Again, as after the function came back and processed it too: nothing new.
	code, stdout, _ = w.amibump("run", sample(t, "deploy-finished.json"))
	if latest2, _, image2 := w.head(); code != exitOK || latest2 != 2 || image2 != image || !strings.Contains(stdout, "promoted") || !strings.Contains(stdout, "version:  2") {
		t.Errorf("second run: exit %d, $Latest %d (%s); want 0 and version 2 with %s unchanged\n%s", code, latest2, image2, image, stdout)
	}
}

func TestRunFromFlagsWithJenkinsVariables(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("150")
	code, stdout, stderr := w.amibump("run", "--app", "shop", "--env", "prod", "--json", "--publish-results", "--verbose")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	var resp event.Response
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil || len(resp.Results) != 1 {
		t.Fatalf("stdout is not the function's response with one result: %v\n%s", err, stdout)
	}
	r := resp.Results[0]
	if r.Status != event.Promoted || r.Build == nil || r.Build.ID != "jenkins-shop-deploy-150" || !strings.HasPrefix(r.EventID, "local-") {
		t.Errorf("result %+v; want promoted, build jenkins-shop-deploy-150, event id local-…", r)
	}
	img, _ := w.cloud.Image(r.ImageID)
	tags := map[string]string{}
	for _, tag := range img.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if tags["amibump:build-url"] != w.env["BUILD_URL"] || tags["amibump:commit"] != w.env["GIT_COMMIT"] {
		t.Errorf("AMI tags %v do not carry BUILD_URL and GIT_COMMIT", tags)
	}
	published := w.cloud.Events()
	if len(published) != 1 || aws.ToString(published[0].DetailType) != "bump-finished" || aws.ToString(published[0].EventBusName) != "amibump" {
		t.Errorf("published %d events, want one bump-finished on amibump (--publish-results)", len(published))
	}
	if !strings.Contains(stderr, "image requested") {
		t.Errorf("--verbose did not log the steps:\n%s", stderr)
	}
}

// TestRunEmitPrintOutput: the entry list that emit --print prints is an event
// file for run and plan.
func TestRunEmitPrintOutput(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("151")
	_, entries, _ := w.amibump("emit", "--app", "shop", "--env", "prod", "--layer", "web", "--print")
	path := filepath.Join(t.TempDir(), "entries.json")
	if err := os.WriteFile(path, []byte(entries), 0o644); err != nil {
		t.Fatal(err)
	}
	w.env = nil // the build id comes from the file
	if code, stdout, stderr := w.amibump("run", path); code != exitOK || !strings.Contains(stdout, "promoted") {
		t.Errorf("exit %d, want 0 and promoted:\n%s%s", code, stdout, stderr)
	}
}

func TestPlanChangesNothingAndShowsEverything(t *testing.T) {
	w := newWorld(t, map[string]string{"amibump:keep": "1"})
	w.group("shop-web-prod-a-canary", "1")
	// Two earlier deploys: the plan's retention would delete the second's version and AMI.
	for i, at := range []time.Time{time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} {
		f := w.eventFile("deploy-finished-web.json", map[string]any{"time": awsfake.Shift(at).Format(time.RFC3339), "detail.build.id": "jenkins-shop-deploy-" + strconv.Itoa(140+i)})
		code, stdout, stderr := w.amibump("run", f)
		if code != exitOK {
			t.Fatalf("seeding deploy %d: exit %d\n%s%s", i, code, stdout, stderr)
		}
		if i == 1 && !strings.Contains(stdout, "1 AMIs retired, 0 AMIs and 0 snapshots deregistered") {
			t.Errorf("the second deploy's output does not say it retired the first AMI:\n%s", stdout)
		}
	}
	_, _, kept := w.head()
	before := len(w.cloud.Versions(w.lt))
	imagesBefore := len(w.cloud.Images())

	code, stdout, stderr := w.amibump("plan", sample(t, "deploy-finished.json"))
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s\n%s", code, stderr, stdout)
	}
	for _, want := range []string{
		"Plan for the deploy of build jenkins-shop-deploy-142 to app=shop env=prod layer=web group=a",
		"nothing was changed",
		"shop-web-prod-a (" + w.lt + "): dry-run",
		"image instance " + namedInstance + " (named in the event, tagged amibump:source-for=shop-web-prod-a)",
		"shop-web-prod-a at $Latest",
		"shop-web-prod-a-canary at 1",
		"WARNING: group shop-web-prod-a-canary is pinned to launch template version 1",
		"retention (keep 1, delete-after 14 days): delete versions [3]; retire AMIs [" + kept + "] (deprecate and disable now, deregister later); deregister AMIs []",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan does not say %q:\n%s", want, stdout)
		}
	}
	if after := len(w.cloud.Versions(w.lt)); after != before || len(w.cloud.Images()) != imagesBefore {
		t.Errorf("plan changed the account: versions %d -> %d, images %d -> %d", before, after, imagesBefore, len(w.cloud.Images()))
	}
}

func TestPlanFromFlagsJSON(t *testing.T) {
	w := newWorld(t, nil)
	w.jenkins("160")
	code, stdout, stderr := w.amibump("plan", "--app", "shop", "--env", "prod", "--json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	var resp event.Response
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil || len(resp.Results) != 1 || resp.Results[0].Status != event.DryRun || len(resp.Results[0].Plan) == 0 {
		t.Fatalf("want one dry-run result with a plan, got %v:\n%s", err, stdout)
	}
	if len(w.amibumpImages()) != 0 {
		t.Error("plan made an image")
	}
}

func (w *world) amibumpImages() []ec2types.Image {
	var out []ec2types.Image
	for _, img := range w.cloud.Images() {
		for _, tag := range img.Tags {
			if aws.ToString(tag.Key) == "amibump:launch-template" {
				out = append(out, img)
			}
		}
	}
	return out
}

func TestRunOutcomes(t *testing.T) {
	tests := []struct {
		name   string
		seed   func(*world)
		args   []string
		want   int
		stdout string
		stderr string
	}{
		{"no matching template is rejected", nil, []string{"--app", "cart", "--env", "prod", "--build-id", "b-1"}, exitRejected,
			"no launch template tagged amibump:app=cart, amibump:env=prod", ""},
		{"a throttled call is a failure", func(w *world) {
			w.cloud.FailNext("CreateImage", awsfake.Throttle())
		}, []string{sample(t, "deploy-finished.json")}, exitFailure, "", "RequestLimitExceeded"},
		{"a failed AMI is a failure", func(w *world) {
			w.cloud.FailImagesOf(namedInstance, "Snapshot creation failed")
		}, []string{sample(t, "deploy-finished.json")}, exitFailure, "failed", "Snapshot creation failed"},
		{"a superseded deploy is ok", func(w *world) {
			if code, out, errOut := w.amibump("run", sample(t, "deploy-finished.json")); code != exitOK {
				w.t.Fatalf("seed: exit %d\n%s%s", code, out, errOut)
			}
		}, []string{sample(t, "deploy-finished-old.json")}, exitOK, "superseded", ""},
		{"an AMI still pending is ok, with a hint", func(w *world) {
			*w = *newWorldOn(w.t, awsfake.New(awsfake.WithImageDelay(time.Hour)), nil)
		}, []string{"--max-wait", "30ms", sample(t, "deploy-finished.json")}, exitOK, "pending", "run the same command again"},
		{"reconcile runs too", nil, []string{sample(t, "scheduled-reconcile.json")}, exitOK, "Scheduled Event", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			if tt.seed != nil {
				tt.seed(w)
			}
			code, stdout, stderr := w.amibump(append([]string{"run"}, tt.args...)...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stdout does not say %q or stderr %q:\n%s\n--\n%s", tt.stdout, tt.stderr, stdout, stderr)
			}
		})
	}
}

// TestLocalInvalidInput: exit 2 before any AWS call, naming the problem.
func TestLocalInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown field", []string{"run", sample(t, "invalid-unknown-field.json")}, `unknown field "grup"`},
		{"wrong type", []string{"plan", sample(t, "invalid-wrong-type.json")}, "detail.dryRun must be a boolean"},
		{"bad values", []string{"run", sample(t, "invalid-bad-values.json")}, `detail.app "shop prod" is not allowed`},
		{"missing build id from flags", []string{"plan", "--app", "shop", "--env", "prod"}, "detail.build.id (--build-id or BUILD_TAG) is required"},
		{"file and flags", []string{"run", sample(t, "deploy-finished.json"), "--app", "shop"}, "not both"},
		{"two files", []string{"run", sample(t, "deploy-finished.json"), sample(t, "deploy-finished-web.json")}, "takes one"},
		{"no such file", []string{"run", "nope.json"}, "nope.json"},
		{"not JSON", []string{"run", "world_test.go"}, "not an EventBridge event"},
		{"unsupported event", []string{"run", sample(t, "unsupported.json")}, "unsupported event"},
		{"plan of a reconcile", []string{"plan", sample(t, "scheduled-reconcile.json")}, "plan takes a deploy-finished or rollback-requested event"},
		{"poll delays upside down", []string{"run", "--poll-min", "1s", "--poll-max", "10ms", sample(t, "deploy-finished.json")}, "--poll-min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			code, _, stderr := w.amibump(tt.args...)
			if code != exitInvalid || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if w.clientCalls != 0 {
				t.Errorf("clients built for invalid input")
			}
		})
	}
}
