package awsfake_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestSourceVersionDropsSnapshots pins CreateLaunchTemplateVersion's SourceVersion
// rule: the new version inherits the source's parameters, but the snapshots in
// its block device mappings only when the request gives them again.
func TestSourceVersionDropsSnapshots(t *testing.T) {
	cloud := awsfake.New()
	ec, ctx := cloud.EC2(), context.Background()
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001"),
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String("snap-00000000000000001"), VolumeSize: aws.Int32(20)}}}})
	out, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000002")}})
	if err != nil {
		t.Fatal(err)
	}
	bdm := out.LaunchTemplateVersion.LaunchTemplateData.BlockDeviceMappings
	if len(bdm) != 1 || bdm[0].Ebs == nil || aws.ToInt32(bdm[0].Ebs.VolumeSize) != 20 || bdm[0].Ebs.SnapshotId != nil {
		t.Errorf("inherited mappings %+v, want the 20 GiB volume without its snapshot", bdm)
	}
	given := []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
		Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String("snap-00000000000000002")}}}
	out, err = ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{BlockDeviceMappings: given}})
	if err != nil {
		t.Fatal(err)
	}
	if bdm := out.LaunchTemplateVersion.LaunchTemplateData.BlockDeviceMappings; len(bdm) != 1 || aws.ToString(bdm[0].Ebs.SnapshotId) != "snap-00000000000000002" {
		t.Errorf("mappings given explicitly %+v, want their snapshot kept", bdm)
	}
}

// TestVersionQuota pins the quota of 10,000 versions per launch template
// ("Restrictions for Amazon EC2 launch templates"); deleting one makes room.
func TestVersionQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 10,000 versions")
	}
	cloud := awsfake.New()
	ec, ctx := cloud.EC2(), context.Background()
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	create := func() error {
		_, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000002")}})
		return err
	}
	for range 9999 {
		if err := create(); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, create(), "VersionLimitExceeded")
	if _, err := ec.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"2"}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, create(), "")
}

// TestRecycleBin pins WithRecycleBin: a deregistered AMI leaves the API at once
// (DeregisterImage), and its name stays taken until the retention ends (not
// documented: the harsher reading).
func TestRecycleBin(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithRecycleBin(time.Hour))
	ec, ctx := cloud.EC2(), context.Background()
	inst := cloud.AddInstance(awsfake.Instance{})
	create := func() (*ec2.CreateImageOutput, error) {
		return ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("web-1")})
	}
	out, err := create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: out.ImageId}); err != nil {
		t.Fatal(err)
	}
	_, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = create()
	wantCode(t, err, "InvalidAMIName.Duplicate")
	clock.Advance(time.Hour)
	if _, err := create(); err != nil {
		t.Errorf("CreateImage once the retention ended: %v, want the name free", err)
	}
}
