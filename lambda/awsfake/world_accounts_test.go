package awsfake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestWorldPutEventsSplitsByBus: one PutEvents with an entry for the caller's
// own bus and one for another account's bus (allowed by its policy for the
// caller's role) puts each on its own account's bus, with the results in the
// entries' order; an assumed role's key is that role's principal. The user
// the policy does not name has its other-account entry refused alone
// (AccessDeniedException inside the output) and its own entry put.
func TestWorldPutEventsSplitsByBus(t *testing.T) {
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDCI", "111111111111", "ci")
	w.AddRole("111111111111", "deployer", awsfake.Trust{Accounts: []string{"111111111111"}})
	own := w.Cloud(awsfake.Scope{Account: "111111111111", Region: "eu-west-1"})
	other := w.Cloud(awsfake.Scope{Account: "222222222222", Region: "eu-west-1"})
	other.CreateEventBus("amibump")
	w.PutBusPolicy(other.Scope(), "amibump", awsfake.BusStatement{Principals: []string{"arn:aws:iam::111111111111:role/deployer"}})
	creds, err := w.AssumeRole("AKIDCI", "arn:aws:iam::111111111111:role/deployer", "jenkins")
	if err != nil {
		t.Fatal(err)
	}
	otherBus := "arn:aws:events:eu-west-1:222222222222:event-bus/amibump"
	for _, key := range []string{"AKIDCI", creds.AccessKeyID} {
		out, err := w.PutEvents(context.Background(), key, "eu-west-1", &eventbridge.PutEventsInput{
			Entries: []ebtypes.PutEventsRequestEntry{busEntry("default"), busEntry(otherBus)}})
		if err != nil || len(out.Entries) != 2 || out.Entries[0].EventId == nil {
			t.Fatalf("%s: %+v, %v; want the own entry put", key, out, err)
		}
		if key == "AKIDCI" { // the user, not the role the policy names
			if out.FailedEntryCount != 1 || aws.ToString(out.Entries[1].ErrorCode) != "AccessDeniedException" || out.Entries[1].EventId != nil {
				t.Errorf("the user: %+v, want the other account's entry refused with AccessDeniedException", out)
			}
			continue
		}
		if out.FailedEntryCount != 0 || out.Entries[1].EventId == nil {
			t.Fatalf("the role: %+v", out)
		}
	}
	if got := own.Events(); len(got) != 2 || aws.ToString(got[0].EventBusName) != "default" || aws.ToString(got[1].EventBusName) != "default" {
		t.Errorf("own bus holds %+v, want the two default entries only", got)
	}
	if got := other.Events(); len(got) != 1 || aws.ToString(got[0].EventBusName) != otherBus {
		t.Errorf("other account's bus holds %+v, want the role's ARN entry only", got)
	}
}

func busEntry(bus string) ebtypes.PutEventsRequestEntry {
	return ebtypes.PutEventsRequestEntry{Source: aws.String("jenkins"), DetailType: aws.String("deploy-finished"),
		Detail: aws.String(`{"bus":"` + bus + `"}`), EventBusName: aws.String(bus)}
}

// TestWorldPutEventsRefusals: a bus policy's refusal names what it misses, in
// order: no statement for the caller (AccessDeniedException), then no source
// (NotAuthorizedForSourceException), then no detail-type
// (NotAuthorizedForDetailTypeException); a statement allowing the entry wins
// over one refusing it.
func TestWorldPutEventsRefusals(t *testing.T) {
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDCI", "111111111111", "ci")
	other := w.Cloud(awsfake.Scope{Account: "222222222222", Region: "eu-west-1"})
	other.CreateEventBus("amibump")
	otherBus := "arn:aws:events:eu-west-1:222222222222:event-bus/amibump"
	for _, c := range []struct {
		name       string
		statements []awsfake.BusStatement
		want       string
	}{
		{"no policy", nil, "AccessDeniedException"},
		{"another account", []awsfake.BusStatement{{Principals: []string{"333333333333"}}}, "AccessDeniedException"},
		{"an organisation the caller is not in", []awsfake.BusStatement{{Principals: []string{"*"}, OrgID: "o-exampleorg1"}}, "AccessDeniedException"},
		{"another source", []awsfake.BusStatement{{Principals: []string{"111111111111"}, Sources: []string{"other"}}}, "NotAuthorizedForSourceException"},
		{"another source and detail-type", []awsfake.BusStatement{{Principals: []string{"111111111111"}, Sources: []string{"other"}, DetailTypes: []string{"other"}}}, "NotAuthorizedForSourceException"},
		{"another detail-type", []awsfake.BusStatement{{Principals: []string{"111111111111"}, Sources: []string{"jenkins"}, DetailTypes: []string{"other"}}}, "NotAuthorizedForDetailTypeException"},
		{"the detail-type under another statement's source", []awsfake.BusStatement{
			{Principals: []string{"111111111111"}, Sources: []string{"other"}},
			{Principals: []string{"111111111111"}, Sources: []string{"jenkins"}, DetailTypes: []string{"other"}}}, "NotAuthorizedForDetailTypeException"},
		{"one statement allows", []awsfake.BusStatement{
			{Principals: []string{"111111111111"}, Sources: []string{"other"}},
			{Principals: []string{"arn:aws:iam::111111111111:root"}, Sources: []string{"jenkins"}, DetailTypes: []string{"deploy-finished"}}}, ""},
	} {
		w.PutBusPolicy(other.Scope(), "amibump", c.statements...)
		before := len(other.Events())
		out, err := w.PutEvents(context.Background(), "AKIDCI", "eu-west-1", &eventbridge.PutEventsInput{
			Entries: []ebtypes.PutEventsRequestEntry{busEntry(otherBus)}})
		if err != nil {
			t.Fatalf("%s: %v, want the refusal inside the output", c.name, err)
		}
		got, landed := aws.ToString(out.Entries[0].ErrorCode), len(other.Events())-before
		if got != c.want || (c.want == "") != (out.FailedEntryCount == 0) || (c.want == "") != (landed == 1) {
			t.Errorf("%s: %+v (%d landed), want code %q", c.name, out.Entries[0], landed, c.want)
		}
	}
}

// TestWorldPutEventsIdentityPolicy: an entry for another account's bus needs
// the caller's own permission set too (events:PutEvents on the bus ARN): a
// denial there fails the whole call with AccessDeniedException and puts
// nothing, as a denied entry for the caller's own bus does, even though the
// bus's policy allows the caller.
func TestWorldPutEventsIdentityPolicy(t *testing.T) {
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDCI", "111111111111", "ci")
	own := w.Cloud(awsfake.Scope{Account: "111111111111", Region: "eu-west-1"})
	other := w.Cloud(awsfake.Scope{Account: "222222222222", Region: "eu-west-1"})
	other.CreateEventBus("amibump")
	w.PutBusPolicy(other.Scope(), "amibump", awsfake.BusStatement{Principals: []string{"111111111111"}})
	otherBus := "arn:aws:events:eu-west-1:222222222222:event-bus/amibump"
	put := func() (*eventbridge.PutEventsOutput, error) {
		return w.PutEvents(context.Background(), "AKIDCI", "eu-west-1", &eventbridge.PutEventsInput{
			Entries: []ebtypes.PutEventsRequestEntry{busEntry("default"), busEntry(otherBus)}})
	}
	own.SetPolicy(&awsfake.Policy{Statement: []awsfake.Statement{{Effect: "Allow", Action: []string{"events:PutEvents"},
		Resource: []string{"arn:aws:events:eu-west-1:111111111111:event-bus/default"}}}})
	_, err := put()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" || !strings.Contains(apiErr.ErrorMessage(), otherBus) {
		t.Fatalf("own policy without the other bus: err = %v, want AccessDeniedException naming it", err)
	}
	if len(own.Events())+len(other.Events()) != 0 {
		t.Errorf("a denied call put %d + %d events, want none", len(own.Events()), len(other.Events()))
	}
	if d := own.Denials(); len(d) != 1 || !strings.Contains(d[0], otherBus) {
		t.Errorf("denials = %q, want the other bus", d)
	}
	own.SetPolicy(&awsfake.Policy{Statement: []awsfake.Statement{{Effect: "Allow", Action: []string{"events:PutEvents"},
		Resource: []string{"arn:aws:events:eu-west-1:111111111111:event-bus/default", otherBus}}}})
	if out, err := put(); err != nil || out.FailedEntryCount != 0 || len(own.Events()) != 1 || len(other.Events()) != 1 {
		t.Errorf("own policy with both buses: %+v, %v; want each entry on its bus", out, err)
	}
}
