package awsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestTeardown pins the calls that remove what a test made: each removes its
// resource, answers AWS's code for one that is not there, and refuses what AWS
// refuses (a snapshot an AMI uses, a group with instances without ForceDelete).
func TestTeardown(t *testing.T) {
	cloud := awsfake.New()
	ec, as, ctx := cloud.EC2(), cloud.AutoScaling(), context.Background()
	inst := cloud.AddInstance(awsfake.Instance{Tags: map[string]string{"run": "r1"}})
	held := cloud.AddInstance(awsfake.Instance{})
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	cloud.AddGroup("web", lt, "$Latest", held)
	img, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("web-1"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("run"), Value: aws.String("r1")}}}}})
	if err != nil {
		t.Fatal(err)
	}

	snaps, err := ec.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: filters("tag:run", "r1")})
	if err != nil || len(snaps.Snapshots) != 1 {
		t.Fatalf("snapshots tagged run=r1: got %+v (%v), want 1", snaps, err)
	}
	snap := aws.ToString(snaps.Snapshots[0].SnapshotId)
	_, err = ec.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	wantCode(t, err, "InvalidSnapshot.InUse")
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil {
		t.Errorf("delete the snapshot of a deregistered AMI: %v", err)
	}
	_, err = ec.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	wantCode(t, err, "InvalidSnapshot.NotFound")

	_, err = as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	var inUse *astypes.ResourceInUseFault
	if !errors.As(err, &inUse) {
		t.Errorf("delete a group with an instance: got %v, want ResourceInUse", err)
	}
	if _, err := as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantCode(t, err, "ValidationError")

	out, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}})
	if err != nil || out.TerminatingInstances[0].CurrentState.Name != ec2types.InstanceStateNameShuttingDown ||
		aws.ToInt32(out.TerminatingInstances[0].CurrentState.Code) != 32 {
		t.Errorf("terminate running %s: got %+v (%v), want shutting-down (32)", inst, out, err)
	}
	out, err = ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst}})
	if err != nil || out.TerminatingInstances[0].CurrentState.Name != ec2types.InstanceStateNameTerminated ||
		out.TerminatingInstances[0].PreviousState.Name != ec2types.InstanceStateNameTerminated {
		t.Errorf("terminate %s again: got %+v (%v), want terminated, as before", inst, out, err)
	}
	_, err = ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{inst, "i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	d, _ := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{held}})
	if got := d.Reservations[0].Instances[0].State.Name; got != ec2types.InstanceStateNameTerminated {
		t.Errorf("instance of a force-deleted group: got %s, want terminated", got)
	}

	cloud.AddGroup("api", lt, "$Latest")
	if _, err := ec.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(lt)}); err != nil {
		t.Errorf("delete a template group api launches from: %v, want it deleted", err)
	}
	_, err = ec.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(lt)})
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
}

// TestTeardownWarmPool: a group whose warm pool holds an instance is in use
// without ForceDelete (the harsher reading); ForceDelete deletes the pool and
// terminates its instance.
func TestTeardownWarmPool(t *testing.T) {
	cloud := awsfake.New()
	ec, as, ctx := cloud.EC2(), cloud.AutoScaling(), context.Background()
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	cloud.AddGroup("web", lt, "$Latest")
	warm := cloud.AddInstance(awsfake.Instance{})
	cloud.AddWarmPool("web", warm)

	_, err := as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	var inUse *astypes.ResourceInUseFault
	if !errors.As(err, &inUse) {
		t.Errorf("delete a group whose warm pool holds an instance: got %v, want ResourceInUse", err)
	}
	if _, err := as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	d, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{warm}})
	if err != nil || d.Reservations[0].Instances[0].State.Name != ec2types.InstanceStateNameTerminated {
		t.Errorf("the warm pool's instance after ForceDelete: got %+v (%v), want terminated", d, err)
	}
	cloud.AddGroup("web", lt, "$Latest") // a new group of the same name has no warm pool
	if out, err := as.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("web")}); err != nil || len(out.Instances) != 0 {
		t.Errorf("warm pool of a new group web: got %+v (%v), want none", out, err)
	}
}

// TestDescribeSnapshotsOwners: OwnerIds self or the account's id lists the
// account's snapshots; another owner lists none (the fake has no public or
// shared snapshots).
func TestDescribeSnapshotsOwners(t *testing.T) {
	cloud := awsfake.New()
	ec, ctx := cloud.EC2(), context.Background()
	inst := cloud.AddInstance(awsfake.Instance{})
	if _, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("web-1")}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		owners []string
		want   int
	}{{nil, 1}, {[]string{"self"}, 1}, {[]string{awsfake.Account}, 1}, {[]string{"amazon"}, 0}, {[]string{"210987654321"}, 0}} {
		out, err := ec.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: tt.owners})
		if err != nil || len(out.Snapshots) != tt.want {
			t.Errorf("snapshots of owners %v: got %+v (%v), want %d", tt.owners, out, err, tt.want)
		}
	}
}

// TestTeardownParameters pins DescribeParameters' name filters and pages, and
// DeleteParameter.
func TestTeardownParameters(t *testing.T) {
	cloud := awsfake.New()
	s, ctx := cloud.SSM(), context.Background()
	for _, n := range []string{"/run/a/1", "/run/a/2", "/run/a/3", "/run/b/1"} {
		cloud.AddParameter(n, "v", "text")
	}
	beginsWith := func(prefix string) *ssm.DescribeParametersInput {
		return &ssm.DescribeParametersInput{MaxResults: aws.Int32(2), ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{prefix}}}}
	}
	var got []string
	p := ssm.NewDescribeParametersPaginator(s, beginsWith("/run/a/"))
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Parameters {
			got = append(got, aws.ToString(m.Name))
		}
	}
	if diff := cmp.Diff([]string{"/run/a/1", "/run/a/2", "/run/a/3"}, got); diff != "" {
		t.Errorf("parameters beginning with /run/a/ (-want +got):\n%s", diff)
	}
	if _, err := s.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/run/a/2")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/run/a/2")})
	wantCode(t, err, "ParameterNotFound")
	if out, err := s.DescribeParameters(ctx, beginsWith("/run/a/")); err != nil || len(out.Parameters) != 2 {
		t.Errorf("after one was deleted: got %+v (%v), want 2 parameters", out, err)
	}
	_, err = s.DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(51)})
	wantCode(t, err, "ValidationException")

	if _, err := s.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/run/a/1"), Value: aws.String("w"), Overwrite: aws.Bool(true),
		Tier: ssmtypes.ParameterTierAdvanced}); err != nil {
		t.Fatal(err)
	}
	out, err := s.DescribeParameters(ctx, beginsWith("/run/a/"))
	if err != nil || len(out.Parameters) != 2 || out.Parameters[0].Tier != ssmtypes.ParameterTierAdvanced || out.Parameters[1].Tier != ssmtypes.ParameterTierStandard {
		t.Errorf("tiers of /run/a/1 (made Advanced) and /run/a/3: got %+v (%v), want Advanced and Standard", out, err)
	}
}
