package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/event"
)

// invokeEdited sends a file of testdata/events, changed (awsfaketest.Edit),
// to the function.
func (e *env) invokeEdited(name string, changes map[string]any) event.Response {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		e.t.Fatal(err)
	}
	if raw, err = awsfaketest.Edit(raw, changes); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body, err := e.fn.Invoke(ctx, raw)
	if err != nil {
		e.t.Fatalf("invoke %s: %v", name, err)
	}
	var resp event.Response
	if err := json.Unmarshal(body, &resp); err != nil {
		e.t.Fatalf("response %s: %v", body, err)
	}
	return resp
}

// imageOfBuild is the one AMI of a build, as its owner sees it (disabled too).
func (e *env) imageOfBuild(build string) (ec2types.Image, bool) {
	imgs := e.imagesOf(build)
	if len(imgs) != 1 {
		return ec2types.Image{}, false
	}
	return imgs[0], true
}

// Staged retirement and protection through the real bootstrap under the
// stack's role: shop-web-prod-a keeps 2 releases (builds 138 and 139 seeded)
// and deletes retired AMIs after the default 14 days. Two deploys retire 138
// and would retire 139, but an instance launched from 139 keeps it; the live
// release is protected from another tool's DeregisterImage; once 15 days have
// passed, reconcile deregisters 138 with its snapshots and nothing else.
func TestStagedRetirementAndProtection(t *testing.T) {
	e := newEnv(t)
	first := one(t, e.mustInvoke("deploy-finished.json")) // build 142
	if first.Status != event.Promoted || first.Pruned == nil || first.Pruned.Retired != 1 {
		t.Fatalf("deploy 142: %+v, pruned %+v; want promoted, build 138 retired", first, first.Pruned)
	}
	retired, _ := e.imageOfBuild("jenkins-shop-deploy-138")
	if retired.State != ec2types.ImageStateDisabled || retired.DeprecationTime == nil {
		t.Fatalf("build 138's AMI: state %s, deprecated %v; want disabled and deprecated", retired.State, retired.DeprecationTime)
	}
	if img, _ := e.imageOfBuild("jenkins-shop-deploy-142"); aws.ToString(img.DeregistrationProtection) != "enabled-with-cooldown" {
		t.Errorf("the live release's protection: %q, want enabled-with-cooldown", aws.ToString(img.DeregistrationProtection))
	}
	// Another cleanup tool, with its own permissions, tries the live AMI.
	e.cloud.SetPolicy(nil)
	_, err := e.cloud.EC2().DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(first.ImageID)})
	if err == nil || !strings.Contains(err.Error(), "OperationNotPermitted") {
		t.Fatalf("another tool's DeregisterImage of the live release: %v, want it refused", err)
	}
	role, err := awsfaketest.FunctionRole()
	if err != nil {
		t.Fatal(err)
	}
	e.cloud.SetPolicy(&role)
	held, _ := e.imageOfBuild("jenkins-shop-deploy-139")
	e.cloud.AddInstance(awsfake.Instance{ImageID: aws.ToString(held.ImageId)}) // someone launched build 139 by hand

	second := one(t, e.invokeEdited("deploy-finished.json", map[string]any{
		"id": "7b8f9a0c-c5a2-4d7b-8e9f-1a2b3c4d5e6f", "time": "2026-11-26T03:15:00Z", "detail.build.id": "jenkins-shop-deploy-143",
	}))
	if second.Status != event.Promoted {
		t.Fatalf("deploy 143: %+v, want promoted", second)
	}
	if img, _ := e.imageOfBuild("jenkins-shop-deploy-142"); aws.ToString(img.DeregistrationProtection) != "enabled-with-cooldown" {
		t.Errorf("build 142, still in the keep window: protection %q, want kept", aws.ToString(img.DeregistrationProtection))
	}

	e.cloud.AgeLifecycles(15 * 24 * time.Hour) // the bootstrap reads the wall clock: the AMIs' records age instead
	e.mustInvoke("scheduled-reconcile.json")
	if imgs := e.imagesOf("jenkins-shop-deploy-138"); len(imgs) != 0 {
		t.Errorf("build 138's AMI, retired 15 days ago: %+v, want it deregistered", imgs)
	}
	for _, s := range e.cloud.Snapshots() {
		if aws.ToString(s.SnapshotId) == aws.ToString(retired.BlockDeviceMappings[0].Ebs.SnapshotId) {
			t.Errorf("snapshot %s of build 138's AMI is left", aws.ToString(s.SnapshotId))
		}
	}
	if img, ok := e.imageOfBuild("jenkins-shop-deploy-139"); !ok || img.State != ec2types.ImageStateAvailable || img.DeprecationTime != nil {
		t.Errorf("build 139's AMI, which an instance runs: %+v, want it left available", img)
	}
	for _, build := range []string{"jenkins-shop-deploy-142", "jenkins-shop-deploy-143"} {
		if img, ok := e.imageOfBuild(build); !ok || img.State != ec2types.ImageStateAvailable {
			t.Errorf("%s, in the keep window: %+v, want it available", build, img)
		}
	}
	if d := e.cloud.Denials(); len(d) != 0 {
		t.Errorf("denials under the stack's role: %q", d)
	}
}
