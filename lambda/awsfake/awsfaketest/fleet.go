package awsfaketest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// Fleet is what SeedFleet made: template ids by name.
type Fleet struct {
	Templates map[string]string
	BaseAMI   string
}

// SeedFleet gives c a realistic account: apps shop and blog in prod and
// staging, several managed templates, the bus "amibump", and
//   - shop-web-prod-a: its own source instance (amibump:source-for), group on
//     $Latest, two earlier amibump releases and keep=2, so a bump prunes one;
//     each release is published to SSM parameter /amibump/shop-web-prod-a;
//   - shop-api-prod-a: group pinned to version 1 (amibump warns);
//   - shop-worker-prod: group on $Default through a mixed instances policy;
//   - shop-web-staging-a, blog-web-prod: the other env and app, left alone by
//     shop prod deploys.
func SeedFleet(c *awsfake.Cloud) Fleet {
	c.CreateEventBus("amibump")
	a := Fleet{Templates: map[string]string{}}
	a.BaseAMI = c.AddImage(awsfake.Image{Name: "al2023-base-2026-11", Tags: map[string]string{"team": "platform"},
		CreationDate: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	template := func(name, app, env, layer, group string, extra map[string]string) string {
		tags := map[string]string{event.TagApp: app, event.TagEnv: env, event.TagLayer: layer}
		if group != "" {
			tags[event.TagGroup] = group
		}
		for k, v := range extra {
			tags[k] = v
		}
		id := c.AddLaunchTemplate(name, tags, ec2types.RequestLaunchTemplateData{
			ImageId: aws.String(a.BaseAMI), InstanceType: ec2types.InstanceTypeT3Small, KeyName: aws.String("ops"),
			SecurityGroupIds: []string{"sg-0a1b2c3d4e5f60718"},
		})
		a.Templates[name] = id
		return id
	}
	group := func(name string, spec astypes.LaunchTemplateSpecification, mixed bool, instances ...string) {
		g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(1), MaxSize: aws.Int32(6),
			DesiredCapacity: aws.Int32(int32(len(instances)))}
		if mixed {
			g.MixedInstancesPolicy = &astypes.MixedInstancesPolicy{LaunchTemplate: &astypes.LaunchTemplate{
				LaunchTemplateSpecification: &spec,
				Overrides:                   []astypes.LaunchTemplateOverrides{{InstanceType: aws.String("t3.small")}, {InstanceType: aws.String("t3a.small")}},
			}}
		} else {
			g.LaunchTemplate = &spec
		}
		for _, id := range instances {
			g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id), HealthStatus: aws.String("Healthy"),
				LifecycleState: astypes.LifecycleStateInService, AvailabilityZone: aws.String("us-east-1a")})
		}
		c.AddAutoScalingGroup(g)
	}
	instance := func(tags map[string]string) string {
		return c.AddInstance(awsfake.Instance{ImageID: a.BaseAMI, Tags: tags, Volumes: 2})
	}

	web := template("shop-web-prod-a", "shop", "prod", "web", "a", map[string]string{event.TagKeep: "2", event.TagSSMParameter: "true"})
	c.AddInstance(awsfake.Instance{ID: awsfake.SampleInstance, ImageID: a.BaseAMI, Volumes: 2,
		Tags: map[string]string{event.TagSourceFor: "shop-web-prod-a", "Name": "shop-web-prod-a image source"}})
	for i, at := range []time.Time{time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)} {
		release(c, web, "shop-web-prod-a", at, fmt.Sprintf("jenkins-shop-deploy-%d", 138+i))
	}
	group("shop-web-prod-a", astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(web), Version: aws.String("$Latest")}, false,
		instance(nil), instance(nil))

	api := template("shop-api-prod-a", "shop", "prod", "api", "a", nil)
	group("shop-api-prod-a", astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(api), Version: aws.String("1")}, false,
		instance(nil))

	worker := template("shop-worker-prod", "shop", "prod", "worker", "", nil)
	group("shop-worker-prod", astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("shop-worker-prod"), Version: aws.String("$Default")}, true,
		instance(nil))
	_ = worker

	staging := template("shop-web-staging-a", "shop", "staging", "web", "a", nil)
	group("shop-web-staging-a", astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(staging), Version: aws.String("$Latest")}, false,
		instance(nil))

	blog := template("blog-web-prod", "blog", "prod", "web", "", map[string]string{event.TagSetDefault: "false"})
	group("blog-web-prod", astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(blog), Version: aws.String("$Default")}, false,
		instance(map[string]string{event.TagSourceFor: "blog-web-prod"}))
	return a
}

// release records an earlier amibump release of a template: its AMI and its
// snapshot, tagged as amibump tags them, and a version carrying it, made the default.
func release(c *awsfake.Cloud, ltID, name string, at time.Time, build string) {
	deploy := plan.Deploy{At: at, BuildID: build}
	ami := plan.AMIName(name, deploy)
	tags := map[string]string{
		event.TagName: ami, event.TagLaunchTemplate: ltID, event.TagBuildID: build,
		event.TagDeployedAt: at.Format(time.RFC3339), event.TagSourceInstance: awsfake.SampleInstance,
	}
	img := c.AddImage(awsfake.Image{Name: ami, CreationDate: at.Add(5 * time.Minute), Tags: tags, SnapshotTags: tags})
	out, err := c.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("$Latest"),
		VersionDescription: aws.String(plan.VersionDescription(build, "")),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)},
	})
	if err != nil {
		panic(fmt.Sprintf("awsfaketest: seed a release of %s: %v", name, err))
	}
	if _, err := c.EC2().ModifyLaunchTemplate(context.Background(), &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(ltID), DefaultVersion: aws.String(fmt.Sprint(aws.ToInt64(out.LaunchTemplateVersion.VersionNumber))),
	}); err != nil {
		panic(fmt.Sprintf("awsfaketest: seed a release of %s: %v", name, err))
	}
}

// Target is one managed template of a fan-out: app shop, env prod, its layer
// and group.
type Target struct {
	Name, Layer, Group string
	Volumes            int // the source instance's EBS volumes; 0 = 1
}

// AddTarget gives c the template t launching baseAMI, its own source instance
// (amibump:source-for) and a group of the template's name launching it at
// $Latest with that instance InService and Healthy. It returns the
// template's id.
func AddTarget(c *awsfake.Cloud, baseAMI string, t Target) string {
	lt := c.AddLaunchTemplate(t.Name, map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: t.Layer, event.TagGroup: t.Group},
		ec2types.RequestLaunchTemplateData{ImageId: aws.String(baseAMI), InstanceType: ec2types.InstanceTypeT3Micro})
	src := c.AddInstance(awsfake.Instance{ImageID: baseAMI, Tags: map[string]string{event.TagSourceFor: t.Name}, Volumes: t.Volumes})
	c.AddGroup(t.Name, lt, "$Latest", src)
	return lt
}
