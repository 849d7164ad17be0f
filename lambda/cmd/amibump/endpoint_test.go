package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/amibump/amibump/lambda/awssim"
)

// TestOverTheLocalEndpoint runs the README's Jenkins command line, a failed
// entry and a break-glass run through main's real SDK clients, pointed at the
// local AWS endpoint (package awssim) by AWS_ENDPOINT_URL as a user would: the
// wiring, the wire protocols and the SDK's own error handling are exercised.
func TestOverTheLocalEndpoint(t *testing.T) {
	w := newWorld(t, nil)
	jenkinsBuild142(w)
	amibump := overTheLocalEndpoint(t, w)

	if code, stdout, stderr := amibump(strings.Fields("emit --app shop --env prod --layer web --group a")...); code != exitOK || strings.TrimSpace(stdout) == "" {
		t.Fatalf("emit: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	if n := len(w.cloud.Events()); n != 1 {
		t.Errorf("%d events on the bus, want 1", n)
	}

	w.cloud.FailEntries(1, "AccessDeniedException", "not authorized")
	if code, _, stderr := amibump(strings.Fields("emit --app shop --env prod")...); code != exitRejected || !strings.Contains(stderr, "AccessDeniedException: not authorized") {
		t.Errorf("emit with a failed entry: exit %d, want 3\n%s", code, stderr)
	}

	code, stdout, stderr := amibump("run", "--poll-min", "1ms", "--poll-max", "5ms", sample(t, "deploy-finished.json"))
	if code != exitOK || !strings.Contains(stdout, "promoted") {
		t.Errorf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	if latest, _, _ := w.head(); latest != 2 {
		t.Errorf("$Latest is version %d, want 2", latest)
	}
}

// overTheLocalEndpoint serves the world's account on a local AWS endpoint
// (package awssim) and returns the command line as a user runs it: main's SDK
// clients, pointed there by AWS_ENDPOINT_URL, with the world's clock.
func overTheLocalEndpoint(t *testing.T, w *world) func(args ...string) (code int, stdout, stderr string) {
	t.Helper()
	sim := awssim.New(w.cloud)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	return func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, func(k string) string { return w.env[k] }, &out, &errOut, newSDK().clients, w.cloud.Clock().Now, withScope(w.scope))
		return code, out.String(), errOut.String()
	}
}
