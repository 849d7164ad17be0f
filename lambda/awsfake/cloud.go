package awsfake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// WithLatency makes every call of an operation take f(op) before it is served,
// outside the lock, as a network and service round trip would: concurrent
// callers interleave as they do against AWS. f must be safe for concurrent use.
func WithLatency(f func(op string) time.Duration) Option {
	return func(cl *Cloud) { cl.latency = f }
}

// Option configures a Cloud.
type Option func(*Cloud)

// WithClock sets the clock the cloud runs on (default: a RunningClock started
// at Epoch(), so a test world never depends on the date it runs on).
func WithClock(c Clock) Option { return func(cl *Cloud) { cl.clock = c } }

// WithImageDelay sets how long an AMI stays pending after CreateImage before it
// becomes available (default 0: available at once).
func WithImageDelay(d time.Duration) Option { return func(cl *Cloud) { cl.imageDelay = d } }

// WithVisibilityDelay models EC2's eventual consistency: for d after CreateImage the
// new AMI is invisible to the API (by id: InvalidAMIID.NotFound; by filter: absent).
// Its name is taken at once, so a second CreateImage with the name fails with
// InvalidAMIName.Duplicate even while the AMI cannot be found (default 0).
func WithVisibilityDelay(d time.Duration) Option {
	return func(cl *Cloud) { cl.visibilityDelay = d }
}

// WithDeregisteredLinger models another side of EC2's eventual consistency: for
// d after DeregisterImage the image is still listed by DescribeImages (by id and
// by filter), in state deregistered, while its name is already free (default 0).
func WithDeregisteredLinger(d time.Duration) Option {
	return func(cl *Cloud) { cl.deregisteredLinger = d }
}

// WithParameterValidation makes EC2's validation of an aws:ec2:image parameter
// value take d on the cloud's clock: until then reads return the version
// before (or ParameterNotFound), and another write is refused with
// TooManyUpdates. Default 0: validated within the call, as before.
func WithParameterValidation(d time.Duration) Option {
	return func(cl *Cloud) { cl.parameterDelay = d }
}

// WithPageSize caps every page of every listing call at n items, including calls
// that set no MaxResults (which AWS may answer in one page), so that code which
// ignores NextToken fails in tests. Calls naming explicit ids are not capped,
// as in AWS, where MaxResults cannot be combined with ids. Default: AWS's own sizes.
func WithPageSize(n int) Option { return func(cl *Cloud) { cl.pageSize = n } }

// Cloud is the state of one fake account and region: its Scope.
type Cloud struct {
	mu sync.Mutex

	scope      Scope
	clock      Clock
	imageDelay time.Duration
	// copyTime, copyQuota and copyTokens: CopyImage (ec2_image_copy.go).
	copyTime        time.Duration
	copyTimeSet     bool
	copyQuota       int
	ebsDefaultKey   string // EBS encryption by default: the region's default key ("": off)
	copyTokens      map[string]copyRecord
	visibilityDelay time.Duration
	pageSize        int
	// deregisteredLinger and lingering: deregistered images DescribeImages still lists.
	deregisteredLinger time.Duration
	lingering          map[string]*image
	latency            func(op string) time.Duration
	// lagRand and maxLag: WithEventualConsistency (consistency.go).
	lagRand *rand.Rand
	maxLag  time.Duration
	// recycleFor and recycled: WithRecycleBin (recyclebin.go), names held until then.
	recycleFor time.Duration
	recycled   map[string]time.Time
	// throttle: WithThrottling (throttle.go); nil: no throttling.
	throttle *throttler

	snapshotFailures    int
	snapshotFailureCode ec2types.SnapshotReturnCodes

	ids *ids // source of every generated id: the World's

	instances map[string]*instance
	images    map[string]*image
	snapshots map[string]*snapshot
	templates map[string]*template
	// ltTokens remembers CreateLaunchTemplateVersion client tokens, account-wide.
	ltTokens map[string]tokenRecord
	// failingInstances: images of these instances fail when they would become available.
	failingInstances map[string]string
	failVersions     map[string]map[int64]bool

	groups    map[string]*astypes.AutoScalingGroup
	refreshes map[string][]astypes.InstanceRefresh
	// refreshCancelledAt: when each cancelled refresh turns Cancelled.
	refreshCancelledAt map[string]time.Time
	refreshCancelDelay *time.Duration                // WithRefreshCancelDelay; nil: DefaultRefreshCancelDelay
	warmPools          map[string][]astypes.Instance // AddWarmPool

	buses         map[string]bool
	events        []ebtypes.PutEventsRequestEntry
	failEntries   int
	failEntryCode string
	failEntryMsg  string

	// parameters: SSM Parameter Store (ssm.go), made on first use.
	parameters        map[string]*parameter
	parameterFailures []string
	// parameterDelay and validating: WithParameterValidation; writes of data
	// type aws:ec2:image EC2 has not validated yet, by name.
	parameterDelay time.Duration
	validating     map[string]*pendingWrite
	// defaultTier: SetDefaultParameterTier; "" is Standard.
	defaultTier ssmtypes.ParameterTier
	// standardFull: SetStandardParameterQuotaReached.
	standardFull bool

	// policy: the permission set (WithPolicy, authorize.go); nil: allow all.
	policy  *Policy
	denials []string

	failNext map[string][]error
	editNext map[string][]func(any) // see EditNext
	denied   map[string]bool
	calls    map[string]int
}

// New returns an empty cloud in DefaultScope: no instances, images or
// templates, and the event bus "default". It is the only Cloud of a World of
// its own; a test that needs another scope, or a World served by signature,
// starts from NewWorld (or package awsfaketest).
func New(opts ...Option) *Cloud {
	return NewWorld(opts...).Cloud(DefaultScope)
}

// newCloud returns the empty Cloud of scope s, its ids drawn from ids.
func newCloud(s Scope, ids *ids, opts []Option) *Cloud {
	c := &Cloud{
		scope:            s,
		ids:              ids,
		clock:            NewRunningClock(Epoch()),
		instances:        map[string]*instance{},
		images:           map[string]*image{},
		lingering:        map[string]*image{},
		snapshots:        map[string]*snapshot{},
		templates:        map[string]*template{},
		ltTokens:         map[string]tokenRecord{},
		copyTokens:       map[string]copyRecord{},
		failingInstances: map[string]string{},
		failVersions:     map[string]map[int64]bool{},
		groups:           map[string]*astypes.AutoScalingGroup{},
		refreshes:        map[string][]astypes.InstanceRefresh{},
		buses:            map[string]bool{"default": true},
		failNext:         map[string][]error{},
		denied:           map[string]bool{},
		calls:            map[string]int{},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// EC2 returns the cloud's EC2 client.
func (c *Cloud) EC2() *EC2 { return &EC2{c: c} }

// AutoScaling returns the cloud's Auto Scaling client.
func (c *Cloud) AutoScaling() *AutoScaling { return &AutoScaling{c: c} }

// EventBridge returns the cloud's EventBridge client.
func (c *Cloud) EventBridge() *EventBridge { return &EventBridge{c: c} }

func (c *Cloud) now() time.Time { return c.clock.Now().UTC() }

// Scope returns the account and region the cloud holds.
func (c *Cloud) Scope() Scope { return c.scope }

// Partition returns the partition of the cloud's region (aws, aws-cn, ...),
// the first field of every ARN it builds.
func (c *Cloud) Partition() string { return c.scope.Partition() }

// Clock returns the clock the cloud runs on. A test world hands the same clock
// to everything it builds on the cloud (a Bumper, the CLI), so that the fake
// account and the code under test agree on what time it is.
func (c *Cloud) Clock() Clock { return c.clock }

// newID returns prefix-<17 hex digits>, unique within the World (across
// accounts and regions, as in AWS) and deterministic.
func (c *Cloud) newID(prefix string) string {
	return fmt.Sprintf("%s-%017x", prefix, c.ids.next())
}

// newUUID returns a deterministic, uuid-shaped id, unique within the World.
func (c *Cloud) newUUID() string {
	n := c.ids.next()
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// FailNext makes the next call of op (e.g. "CreateImage") return err without
// changing anything. Calls queue: each injected error is used by one call.
func (c *Cloud) FailNext(op string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failNext[op] = append(c.failNext[op], err)
}

// Deny makes every later call of op fail with the service's access-denied error:
// EC2 UnauthorizedOperation (also for DryRun), Auto Scaling AccessDenied,
// EventBridge AccessDeniedException.
func (c *Cloud) Deny(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.denied[op] = true
}

// Allow undoes Deny: op is permitted again (a policy fixed).
func (c *Cloud) Allow(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.denied, op)
}

// Calls reports how many calls of op were made, failed ones included.
func (c *Cloud) Calls(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

// ResetCalls sets every call count back to zero.
func (c *Cloud) ResetCalls() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]int{}
}

type service struct {
	id         string // the SDK's ServiceID, as in "operation error EC2: CreateImage"
	deniedCode string
}

var (
	svcEC2         = service{"EC2", "UnauthorizedOperation"}
	svcAutoScaling = service{"Auto Scaling", "AccessDenied"}
	svcEventBridge = service{"EventBridge", "AccessDeniedException"}
	svcSSM         = service{"SSM", "AccessDeniedException"}
)

// serve runs one call of op: its latency, then, under the lock, the call count,
// the context, FailNext and Deny (begin), the permission set (authorize), then f; errors come back shaped as the
// SDK shapes them.
func serve[In, Out any](ctx context.Context, c *Cloud, svc service, op string, in In, f func(In) (Out, error)) (Out, error) {
	var zero Out
	c.delay(ctx, op)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.begin(ctx, svc, op); err != nil {
		return zero, err
	}
	if err := c.authorize(svc, op, in); err != nil {
		return zero, wrap(svc, op, err)
	}
	out, err := f(in)
	if err != nil {
		return zero, wrap(svc, op, err)
	}
	c.edit(op, out)
	return out, nil
}

// delay waits the call's latency, if any, or until ctx is done.
func (c *Cloud) delay(ctx context.Context, op string) {
	if c.latency == nil {
		return
	}
	if d := c.latency(op); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// begin starts a call of op with c.mu held: it counts the call, then honours the
// context, throttling, FailNext and Deny, in that order. A nil error means go ahead.
func (c *Cloud) begin(ctx context.Context, svc service, op string) error {
	c.calls[op]++
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.throttled(svc, op); err != nil {
		return wrap(svc, op, err)
	}
	if q := c.failNext[op]; len(q) > 0 {
		err := q[0]
		c.failNext[op] = q[1:]
		return wrap(svc, op, err)
	}
	if c.denied[op] {
		return wrap(svc, op, c.deniedError(svc, op))
	}
	return nil
}

func (c *Cloud) deniedError(svc service, op string) error {
	action := servicePrefix[svc]
	return &smithy.GenericAPIError{
		Code: svc.deniedCode,
		Message: fmt.Sprintf("User: arn:%s:sts::%s:assumed-role/amibump/awsfake is not authorized to perform: %s:%s",
			c.Partition(), c.scope.Account, action, op),
		Fault: smithy.FaultClient,
	}
}

// wrap dresses err the way the SDK returns it: an OperationError around an HTTP
// ResponseError (with a plausible status code) around the API error, so that
// errors.As finds smithy.APIError and awshttp.ResponseError as with a real client.
func wrap(svc service, op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*smithy.OperationError); ok {
		return err
	}
	if apiErr, ok := err.(smithy.APIError); ok {
		err = &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: HTTPStatus(apiErr.ErrorCode(), apiErr.ErrorFault() == smithy.FaultServer)}},
				Err:      err,
			},
			RequestID: "00000000-0000-4000-8000-000000000000",
		}
	}
	return &smithy.OperationError{ServiceID: svc.id, OperationName: op, Err: err}
}

// HTTPStatus is the HTTP status AWS answers an error code with (server: the
// error's fault is the service's). The fakes' errors and awssim's responses both
// use it.
func HTTPStatus(code string, server bool) int {
	switch code {
	case "UnauthorizedOperation", "AccessDenied":
		return http.StatusForbidden
	case "AuthFailure":
		return http.StatusUnauthorized
	case "DryRunOperation":
		return http.StatusPreconditionFailed
	case "RequestLimitExceeded", "Unavailable", "ServiceUnavailable":
		return http.StatusServiceUnavailable
	case "AccessDeniedException":
		return http.StatusBadRequest // EventBridge sends it with 400
	}
	if server {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// APIError returns an API error as AWS would send it: a *smithy.GenericAPIError
// whose fault is server for InternalError, InternalFailure, ServiceUnavailable and
// Unavailable, and client otherwise.
func APIError(code, message string) error {
	fault := smithy.FaultClient
	switch code {
	case "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable":
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: message, Fault: fault}
}

// Throttle returns EC2's throttling error, RequestLimitExceeded.
func Throttle() error { return APIError("RequestLimitExceeded", "Request limit exceeded.") }

func errorf(code, format string, args ...any) error {
	return APIError(code, fmt.Sprintf(format, args...))
}

// dryRunError is what an allowed DryRun request gets.
func dryRunError() error {
	return APIError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
}

// rfc3339 formats t as EC2 does in CreationDate: UTC with milliseconds.
func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
