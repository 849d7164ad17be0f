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

// staleness records what one run of consistencyScenario saw before the lag ran out.
type staleness struct {
	imageHidden, versionHidden, modifyNotFound, defaultStale, deletedListed, tagsStale bool
}

// consistencyScenario writes each kind of change once on a cloud with lags of up
// to a second on a clock that does not move, reads before the lag can have run
// out, then after: everything written must be visible by then.
func consistencyScenario(t *testing.T, seed uint64) staleness {
	t.Helper()
	const maxLag = time.Second
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithEventualConsistency(seed, maxLag))
	ec, ctx := cloud.EC2(), context.Background()
	var s staleness
	inst := cloud.AddInstance(awsfake.Instance{})
	lt := cloud.AddLaunchTemplate("web", map[string]string{"team": "a"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})

	img, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*img.ImageId}})
	s.imageHidden = code(err) == "InvalidAMIID.NotFound"

	v2, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: img.ImageId}})
	if err != nil {
		t.Fatal(err)
	}
	s.versionHidden = latestNumber(t, ec, lt) != *v2.LaunchTemplateVersion.VersionNumber
	_, err = ec.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")})
	s.modifyNotFound = code(err) == "InvalidLaunchTemplateId.VersionNotFound"
	if s.modifyNotFound != s.versionHidden {
		t.Errorf("seed %d: version 2 hidden from reads %t, but ModifyLaunchTemplate found it %t", seed, s.versionHidden, !s.modifyNotFound)
	}
	clock.Advance(maxLag)
	if latestNumber(t, ec, lt) != 2 {
		t.Fatalf("seed %d: version 2 still hidden after the longest lag", seed)
	}
	if _, err := ec.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	s.defaultStale = defaultNumber(t, ec, lt) == 1
	if _, err := ec.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"1"}}); err != nil {
		t.Fatal(err)
	}
	all, err := ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	if err != nil {
		t.Fatal(err)
	}
	s.deletedListed = len(all.LaunchTemplateVersions) == 2
	// Listed or not, a deleted version cannot become $Default: writes see the truth.
	_, err = ec.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("1")})
	wantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	cloud.UntagLaunchTemplate(lt, "team")
	tagged, err := ec.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"a"}}}})
	if err != nil {
		t.Fatal(err)
	}
	s.tagsStale = len(tagged.LaunchTemplates) == 1

	clock.Advance(maxLag)
	if _, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*img.ImageId}}); err != nil {
		t.Errorf("seed %d: image hidden after the longest lag: %v", seed, err)
	}
	if n := defaultNumber(t, ec, lt); n != 2 {
		t.Errorf("seed %d: $Default reads %d after the longest lag, want 2", seed, n)
	}
	all, _ = ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	if len(all.LaunchTemplateVersions) != 1 {
		t.Errorf("seed %d: %d versions listed after the longest lag, want 1", seed, len(all.LaunchTemplateVersions))
	}
	tagged, _ = ec.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"a"}}}})
	if len(tagged.LaunchTemplates) != 0 {
		t.Errorf("seed %d: removed tag still matches after the longest lag", seed)
	}
	return s
}

func latestNumber(t *testing.T, ec *awsfake.EC2, lt string) int64 {
	t.Helper()
	out, err := ec.DescribeLaunchTemplateVersions(context.Background(), &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"$Latest"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToInt64(out.LaunchTemplateVersions[0].VersionNumber)
}

func defaultNumber(t *testing.T, ec *awsfake.EC2, lt string) int64 {
	t.Helper()
	out, err := ec.DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{lt}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToInt64(out.LaunchTemplates[0].DefaultVersionNumber)
}

// TestEventualConsistency pins WithEventualConsistency: each kind of write is
// sometimes not visible to the read right after it, always visible once the
// longest lag has run out on the cloud's clock, and a seed replays exactly.
func TestEventualConsistency(t *testing.T) {
	var seen staleness
	for seed := range uint64(40) {
		s := consistencyScenario(t, seed)
		if again := consistencyScenario(t, seed); again != s {
			t.Errorf("seed %d did not replay: %+v, then %+v", seed, s, again)
		}
		seen.imageHidden = seen.imageHidden || s.imageHidden
		seen.versionHidden = seen.versionHidden || s.versionHidden
		seen.modifyNotFound = seen.modifyNotFound || s.modifyNotFound
		seen.defaultStale = seen.defaultStale || s.defaultStale
		seen.deletedListed = seen.deletedListed || s.deletedListed
		seen.tagsStale = seen.tagsStale || s.tagsStale
	}
	if want := (staleness{true, true, true, true, true, true}); seen != want {
		t.Errorf("stale reads seen over 40 seeds: %+v; want every kind", seen)
	}
}

// TestConsistentByDefault: without the option every write is visible at once.
func TestConsistentByDefault(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock))
	ec := cloud.EC2()
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	if _, err := ec.CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000002")}}); err != nil {
		t.Fatal(err)
	}
	if n := latestNumber(t, ec, lt); n != 2 {
		t.Errorf("$Latest reads %d right after the write, want 2", n)
	}
}

// TestStartEventualConsistency: what was written before is visible at once;
// a write after it lags.
func TestStartEventualConsistency(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(t0)
	c := awsfake.New(awsfake.WithClock(clock))
	lt := c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12345678")})
	before := createVersion(t, c, lt)
	c.StartEventualConsistency(1, time.Hour)
	var after int64
	for range 5 { // each write draws its lag: one of five is far from 0
		after = createVersion(t, c, lt)
	}
	out, err := c.EC2().DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, v := range out.LaunchTemplateVersions {
		seen[aws.ToInt64(v.VersionNumber)] = true
	}
	hidden := 0
	for n := before + 1; n <= after; n++ {
		if !seen[n] {
			hidden++
		}
	}
	if !seen[before] || hidden == 0 {
		t.Errorf("versions seen %v: want %d (made before) and some of %d-%d hidden", seen, before, before+1, after)
	}
}

func createVersion(t *testing.T, c *awsfake.Cloud, lt string) int64 {
	t.Helper()
	out, err := c.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
		SourceVersion: aws.String("$Latest"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
}
