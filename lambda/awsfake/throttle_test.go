package awsfake_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amibump/amibump/lambda/awsfake"
)

// calls makes n calls and returns how many were not throttled; every answer
// is either the call's own or the service's throttling error with its status.
func calls(t *testing.T, n int, throttleCode string, status int, f func() error) int {
	t.Helper()
	ok := 0
	for range n {
		err := f()
		if code(err) != throttleCode {
			ok++
			continue
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Fatalf("throttled answer %v: want HTTP %d", err, status)
		}
	}
	return ok
}

func TestThrottlingFollowsEC2Buckets(t *testing.T) {
	ctx := context.Background()
	describe := func(c *awsfake.Cloud) func() error {
		return func() error {
			_, err := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
			return err
		}
	}
	modify := func(c *awsfake.Cloud) func() error {
		return func() error {
			_, err := c.EC2().ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String("lt-0123456789abcdef0"), DefaultVersion: aws.String("1")})
			return err
		}
	}
	instances := func(c *awsfake.Cloud) func() error {
		return func() error { _, err := c.EC2().DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); return err }
	}
	createImage := func(c *awsfake.Cloud) func() error {
		return func() error {
			_, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("x")})
			return err
		}
	}
	tests := []struct {
		name          string
		th            awsfake.Throttling
		call          func(*awsfake.Cloud) func() error
		burst         int           // calls a full bucket serves
		after         time.Duration // then the clock moves this far
		refilled      int           // and this many more are served
		refusedBucket string
	}{
		{"non-mutating: 100, then 20 a second", awsfake.Throttling{}, describe, 100, time.Second, 20, "EC2:DescribeImages"},
		{"a full bucket holds no more than its size", awsfake.Throttling{}, describe, 100, time.Hour, 100, "EC2:DescribeImages"},
		{"uncategorized ModifyLaunchTemplate: 100, then 5 a second", awsfake.Throttling{}, modify, 100, 2 * time.Second, 10, "EC2:ModifyLaunchTemplate"},
		{"DescribeInstances: the unfiltered bucket, 50, then 10 a second", awsfake.Throttling{}, instances, 50, time.Second, 10, "EC2:DescribeInstances"},
		{"mutating CreateImage: 50, then 5 a second", awsfake.Throttling{}, createImage, 50, time.Second, 5, "EC2:CreateImage"},
		{"other tools take half of each bucket", awsfake.Throttling{Background: 0.5}, describe, 50, time.Second, 10, "EC2:DescribeImages"},
		{"a benchmark's time runs 10 times faster", awsfake.Throttling{Speed: 10}, describe, 100, 100 * time.Millisecond, 20, "EC2:DescribeImages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := awsfake.NewManualClock(t0)
			c := awsfake.New(awsfake.WithClock(clock), awsfake.WithThrottling(tt.th))
			f := tt.call(c)
			if got := calls(t, tt.burst+5, "RequestLimitExceeded", http.StatusServiceUnavailable, f); got != tt.burst {
				t.Fatalf("full bucket served %d calls, want %d", got, tt.burst)
			}
			clock.Advance(tt.after)
			if got := calls(t, tt.refilled+5, "RequestLimitExceeded", http.StatusServiceUnavailable, f); got != tt.refilled {
				t.Fatalf("after %s: served %d calls, want %d", tt.after, got, tt.refilled)
			}
			if got := c.Throttled(tt.refusedBucket); got != 10 {
				t.Errorf("Throttled(%q) = %d, want 10", tt.refusedBucket, got)
			}
			if got := c.Throttled(""); got != 10 {
				t.Errorf("Throttled(all) = %d, want 10", got)
			}
		})
	}
}

func TestThrottlingBucketsArePerAPI(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(t0)), awsfake.WithThrottling(awsfake.Throttling{}))
	for range 120 {
		_, _ = c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	}
	if _, err := c.EC2().DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{}); err != nil {
		t.Fatalf("DescribeLaunchTemplates after DescribeImages' bucket ran dry: %v", err)
	}
}

func TestThrottlingAutoScalingSharesOneBucket(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(t0)
	c := awsfake.New(awsfake.WithClock(clock), awsfake.WithThrottling(awsfake.Throttling{}))
	i := 0
	f := func() error {
		i++
		if i%2 == 0 {
			_, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("none")})
			return err
		}
		_, err := c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		return err
	}
	if got := calls(t, 25, "Throttling", http.StatusBadRequest, f); got != 20 {
		t.Fatalf("Auto Scaling served %d calls of two APIs, want 20 from one shared bucket", got)
	}
	clock.Advance(time.Second)
	if got := calls(t, 5, "Throttling", http.StatusBadRequest, f); got != 2 {
		t.Fatalf("after a second: served %d calls, want 2", got)
	}
}

func TestThrottlingIsOffByDefault(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(t0)))
	for range 500 {
		if _, err := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Throttled(""); n != 0 {
		t.Fatalf("Throttled = %d without WithThrottling", n)
	}
}
