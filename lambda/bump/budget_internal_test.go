package bump

import (
	"context"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
)

// A budget whose buckets refill so slowly that, within the test's deadline,
// only the burst is served: rate.Limiter refuses at once a wait that would
// outlast the context, so nothing here depends on the wall clock.
func TestBudgetIsABucketPerScopeAndAPIAndOneForAutoScaling(t *testing.T) {
	slow := Rate{PerSecond: 0.001, Burst: 2}
	b := NewBudget(map[Class]Rate{EC2Describe: slow, EC2Mutate: slow, AutoScale: slow, EventBus: slow}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	home := Scope{Account: "123456789012", Region: "us-east-1"}
	west := Scope{Account: "123456789012", Region: "us-west-2"}
	other := Scope{Account: "210987654321", Region: "us-east-1"}
	calls := []struct {
		scope       Scope
		service, op string
		ok          bool
	}{
		{home, "EC2", "CreateImage", true},
		{home, "EC2", "CreateImage", true},
		{home, "EC2", "CreateImage", false}, // its bucket is empty
		{west, "EC2", "CreateImage", true},  // AWS throttles per region
		{other, "EC2", "CreateImage", true}, // and per account
		{home, "EC2", "ModifyLaunchTemplate", true},
		{home, "EC2", "DescribeImages", true},
		{home, "Auto Scaling", "DescribeAutoScalingGroups", true},
		{home, "Auto Scaling", "StartInstanceRefresh", true},
		{home, "Auto Scaling", "DescribeAutoScalingGroups", false}, // one bucket for the service
		{west, "Auto Scaling", "DescribeAutoScalingGroups", true},
		{home, "EventBridge", "PutEvents", true},
	}
	for i, c := range calls {
		err := b.wait(ctx, c.scope, c.service, c.op)
		if (err == nil) != c.ok {
			t.Fatalf("call %d, %s %s: got %v, want allowed=%v", i, c.service, c.op, err, c.ok)
		}
	}
	var none *Budget
	for range 100 {
		if err := none.wait(ctx, Scope{}, "EC2", "CreateImage"); err != nil {
			t.Fatalf("no budget: %v", err)
		}
	}
}

func TestRetryerOutlastsThrottling(t *testing.T) {
	r := NewRetryer(1)
	throttled := awsfake.Throttle()
	if !r.IsErrorRetryable(throttled) {
		t.Fatal("RequestLimitExceeded is not retryable")
	}
	if r.MaxAttempts() != retryMaxAttempts {
		t.Fatalf("MaxAttempts %d, want %d", r.MaxAttempts(), retryMaxAttempts)
	}
	// The standard retry quota (500 tokens, 5 a retry) would refuse the 101st
	// retry of concurrent throttled calls; amibump turns it off.
	for i := range 1000 {
		if _, err := r.GetRetryToken(context.Background(), throttled); err != nil {
			t.Fatalf("retry %d refused: %v", i, err)
		}
	}
	for attempt := 1; attempt < retryMaxAttempts; attempt++ {
		d, err := r.RetryDelay(attempt, throttled)
		if err != nil || d < 0 || d > retryMaxBackoff {
			t.Fatalf("attempt %d: delay %s, %v; want 0 to %s", attempt, d, err, retryMaxBackoff)
		}
	}
	// A 5xx keeps the SDK's 3 attempts: the third failure ends the call with it.
	serverErr := awsfake.APIError("InternalError", "An internal error has occurred")
	if _, err := r.RetryDelay(2, serverErr); err != nil {
		t.Fatalf("second attempt of a 5xx: %v, want a retry", err)
	}
	if _, err := r.RetryDelay(3, serverErr); err != serverErr {
		t.Fatalf("third attempt of a 5xx: got %v, want the error itself", err)
	}
}
