package awsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestWorldPutEventsSplitsByBus: one PutEvents with an entry for the caller's
// own bus and one for another account's bus (allowed by its policy for the
// caller's role) puts each on its own account's bus, with the results in the
// entries' order; an assumed role's key is that role's principal.
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
	entry := func(bus string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{Source: aws.String("jenkins"), DetailType: aws.String("deploy-finished"),
			Detail: aws.String(`{"bus":"` + bus + `"}`), EventBusName: aws.String(bus)}
	}
	otherBus := "arn:aws:events:eu-west-1:222222222222:event-bus/amibump"
	for key, wantDenied := range map[string]bool{"AKIDCI": true, creds.AccessKeyID: false} {
		out, err := w.PutEvents(context.Background(), key, "eu-west-1", &eventbridge.PutEventsInput{
			Entries: []ebtypes.PutEventsRequestEntry{entry("default"), entry(otherBus)}})
		if wantDenied {
			if err == nil {
				t.Errorf("%s (the user, not the role the policy names): put, want AccessDeniedException", key)
			}
			continue
		}
		if err != nil || out.FailedEntryCount != 0 || len(out.Entries) != 2 || out.Entries[0].EventId == nil || out.Entries[1].EventId == nil {
			t.Fatalf("the role: %+v, %v", out, err)
		}
	}
	if got := own.Events(); len(got) != 1 || aws.ToString(got[0].EventBusName) != "default" {
		t.Errorf("own bus holds %+v, want the default entry only", got)
	}
	if got := other.Events(); len(got) != 1 || aws.ToString(got[0].EventBusName) != otherBus {
		t.Errorf("other account's bus holds %+v, want the ARN entry only", got)
	}
}
