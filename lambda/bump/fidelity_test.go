package bump_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// TestRetentionKeepsAMIsOtherTemplatesUseDeepInTheirHistory: DescribeImageReferences
// looks only at the newest 10 versions of each template unless asked for more;
// an amibump AMI that another template's version 12 versions back still uses must
// not be deregistered (README: "Retention").
func TestRetentionKeepsAMIsOtherTemplatesUseDeepInTheirHistory(t *testing.T) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:keep": "1", "amibump:delete-after": "0"})
	first := one(t, must(w.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-10*time.Minute)))))
	if first.Status != event.Promoted {
		t.Fatalf("first deploy: %+v, want promoted", first)
	}
	// A template amibump does not manage launches the first AMI in its version 1,
	// then 12 more versions go back to the base AMI.
	other := w.cloud.AddLaunchTemplate("batch-jobs", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(first.ImageID)})
	for range 12 {
		must(w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(other), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.baseAMI)}}))
	}
	for i, build := range []string{"jenkins-shop-deploy-2", "jenkins-shop-deploy-3"} {
		res := one(t, must(w.handle(deployEvent(t, "event-"+itoa(i+2), build, t0.Add(time.Duration(i-8)*time.Minute)))))
		if res.Status != event.Promoted {
			t.Fatalf("deploy %s: %+v, want promoted", build, res)
		}
	}
	if _, ok := w.cloud.Image(first.ImageID); !ok {
		t.Errorf("image %s, used by version 1 of batch-jobs, was deregistered", first.ImageID)
	}
	if n := len(w.amibumpImages(w.lt)); n != 2 {
		t.Errorf("%d amibump images, want 2: the one batch-jobs uses and the newest; the one in between goes", n)
	}
}

// TestAMIStateChangeForUnmanagedTemplate: a template whose amibump:app tag was
// removed after its AMI was requested is no longer amibump's to change (and the
// role's tag condition would deny it): the AMI state change is rejected, saying why.
func TestAMIStateChangeForUnmanagedTemplate(t *testing.T) {
	w, clock := pendingWorld(t)
	pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if pending.Status != event.Pending {
		t.Fatalf("deploy: %+v, want pending", pending)
	}
	w.cloud.UntagLaunchTemplate(w.lt, "amibump:app")
	clock.Advance(31 * time.Minute)
	resp, err := w.handle(amiStateEvent(t, pending.ImageID, "available"))
	if err != nil {
		t.Fatalf("returned %v; an unmanaged template is for a person, not for retries", err)
	}
	res := one(t, resp)
	if res.Status != event.Rejected || !strings.Contains(res.Reason, "amibump:app") || !strings.Contains(res.Reason, "no longer managed") {
		t.Errorf("result %+v, want rejected naming the missing tag", res)
	}
	if vs := w.cloud.Versions(w.lt); len(vs) != 1 {
		t.Errorf("%d versions, want the template untouched (1)", len(vs))
	}
}

// TestStaleReadsAfterPromotingAreNotRejections: EC2 may not list a version right
// after CreateLaunchTemplateVersion made it, and ModifyLaunchTemplate may answer
// VersionNotFound for it a moment longer. A promotion that reads such a stale
// state is not rejected (nor told to deregister the AMI it just made live): it
// reads again, or returns a transient error for Lambda's retry, and ends with
// $Latest and $Default on the new AMI.
func TestStaleReadsAfterPromotingAreNotRejections(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(itoa(int(seed)), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, awsfake.WithEventualConsistency(seed, 40*time.Millisecond))
			var res event.Result
			for attempt := range 6 { // the first try and Lambda's retries
				resp, err := w.handle(sample(t, "deploy-finished-web.json"))
				for _, r := range resp.Results {
					if r.Status == event.Rejected {
						t.Fatalf("seed %d, attempt %d: rejected: %s", seed, attempt, r.Reason)
					}
				}
				if err == nil {
					res = one(t, resp)
					break
				}
			}
			latest, def := w.head(w.lt)
			if res.Status != event.Promoted || imageOf(latest) != res.ImageID || imageOf(def) != res.ImageID {
				t.Errorf("seed %d: result %+v, $Latest on %s, $Default on %s; want promoted with both on it", seed, res, imageOf(latest), imageOf(def))
			}
		})
	}
}

// TestBadInputFromAWS: what an account may hold is input too. Each case ends
// with a clear result and nothing half-done.
func TestBadInputFromAWS(t *testing.T) {
	noImageVersion := func(w *world) {
		must(w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(w.lt), VersionDescription: aws.String("eks: the node group picks the AMI"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Micro}}))
	}
	t.Run("$Latest without ImageId is rejected before imaging", func(t *testing.T) {
		w := newWorld(t)
		noImageVersion(w)
		res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "sets no ImageId") {
			t.Errorf("result %+v, want rejected saying $Latest sets no ImageId", res)
		}
		if n := w.cloud.Calls("CreateImage"); n != 0 || len(w.cloud.Versions(w.lt)) != 2 {
			t.Errorf("%d CreateImage calls, %d versions; want nothing made", n, len(w.cloud.Versions(w.lt)))
		}
	})
	t.Run("$Latest without ImageId by the time the AMI is available is rejected", func(t *testing.T) {
		w, clock := pendingWorld(t)
		pending := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
		noImageVersion(w)
		clock.Advance(31 * time.Minute)
		res := one(t, must(w.handle(amiStateEvent(t, pending.ImageID, "available"))))
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "sets no ImageId") || len(w.cloud.Versions(w.lt)) != 2 {
			t.Errorf("result %+v with %d versions, want rejected and no version made", res, len(w.cloud.Versions(w.lt)))
		}
	})
	t.Run("a template at the quota of versions is rejected", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.FailNext("CreateLaunchTemplateVersion", awsfake.APIError("VersionLimitExceeded", "The launch template has reached the limit of 10000 versions"))
		resp, err := w.handle(sample(t, "deploy-finished-web.json"))
		if err != nil {
			t.Fatalf("returned %v; waiting does not lift a quota", err)
		}
		if res := one(t, resp); res.Status != event.Rejected || !strings.Contains(res.Reason, "quota of 10,000 versions") {
			t.Errorf("result %+v, want rejected naming the quota", res)
		}
	})
	t.Run("a named instance with an instance-store root is rejected before imaging", func(t *testing.T) {
		w := newWorld(t)
		store := w.cloud.AddInstance(awsfake.Instance{InstanceStore: true, Tags: map[string]string{"amibump:source-for": "shop-web-prod-a"}})
		res := one(t, must(w.handle(edit(t, sample(t, "deploy-finished-web.json"), map[string]any{"detail.instanceId": store}))))
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "instance-store root volume") || w.cloud.Calls("CreateImage") != 0 {
			t.Errorf("result %+v after %d CreateImage calls, want rejected naming the root volume and nothing imaged", res, w.cloud.Calls("CreateImage"))
		}
	})
	t.Run("a tagged source with an instance-store root is rejected", func(t *testing.T) {
		w := newWorld(t)
		w.cloud.TerminateInstance(w.source)
		w.cloud.AddInstance(awsfake.Instance{InstanceStore: true, Tags: map[string]string{"amibump:source-for": "shop-web-prod-a"}})
		resp, err := w.handle(sample(t, "deploy-finished-web.json"))
		if err != nil {
			t.Fatalf("returned %v; retrying cannot change the instance's root volume", err)
		}
		res := one(t, resp)
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "instance-store root volume") || len(w.amibumpImages(w.lt)) != 0 {
			t.Errorf("result %+v, want rejected naming the root volume and no AMI", res)
		}
	})
	t.Run("an AMI deregistered by a person while pending is rejected, not made again", func(t *testing.T) {
		var w *world
		var created sync.Once
		deregister := func(op string) time.Duration {
			if op == "DescribeImages" && w != nil && w.cloud.Calls("CreateImage") > 0 {
				created.Do(func() {
					for _, img := range w.amibumpImages(w.lt) {
						must(w.cloud.EC2().DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: img.ImageId}))
					}
				})
			}
			return 0
		}
		w = newWorld(t, awsfake.WithImageDelay(time.Second), awsfake.WithDeregisteredLinger(time.Minute), awsfake.WithLatency(deregister))
		resp, err := w.handle(sample(t, "deploy-finished-web.json"))
		if err != nil {
			t.Fatalf("returned %v; the person meant it, a retry would image the instance again", err)
		}
		res := one(t, resp)
		if res.Status != event.Rejected || !strings.Contains(res.Reason, "deregistered") || !strings.Contains(res.Reason, "replay its deploy event") {
			t.Errorf("result %+v, want rejected saying the AMI was deregistered and what to do", res)
		}
		if len(w.cloud.Versions(w.lt)) != 1 || w.cloud.Calls("CreateImage") != 1 {
			t.Errorf("%d versions after %d CreateImage calls; want nothing promoted or made again", len(w.cloud.Versions(w.lt)), w.cloud.Calls("CreateImage"))
		}
	})
}

// TestInstanceRefreshLeavesProtectedInstances: amibump asks Auto Scaling to
// ignore instances protected from scale-in (its default, Wait, fails the whole
// refresh after an hour), says which ones stay, and leaves a group that uses a
// launch configuration alone.
func TestInstanceRefreshLeavesProtectedInstances(t *testing.T) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:instance-refresh": "true"})
	w.cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("shop-web-prod-a"),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(w.lt), Version: aws.String("$Latest")},
		Instances: []astypes.Instance{{InstanceId: aws.String(w.source), HealthStatus: aws.String("Healthy"),
			LifecycleState: astypes.LifecycleStateInService, ProtectedFromScaleIn: aws.Bool(true)}},
		Tags: []astypes.TagDescription{{Key: aws.String("amibump:instance-refresh"), Value: aws.String("true")}},
	})
	w.cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("legacy"), LaunchConfigurationName: aws.String("legacy-lc")})
	res := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	if res.Status != event.Promoted || !slices.ContainsFunc(res.Warnings, func(s string) bool { return strings.Contains(s, "protected from scale-in as they are ("+w.source+")") }) {
		t.Errorf("result %+v, want promoted with a warning naming %s", res, w.source)
	}
	w.cloud.FinishInstanceRefreshes("shop-web-prod-a")
	if rs := w.cloud.InstanceRefreshes("shop-web-prod-a"); len(rs) != 1 || rs[0].Status != astypes.InstanceRefreshStatusSuccessful {
		t.Errorf("refreshes %+v, want one that succeeds despite the protected instance", rs)
	}
	if rs := w.cloud.InstanceRefreshes("legacy"); len(rs) != 0 {
		t.Errorf("the group with a launch configuration was refreshed: %+v", rs)
	}
}

// TestRetentionIntoTheRecycleBin: with a Recycle Bin rule, retention's
// deregistered AMIs leave the API as if deleted, and a replay of a deploy whose
// AMI is there is superseded before imaging (its name is still taken).
func TestRetentionIntoTheRecycleBin(t *testing.T) {
	w := newWorld(t, awsfake.WithRecycleBin(24*time.Hour))
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:keep": "1", "amibump:delete-after": "0"})
	var first event.Result
	for i, build := range []string{"jenkins-shop-deploy-1", "jenkins-shop-deploy-2", "jenkins-shop-deploy-3"} {
		res := one(t, must(w.handle(deployEvent(t, "event-"+itoa(i), build, t0.Add(time.Duration(i-10)*time.Minute)))))
		if i == 0 {
			first = res
		}
	}
	if _, ok := w.cloud.Image(first.ImageID); ok {
		t.Fatalf("image %s of the first deploy is still registered; want it pruned", first.ImageID)
	}
	calls := w.cloud.Calls("CreateImage")
	res := one(t, must(w.handle(deployEvent(t, "event-0-replay", "jenkins-shop-deploy-1", t0.Add(-10*time.Minute)))))
	if res.Status != event.Superseded || w.cloud.Calls("CreateImage") != calls {
		t.Errorf("replay: %+v after %d more CreateImage calls, want superseded and nothing made", res, w.cloud.Calls("CreateImage")-calls)
	}
}

// TestRetentionKeepsAMIsAParameterHolds: an AMI that an SSM parameter of data
// type aws:ec2:image holds (one another team keeps, say) is still launched by
// whatever resolves it: retention leaves it (DescribeImageReferences,
// resource type ssm:Parameter).
func TestRetentionKeepsAMIsAParameterHolds(t *testing.T) {
	w := newWorld(t)
	w.cloud.TagLaunchTemplate(w.lt, map[string]string{"amibump:keep": "1", "amibump:delete-after": "0"})
	first := one(t, must(w.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-10*time.Minute)))))
	w.cloud.AddParameter("/qa/shop-web-golden", first.ImageID, "aws:ec2:image")
	for i, build := range []string{"jenkins-shop-deploy-2", "jenkins-shop-deploy-3"} {
		if res := one(t, must(w.handle(deployEvent(t, "event-"+itoa(i+2), build, t0.Add(time.Duration(i-8)*time.Minute))))); res.Status != event.Promoted {
			t.Fatalf("deploy %s: %+v, want promoted", build, res)
		}
	}
	if _, ok := w.cloud.Image(first.ImageID); !ok {
		t.Errorf("image %s, held by parameter /qa/shop-web-golden, was deregistered", first.ImageID)
	}
	if n := len(w.amibumpImages(w.lt)); n != 2 {
		t.Errorf("%d amibump images, want 2: the one the parameter holds and the newest", n)
	}
}
