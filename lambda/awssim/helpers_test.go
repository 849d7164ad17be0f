package awssim_test

import (
	"context"
	"go/token"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/bump"
)

// start is the time of every test cloud's clock.
var start = awsfake.Epoch()

// clients are the three APIs amibump calls, as the bump package sees them.
type clients struct {
	ec2 bump.EC2
	asg bump.AutoScaling
	eb  bump.Events
}

func fakeClients(c *awsfake.Cloud) clients {
	return clients{c.EC2(), c.AutoScaling(), c.EventBridge()}
}

// sdkConfig is an SDK configuration for a simulator at url, with the standard
// retryer (3 attempts) backing off by at most backoff.
func sdkConfig(url string, backoff time.Duration) aws.Config {
	cfg := awsfaketest.SDKConfig(url, awsfake.DefaultScope, "")
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.NewExponentialJitterBackoff(backoff)
		})
	}
	return cfg
}

// startSim serves c on a free port until the test ends and returns real SDK
// clients pointed at it.
func startSim(t *testing.T, c *awsfake.Cloud) (*awssim.Server, clients) {
	t.Helper()
	sim, url := serve(t, c)
	cfg := sdkConfig(url, 20*time.Millisecond)
	return sim, clients{ec2.NewFromConfig(cfg), autoscaling.NewFromConfig(cfg), eventbridge.NewFromConfig(cfg)}
}

// serve starts awssim over a cloud for the test's duration and returns its URL.
func serve(t *testing.T, c *awsfake.Cloud) (*awssim.Server, string) {
	t.Helper()
	sim := awssim.New(c)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, url
}

// seed gives a cloud a small account: two managed templates (one with three
// versions), instances, an AMI in use, groups on $Latest and pinned, a bus.
func seed(c *awsfake.Cloud) {
	c.CreateEventBus("amibump")
	base := c.AddImage(awsfake.Image{Name: "base-2026-01", Tags: map[string]string{"team": "platform"}})
	c.AddImage(awsfake.Image{Name: "base-2025-12", Tags: map[string]string{"team": "platform"}, CreationDate: start.Add(-24 * time.Hour)})
	data := ec2types.RequestLaunchTemplateData{
		ImageId: aws.String(base), InstanceType: ec2types.InstanceTypeT3Micro, KeyName: aws.String("ops"),
		SecurityGroupIds: []string{"sg-0123456789abcdef0"}, EbsOptimized: aws.Bool(true),
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("shop-web")},
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("app"), Value: aws.String("shop")}}}},
		UserData: aws.String("IyEvYmluL3NoCmVjaG8gaGk="),
	}
	web := c.AddLaunchTemplate("shop-web-prod-a", map[string]string{"amibump:app": "shop", "amibump:env": "prod",
		"amibump:layer": "web", "amibump:group": "a"}, data)
	api := c.AddLaunchTemplate("shop-api-prod-a", map[string]string{"amibump:app": "shop", "amibump:env": "prod",
		"amibump:layer": "api", "amibump:group": "a"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(base)})
	for range 2 {
		if _, err := c.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(web), SourceVersion: aws.String("$Latest"), VersionDescription: aws.String("seed"),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Small},
		}); err != nil {
			panic(err)
		}
	}
	src := c.AddInstance(awsfake.Instance{ID: "i-0123456789abcdef0", ImageID: base, Volumes: 2,
		Tags: map[string]string{"amibump:source-for": "shop-web-prod-a", "Name": "shop-web <1>"}})
	other := c.AddInstance(awsfake.Instance{ImageID: base})
	c.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameStopped})
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("shop-web-prod-a"),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(web), Version: aws.String("$Latest")},
		Instances: []astypes.Instance{{InstanceId: aws.String(src), HealthStatus: aws.String("Healthy"),
			LifecycleState: astypes.LifecycleStateInService, ProtectedFromScaleIn: aws.Bool(true), AvailabilityZone: aws.String("us-east-1a")}},
		Tags:        []astypes.TagDescription{{Key: aws.String("team"), Value: aws.String("shop"), PropagateAtLaunch: aws.Bool(true), ResourceId: aws.String("shop-web-prod-a"), ResourceType: aws.String("auto-scaling-group")}},
		MinSize:     aws.Int32(1),
		MaxSize:     aws.Int32(4),
		CreatedTime: aws.Time(start.Add(-time.Hour)),
	})
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("shop-api-prod-a"),
		MixedInstancesPolicy: &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{
			LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("shop-api-prod-a"), Version: aws.String("1")},
			Overrides: []astypes.LaunchTemplateOverrides{{InstanceType: aws.String("t3.large"),
				LaunchTemplateSpecification: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(api), Version: aws.String("$Default")}}},
		}},
		Instances: []astypes.Instance{{InstanceId: aws.String(other), HealthStatus: aws.String("Healthy"), LifecycleState: astypes.LifecycleStateInService}},
	})
}

// sdkEqual compares values the SDK handed back with what the fake made,
// leaving out what no wire carries (unexported fields, result metadata).
var sdkEqual = cmp.Options{
	cmp.FilterPath(func(p cmp.Path) bool {
		sf, ok := p.Last().(cmp.StructField)
		return ok && (!token.IsExported(sf.Name()) || sf.Name() == "ResultMetadata")
	}, cmp.Ignore()),
}
