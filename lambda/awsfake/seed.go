package awsfake

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
)

// SampleInstance is the instance the sample events in testdata/events name.
const SampleInstance = "i-0123456789abcdef0"

// Shop is what SeedShop made.
type Shop struct {
	BaseAMI  string // an AMI amibump did not make, tagged team=platform
	Template string // shop-web-prod-a's id
	Source   string // SampleInstance
}

// SeedShop gives a cloud the account most tests start from, the one the sample
// events target: the bus "amibump"; launch template shop-web-prod-a tagged
// amibump:app=shop, env=prod, layer=web, group=a (plus templateTags, which may
// override them), launching the base AMI; its source instance SampleInstance
// (tagged amibump:source-for); and group shop-web-prod-a at $Latest with that
// instance InService.
func SeedShop(c *Cloud, templateTags map[string]string) Shop {
	c.CreateEventBus("amibump")
	s := Shop{BaseAMI: c.AddImage(Image{Name: "base-2026-01", Tags: map[string]string{"team": "platform"}})}
	tags := map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a"}
	for k, v := range templateTags {
		tags[k] = v
	}
	s.Template = c.AddLaunchTemplate("shop-web-prod-a", tags, ec2types.RequestLaunchTemplateData{ImageId: aws.String(s.BaseAMI), InstanceType: ec2types.InstanceTypeT3Micro})
	s.Source = c.AddInstance(Instance{ID: SampleInstance, ImageID: s.BaseAMI, Tags: map[string]string{event.TagSourceFor: "shop-web-prod-a"}})
	c.AddGroup("shop-web-prod-a", s.Template, "$Latest", s.Source)
	return s
}

// AddGroup adds an Auto Scaling group launching from a template at a version
// ("$Latest", "$Default" or a number), with the instances InService and Healthy.
func (c *Cloud) AddGroup(name, templateID, version string, instances ...string) {
	g := astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String(name),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(templateID), Version: aws.String(version)},
	}
	for _, id := range instances {
		g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id), HealthStatus: aws.String("Healthy"), LifecycleState: astypes.LifecycleStateInService})
	}
	c.AddAutoScalingGroup(g)
}
