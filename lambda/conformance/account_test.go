package conformance_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/conformance"
)

// TestAccount runs the contract against a real account, opt-in
// (AMIBUMP_CONFORMANCE=aws), or sweeps its leftovers (AMIBUMP_CONFORMANCE=sweep).
func TestAccount(t *testing.T) {
	mode, err := conformance.ParseMode(os.Getenv(conformance.ModeVariable))
	if err != nil {
		t.Fatal(err)
	}
	if reason := mode.Skip(); reason != "" {
		t.Skip(reason)
	}
	cfg, err := conformance.LoadConfig(t.Context())
	if err != nil {
		t.Fatalf("conformance: load the AWS configuration: %v", err)
	}
	if mode == conformance.SweepOnly {
		removed, err := conformance.NewCleaner(cfg, 0).Sweep(t.Context(), "")
		for _, r := range removed {
			t.Logf("removed %s", r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	conformance.Run(t, conformance.NewAccount(t, cfg, os.Getenv(conformance.ArchVariable), os.Stdout))
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		value   string
		want    conformance.Mode
		skip    bool
		wantErr string
	}{
		{"", conformance.FakeOnly, true, ""},
		{"aws", conformance.Account, false, ""},
		{"sweep", conformance.SweepOnly, false, ""},
		{"AWS", "", false, `AMIBUMP_CONFORMANCE="AWS": want "aws"`},
		{"1", "", false, `AMIBUMP_CONFORMANCE="1": want "aws"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := conformance.ParseMode(tt.value)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("mode: got %q (%v), want %q", got, err, tt.want)
			}
			if skip := got.Skip(); (skip != "") != tt.skip {
				t.Errorf("skip: got %q, want skipped=%v", skip, tt.skip)
			}
		})
	}
}

// The child run's environment: the simulator's URL, the instance it images, and
// the untagged template it takes as its own.
const (
	childURL      = "AMIBUMP_CONFORMANCE_TEST_CHILD_URL"
	childInstance = "AMIBUMP_CONFORMANCE_TEST_CHILD_INSTANCE"
	childTemplate = "AMIBUMP_CONFORMANCE_TEST_CHILD_TEMPLATE"
)

// TestSweepAfterFailure runs a real account's harness, in a child test
// process, against the fake over HTTP: the run sweeps another run's leftovers
// when it starts, makes resources (one it never gets to track), and fails
// midway. Afterwards nothing tagged is left, and nothing untagged was touched.
func TestSweepAfterFailure(t *testing.T) {
	cloud := awsfake.New()
	sim := awssim.New(cloud)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	seedLeftovers(t, cloud, "rold0000")
	source := cloud.AddInstance(awsfake.Instance{})
	keepImage := cloud.AddImage(awsfake.Image{Name: "base"})
	keepTemplate := cloud.AddLaunchTemplate("shop-web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(keepImage)})
	childsTemplate := cloud.AddLaunchTemplate("child", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(keepImage)})

	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingRunChild$", "-test.v")
	cmd.Env = append(os.Environ(), childURL+"="+url, childInstance+"="+source, childTemplate+"="+childsTemplate)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child run: got %v, want it to fail (exit status 1); output:\n%s", err, out)
	}
	for _, want := range []string{"amibump conformance suite against a real account", "-timeout 60m", "midway",
		"sweep: removed instance", "sweep: removed image", "sweep: removed snapshot", "sweep: removed SSM parameter", "run rold0000"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	if left := leftovers(t, cloud); len(left) > 0 {
		t.Errorf("left behind after a failed run: %v", left)
	}
	if _, ok := cloud.Image(keepImage); !ok {
		t.Errorf("image %s, not the suite's: gone, want it kept", keepImage)
	}
	if _, ok := cloud.LaunchTemplate(keepTemplate); !ok {
		t.Errorf("launch template %s, not the suite's: gone, want it kept", keepTemplate)
	}
	d, err := cloud.EC2().DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{source}})
	if err != nil || d.Reservations[0].Instances[0].State.Name != ec2types.InstanceStateNameRunning {
		t.Errorf("instance %s, not the suite's: got %+v (%v), want it running", source, d, err)
	}
}

// seedLeftovers leaves in the cloud what a run that died left behind: an
// instance, a group holding another, a template, an AMI with its snapshot, a
// snapshot whose AMI is gone, all tagged with the run, and a parameter under
// the run's prefix.
func seedLeftovers(t *testing.T, c *awsfake.Cloud, run string) {
	t.Helper()
	tags := map[string]string{conformance.TagKey: run}
	ec, ctx := c.EC2(), context.Background()
	inst := c.AddInstance(awsfake.Instance{Tags: tags})
	held := c.AddInstance(awsfake.Instance{Tags: tags})
	lt := c.AddLaunchTemplate("amibump-conformance-"+run+"-x", tags, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("amibump-conformance-" + run + "-x"),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")},
		Instances:      []astypes.Instance{{InstanceId: aws.String(held), LifecycleState: astypes.LifecycleStateInService, HealthStatus: aws.String("Healthy")}},
		Tags:           []astypes.TagDescription{{Key: aws.String(conformance.TagKey), Value: aws.String(run)}}})
	image := func(name string) string {
		out, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String(name),
			TagSpecifications: []ec2types.TagSpecification{
				{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String(conformance.TagKey), Value: aws.String(run)}}},
				{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String(conformance.TagKey), Value: aws.String(run)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ImageId)
	}
	c.AddParameter(conformance.ParameterPrefix(run)+"release", "v1", "text")
	image("left-1")
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(image("left-2"))}); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, c); len(left) != 8 {
		t.Fatalf("seeded leftovers: got %v, want 8", left)
	}
}

// TestFailingRunChild is the run TestSweepAfterFailure starts: a real
// account's harness against awssim that fails midway. It is skipped otherwise.
func TestFailingRunChild(t *testing.T) {
	url := os.Getenv(childURL)
	if url == "" {
		t.Skip("the failing run of TestSweepAfterFailure, in its own process")
	}
	cfg := simConfig(url)
	h := conformance.NewAccount(t, cfg, "", os.Stdout)
	ec := ec2.NewFromConfig(cfg)
	lt := os.Getenv(childTemplate)
	if _, err := ec.CreateTags(t.Context(), &ec2.CreateTagsInput{Resources: []string{lt},
		Tags: []ec2types.Tag{{Key: aws.String(conformance.TagKey), Value: aws.String(h.Run())}}}); err != nil {
		t.Fatal(err)
	}
	h.Cleaner().Track(t, conformance.Resource{Kind: conformance.Template, ID: lt, Run: h.Run()})
	image := func(name string) string {
		out, err := ec.CreateImage(t.Context(), &ec2.CreateImageInput{InstanceId: aws.String(os.Getenv(childInstance)), Name: aws.String(name),
			TagSpecifications: []ec2types.TagSpecification{
				{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String(conformance.TagKey), Value: aws.String(h.Run())}}},
				{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String(conformance.TagKey), Value: aws.String(h.Run())}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ImageId)
	}
	h.Cleaner().Track(t, conformance.Resource{Kind: conformance.Image, ID: image("child-1"), Run: h.Run()})
	image("child-2") // made, never tracked: the run dies before it could be
	if _, err := ssm.NewFromConfig(cfg).PutParameter(t.Context(), &ssm.PutParameterInput{Name: aws.String(conformance.ParameterPrefix(h.Run()) + "release"),
		Value: aws.String("v1"), Type: ssmtypes.ParameterTypeString}); err != nil { // never tracked either
		t.Fatal(err)
	}
	t.Fatal("midway: the run fails here, after making what it made")
}
