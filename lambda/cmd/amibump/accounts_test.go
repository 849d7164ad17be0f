package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/event"
)

const (
	toolingAccount = "111111111111" // Jenkins' account, in the organisation
	memberAccount  = "222222222222" // an account amibump is deployed to
	outsideAccount = "333333333333" // an account outside the organisation
	exampleOrgID   = "o-exampleorg1"
)

// accountsSim serves a World of three accounts on a local endpoint: tooling
// (key AKIDTOOLING) and member in one organisation, outside (AKIDOUTSIDE)
// not. It returns the World and the command line run with a key, as a user
// runs it (main's SDK clients, AWS_ENDPOINT_URL, AWS_REGION us-east-1).
func accountsSim(t *testing.T) (*awsfake.World, func(key string, args ...string) (int, string, string)) {
	t.Helper()
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDTOOLING", toolingAccount, "jenkins")
	w.AddAccessKey("AKIDOUTSIDE", outsideAccount, "jenkins")
	w.SetOrganization(exampleOrgID, toolingAccount, memberAccount)
	w.EnableRegion("us-east-1")
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	env := map[string]string{"BUILD_TAG": "jenkins-shop-deploy-142", "BUILD_URL": "https://jenkins.example.com/job/shop-deploy/142/"}
	return w, func(key string, args ...string) (int, string, string) {
		t.Setenv("AWS_ACCESS_KEY_ID", key)
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut, newSDK().clients, w.Clock().Now)
		return code, out.String(), errOut.String()
	}
}

// TestEmitToAnotherAccountsBus: emit --bus ARN puts the event on a bus of
// another account in another region (the client made for the ARN's region,
// not AWS_REGION's): the organisation's principals are admitted by the bus's
// aws:PrincipalOrgID statement (cdk context ciOrgId), an account the policy
// names by id (ciPrincipals) too. The bus refuses the entry inside
// PutEvents's output: an account outside both with AccessDeniedException, a
// source the bus does not admit with NotAuthorizedForSourceException; emit
// exits 3 with the code and what to change, and nothing of it lands.
func TestEmitToAnotherAccountsBus(t *testing.T) {
	w, amibump := accountsSim(t)
	busScope := awsfake.Scope{Account: memberAccount, Region: "eu-west-1"}
	bus := w.Cloud(busScope)
	bus.CreateEventBus("amibump")
	ci := awsfake.BusStatement{Principals: []string{"*"}, OrgID: exampleOrgID, Sources: []string{event.DefaultCISource}, DetailTypes: []string{event.DeployFinished}}
	w.PutBusPolicy(busScope, "amibump", ci)
	busARN := "arn:aws:events:eu-west-1:" + memberAccount + ":event-bus/amibump"
	emit := []string{"emit", "--app", "shop", "--env", "prod", "--bus", busARN}

	code, stdout, stderr := amibump("AKIDTOOLING", emit...)
	if code != exitOK || strings.TrimSpace(stdout) == "" {
		t.Fatalf("emit from the organisation: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	events := bus.Events()
	if len(events) != 1 || aws.ToString(events[0].EventBusName) != busARN || aws.ToString(events[0].DetailType) != "deploy-finished" {
		t.Fatalf("the member's bus in eu-west-1 holds %+v, want the deploy-finished event", events)
	}

	code, _, stderr = amibump("AKIDOUTSIDE", emit...)
	if code != exitRejected || !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, busARN) ||
		!strings.Contains(stderr, "ciOrgId") {
		t.Errorf("emit from outside the organisation: exit %d, want 3 with AccessDeniedException, the bus and what to change\n%s", code, stderr)
	}
	code, _, stderr = amibump("AKIDTOOLING", append(emit, "--source", "ci.other")...)
	if code != exitRejected || !strings.Contains(stderr, "NotAuthorizedForSourceException") || !strings.Contains(stderr, "ciOrgId") {
		t.Errorf("emit with a source the bus does not admit: exit %d, want 3 with NotAuthorizedForSourceException and what to change\n%s", code, stderr)
	}

	w.PutBusPolicy(busScope, "amibump", ci, awsfake.BusStatement{Principals: []string{outsideAccount}, Sources: []string{event.DefaultCISource}})
	if code, _, stderr := amibump("AKIDOUTSIDE", emit...); code != exitOK {
		t.Errorf("emit from an account the policy names: exit %d\n%s", code, stderr)
	}
	if n := len(bus.Events()); n != 2 {
		t.Errorf("%d events on the member's bus, want 2 (the refused one never landed)", n)
	}
	for _, s := range []awsfake.Scope{{Account: toolingAccount, Region: "us-east-1"}, {Account: outsideAccount, Region: "us-east-1"}} {
		if n := len(w.Cloud(s).Events()); n != 0 {
			t.Errorf("%s holds %d events, want none: the event goes to the bus's region and account", s, n)
		}
	}
}

// TestEmitBusARNRegion: a bus ARN sets the region; --region must agree with
// it, and an ARN of another shape is invalid input (exit 2) naming the shape.
func TestEmitBusARNRegion(t *testing.T) {
	_, amibump := accountsSim(t)
	base := []string{"emit", "--app", "shop", "--env", "prod"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bus", "arn:aws:events:eu-west-1:" + memberAccount + ":event-bus/amibump", "--region", "us-east-1"}, "drop --region or make them agree"},
		{[]string{"--bus", "arn:aws:events:eu-west-1:" + memberAccount + ":rule/amibump"}, "arn:<partition>:events:<region>:<account>:event-bus/<name>"},
		{[]string{"--bus", "arn:aws:events:Europe:" + memberAccount + ":event-bus/amibump"}, "not an AWS Region name"},
	} {
		code, _, stderr := amibump("AKIDTOOLING", append(base, c.args...)...)
		if code != exitInvalid || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s", c.args, code, c.want, stderr)
		}
	}
}
