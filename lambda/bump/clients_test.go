package bump_test

import (
	"context"
	"testing"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// TestResultsNameTheirScope: a result names the account and region of its
// launch template: the event's, or, for an event that names none, the
// clients'.
func TestResultsNameTheirScope(t *testing.T) {
	w := newWorld(t)
	resp, err := w.handle(sample(t, "deploy-finished.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res := one(t, resp); res.Status != event.Promoted || res.Account != "123456789012" || res.Region != "us-east-1" {
		t.Errorf("result = %+v, want promoted in account 123456789012, region us-east-1 (the event's)", res)
	}

	w = newWorld(t)
	clients := bump.Clients{Scope: bump.Scope{Account: "210987654321", Region: "eu-west-1"},
		EC2: w.cloud.EC2(), AutoScaling: w.cloud.AutoScaling(), Events: w.cloud.EventBridge(), SSM: w.cloud.SSM()}
	raw := edit(t, sample(t, "deploy-finished.json"), map[string]any{"account": nil, "region": nil})
	resp, err = bump.ForClients(clients, w.cfg, nil).WithClock(w.cloud.Clock().Now).Handle(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if res := one(t, resp); res.Status != event.Promoted || res.Account != "210987654321" || res.Region != "eu-west-1" {
		t.Errorf("result = %+v, want promoted in account 210987654321, region eu-west-1 (the clients')", res)
	}
}
