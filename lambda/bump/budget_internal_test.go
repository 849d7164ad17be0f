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
func TestBudgetIsABucketPerAPIAndOneForAutoScaling(t *testing.T) {
	slow := Rate{PerSecond: 0.001, Burst: 2}
	b := NewBudget(map[Class]Rate{EC2Describe: slow, EC2Mutate: slow, AutoScale: slow, EventBus: slow}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := []struct {
		service, op string
		ok          bool
	}{
		{"EC2", "CreateImage", true},
		{"EC2", "CreateImage", true},
		{"EC2", "CreateImage", false}, // its bucket is empty
		{"EC2", "ModifyLaunchTemplate", true},
		{"EC2", "DescribeImages", true},
		{"Auto Scaling", "DescribeAutoScalingGroups", true},
		{"Auto Scaling", "StartInstanceRefresh", true},
		{"Auto Scaling", "DescribeAutoScalingGroups", false}, // one bucket for the service
		{"EventBridge", "PutEvents", true},
	}
	for i, c := range calls {
		err := b.wait(ctx, c.service, c.op)
		if (err == nil) != c.ok {
			t.Fatalf("call %d, %s %s: got %v, want allowed=%v", i, c.service, c.op, err, c.ok)
		}
	}
	var none *Budget
	for range 100 {
		if err := none.wait(ctx, "EC2", "CreateImage"); err != nil {
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
