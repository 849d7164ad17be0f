package awssim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

const (
	tooling = "111111111111" // the CI's account, in the organisation
	member  = "222222222222" // a member account with the role and the bus
	outside = "333333333333" // an account outside the organisation
	orgID   = "o-exampleorg1"
)

// accountsWorld is a World of three accounts: tooling and member in one
// organisation, outside not; member has the role amibump-readonly trusted
// by the organisation and the role by-account trusted by tooling only.
func accountsWorld(t *testing.T) (*awsfake.World, string) {
	t.Helper()
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDTOOLING", tooling, "jenkins")
	w.AddAccessKey("AKIDOUTSIDE", outside, "jenkins")
	w.EnableRegion("us-east-1")
	w.SetOrganization(orgID, tooling, member)
	w.AddRole(member, "amibump-readonly", awsfake.Trust{OrgID: orgID})
	w.AddRole(member, "by-account", awsfake.Trust{Accounts: []string{tooling}})
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return w, url
}

// TestAssumeRole: STS AssumeRole through the SDK's stscreds provider returns
// keys that sign as the role in its account (the next calls are served by
// that account's Clouds); a caller the trust does not name (by account, or
// by organisation with aws:PrincipalOrgID) and a role that does not exist
// are AccessDenied (403) with the same message shape.
func TestAssumeRole(t *testing.T) {
	_, url := accountsWorld(t)
	ctx := context.Background()
	assume := func(key, role string) (*sts.GetCallerIdentityOutput, error) {
		base := worldConfig(url, key, "us-east-1")
		cfg := base.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "amibump" }))
		return sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	}
	for _, role := range []string{"amibump-readonly", "by-account"} {
		id, err := assume("AKIDTOOLING", "arn:aws:iam::"+member+":role/"+role)
		if err != nil {
			t.Fatalf("tooling assumes %s: %v", role, err)
		}
		if aws.ToString(id.Account) != member || aws.ToString(id.Arn) != "arn:aws:sts::"+member+":assumed-role/"+role+"/amibump" {
			t.Errorf("tooling as %s: caller = %s %s, want the role's session in %s", role, aws.ToString(id.Account), aws.ToString(id.Arn), member)
		}
	}
	for _, c := range []struct{ key, role string }{
		{"AKIDOUTSIDE", "amibump-readonly"}, // not in the organisation
		{"AKIDOUTSIDE", "by-account"},       // not the trusted account
		{"AKIDTOOLING", "missing"},          // no such role
	} {
		arn := "arn:aws:iam::" + member + ":role/" + c.role
		_, err := assume(c.key, arn)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" ||
			!strings.Contains(apiErr.ErrorMessage(), "is not authorized to perform: sts:AssumeRole on resource: "+arn) {
			t.Errorf("%s assumes %s: err = %v, want AccessDenied naming the role", c.key, c.role, err)
		}
	}
}

// TestCrossAccountPutEvents: a PutEvents naming another account's bus by ARN
// lands on that account's bus when the bus's policy allows the caller
// (aws:PrincipalOrgID, or the account as principal) for the entry's source
// and detail-type; otherwise that entry alone fails inside the output
// (AccessDeniedException for a caller no statement names,
// NotAuthorizedForSourceException or NotAuthorizedForDetailTypeException for
// one it names without the entry's source or detail-type), nothing of it
// lands, and the batch's other entries are put.
func TestCrossAccountPutEvents(t *testing.T) {
	w, url := accountsWorld(t)
	bus := awsfake.Scope{Account: member, Region: "us-east-1"}
	w.Cloud(bus).CreateEventBus("amibump")
	w.PutBusPolicy(bus, "amibump",
		awsfake.BusStatement{Principals: []string{"*"}, OrgID: orgID, Sources: []string{"jenkins"}, DetailTypes: []string{"deploy-finished"}})
	busARN := "arn:aws:events:us-east-1:" + member + ":event-bus/amibump"
	ctx := context.Background()
	entry := func(source, detailType string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType),
			Detail: aws.String(`{"app":"shop"}`), EventBusName: aws.String(busARN)}
	}
	put := func(key string, entries ...ebtypes.PutEventsRequestEntry) *eventbridge.PutEventsOutput {
		t.Helper()
		out, err := eventbridge.NewFromConfig(worldConfig(url, key, "us-east-1")).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil || len(out.Entries) != len(entries) {
			t.Fatalf("%s: %+v, %v; want a result per entry", key, out, err)
		}
		return out
	}
	refused := func(what string, out *eventbridge.PutEventsOutput, i int, code string) {
		t.Helper()
		e := out.Entries[i]
		if aws.ToString(e.ErrorCode) != code || e.EventId != nil || aws.ToString(e.ErrorMessage) == "" {
			t.Errorf("%s: entry %d = %s %q (event %q), want %s", what, i, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage), aws.ToString(e.EventId), code)
		}
	}
	if out := put("AKIDTOOLING", entry("jenkins", "deploy-finished")); out.FailedEntryCount != 0 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Fatalf("organisation member puts on the bus: %+v", out)
	}
	out := put("AKIDOUTSIDE", entry("jenkins", "deploy-finished"))
	refused("an account outside the organisation", out, 0, "AccessDeniedException")
	if msg := aws.ToString(out.Entries[0].ErrorMessage); !strings.Contains(msg, busARN) {
		t.Errorf("AccessDeniedException %q does not name the bus", msg)
	}
	refused("a source the policy does not name", put("AKIDTOOLING", entry("someone-else", "deploy-finished")), 0, "NotAuthorizedForSourceException")
	refused("a detail-type the policy does not name", put("AKIDTOOLING", entry("jenkins", "other")), 0, "NotAuthorizedForDetailTypeException")

	// A mixed batch: the allowed entry is put, the refused one fails alone.
	out = put("AKIDTOOLING", entry("jenkins", "deploy-finished"), entry("someone-else", "deploy-finished"))
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Errorf("mixed batch: %+v, want the first entry put and 1 failed", out)
	}
	refused("mixed batch", out, 1, "NotAuthorizedForSourceException")

	w.PutBusPolicy(bus, "amibump", awsfake.BusStatement{Principals: []string{"arn:aws:iam::" + outside + ":root"}, Sources: []string{"jenkins"}})
	if out := put("AKIDOUTSIDE", entry("jenkins", "deploy-finished")); out.FailedEntryCount != 0 {
		t.Errorf("the account the policy names: %+v", out)
	}
	refused("the organisation once the policy no longer names it", put("AKIDTOOLING", entry("jenkins", "deploy-finished")), 0, "AccessDeniedException")

	if got := len(w.Cloud(bus).Events()); got != 3 {
		t.Errorf("the member's bus holds %d events, want the 3 allowed", got)
	}
	for _, a := range []string{tooling, outside} {
		if got := w.Cloud(awsfake.Scope{Account: a, Region: "us-east-1"}).Events(); len(got) != 0 {
			t.Errorf("account %s's own Cloud holds %d events, want none", a, len(got))
		}
	}
}
