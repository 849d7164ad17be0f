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
