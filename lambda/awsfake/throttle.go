package awsfake

import (
	"fmt"
	"strings"
	"time"
)

// Request throttling, as AWS does it: per account and region, a token bucket
// per API; a request takes one token or is refused, and the bucket refills at
// a fixed rate up to its size. Off by default (WithThrottling turns it on).
//
// EC2 (the EC2 developer guide, "Request throttling for the Amazon EC2 API",
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
// every API has a bucket of its own, sized by its category unless the page lists
// it among the "uncategorized actions"; a refused request gets
// RequestLimitExceeded (HTTP 503). The sizes and refill rates (tokens a second)
// of the APIs amibump calls:
//
//	API                               bucket  refill  category
//	DescribeImages                       100      20  non-mutating
//	DescribeImageReferences              100      20  non-mutating
//	DescribeLaunchTemplates              100      20  non-mutating
//	DescribeLaunchTemplateVersions       100      20  non-mutating
//	DescribeInstances                     50      10  unfiltered and unpaginated non-mutating (*)
//	CreateImage                           50       5  mutating
//	DeleteLaunchTemplateVersions          50       5  mutating
//	CreateLaunchTemplateVersion          100       5  uncategorized
//	ModifyLaunchTemplate                 100       5  uncategorized
//	DeregisterImage                      100       5  uncategorized
//	CreateTags                           100      10  uncategorized
//	any other Describe*/Get*/List*       100      20  non-mutating
//	any other API                         50       5  mutating
//
// (*) DescribeInstances takes the smaller bucket only when called with neither a
// filter nor pagination; the fake does not look at the request and always
// charges the smaller one (the harsher reading).
//
// Auto Scaling documents no numbers. AWS's knowledge center ("Why are my Auto
// Scaling API calls throttled?",
// https://repost.aws/knowledge-center/autoscaling-api-calls-throttled) says that
// all Amazon EC2 Auto Scaling API calls share a single limit per account and
// region, answered with Throttling ("Rate exceeded", HTTP 400). The fake takes
// the harsher reading: one bucket for every Auto Scaling API, smaller than
// EC2's mutating ones: 20 tokens, refilled 2 a second.
//
// EventBridge's PutEvents quota (thousands a second in most regions) is far above
// anything amibump sends; the fake does not throttle it.

// Bucket is a token bucket's size (tokens) and refill rate (tokens a second).
type Bucket struct {
	Size, Refill float64
}

// ec2Buckets are the EC2 APIs whose bucket is not their category's default.
var ec2Buckets = map[string]Bucket{
	"DescribeInstances":           {50, 10},
	"CreateLaunchTemplateVersion": {100, 5},
	"ModifyLaunchTemplate":        {100, 5},
	"DeregisterImage":             {100, 5},
	"CreateTags":                  {100, 10},
}

var (
	ec2NonMutating     = Bucket{100, 20}
	ec2Mutating        = Bucket{50, 5}
	autoScalingAccount = Bucket{20, 2}
)

// BucketOf returns the bucket that a call of op on the service ("EC2", "Auto
// Scaling", "EventBridge") is charged to, its key (the API for EC2, one key for
// all of Auto Scaling), and false when the service is not throttled.
func BucketOf(serviceID, op string) (key string, b Bucket, ok bool) {
	switch serviceID {
	case svcEC2.id:
		if b, ok := ec2Buckets[op]; ok {
			return "EC2:" + op, b, true
		}
		for _, prefix := range []string{"Describe", "Get", "List", "Search"} {
			if strings.HasPrefix(op, prefix) {
				return "EC2:" + op, ec2NonMutating, true
			}
		}
		return "EC2:" + op, ec2Mutating, true
	case svcAutoScaling.id:
		return "Auto Scaling", autoScalingAccount, true
	}
	return "", Bucket{}, false
}

// Throttling turns on the fake's request throttling.
type Throttling struct {
	// Speed multiplies every refill rate, for a world whose time runs Speed
	// times faster than AWS's (a benchmark's time scale); 0 means 1.
	Speed float64
	// Background is the share (0 to 1) of every bucket that other tools of the
	// account (the console, Terraform, Auto Scaling itself) take: they hold that
	// share of its size and consume that share of its refill.
	Background float64
}

// WithThrottling makes the cloud throttle requests with AWS's token buckets
// (see the table above), on the cloud's clock.
func WithThrottling(t Throttling) Option {
	return func(cl *Cloud) {
		if t.Speed <= 0 {
			t.Speed = 1
		}
		cl.throttle = &throttler{cfg: t, buckets: map[string]*tokens{}}
	}
}

type throttler struct {
	cfg     Throttling
	buckets map[string]*tokens
	refused map[string]int // throttled answers, by bucket key
}

type tokens struct {
	n  float64
	at time.Time
}

// take charges one call of op to its bucket at now; false means refused.
func (t *throttler) take(svc service, op string, now time.Time) bool {
	key, b, ok := BucketOf(svc.id, op)
	if !ok {
		return true
	}
	free := 1 - t.cfg.Background
	size, refill := b.Size*free, b.Refill*free*t.cfg.Speed
	tk := t.buckets[key]
	if tk == nil {
		tk = &tokens{n: size, at: now}
		t.buckets[key] = tk
	}
	if elapsed := now.Sub(tk.at).Seconds(); elapsed > 0 {
		tk.n = min(size, tk.n+elapsed*refill)
		tk.at = now
	}
	if tk.n < 1 {
		if t.refused == nil {
			t.refused = map[string]int{}
		}
		t.refused[key]++
		return false
	}
	tk.n--
	return true
}

// throttled is the hook begin calls with c.mu held: nil, or the service's
// throttling error for this call.
func (c *Cloud) throttled(svc service, op string) error {
	if c.throttle == nil || c.throttle.take(svc, op, c.now()) {
		return nil
	}
	if svc == svcAutoScaling {
		return APIError("Throttling", "Rate exceeded")
	}
	return Throttle()
}

// Throttled reports how many calls the cloud refused for throttling, in all
// (key "") or for one bucket ("EC2:DescribeImages", "Auto Scaling").
func (c *Cloud) Throttled(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.throttle == nil {
		return 0
	}
	if key != "" {
		return c.throttle.refused[key]
	}
	n := 0
	for _, v := range c.throttle.refused {
		n += v
	}
	return n
}

// String describes the throttling for logs and benchmark output.
func (t Throttling) String() string {
	return fmt.Sprintf("AWS's buckets at %gx speed, %.0f%% taken by other tools", t.Speed, t.Background*100)
}
