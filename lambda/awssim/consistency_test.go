package awssim_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestEventualConsistencyOverHTTP: awssim serves the fakes as they are, so a
// cloud built with awsfake.WithEventualConsistency lags over HTTP too: the real
// SDK gets InvalidLaunchTemplateId.VersionNotFound for a version just made,
// until the cloud's clock passes the lag.
func TestEventualConsistencyOverHTTP(t *testing.T) {
	clock := awsfake.NewManualClock(start)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithEventualConsistency(1, time.Second))
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	_, sdk := startSim(t, cloud)
	ctx := context.Background()
	hidden := false
	for i := range 20 { // each new version draws its own lag; some are 0
		out, err := sdk.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000002")}})
		if err != nil {
			t.Fatal(err)
		}
		n := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
		_, err = sdk.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{strconv.FormatInt(n, 10)}})
		if code(err) == "InvalidLaunchTemplateId.VersionNotFound" {
			hidden = true
			clock.Advance(time.Second)
			if _, err := sdk.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{strconv.FormatInt(n, 10)}}); err != nil {
				t.Fatalf("version %d after the longest lag: %v", n, err)
			}
			break
		} else if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if !hidden {
		t.Error("no new version was ever hidden from the read after it; want the lag served over HTTP")
	}
}
