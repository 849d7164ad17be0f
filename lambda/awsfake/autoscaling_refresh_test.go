package awsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// CancelInstanceRefresh: Cancelling, then Cancelled once the delay has passed
// on the clock; a new refresh is refused until then; nothing active to cancel
// (none, or one already Cancelling) is ActiveInstanceRefreshNotFound.
func TestCancelInstanceRefresh(t *testing.T) {
	clock := awsfake.NewManualClock(awsfake.Epoch())
	c := awsfake.New(awsfake.WithClock(clock), awsfake.WithRefreshCancelDelay(time.Minute))
	c.AddAutoScalingGroup(group("web", nil))
	as := c.AutoScaling()
	ctx := context.Background()
	web := aws.String("web")
	var notFound *astypes.ActiveInstanceRefreshNotFoundFault
	if _, err := as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: web}); !errors.As(err, &notFound) {
		t.Errorf("cancel with no refresh: got %v, want ActiveInstanceRefreshNotFoundFault", err)
	}
	started, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: web})
	if err != nil {
		t.Fatal(err)
	}
	out, err := as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: web})
	if err != nil || aws.ToString(out.InstanceRefreshId) != aws.ToString(started.InstanceRefreshId) {
		t.Fatalf("cancel: got %v, %v; want the id of the refresh started", out, err)
	}
	status := func() astypes.InstanceRefreshStatus {
		d, err := as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: web, InstanceRefreshIds: []string{*started.InstanceRefreshId}})
		if err != nil || len(d.InstanceRefreshes) != 1 {
			t.Fatalf("describe: got %v, %v", d, err)
		}
		return d.InstanceRefreshes[0].Status
	}
	if s := status(); s != astypes.InstanceRefreshStatusCancelling {
		t.Errorf("status after cancel: got %s, want Cancelling", s)
	}
	if _, err := as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: web}); !errors.As(err, &notFound) {
		t.Errorf("cancel while Cancelling: got %v, want ActiveInstanceRefreshNotFoundFault", err)
	}
	var inProgress *astypes.InstanceRefreshInProgressFault
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: web}); !errors.As(err, &inProgress) {
		t.Errorf("start while Cancelling: got %v, want InstanceRefreshInProgressFault", err)
	}
	clock.Advance(time.Minute)
	if s := status(); s != astypes.InstanceRefreshStatusCancelling {
		t.Errorf("status a minute after a cancel that waits for transitioning instances: got %s, want Cancelling", s)
	}
	clock.Advance(awsfake.RefreshTransitioningDelay)
	if s := status(); s != astypes.InstanceRefreshStatusCancelled {
		t.Errorf("status once the transitioning instances are done: got %s, want Cancelled", s)
	}
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: web}); err != nil {
		t.Errorf("start once Cancelled: got %v, want success", err)
	}
	_, err = as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationError")
}

// TestCancelInstanceRefreshWithoutWaiting: WaitForTransitioningInstances
// false cancels without waiting for the instances in flight: Cancelled once
// the cancel delay alone has passed.
func TestCancelInstanceRefreshWithoutWaiting(t *testing.T) {
	clock := awsfake.NewManualClock(awsfake.Epoch())
	c := awsfake.New(awsfake.WithClock(clock), awsfake.WithRefreshCancelDelay(time.Minute))
	c.AddAutoScalingGroup(group("web", nil))
	as := c.AutoScaling()
	ctx := context.Background()
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), WaitForTransitioningInstances: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if rs := c.InstanceRefreshes("web"); len(rs) != 1 || rs[0].Status != astypes.InstanceRefreshStatusCancelled {
		t.Errorf("a minute after a cancel without waiting: %+v, want Cancelled", rs)
	}
}

// Baking and RollbackInProgress block a new refresh too; RollbackInProgress
// can be cancelled, Baking cannot (it comes after the last replacement: the
// harsher reading of "You can't cancel it after it's finished").
func TestRefreshActiveStates(t *testing.T) {
	for _, s := range []astypes.InstanceRefreshStatus{astypes.InstanceRefreshStatusBaking, astypes.InstanceRefreshStatusRollbackInProgress} {
		c := awsfake.New()
		c.AddAutoScalingGroup(group("web", nil))
		as := c.AutoScaling()
		ctx := context.Background()
		if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
			t.Fatal(err)
		}
		c.SetInstanceRefreshStatus("web", s)
		var inProgress *astypes.InstanceRefreshInProgressFault
		if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); !errors.As(err, &inProgress) {
			t.Errorf("%s: start: got %v, want InstanceRefreshInProgressFault", s, err)
		}
		_, err := as.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		var notFound *astypes.ActiveInstanceRefreshNotFoundFault
		if baking := s == astypes.InstanceRefreshStatusBaking; baking != errors.As(err, &notFound) || !baking && err != nil {
			t.Errorf("%s: cancel: got %v, want ActiveInstanceRefreshNotFoundFault when Baking, success otherwise", s, err)
		}
	}
}

// DescribeInstanceRefreshes: newest first, paginated, MaxRecords 1..100.
func TestDescribeInstanceRefreshes(t *testing.T) {
	clock := awsfake.NewManualClock(awsfake.Epoch())
	c := awsfake.New(awsfake.WithClock(clock))
	c.AddAutoScalingGroup(group("web", nil))
	as := c.AutoScaling()
	ctx := context.Background()
	var ids []string
	for range 3 {
		out, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{*out.InstanceRefreshId}, ids...)
		c.FinishInstanceRefreshes("web")
		clock.Advance(time.Minute)
	}
	var got []string
	p := autoscaling.NewDescribeInstanceRefreshesPaginator(as, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web"), MaxRecords: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.InstanceRefreshes {
			got = append(got, *r.InstanceRefreshId)
		}
	}
	if len(got) != 3 || got[0] != ids[0] || got[1] != ids[1] || got[2] != ids[2] {
		t.Errorf("refreshes: got %v, want newest first %v", got, ids)
	}
	_, err := as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("web"), MaxRecords: aws.Int32(101)})
	wantCode(t, err, "ValidationError")
	_, err = as.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationError")
}
