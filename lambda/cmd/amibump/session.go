package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
)

// What a command needs around its AWS calls: the region checked, a deadline,
// and errors a person can act on.

// regionPattern is the shape of every AWS Region name: us-east-1,
// cn-north-1, us-gov-west-1, eusc-de-east-1.
var regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// checkRegion refuses a --region that cannot name a Region (exit code 2),
// before any credentials are used.
func checkRegion(region string) error {
	if region == "" || regionPattern.MatchString(region) {
		return nil
	}
	return usageError{fmt.Errorf("--region %q is not an AWS Region name such as us-east-1 or cn-north-1", region)}
}

// awsClients checks the AWS flags and builds the clients for them; the
// profile is kept for the hints of credential errors.
func (c *cli) awsClients(ctx context.Context, a awsFlags) (bump.EC2, bump.AutoScaling, bump.Events, error) {
	if err := checkRegion(a.region); err != nil {
		return nil, nil, nil, err
	}
	c.profile = cmp.Or(a.profile, c.getenv("AWS_PROFILE"))
	c.flags = a
	return c.clients(ctx, a.profile, a.region)
}

// where names the account and region a command works in, for its header:
// "account 123456789012, region us-east-1" ("" without a scope function).
func (c *cli) where(ctx context.Context) string {
	if c.scope == nil {
		return ""
	}
	account, region := c.scope(ctx, c.flags.profile, c.flags.region)
	return fmt.Sprintf("account %s, region %s", cmp.Or(account, unknownAccount), cmp.Or(region, "(unknown)"))
}

// unknownAccount is the header's account when STS GetCallerIdentity gave none:
// no answer within its bound (STS unreachable from here), or a refusal (STS
// not activated in the region, credentials STS does not take).
const unknownAccount = "unknown (STS GetCallerIdentity gave no answer: unreachable from here, or not activated in this region)"

// withTimeout bounds ctx by --timeout (none when it is 0).
func withTimeout(ctx context.Context, a awsFlags) (context.Context, context.CancelFunc) {
	if a.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, a.timeout, errTimeout{a.timeout})
}

// errTimeout is the cause of a command's context when --timeout ran out.
type errTimeout struct{ after time.Duration }

func (e errTimeout) Error() string {
	return fmt.Sprintf("no answer from AWS within --timeout %s; the endpoint may be unreachable from here (a proxy, a firewall, AWS_ENDPOINT_URL), or slow: try again, or raise --timeout", e.after)
}

// timedOut returns the timeout, when that is why err happened.
func timedOut(ctx context.Context, err error) error {
	var t errTimeout
	if errors.Is(err, context.DeadlineExceeded) && errors.As(context.Cause(ctx), &t) {
		return t
	}
	return nil
}

// credentialHint tells what to do when err is a failure to find or refresh
// credentials, which no retry cures: the SDK reports them as a signing error.
func credentialHint(err error, profile string) (string, bool) {
	var sso *ssocreds.InvalidTokenError
	var signing *v4.SigningError
	switch {
	case errors.As(err, &sso):
		p := cmp.Or(profile, "default")
		return fmt.Sprintf("the AWS SSO session of profile %s has expired or was never started: run aws sso login --profile %s, then try again", p, p), true
	case errors.As(err, &signing):
		hint := "no usable AWS credentials: set AWS_PROFILE (or pass --profile) to a profile in ~/.aws/config, " +
			"or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or container role applies"
		if profile != "" {
			hint += fmt.Sprintf("; if profile %s signs in with AWS SSO (IAM Identity Center), run aws sso login --profile %s", profile, profile)
		}
		return hint, true
	}
	return "", false
}

// publishRecorder passes PutEvents through and keeps the first failure, so
// that run --publish-results can fail when a result did not reach the bus
// (the function only logs it, since Lambda would retry the whole event).
type publishRecorder struct {
	bump.Events
	mu     sync.Mutex
	failed error
}

func (p *publishRecorder) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out, err := p.Events.PutEvents(ctx, in, opts...)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.failed != nil:
	case err != nil:
		p.failed = err
	case out.FailedEntryCount > 0:
		for _, e := range out.Entries {
			if e.ErrorCode != nil {
				p.failed = entryError{code: *e.ErrorCode, message: derefString(e.ErrorMessage)}
				break
			}
		}
		if p.failed == nil {
			p.failed = entryError{code: "", message: fmt.Sprintf("%d entries failed", out.FailedEntryCount)}
		}
	}
	return out, err
}

// err is the first failure to publish, if any.
func (p *publishRecorder) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// entryError is a PutEvents entry that failed inside a 200 answer, as an API
// error so that it is reported like one.
type entryError struct{ code, message string }

func (e entryError) Error() string {
	return fmt.Sprintf("EventBridge refused the entry: %s: %s", e.code, e.message)
}
func (e entryError) ErrorCode() string    { return e.code }
func (e entryError) ErrorMessage() string { return e.message }
func (e entryError) ErrorFault() smithy.ErrorFault {
	if entryExitCode(e.code) == exitFailure {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// newHeartbeat wraps ec2Client for a run that waits up to maxWait.
func (c *cli) newHeartbeat(ec2Client bump.EC2, maxWait time.Duration) *heartbeatEC2 {
	now := c.now()
	return &heartbeatEC2{EC2: ec2Client, c: c, maxWait: maxWait, start: now, last: now}
}

// heartbeatEC2 says on stderr, while run waits, that an AMI is still pending:
// on a poll that finds it so, at most once per c.heartbeat of the command's
// clock, so that a person (or a CI log) sees run is alive.
type heartbeatEC2 struct {
	bump.EC2
	c       *cli
	maxWait time.Duration
	mu      sync.Mutex
	start   time.Time
	last    time.Time
}

func (h *heartbeatEC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	out, err := h.EC2.DescribeImages(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for _, img := range out.Images {
		if img.State == ec2types.ImageStatePending {
			h.beat(derefString(img.ImageId))
		}
	}
	return out, err
}

func (h *heartbeatEC2) beat(imageID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.c.now()
	if now.Sub(h.last) < h.c.heartbeat {
		return
	}
	h.last = now
	h.c.printf(h.c.stderr, "amibump run: %s is still pending after %s; waiting up to --max-wait %s (Ctrl-C stops waiting; the same command resumes)\n",
		imageID, now.Sub(h.start).Round(time.Second), h.maxWait)
}
