package bump

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"golang.org/x/time/rate"
)

// Budget is amibump's own request rate: a token bucket per account, region and
// API, at the rate of the API's class, shared by every event a process handles
// (build one per process).
// EC2 and Auto Scaling throttle per account and region, and amibump shares their
// buckets with the console, Terraform and Auto Scaling itself; the budget keeps
// amibump well under their refill rates, so that a fan-out slows amibump down
// instead of starving everything else. It bounds one process: concurrent
// invocations each have theirs, which is why the stack caps the function's
// concurrency (the README's throttling section).
//
// It is x/time/rate limiters wrapped around the clients' interfaces, next to the
// gate on calls in flight (gate), rather than SDK middleware: it then holds
// for any client (the fakes in tests and benchmarks too), and a call waits for
// its token before it takes a slot of the gate. The SDK's retries of a call are
// not charged again: they are spaced by the retryer's backoff (NewRetryer).
type Budget struct {
	rates map[Class]Rate
	speed float64

	mu       sync.Mutex
	limiters map[limiterKey]*rate.Limiter
}

// Class is a group of APIs that share a rate.
type Class string

// The classes, after AWS's buckets: EC2's non-mutating APIs refill 20 tokens a
// second each and its mutating ones 5; Auto Scaling has one bucket for all its
// APIs, and documents no numbers.
const (
	EC2Describe Class = "EC2 describe"
	EC2Mutate   Class = "EC2 mutate"
	AutoScale   Class = "Auto Scaling"
	EventBus    Class = "EventBridge"
	Parameters  Class = "SSM"
)

// Rate is a class's calls a second for each API, and the burst it may make at once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// DefaultRates are amibump's budget: half or less of AWS's refill for each API.
var DefaultRates = map[Class]Rate{
	EC2Describe: {PerSecond: 5, Burst: 10},  // AWS: 100 tokens, 20 a second, per API
	EC2Mutate:   {PerSecond: 2, Burst: 5},   // AWS: 50 or 100 tokens, 5 a second, per API
	AutoScale:   {PerSecond: 1, Burst: 5},   // AWS: one bucket for the service, size and rate not documented
	EventBus:    {PerSecond: 10, Burst: 10}, // PutEvents: thousands a second in most regions
	Parameters:  {PerSecond: 2, Burst: 5},   // Parameter Store: 40 a second by default, for the account
}

// NewBudget returns a budget at rates. speed multiplies every rate, for a world
// whose time runs faster (benchmarks); production uses 1.
func NewBudget(rates map[Class]Rate, speed float64) *Budget {
	return &Budget{rates: rates, speed: speed, limiters: map[limiterKey]*rate.Limiter{}}
}

// classOf tells the class of an API of a service ("EC2", "Auto Scaling",
// "EventBridge") and the key of its limiter.
func classOf(service, op string) (Class, string) {
	switch service {
	case "EC2":
		if strings.HasPrefix(op, "Describe") {
			return EC2Describe, "EC2:" + op
		}
		return EC2Mutate, "EC2:" + op
	case "Auto Scaling":
		return AutoScale, service
	case "SSM":
		return Parameters, "SSM:" + op
	}
	return EventBus, service
}

// limiterKey names one bucket: AWS keeps a bucket per account and region for
// each API (for Auto Scaling, one for the service).
type limiterKey struct {
	account, region string
	api             string
}

// wait blocks until a call of op in scope may go, or ctx ends. A nil Budget
// never waits.
func (b *Budget) wait(ctx context.Context, scope Scope, service, op string) error {
	if b == nil {
		return nil
	}
	class, api := classOf(service, op)
	key := limiterKey{scope.Account, scope.Region, api}
	b.mu.Lock()
	l := b.limiters[key]
	if l == nil {
		r := b.rates[class]
		l = rate.NewLimiter(rate.Limit(r.PerSecond*b.speed), max(1, r.Burst))
		b.limiters[key] = l
	}
	b.mu.Unlock()
	if err := l.Wait(ctx); err != nil {
		return fmt.Errorf("wait for amibump's request budget for %s %s: %w", service, op, err)
	}
	return nil
}

// WithBudget makes the Bumper's calls keep to b (the function's wiring gives it
// NewBudget(DefaultRates, 1)); without one, calls are bounded only by the gate.
func (b *Bumper) WithBudget(budget *Budget) *Bumper {
	c := *b
	c.budget = budget
	return &c
}

// Retries of the function's SDK clients: throttling gets more attempts than
// other transient errors, which keep the SDK's default of 3.
const (
	retryMaxAttempts      = 8
	retryOtherMaxAttempts = 3
	retryMaxBackoff       = 5 * time.Second
)

// NewRetryer is the retryer of amibump's SDK clients: the SDK's standard
// retryer (exponential backoff with jitter) with room for throttling: a
// throttled call is tried up to 8 times with backoff up to 5 s (about 14 s of
// waiting on average, 27 s at most) before it fails its target; a 5xx or a
// dropped connection keeps the default 3 attempts, so a real outage still
// reaches Lambda's retry quickly. The standard retryer's retry quota (a
// client-side token bucket shared by every goroutine, which refuses retries once
// many have failed) is turned off: with hundreds of concurrent targets it would
// turn EC2's throttling into failed targets, which is what the budget and the
// backoff are there to prevent. speed divides every backoff delay, for
// benchmarks; production uses 1.
func NewRetryer(speed float64) aws.Retryer {
	backoff := retry.NewExponentialJitterBackoff(retryMaxBackoff)
	return throttleRetryer{retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryMaxAttempts
		o.MaxBackoff = retryMaxBackoff
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(attempt int, err error) (time.Duration, error) {
			d, err := backoff.BackoffDelay(attempt, err)
			return time.Duration(float64(d) / speed), err
		})
	})}
}

// throttleRetryer stops retrying an error that is not throttling after
// retryOtherMaxAttempts: returning the error itself from RetryDelay ends the
// SDK's attempts with it, as running out of attempts does.
type throttleRetryer struct{ *retry.Standard }

func (r throttleRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if attempt >= retryOtherMaxAttempts && !isThrottle(err) {
		return 0, err
	}
	return r.Standard.RetryDelay(attempt, err)
}
