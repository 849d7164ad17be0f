package conformance_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/conformance"
)

// imageDelay is how long the fake's AMIs stay pending, validationDelay how
// long EC2 takes to validate a parameter of data type aws:ec2:image.
const (
	imageDelay      = 5 * time.Minute
	validationDelay = 30 * time.Second
)

// fake is the harness of the fake: a cloud on a manual clock, served by awssim
// on 127.0.0.1. What the suite needs besides the SDK calls (an instance, a
// template, a group) it seeds; it removes them through the SDK, with the same
// Cleaner a real account's run uses.
type fake struct {
	t     *testing.T
	cloud *awsfake.Cloud
	// copyCloud is the same account in copyRegion, where the suite copies its AMI.
	copyCloud *awsfake.Cloud
	clock     *awsfake.ManualClock
	cfg       aws.Config
	cleaner   *conformance.Cleaner
	base      string // the AMI the seeded instances and templates launch
	run       string
	inst      string
}

func newFake(t *testing.T, run string) *fake {
	t.Helper()
	clock := awsfake.NewManualClock(awsfake.Epoch())
	w := awsfake.NewWorld(awsfake.WithClock(clock), awsfake.WithImageDelay(imageDelay), awsfake.WithParameterValidation(validationDelay))
	w.AddAccessKey(accessKey, awsfake.Account, "conformance")
	cloud := w.Cloud(awsfake.DefaultScope)
	copyCloud := w.Cloud(awsfake.Scope{Account: awsfake.Account, Region: copyRegion})
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	cfg := simConfig(url)
	f := &fake{t: t, cloud: cloud, copyCloud: copyCloud, clock: clock, cfg: cfg, cleaner: conformance.NewCleaner(cfg, time.Second), run: run,
		base: cloud.AddImage(awsfake.Image{Name: "al2023-ami-base"})}
	return f
}

// accessKey is the key the fake's account signs with; copyRegion is the
// second region of the fake's World.
const (
	accessKey  = "AKIDCONFORMANCE"
	copyRegion = "us-west-2"
)

// simConfig is an SDK configuration for awssim at url: the fake account's
// key, the fake's region, the standard retryer with short backoffs.
func simConfig(url string) aws.Config {
	return aws.Config{
		Region:       awsfake.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.Backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond) })
		},
	}
}

func (f *fake) Config() aws.Config            { return f.cfg }
func (f *fake) Run() string                   { return f.run }
func (f *fake) Cleaner() *conformance.Cleaner { return f.cleaner }
func (f *fake) Elapse(d time.Duration)        { f.clock.Advance(d) }
func (f *fake) CopyRegion() string            { return copyRegion }
func (f *fake) tags() map[string]string       { return map[string]string{conformance.TagKey: f.run} }
func (f *fake) track(t *testing.T, k conformance.Kind, id string) {
	f.cleaner.Track(t, conformance.Resource{Kind: k, ID: id, Run: f.run})
}

func (f *fake) Patience() conformance.Patience {
	return conformance.Patience{ReadLag: 0, Image: 2 * imageDelay, Poll: time.Millisecond, Validation: validationDelay, Validated: 0, Cleanup: 0}
}

func (f *fake) LaunchData(*testing.T) ec2types.RequestLaunchTemplateData {
	return ec2types.RequestLaunchTemplateData{ImageId: aws.String(f.base), InstanceType: ec2types.InstanceTypeT4gNano}
}

func (f *fake) Instance(*testing.T) string {
	if f.inst == "" { // the run's: removed when the run ends
		f.inst = f.cloud.AddInstance(awsfake.Instance{ImageID: f.base, Tags: f.tags()})
		f.track(f.t, conformance.Instance, f.inst)
	}
	return f.inst
}

func (f *fake) GoneInstance(t *testing.T) string {
	id := f.cloud.AddInstance(awsfake.Instance{ImageID: f.base, Tags: f.tags()})
	f.track(t, conformance.Instance, id)
	f.cloud.TerminateInstance(id)
	return id
}

func (f *fake) Template(t *testing.T, name string, data ec2types.RequestLaunchTemplateData) string {
	id := f.cloud.AddLaunchTemplate("amibump-conformance-"+f.run+"-"+name, f.tags(), data)
	f.track(t, conformance.Template, id)
	return id
}

func (f *fake) Group(t *testing.T, name, templateID, version string) string {
	name = "amibump-conformance-" + f.run + "-" + name
	f.cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(templateID), Version: aws.String(version)},
		MinSize:        aws.Int32(0), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(0),
		Tags: []astypes.TagDescription{{Key: aws.String(conformance.TagKey), Value: aws.String(f.run), ResourceId: aws.String(name),
			ResourceType: aws.String("auto-scaling-group"), PropagateAtLaunch: aws.Bool(true)}}})
	f.track(t, conformance.Group, name)
	return name
}

// WarmPool seeds the group's warm pool instance untracked: as in a real
// account, the group's ForceDelete is what removes it (TestFake's leftovers
// check says whether it did).
func (f *fake) WarmPool(_ *testing.T, group string) string {
	id := f.cloud.AddInstance(awsfake.Instance{ImageID: f.base, Tags: f.tags()})
	f.cloud.AddWarmPool(group, id)
	return id
}
