package bump_test

import (
	"context"
	"fmt"
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

// functionRole is the stack's role as synthesized, resolved for the fake
// account: the infra tests write it (TestFunctionRoleGolden).
func functionRole(t *testing.T) awsfake.Policy {
	t.Helper()
	p, err := awsfaketest.FunctionRole()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Retention under the stack's role: DescribeImageReferences of SSM parameters
// needs ssm:DescribeParameters and ssm:GetParameters, which EC2 calls with the
// function's permissions (aws:CalledVia ec2-images.amazonaws.com). With them
// the AMI a parameter holds is kept and the others pruned; without them the
// call is refused and nothing is pruned, the refusal named.
func TestRetentionUnderTheRole(t *testing.T) {
	run := func(t *testing.T, role awsfake.Policy) (*world, string) {
		w := newWorld(t)
		w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:keep": "1", "amibump:delete-after": "0"})
		first := one(t, must(w.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-10*time.Minute)))))
		w.cloud.AddParameter("/qa/shop-web-golden", first.ImageID, "aws:ec2:image")
		w.cloud.SetPolicy(&role)
		for i, build := range []string{"jenkins-shop-deploy-2", "jenkins-shop-deploy-3"} {
			if res := one(t, must(w.handle(deployEvent(t, "event-"+itoa(i+2), build, t0.Add(time.Duration(i-8)*time.Minute))))); res.Status != event.Promoted {
				t.Fatalf("deploy %s: %+v, want promoted", build, res)
			}
		}
		return w, first.ImageID
	}
	t.Run("the role as synthesized", func(t *testing.T) {
		w, held := run(t, functionRole(t))
		if _, ok := w.cloud.Image(held); !ok || len(w.amibumpImages(w.lt)) != 2 || len(w.cloud.Denials()) != 0 {
			t.Errorf("held image kept: %v; %d amibump images, want 2; denials %q", ok, len(w.amibumpImages(w.lt)), w.cloud.Denials())
		}
	})
	t.Run("without the scans' grant", func(t *testing.T) {
		w, _ := run(t, functionRole(t).Without("ssm:DescribeParameters"))
		if n := len(w.amibumpImages(w.lt)); n != 3 {
			t.Errorf("%d amibump images, want 3: nothing pruned while references cannot be read", n)
		}
		if d := strings.Join(w.cloud.Denials(), "\n"); !strings.Contains(d, "DescribeImageReferences: ssm:DescribeParameters on *") {
			t.Errorf("denials %q, want DescribeImageReferences' ssm:DescribeParameters", d)
		}
	})
}

// A deploy under the stack's own role: an ordinary template, and one whose
// ImageId is resolve:ssm:<parameter> (EC2 resolves it with the function's
// ssm:GetParameters while it creates the version). Without that grant the
// version is refused, and the deploy is rejected, naming the refusal.
func TestDeployUnderTheRole(t *testing.T) {
	t.Run("the role as synthesized", func(t *testing.T) {
		w, clock := resolveWorld(t, param)
		role := functionRole(t)
		w.cloud.SetPolicy(&role)
		res := w.deployAt(clock, "e1", "build-1")
		if res.Status != event.Promoted || len(w.cloud.Denials()) != 0 {
			t.Fatalf("got %+v, denials %q; want promoted with nothing denied", res, w.cloud.Denials())
		}
		if got, _ := w.paramValue(param); got != res.ImageID {
			t.Errorf("parameter holds %s, want %s", got, res.ImageID)
		}
		plain := newWorld(t)
		plain.cloud.SetPolicy(&role)
		if res := one(t, must(plain.handle(sample(t, "deploy-finished.json")))); res.Status != event.Promoted || len(plain.cloud.Denials()) != 0 {
			t.Errorf("a plain template: got %+v, denials %q; want promoted with nothing denied", res, plain.cloud.Denials())
		}
	})
	t.Run("without ssm:GetParameters", func(t *testing.T) {
		w, clock := resolveWorld(t, param)
		before, _ := w.head(w.lt)
		role := functionRole(t).Without("ssm:GetParameters")
		w.cloud.SetPolicy(&role)
		res := w.deployAt(clock, "e1", "build-1")
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "UnauthorizedOperation") {
			t.Errorf("got %+v, want rejected for UnauthorizedOperation", res)
		}
		want := "CreateLaunchTemplateVersion: ssm:GetParameters on arn:aws:ssm:us-east-1:123456789012:parameter" + param
		if d := w.cloud.Denials(); len(d) == 0 || d[0] != want {
			t.Errorf("denials %q, want %q", d, want)
		}
		if latest, _ := w.head(w.lt); aws.ToInt64(latest.VersionNumber) != aws.ToInt64(before.VersionNumber) {
			t.Errorf("$Latest is version %d, want %d: no version made", aws.ToInt64(latest.VersionNumber), aws.ToInt64(before.VersionNumber))
		}
	})
}

// TestHoldGrantRemovesOnlyTheHold: the role's DeleteTags on a managed
// template is for amibump:hold alone. A DeleteTags that names no tag, which
// deletes every user tag of the template, is refused: ForAllValues is true of
// a request with no aws:TagKeys, so the grant also requires the key (Null
// false).
func TestHoldGrantRemovesOnlyTheHold(t *testing.T) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{event.TagHold: "build-1"})
	role := functionRole(t)
	w.cloud.SetPolicy(&role)
	ctx := context.Background()
	_, err := w.cloud.EC2().DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{w.lt}})
	if !strings.Contains(fmt.Sprint(err), "UnauthorizedOperation") {
		t.Errorf("DeleteTags naming no tag under the role: %v, want UnauthorizedOperation", err)
	}
	if _, err := w.cloud.EC2().DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{w.lt}, Tags: []ec2types.Tag{{Key: aws.String(event.TagHold)}}}); err != nil {
		t.Errorf("DeleteTags of %s under the role: %v", event.TagHold, err)
	}
	w.cloud.SetPolicy(nil)
	lt, _ := w.cloud.LaunchTemplate(w.lt)
	if tag(lt.Tags, "amibump:app") != "shop" || tag(lt.Tags, event.TagHold) != "" {
		t.Errorf("template tags after: %v; want amibump:app kept, %s gone", lt.Tags, event.TagHold)
	}
}

// A rollback under the stack's role cancels the bad release's refresh on a
// group tagged amibump:instance-refresh=true and starts its own, with no
// denial. A role without CancelInstanceRefresh leaves the refresh running,
// and the result says what the operator must do.
func TestRollbackCancelsUnderTheRole(t *testing.T) {
	t.Run("the role as synthesized", func(t *testing.T) {
		w, bad := refreshWorld(t)
		role := functionRole(t)
		w.cloud.SetPolicy(&role)
		res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now()))))
		running := activeRefreshes(w, "shop-web-prod-a")
		if res.Status != event.RolledBack || len(w.cloud.Denials()) != 0 || len(running) != 1 || aws.ToString(running[0].InstanceRefreshId) == aws.ToString(bad.InstanceRefreshId) {
			t.Errorf("%s, denials %q, running %+v; want rolled-back, no denial, the rollback's refresh alone running", res.Status, w.cloud.Denials(), running)
		}
	})
	t.Run("without CancelInstanceRefresh", func(t *testing.T) {
		w, bad := refreshWorld(t)
		role := functionRole(t).Without("autoscaling:CancelInstanceRefresh")
		w.cloud.SetPolicy(&role)
		res := one(t, w.must(w.handle(rollbackEvent(t, "rb-1", "", w.cloud.Clock().Now()))))
		all := strings.Join(res.Warnings, "\n")
		for _, want := range []string{"group shop-web-prod-a: the instance refresh " + aws.ToString(bad.InstanceRefreshId) + ", started before the rollback, was not cancelled",
			"aws autoscaling cancel-instance-refresh --auto-scaling-group-name shop-web-prod-a"} {
			if res.Status != event.RolledBack || !strings.Contains(all, want) {
				t.Errorf("%s, warnings %q; want one saying %q", res.Status, res.Warnings, want)
			}
		}
		if running := activeRefreshes(w, "shop-web-prod-a"); len(running) != 1 || aws.ToString(running[0].InstanceRefreshId) != aws.ToString(bad.InstanceRefreshId) {
			t.Errorf("running %+v; want build-2's, left running", running)
		}
	})
}
