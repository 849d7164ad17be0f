package conformance_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/conformance"
)

// TestFake runs the contract against the fake over HTTP, and checks that the
// run's cleanup left nothing behind.
func TestFake(t *testing.T) {
	var f *fake
	t.Cleanup(func() {
		for _, c := range []*awsfake.Cloud{f.cloud, f.copyCloud} {
			if left := leftovers(t, c); len(left) > 0 {
				t.Errorf("left behind in %s after the run: %v", c.Scope(), left)
			}
		}
	})
	f = newFake(t, "fake-run")
	conformance.Run(t, f)
}

// leftovers lists, through the fake's own Go API, what carries the suite's tag
// and still exists.
func leftovers(t *testing.T, c *awsfake.Cloud) []string {
	t.Helper()
	var out []string
	for _, img := range c.Images() {
		if tagged(img.Tags) {
			out = append(out, "image "+*img.ImageId)
		}
	}
	for _, s := range c.Snapshots() {
		if tagged(s.Tags) {
			out = append(out, "snapshot "+*s.SnapshotId)
		}
	}
	ctx := context.Background()
	insts, err := c.EC2().DescribeInstances(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range insts.Reservations {
		for _, in := range r.Instances {
			if in.State.Name != "terminated" && tagged(in.Tags) {
				out = append(out, "instance "+*in.InstanceId)
			}
		}
	}
	lts, err := c.EC2().DescribeLaunchTemplates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lt := range lts.LaunchTemplates {
		if tagged(lt.Tags) {
			out = append(out, "launch template "+*lt.LaunchTemplateId)
		}
	}
	params, err := c.SSM().DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{conformance.ParameterPrefix("")}}}, MaxResults: aws.Int32(50)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range params.Parameters {
		out = append(out, "parameter "+*p.Name)
	}
	groups, err := c.AutoScaling().DescribeAutoScalingGroups(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.AutoScalingGroups {
		if slices.ContainsFunc(g.Tags, func(t astypes.TagDescription) bool { return aws.ToString(t.Key) == conformance.TagKey }) {
			out = append(out, "group "+*g.AutoScalingGroupName)
		}
	}
	return out
}

func tagged(tags []ec2types.Tag) bool {
	return slices.ContainsFunc(tags, func(t ec2types.Tag) bool { return aws.ToString(t.Key) == conformance.TagKey })
}
