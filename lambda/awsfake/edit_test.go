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

// TestEditNext: the next successful call's answer is edited, once; a failed
// call does not use the edit; the fake's own state is not changed by it.
func TestEditNext(t *testing.T) {
	c := awsfake.New()
	id := c.AddImage(awsfake.Image{Name: "base", Tags: map[string]string{"team": "platform"}})
	describe := func() (*ec2.DescribeImagesOutput, error) {
		return c.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	}
	c.EditNext("DescribeImages", func(out any) {
		img := &out.(*ec2.DescribeImagesOutput).Images[0]
		img.ImageId, img.Name, img.State = nil, nil, "quarantined"
		img.Tags[0].Value = aws.String("")
	})
	c.FailNext("DescribeImages", awsfake.Throttle())
	if _, err := describe(); err == nil {
		t.Fatal("the injected fault was not returned")
	}
	out, err := describe()
	if err != nil {
		t.Fatal(err)
	}
	got := out.Images[0]
	if got.ImageId != nil || got.Name != nil || got.State != "quarantined" || aws.ToString(got.Tags[0].Value) != "" {
		t.Errorf("edited answer: id %v, name %v, state %q, tag %q; want the edit", got.ImageId, got.Name, got.State, aws.ToString(got.Tags[0].Value))
	}
	out, err = describe()
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Images[0]; aws.ToString(got.ImageId) != id || got.State != ec2types.ImageStateAvailable || aws.ToString(got.Tags[0].Value) != "platform" {
		t.Errorf("the call after: %+v; want the image as the fake has it", got)
	}
	if img, ok := c.Image(id); !ok || aws.ToString(img.Name) != "base" {
		t.Errorf("the fake's image changed: %+v", img)
	}
}

// TestEditNextQueues: edits of one operation are used in order, one per call,
// and do not touch other operations.
func TestEditNextQueues(t *testing.T) {
	c := awsfake.New(awsfake.WithImageDelay(time.Hour))
	c.AddImage(awsfake.Image{Name: "a"})
	var seen []string
	for _, name := range []string{"first", "second"} {
		c.EditNext("DescribeImages", func(any) { seen = append(seen, name) })
	}
	for range 3 {
		if _, err := c.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.EC2().DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2 || seen[0] != "first" || seen[1] != "second" {
		t.Errorf("edits used: %q, want first then second", seen)
	}
}
