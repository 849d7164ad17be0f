package bump

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/amibump/amibump/lambda/plan"
)

// EC2 is eventually consistent (the EC2 Developer Guide, "Eventual consistency
// in the Amazon EC2 API"): a read right after a write may not show it, and a
// write naming what was just made may answer that it does not exist. The guide
// says to re-read with exponential backoff "starting with a couple of seconds
// of wait time, and increasing gradually up to a few minutes". amibump re-reads
// a bounded number of times within one invocation, then returns a transient
// error: Lambda's retry (minutes later) reads again. Nothing is called
// permanent on the strength of reads that may be stale.

// staleWindow is how long after a write amibump allows EC2 to hide it: longer
// than the guide's "a few minutes". Only a launch template version created
// earlier than this, and still not listed, is taken for deleted.
const staleWindow = 10 * time.Minute

// maxStaleReads bounds the re-reads of one promotion that do not show its
// last write yet.
const maxStaleReads = 4

// promotion is what one promotion remembers across its steps.
type promotion struct {
	created   int64     // the version CreateLaunchTemplateVersion last answered
	createdAt time.Time // its CreateTime, as EC2 remembers it (a token replay keeps it)
	last      plan.Step // the previous step
	stale     int       // reads in a row that did not show the last write
}

// unseen is called when a read leads to a step again, as if the write made
// for it were not there: it pauses and counts. After maxStaleReads it returns
// a transient error naming what EC2 does not show yet.
func (r *run) unseen(ctx context.Context, p *promotion, what string) error {
	p.stale++
	if p.stale > maxStaleReads {
		return fmt.Errorf("%s is not visible yet after %d reads (EC2 is eventually consistent); a retry finishes the job", what, maxStaleReads)
	}
	if err := r.pause(ctx, p.stale); err != nil {
		return fmt.Errorf("%s is not visible yet: %w", what, err)
	}
	return nil
}

// pause waits before the read that follows a write: the guide's advice to "add
// wait time between subsequent commands, even if a Describe command returns an
// accurate response". The delay is the SDK's exponential jitter backoff for
// attempt, capped at the waiter's longest poll interval (seconds in
// production, milliseconds in tests); it spaces reads, so it runs on real
// time, not on the world's clock.
func (r *run) pause(ctx context.Context, attempt int) error {
	d, err := retry.NewExponentialJitterBackoff(r.cfg.PollMax).BackoffDelay(attempt, nil)
	if err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mayBeStale tells whether a write made at at may still be hidden from reads.
func (r *run) mayBeStale(at time.Time) bool {
	return at.IsZero() || r.now().Sub(at) < staleWindow
}

// writeOf names what the write made for step changed, for a person.
func writeOf(step plan.Step, t target) string {
	if step.Kind == plan.Delete {
		return fmt.Sprintf("the deletion of version %d of %s", step.Version, t.Name)
	}
	return fmt.Sprintf("$Default of %s moved to version %d", t.Name, step.Version)
}
