package awssim_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

// TestCopyImageBetweenRegions: a real SDK client in us-west-2 copies an AMI
// from us-east-1 over the wire; the copy is the destination region's,
// pending until the copy time has passed on the World's clock (the SDK's
// ImageAvailable waiter sees it through), with the request's tags and its
// source named; a replay with the ClientToken answers the same id; the
// source region's client sees no copy; a copy named from a region the World
// does not serve is refused with EC2's error shape.
func TestCopyImageBetweenRegions(t *testing.T) {
	clock := awsfake.NewManualClock(start)
	w := awsfake.NewWorld(awsfake.WithClock(clock), awsfake.WithCopyTime(5*time.Minute))
	w.AddAccessKey("AKIDSHOP", "111111111111", "ci")
	east := w.Cloud(awsfake.Scope{Account: "111111111111", Region: "us-east-1"})
	w.EnableRegion("us-west-2")
	src := east.AddImage(awsfake.Image{Name: "web-1", Tags: map[string]string{"amibump:build-id": "42"}})
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	ctx := context.Background()
	west := ec2.NewFromConfig(worldConfig(url, "AKIDSHOP", "us-west-2"))
	eastClient := ec2.NewFromConfig(worldConfig(url, "AKIDSHOP", "us-east-1"))

	in := &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String("us-east-1"), Name: aws.String("web-1-dr"),
		ClientToken: aws.String("web-1/dr"), CopyImageTags: aws.Bool(true),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage,
			Tags: []ec2types.Tag{{Key: aws.String("amibump:copy-of"), Value: aws.String("us-east-1/" + src)}}}}}
	out, err := west.CopyImage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	again, err := west.CopyImage(ctx, in)
	if err != nil || aws.ToString(again.ImageId) != id {
		t.Errorf("replay with the ClientToken: %+v (%v), want %s", again, err, id)
	}
	got, err := west.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil || len(got.Images) != 1 {
		t.Fatalf("DescribeImages of the copy in us-west-2: %+v, %v", got, err)
	}
	img := got.Images[0]
	if img.State != ec2types.ImageStatePending || aws.ToString(img.SourceImageId) != src || aws.ToString(img.SourceImageRegion) != "us-east-1" {
		t.Errorf("the copy: %s from %s in %s, want pending from %s in us-east-1", img.State, aws.ToString(img.SourceImageId), aws.ToString(img.SourceImageRegion), src)
	}
	tags := map[string]string{}
	for _, tg := range img.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["amibump:build-id"] != "42" || tags["amibump:copy-of"] != "us-east-1/"+src {
		t.Errorf("the copy's tags: %v, want the source's and the request's", tags)
	}
	if _, err := eastClient.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}); code(err) != "InvalidAMIID.NotFound" {
		t.Errorf("the copy read in us-east-1: %v, want InvalidAMIID.NotFound", err)
	}
	clock.Advance(5 * time.Minute)
	waiter := ec2.NewImageAvailableWaiter(west, func(o *ec2.ImageAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond })
	if err := waiter.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, time.Minute); err != nil {
		t.Errorf("ImageAvailable after the copy time: %v", err)
	}
	_, err = west.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String("ap-south-1"), Name: aws.String("web-1-far")})
	if code(err) != "InvalidParameterValue" {
		t.Errorf("a copy from a region the World does not serve: %v, want InvalidParameterValue", err)
	}
}
