package awsfaketest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
)

// TestEnv: the environment's default scope holds the sample shop and is
// served to the default key in the default region; another scope is a Cloud
// of its own on the same clock; the sample events are moved to the epoch.
func TestEnv(t *testing.T) {
	clock := awsfake.NewManualClock(awsfake.Epoch())
	env := awsfaketest.New(awsfake.WithClock(clock))
	shop := env.SeedShop(nil)
	dr := awsfake.Scope{Account: awsfake.Account, Region: "us-west-2"}
	if n := len(env.Scope(dr).Images()); n != 0 || env.Clients(dr).Scope != dr {
		t.Errorf("another region holds %d images, want none of the shop's", n)
	}
	if env.Scope(dr).Clock() != env.Clock() || env.Now() != clock.Now() {
		t.Error("the scopes do not share the World's clock")
	}

	sim, url, err := env.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	cfg := awsfaketest.SDKConfig(url, awsfake.DefaultScope, "")
	ctx := context.Background()
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != awsfake.Account {
		t.Fatalf("GetCallerIdentity = %+v, %v; want account %s", id, err, awsfake.Account)
	}
	lts, err := ec2.NewFromConfig(cfg).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil || len(lts.LaunchTemplates) != 1 || aws.ToString(lts.LaunchTemplates[0].LaunchTemplateId) != shop.Template {
		t.Errorf("the default scope over HTTP: %+v, %v; want the shop's template %s", lts, err, shop.Template)
	}

	raw, err := awsfaketest.Sample("deploy-finished.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Time time.Time }
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Time.After(awsfake.Epoch()) || awsfake.Epoch().Sub(ev.Time) > 24*time.Hour {
		t.Errorf("sample event time %v (%v), want within the day before the epoch %v", ev.Time, err, awsfake.Epoch())
	}
	if _, err := awsfaketest.FunctionRole(); err != nil {
		t.Errorf("the function role: %v", err)
	}
}

// TestEdit: a path is set (its missing objects made), and nil removes it.
func TestEdit(t *testing.T) {
	out, err := awsfaketest.Edit([]byte(`{"id":"a","detail":{"build":{"id":"b","url":"u"}}}`),
		map[string]any{"id": "x", "detail.build.url": nil, "detail.extra.n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"detail":{"build":{"id":"b"},"extra":{"n":1}},"id":"x"}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
	if _, err := awsfaketest.Edit([]byte(`[1]`), nil); err == nil {
		t.Error("an event that is not an object: no error")
	}
}
