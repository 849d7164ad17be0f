package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Harness is one account the suite runs against: the fake served by awssim, or
// a real account. It gives the suite an SDK configuration and makes the few
// things the suite cannot make for itself through the SDK the same way in both
// (an instance to image: a real account launches one, the fake seeds one), and
// lets time pass where it can (the fake's clock).
//
// Everything a harness makes carries TagKey with the run's id and is tracked
// by its Cleaner.
type Harness interface {
	// Config is the SDK configuration every client of the suite is made from.
	Config() aws.Config
	// Run is this run's id, TagKey's value on everything it makes.
	Run() string
	// Cleaner removes what the run makes.
	Cleaner() *Cleaner
	// Patience says how long things take in this account.
	Patience() Patience

	// LaunchData is what a launch template needs to launch in this account:
	// an AMI and an instance type.
	LaunchData(t *testing.T) ec2types.RequestLaunchTemplateData
	// Instance returns a running, EBS-backed instance to image, the same one
	// for the whole run, removed when the run ends.
	Instance(t *testing.T) string
	// GoneInstance returns an instance that has been terminated.
	GoneInstance(t *testing.T) string
	// Template makes a launch template whose version 1 carries data, tagged
	// TagKey, removed when t ends; name is made unique to the run.
	Template(t *testing.T, name string, data ec2types.RequestLaunchTemplateData) string
	// Group makes an Auto Scaling group of no instances that launches from the
	// template at version ($Latest or a number), tagged TagKey, removed when t
	// ends.
	Group(t *testing.T, name, templateID, version string) string
	// WarmPool gives the group a warm pool of one stopped instance and returns
	// that instance's id once DescribeWarmPool lists it; the pool and its
	// instance go with the group.
	WarmPool(t *testing.T, group string) string
	// Elapse lets d pass on the account's clock where the harness holds it
	// (the fake); in a real account time passes by itself while the suite's
	// waiters wait, and Elapse does nothing.
	Elapse(d time.Duration)
	// CopyRegion is a second region of the account, where Images/Copy copies
	// the suite's AMI ("": none, and Images/Copy is skipped).
	CopyRegion() string
}

// Patience is how long things take in an account.
type Patience struct {
	// ReadLag is how long a read may go on not showing a write (EC2 and Auto
	// Scaling are eventually consistent; AWS gives no bound). 0: reads are
	// trusted at once, as in the fake unless told otherwise.
	ReadLag time.Duration
	// Image is how long CreateImage may take to make an AMI available, the
	// ImageAvailable waiter's limit.
	Image time.Duration
	// Poll is the shortest delay between a waiter's polls.
	Poll time.Duration
	// Validation is how long EC2 takes to validate a parameter of data type
	// aws:ec2:image where the harness holds the clock (the fake): reads before
	// then are checked to show the version before, and Elapse(Validation) ends
	// it. 0 where it does not (a real account validates in its own time).
	Validation time.Duration
	// Validated is how long, after Validation, reads may go on showing the
	// version before an aws:ec2:image write: 0 on the fake, minutes in a real
	// account (AWS gives no bound).
	Validated time.Duration
	// Cleanup is kept free before go test's -timeout for the cleanups and the
	// closing sweep: every wait of the run ends that long before it. A run that
	// reaches -timeout panics without running t.Cleanup (golang/go#42217) and
	// would leave everything it made behind.
	Cleanup time.Duration
}

// within returns the context of a wait of at most d by t, which also ends
// p.Cleanup before go test's -timeout.
func within(t *testing.T, p Patience, d time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := t.Deadline()
	return bound(t.Context(), d, deadline, ok, p.Cleanup)
}

// bound is parent for at most d, ending margin before deadline when there is
// one (ok).
func bound(parent context.Context, d time.Duration, deadline time.Time, ok bool, margin time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, d)
	if !ok {
		return ctx, cancel
	}
	ctx, cancelDeadline := context.WithDeadline(ctx, deadline.Add(-margin))
	return ctx, func() { cancelDeadline(); cancel() }
}

// CopyRegionVariable names the real account's second region, where the
// suite copies its AMI (unset: the copy is skipped).
const CopyRegionVariable = "AMIBUMP_CONFORMANCE_COPY_REGION"

// ModeVariable opts in to running the suite against a real account.
const ModeVariable = "AMIBUMP_CONFORMANCE"

// Mode is where the suite runs besides the fake, which it always runs against.
type Mode string

const (
	// FakeOnly: the default; no AWS call leaves the machine.
	FakeOnly Mode = ""
	// Account: also against the account and region the standard credentials
	// chain and AWS_REGION name (or any endpoint in AWS_ENDPOINT_URL).
	Account Mode = "aws"
	// SweepOnly: remove every run's leftovers from the account, make nothing.
	SweepOnly Mode = "sweep"
)

// Skip says why the real account's run is skipped in mode m ("" = it runs).
func (m Mode) Skip() string {
	if m == FakeOnly {
		return fmt.Sprintf("the real account's run is opt-in: %s=%s with standard AWS credentials and a region "+
			"(about 12 minutes, well under US$0.01; see the README)", ModeVariable, Account)
	}
	return ""
}

// ParseMode reads ModeVariable's value.
func ParseMode(v string) (Mode, error) {
	switch m := Mode(v); m {
	case FakeOnly, Account, SweepOnly:
		return m, nil
	}
	return "", fmt.Errorf("%s=%q: want %q (run the conformance suite against the account of the standard AWS credentials, or AWS_ENDPOINT_URL), "+
		"%q (remove what earlier runs left there) or unset (the fake only)", ModeVariable, v, Account, SweepOnly)
}
