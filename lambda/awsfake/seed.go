package awsfake

import (
	"maps"
	"slices"

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
	// The group lets amibump refresh it, as the README asks of a group whose
	// template opts in (the template here opts in only when templateTags do).
	c.TagAutoScalingGroup("shop-web-prod-a", map[string]string{event.TagInstanceRefresh: "true"})
	return s
}

// TagAutoScalingGroup adds or overwrites tags on a group, as
// CreateOrUpdateTags does (not propagated to instances).
func (c *Cloud) TagAutoScalingGroup(name string, tags map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[name]
	if !ok {
		panic("awsfake: no Auto Scaling group " + name)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		i := slices.IndexFunc(g.Tags, func(t astypes.TagDescription) bool { return aws.ToString(t.Key) == k })
		tag := astypes.TagDescription{Key: aws.String(k), Value: aws.String(tags[k]), ResourceId: aws.String(name),
			ResourceType: aws.String("auto-scaling-group"), PropagateAtLaunch: aws.Bool(false)}
		if i < 0 {
			g.Tags = append(g.Tags, tag)
		} else {
			g.Tags[i] = tag
		}
	}
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
