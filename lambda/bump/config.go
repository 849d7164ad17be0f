package bump

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// Config holds the function's settings, read once from the environment at start
// (the function's settings, one environment variable each).
type Config struct {
	// EventBus receives a bump-finished event per result; "" = results are not published.
	EventBus string
	// PollMin is the tick of the event's shared image poll: one DescribeImages a
	// tick for all its AMIs (poller). PollMax bounds the tick while EC2
	// throttles the poll.
	PollMin, PollMax time.Duration
	// PendingLimit: reconcile reports AMIs pending for longer.
	PendingLimit time.Duration
	// Concurrency bounds the AWS calls in flight at once across all targets of an event.
	Concurrency int
	// PromoteMargin is kept free before the invocation's deadline for promotion:
	// the waiter stops that long before it.
	PromoteMargin time.Duration
	// MaxWait bounds the wait when the context has no deadline (the CLI).
	MaxWait time.Duration
	// ParameterWait bounds the wait for EC2 to validate a parameter write
	// (which "can take up to a few minutes"), within the invocation's deadline
	// minus PromoteMargin; a retry looks again after it.
	ParameterWait time.Duration
	// RefreshCancelWait bounds a rollback's wait for the instance refresh it
	// cancelled to be Cancelled, within the invocation's deadline minus
	// PromoteMargin; past it, the result tells the operator what is left.
	RefreshCancelWait time.Duration
	// SSMPrefix is where amibump may write SSM parameters (AMIBUMP_SSM_PREFIX):
	// a path that starts and ends with "/".
	SSMPrefix string
	// ClockSkew is how far a deploy event's time may lie ahead of the clock;
	// a later one is rejected (event.CheckTime).
	ClockSkew time.Duration
	// ReconcilePeriod is the reconcile schedule's period (AMIBUMP_RECONCILE_PERIOD,
	// set by the stack): a reconcile tick older than it is skipped, since the
	// next tick is already due. 0: no tick is skipped (the CLI, no schedule).
	ReconcilePeriod time.Duration
	// CopyKMSKey is the KMS key ARN that copies from another region are
	// encrypted with (AMIBUMP_COPY_KMS_KEY_ARN); "": a copy keeps the
	// source's encryption state, with this region's default EBS key.
	CopyKMSKey string
}

// Defaults are the settings when no variable is set.
func Defaults() Config {
	return Config{
		PollMin:           3 * time.Second,
		PollMax:           15 * time.Second,
		PendingLimit:      6 * time.Hour,
		Concurrency:       8,
		PromoteMargin:     45 * time.Second,
		MaxWait:           2 * time.Hour,
		ParameterWait:     4 * time.Minute,
		RefreshCancelWait: 4 * time.Minute,
		SSMPrefix:         plan.DefaultSSMPrefix,
		ClockSkew:         event.DefaultClockSkew,
	}
}

// ConfigFromEnv reads the settings from environment variables through getenv
// (os.Getenv in the function) and validates them. The error names every
// variable that is wrong and what it allows.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	duration := func(name string, dst *time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive Go duration such as 5s, 1m30s or 6h", name, v))
			return
		}
		*dst = d
	}
	c.EventBus = getenv("AMIBUMP_EVENT_BUS")
	if v := getenv("AMIBUMP_SSM_PREFIX"); v != "" {
		if err := plan.CheckSSMPrefix(v); err != nil {
			errs = append(errs, fmt.Errorf("AMIBUMP_SSM_PREFIX=%q: %w", v, err))
		} else {
			c.SSMPrefix = v
		}
	}
	c.CopyKMSKey = getenv("AMIBUMP_COPY_KMS_KEY_ARN")
	duration("AMIBUMP_POLL_MIN", &c.PollMin)
	duration("AMIBUMP_POLL_MAX", &c.PollMax)
	duration("AMIBUMP_PENDING_LIMIT", &c.PendingLimit)
	duration("AMIBUMP_CLOCK_SKEW", &c.ClockSkew)
	duration("AMIBUMP_RECONCILE_PERIOD", &c.ReconcilePeriod)
	if v := getenv("AMIBUMP_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			errs = append(errs, fmt.Errorf("AMIBUMP_CONCURRENCY=%q: want a whole number from 1 to 64", v))
		} else {
			c.Concurrency = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, checkCopyKeyRegion(c.CopyKMSKey, getenv("AWS_REGION"))
}

// checkCopyKeyRegion: the copy key must be a key of the function's region
// (AWS_REGION, which Lambda sets): CopyImage encrypts in the destination
// region, with a key of that region ("The specified KMS key must exist in
// the Region that the AMI is being copied to"). No key, or no region known,
// is nothing to check.
func checkCopyKeyRegion(key, region string) error {
	parts := strings.Split(key, ":")
	if key == "" || region == "" || len(parts) < 4 || parts[3] == region {
		return nil
	}
	return fmt.Errorf("AMIBUMP_COPY_KMS_KEY_ARN=%q is a key of %s, and the function runs in %s (AWS_REGION): a copy is encrypted in its destination region, with a key of that region; want a key ARN of %s, or nothing",
		key, parts[3], region, region)
}

// Validate checks settings that depend on each other.
func (c Config) Validate() error {
	var errs []error
	if c.PollMin <= 0 || c.PollMax <= 0 {
		errs = append(errs, errors.New("AMIBUMP_POLL_MIN and AMIBUMP_POLL_MAX must be positive durations"))
	} else if c.PollMin > c.PollMax {
		errs = append(errs, fmt.Errorf("AMIBUMP_POLL_MIN=%s is longer than AMIBUMP_POLL_MAX=%s: the minimum delay must not exceed the maximum", c.PollMin, c.PollMax))
	}
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("AMIBUMP_CONCURRENCY must be at least 1"))
	}
	if err := plan.CheckSSMPrefix(c.SSMPrefix); err != nil {
		errs = append(errs, fmt.Errorf("AMIBUMP_SSM_PREFIX=%q: %w", c.SSMPrefix, err))
	}
	if c.ClockSkew <= 0 {
		errs = append(errs, errors.New("AMIBUMP_CLOCK_SKEW must be a positive duration"))
	}
	if c.ReconcilePeriod < 0 {
		errs = append(errs, errors.New("AMIBUMP_RECONCILE_PERIOD must be a positive duration, or unset to skip no reconcile tick"))
	}
	if c.CopyKMSKey != "" && !kmsKeyARN.MatchString(c.CopyKMSKey) {
		errs = append(errs, fmt.Errorf("AMIBUMP_COPY_KMS_KEY_ARN=%q: want a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>) of this region, or nothing", c.CopyKMSKey))
	}
	return errors.Join(errs...)
}

// kmsKeyARN is what a KMS key's ARN looks like: a single-Region key (a UUID)
// or a multi-Region one (mrk-).
var kmsKeyARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
