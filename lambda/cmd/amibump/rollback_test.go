package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/event"
)

func TestRollbackPutsTheEvent(t *testing.T) {
	w := newWorld(t, nil)
	code, stdout, stderr := w.amibump("rollback", "--app", "shop", "--env", "prod", "--layer", "web", "--to-build", "jenkins-shop-deploy-141", "--reason", "5xx after 142", "--region", "eu-west-1")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	sent := w.cloud.Events()
	if len(sent) != 1 {
		t.Fatalf("%d events on the bus, want 1", len(sent))
	}
	e := sent[0]
	if aws.ToString(e.Source) != "ci.jenkins" || aws.ToString(e.DetailType) != "rollback-requested" || aws.ToString(e.EventBusName) != "amibump" {
		t.Errorf("entry source %q, detail-type %q, bus %q", aws.ToString(e.Source), aws.ToString(e.DetailType), aws.ToString(e.EventBusName))
	}
	got, err := event.ParseRollback([]byte(aws.ToString(e.Detail)))
	if err != nil {
		t.Fatalf("the function would reject the detail it was sent: %v", err)
	}
	want := event.Rollback{App: "shop", Env: "prod", Layer: "web", ToBuild: "jenkins-shop-deploy-141", Reason: "5xx after 142"}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if strings.TrimSpace(stdout) == "" || !strings.Contains(stderr, "to build jenkins-shop-deploy-141") {
		t.Errorf("stdout %q (want the event id), stderr %q", stdout, stderr)
	}
}

func TestRollbackPrint(t *testing.T) {
	w := newWorld(t, nil)
	code, stdout, stderr := w.amibump("rollback", "--app", "shop", "--env", "prod", "--dry-run", "--print")
	if code != exitOK {
		t.Fatalf("exit %d; stderr: %s", code, stderr)
	}
	var entries []putEntry
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if entries[0].DetailType != "rollback-requested" || entries[0].Detail != `{"app":"shop","env":"prod","dryRun":true}` || w.clientCalls != 0 {
		t.Errorf("entry %+v, %d client calls; want the dry run's entry and no AWS call", entries[0], w.clientCalls)
	}
}

func TestRollbackInvalidInput(t *testing.T) {
	w := newWorld(t, nil)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no app", []string{"--env", "prod"}, "detail.app (--app) is required"},
		{"a bad build id", []string{"--app", "shop", "--env", "prod", "--to-build", " x"}, "detail.toBuild (--to-build)"},
		{"a reason with a control character", []string{"--app", "shop", "--env", "prod", "--reason", "a\x07b"}, "detail.reason (--reason)"},
		{"local and print", []string{"--app", "shop", "--env", "prod", "--local", "--print"}, "give one of them"},
		{"an argument", []string{"--app", "shop", "--env", "prod", "now"}, "rollback takes flags only"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := w.amibump(append([]string{"rollback"}, tt.args...)...)
			if code != exitInvalid || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
	if n := len(w.cloud.Events()); n != 0 {
		t.Errorf("%d events sent for invalid input", n)
	}
}

// TestRollbackLocal runs the rollback with the caller's credentials: the
// release before is back on the template, held.
func TestRollbackLocal(t *testing.T) {
	w := newWorld(t, nil)
	var amis []string
	for _, n := range []string{"141", "142"} {
		w.jenkins(n)
		code, _, stderr := w.amibump("run", "--app", "shop", "--env", "prod")
		if code != exitOK {
			t.Fatalf("deploy %s: exit %d: %s", n, code, stderr)
		}
		_, _, img := w.head()
		amis = append(amis, img)
	}
	code, stdout, stderr := w.amibump("rollback", "--app", "shop", "--env", "prod", "--local", "--dry-run")
	if _, _, img := w.head(); code != exitOK || !strings.Contains(stdout, "dry-run") || img != amis[1] {
		t.Fatalf("dry run: exit %d, $Latest %s; stdout %s; stderr %s", code, img, stdout, stderr)
	}
	code, stdout, stderr = w.amibump("rollback", "--app", "shop", "--env", "prod", "--local", "--reason", "5xx")
	if code != exitOK || !strings.Contains(stdout, "rolled-back") || !strings.Contains(stdout, "rolled back from build jenkins-shop-deploy-142") {
		t.Fatalf("exit %d; stdout %s; stderr %s", code, stdout, stderr)
	}
	latest, def, img := w.head()
	if img != amis[0] || def != latest {
		t.Errorf("$Latest %d carries %s, $Default %d; want %s on both", latest, img, def, amis[0])
	}
	code, stdout, _ = w.amibump("rollback", "--app", "shop", "--env", "prod", "--local", "--to-build", "nope")
	if code != exitRejected || !strings.Contains(stdout, "no version amibump made carries build nope") {
		t.Errorf("a rollback to a build that is not kept: exit %d, %s", code, stdout)
	}
}
