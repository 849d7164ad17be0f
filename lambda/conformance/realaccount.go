package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// ArchVariable picks the real account's instance architecture: arm64 (the
// default, t4g.nano) or x86_64 (t3.nano), for regions without Graviton.
const ArchVariable = "AMIBUMP_CONFORMANCE_ARCH"

// accountPatience is how long things take in a real account: reads that lag
// writes by seconds, an AMI of an 8 GiB volume in a few minutes, EC2's
// validation of an aws:ec2:image parameter in seconds (polled for up to 5
// minutes); the waits end 10 minutes before go test's -timeout, for the
// cleanups (a group refused for now is retried for up to 5 minutes) and the
// closing sweep.
var accountPatience = Patience{ReadLag: 2 * time.Minute, Image: 20 * time.Minute, Poll: 5 * time.Second, Validated: 5 * time.Minute,
	Cleanup: 10 * time.Minute}

// Timeout is the go test -timeout the README gives a real account's run: its
// waits at their limits add up to well over an hour (each read that may lag
// 2 minutes, the AMI 20, each instance 5); under Timeout they are cut
// accountPatience.Cleanup before it, and the run fails with everything
// removed. minTimeLeft is the least a run starts with.
const (
	Timeout     = 60 * time.Minute
	minTimeLeft = 25 * time.Minute
)

// realAccount is the harness of a real account: tiny resources in the default VPC
// from the latest Amazon Linux 2023 AMI, every one tagged with the run and
// removed when the test that made it ends; the run sweeps every earlier run's
// leftovers when it starts and its own when it ends.
type realAccount struct {
	t       *testing.T
	cfg     aws.Config
	run     string
	arch    string // arm64 or x86_64
	cleaner *Cleaner
	ec2     *ec2.Client
	asg     *autoscaling.Client

	ami    string // the latest Amazon Linux 2023 AMI of the region, read on first use
	inst   string // the run's instance, made on first use
	subnet string // the instance's subnet, a default subnet of the default VPC
}

// NewAccount returns the harness of the account and region cfg reaches, for a
// run of the suite as t. It prints the estimate of what the run costs to w,
// then sweeps every earlier run's leftovers; at t's end it sweeps this run's.
func NewAccount(t *testing.T, cfg aws.Config, arch string, w io.Writer) Harness {
	t.Helper()
	if cfg.Region == "" {
		t.Fatal("conformance: no AWS region: set AWS_REGION (or a profile's region) for the account to check")
	}
	if arch == "" {
		arch = "arm64"
	}
	if arch != "arm64" && arch != "x86_64" {
		t.Fatalf("conformance: %s=%q: want arm64 (t4g.nano) or x86_64 (t3.nano)", ArchVariable, arch)
	}
	if deadline, ok := t.Deadline(); ok {
		ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-minTimeLeft))
		short := ctx.Err() != nil
		cancel()
		if short {
			t.Fatalf("conformance: go test -timeout leaves less than %s, too little for a real account's run and its cleanups: run with -timeout %s", minTimeLeft, Timeout)
		}
	}
	a := &realAccount{t: t, cfg: cfg, run: NewRunID(), arch: arch, cleaner: NewCleaner(cfg, 5*time.Minute),
		ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg)}
	if _, err := fmt.Fprint(w, Estimate(cfg.Region, a.run, string(a.instanceType()))); err != nil {
		t.Fatalf("conformance: print the estimate of what the run costs: %v", err)
	}
	ctx := context.WithoutCancel(t.Context())
	if deadline, ok := t.Deadline(); ok { // the closing sweep ends before -timeout panics
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		t.Cleanup(cancel)
	}
	sweep(t, a.cleaner, ctx, "", "leftovers of earlier runs")
	t.Cleanup(func() { sweep(t, a.cleaner, ctx, a.run, "what this run's cleanups missed") })
	return a
}

// CopyRegion is CopyRegionVariable's region ("" when unset).
func (a *realAccount) CopyRegion() string { return os.Getenv(CopyRegionVariable) }

// image is the latest Amazon Linux 2023 AMI of the region, read once from
// AWS's public SSM parameter.
func (a *realAccount) image(t *testing.T) string {
	t.Helper()
	if a.ami == "" {
		out, err := ssm.NewFromConfig(a.cfg).GetParameter(t.Context(), &ssm.GetParameterInput{
			Name: aws.String("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-" + a.arch)})
		if err != nil {
			t.Fatalf("conformance: find the latest Amazon Linux 2023 AMI (public SSM parameter): %v", err)
		}
		a.ami = aws.ToString(out.Parameter.Value)
	}
	return a.ami
}

// sweep removes what List finds for run and says what it removed.
func sweep(t *testing.T, c *Cleaner, ctx context.Context, run, what string) {
	removed, err := c.Sweep(ctx, run)
	for _, r := range removed {
		t.Logf("sweep: removed %s (%s)", r, what)
	}
	if err != nil {
		t.Errorf("sweep: %v", err)
	}
}

// NewRunID returns a run id: r and 8 random hex digits.
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return "r" + hex.EncodeToString(b)
}

// Estimate is what a run against a real account makes, costs and takes.
func Estimate(region, run, instanceType string) string {
	return fmt.Sprintf(`amibump conformance suite against a real account, region %s, run %s:
  takes about 12 minutes (most of it waiting for one AMI); at worst, every wait at its limit, it
  runs until go test's -timeout (-timeout %dm: waits are cut %d minutes before it, for the cleanups);
  everything it makes is tagged %s=%s,
  removed when its test ends (pass or fail), and swept by that tag when the run starts and ends:
    3 EC2 instances %s in the default VPC, from the latest Amazon Linux 2023 AMI
      (one runs for the whole run, with its 8 GiB gp3 root volume and a public IPv4 address;
      one is terminated as soon as it is launched; one is a warm pool's, which runs a minute
      or two to initialise, then stops, and goes with its group)
    1 AMI and its 8 GiB snapshot, for about 5 minutes
    launch templates with a few versions, 4 Auto Scaling groups of 0 instances (one with a warm
      pool), standard SSM parameters under %s (no charge)
    1 advanced SSM parameter there, for a few seconds: US$0.05 a month, prorated hourly (at most
      an hour's share, under US$0.0001)
    1 event on the default event bus
  cost: well under US$0.01 at us-east-1 on-demand prices (an instance-hour of %s is under
  US$0.006, a public IPv4 address US$0.005 an hour; volume and snapshot a fraction of a cent).
`, region, run, int(Timeout.Minutes()), int(accountPatience.Cleanup.Minutes()), TagKey, run, instanceType, ParameterPrefix(run), instanceType)
}

func (a *realAccount) instanceType() ec2types.InstanceType {
	if a.arch == "x86_64" {
		return ec2types.InstanceTypeT3Nano
	}
	return ec2types.InstanceTypeT4gNano
}

func (a *realAccount) Config() aws.Config { return a.cfg }
func (a *realAccount) Run() string        { return a.run }
func (a *realAccount) Cleaner() *Cleaner  { return a.cleaner }
func (a *realAccount) Patience() Patience { return accountPatience }
func (a *realAccount) Elapse(time.Duration) {
	// A real account's time passes while the suite's waiters wait.
}

func (a *realAccount) LaunchData(t *testing.T) ec2types.RequestLaunchTemplateData {
	return ec2types.RequestLaunchTemplateData{ImageId: aws.String(a.image(t)), InstanceType: a.instanceType()}
}

func (a *realAccount) name(what string) string { return "amibump-conformance-" + a.run + "-" + what }

func (a *realAccount) tags(name string, rts ...ec2types.ResourceType) []ec2types.TagSpecification {
	var out []ec2types.TagSpecification
	for _, rt := range rts {
		out = append(out, ec2types.TagSpecification{ResourceType: rt, Tags: []ec2types.Tag{
			{Key: aws.String(TagKey), Value: aws.String(a.run)}, {Key: aws.String("Name"), Value: aws.String(name)}}})
	}
	return out
}

// launch runs one instance of the run, removed when owner ends (tracked before
// anything can fail), and waits until it is running; a failure fails t.
func (a *realAccount) launch(t *testing.T, owner testing.TB, what string) ec2types.Instance {
	t.Helper()
	out, err := a.ec2.RunInstances(t.Context(), &ec2.RunInstancesInput{ImageId: aws.String(a.image(t)), InstanceType: a.instanceType(),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehaviorTerminate,
		MetadataOptions:   &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateRequired},
		TagSpecifications: a.tags(a.name(what), ec2types.ResourceTypeInstance, ec2types.ResourceTypeVolume)})
	if err != nil {
		t.Fatalf("conformance: launch a %s in the default VPC: %v", a.instanceType(), err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	a.cleaner.Track(owner, Resource{Instance, id, a.run})
	w := ec2.NewInstanceRunningWaiter(a.ec2)
	ctx, cancel := within(t, accountPatience, 5*time.Minute)
	defer cancel()
	d, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Minute)
	if err != nil {
		t.Fatalf("conformance: wait for instance %s to run: %v", id, err)
	}
	return d.Reservations[0].Instances[0]
}

func (a *realAccount) Instance(t *testing.T) string {
	if a.inst == "" {
		in := a.launch(t, a.t, "source") // the run's: removed when the run ends
		a.inst, a.subnet = aws.ToString(in.InstanceId), aws.ToString(in.SubnetId)
	}
	return a.inst
}

func (a *realAccount) GoneInstance(t *testing.T) string {
	id := aws.ToString(a.launch(t, t, "gone").InstanceId)
	if _, err := a.ec2.TerminateInstances(t.Context(), &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("conformance: terminate %s: %v", id, err)
	}
	w := ec2.NewInstanceTerminatedWaiter(a.ec2)
	ctx, cancel := within(t, accountPatience, 5*time.Minute)
	defer cancel()
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Minute); err != nil {
		t.Fatalf("conformance: wait for instance %s to be terminated: %v", id, err)
	}
	return id
}

func (a *realAccount) Template(t *testing.T, name string, data ec2types.RequestLaunchTemplateData) string {
	out, err := a.ec2.CreateLaunchTemplate(t.Context(), &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(a.name(name)),
		LaunchTemplateData: &data, TagSpecifications: a.tags(a.name(name), ec2types.ResourceTypeLaunchTemplate)})
	if err != nil {
		t.Fatalf("conformance: create launch template %s: %v", a.name(name), err)
	}
	id := aws.ToString(out.LaunchTemplate.LaunchTemplateId)
	a.cleaner.Track(t, Resource{Template, id, a.run})
	return id
}

func (a *realAccount) Group(t *testing.T, name, templateID, version string) string {
	a.Instance(t) // its subnet is a default subnet of the default VPC
	name = a.name(name)
	_, err := a.asg.CreateAutoScalingGroup(t.Context(), &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(templateID), Version: aws.String(version)},
		MinSize:        aws.Int32(0), MaxSize: aws.Int32(1), DesiredCapacity: aws.Int32(0), VPCZoneIdentifier: aws.String(a.subnet),
		Tags: []astypes.Tag{{Key: aws.String(TagKey), Value: aws.String(a.run), PropagateAtLaunch: aws.Bool(true)}}})
	if err != nil {
		t.Fatalf("conformance: create Auto Scaling group %s: %v", name, err)
	}
	a.cleaner.Track(t, Resource{Group, name, a.run})
	return name
}

// WarmPool puts a warm pool of stopped instances, at least one, on the group
// (none desired, at most one): Auto Scaling launches one, which runs briefly
// to initialise and then stops. The group's ForceDelete removes the pool and
// its instance, which carries the run's tag (the group propagates it) for the
// sweep.
func (a *realAccount) WarmPool(t *testing.T, group string) string {
	_, err := a.asg.PutWarmPool(t.Context(), &autoscaling.PutWarmPoolInput{AutoScalingGroupName: aws.String(group),
		MinSize: aws.Int32(1), PoolState: astypes.WarmPoolStateStopped})
	if err != nil {
		t.Fatalf("conformance: put a warm pool on %s: %v", group, err)
	}
	ctx, cancel := within(t, accountPatience, 5*time.Minute)
	defer cancel()
	for {
		out, err := a.asg.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String(group)})
		if err == nil && len(out.Instances) > 0 {
			return aws.ToString(out.Instances[0].InstanceId)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("conformance: the warm pool of %s launched no instance within 5 minutes (last: %+v, %v)", group, out, err)
		case <-time.After(accountPatience.Poll):
		}
	}
}

// LoadConfig is the SDK configuration of the standard chain (environment,
// shared files, SSO, instance role), AWS_ENDPOINT_URL included.
func LoadConfig(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx)
}
