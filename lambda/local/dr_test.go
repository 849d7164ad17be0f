package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/local"
)

// TestDisasterRecoveryRegion: a deploy in us-east-1 is promoted there, its
// result forwarded to us-west-2, where the function (the real bootstrap,
// under the stack's role as deployed in that region) copies the AMI from
// us-east-1 through awssim and promotes the copy on the template tagged
// amibump:replicate-from=us-east-1.
func TestDisasterRecoveryRegion(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the function under the emulator")
	}
	world := awsfaketest.New(awsfake.WithClock(awsfake.WallClock{}), awsfake.WithImageDelay(300*time.Millisecond), awsfake.WithCopyTime(500*time.Millisecond))
	world.SeedShop(nil)
	dr := world.Scope(awsfake.Scope{Account: awsfake.Account, Region: "us-west-2"})
	dr.CreateEventBus("amibump")
	drBase := dr.AddImage(awsfake.Image{Name: "base-2026-01"})
	drLT := dr.AddLaunchTemplate("shop-web-prod-a-dr", map[string]string{
		event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a", event.TagReplicateFrom: "us-east-1",
	}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(drBase), InstanceType: ec2types.InstanceTypeT3Micro})
	role, err := awsfaketest.FunctionRole()
	if err != nil {
		t.Fatal(err)
	}
	drRole := role.InRegion("us-west-2")
	world.Cloud.SetPolicy(&role)
	dr.SetPolicy(&drRole)
	sim, url, err := world.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	start := func(region string) *local.Function {
		logs := &local.LogBuffer{}
		fn, err := local.Start(context.Background(), bins, local.Settings{Endpoint: url, Bus: "amibump", Region: region,
			PollMin: 100 * time.Millisecond, PollMax: 300 * time.Millisecond, Logs: logs})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			fn.Stop()
			if t.Failed() {
				t.Logf("%s function and emulator output:\n%s", region, logs.String())
			}
		})
		return fn
	}
	source, replica := start("us-east-1"), start("us-west-2")

	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "deploy-finished-web.json"))
	if err != nil {
		t.Fatal(err)
	}
	promoted := one(t, invokeFn(t, source, raw))
	if promoted.Status != event.Promoted || promoted.Region != "us-east-1" {
		t.Fatalf("source: %+v, want promoted in us-east-1", promoted)
	}
	// The source stack's rule forwards the promoted result to the DR bus.
	detail, _ := json.Marshal(promoted)
	var m map[string]any
	_ = json.Unmarshal(detail, &m)
	fwd, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "bump-finished-forwarded.json"))
	if err != nil {
		t.Fatal(err)
	}
	fwd, err = awsfaketest.Edit(fwd, map[string]any{"detail": m})
	if err != nil {
		t.Fatal(err)
	}
	got := one(t, invokeFn(t, replica, fwd))
	if got.Status != event.Promoted || got.Region != "us-west-2" || got.LaunchTemplateID != drLT || got.Build.ID != promoted.Build.ID {
		t.Fatalf("DR: %+v, want build %s promoted on %s in us-west-2", got, promoted.Build.ID, drLT)
	}
	copied, ok := dr.Image(got.ImageID)
	if !ok || copied.State != ec2types.ImageStateAvailable || aws.ToString(copied.SourceImageId) != promoted.ImageID || aws.ToString(copied.SourceImageRegion) != "us-east-1" {
		t.Fatalf("the DR AMI %s: %+v, want an available copy of %s from us-east-1", got.ImageID, copied, promoted.ImageID)
	}
	for _, v := range dr.Versions(drLT) {
		if aws.ToBool(v.DefaultVersion) && aws.ToString(v.LaunchTemplateData.ImageId) != got.ImageID {
			t.Errorf("DR $Default carries %s, want the copy %s", aws.ToString(v.LaunchTemplateData.ImageId), got.ImageID)
		}
	}
	if len(dr.Denials()) != 0 || len(world.Cloud.Denials()) != 0 {
		t.Errorf("denials: DR %q, source %q; want none", dr.Denials(), world.Cloud.Denials())
	}
}

func invokeFn(t *testing.T, fn *local.Function, raw []byte) event.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body, err := fn.Invoke(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp event.Response
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return resp
}
