package awsfake

import (
	"fmt"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the fake what time it is: AMI states, creation dates and
// visibility delays follow it.
type Clock interface{ Now() time.Time }

// EpochVariable names the environment variable that moves where every test
// world's clock starts (RFC 3339, e.g. 2031-06-01T00:00:00Z), so that the
// suite can be run as if on another day.
const EpochVariable = "AMIBUMP_TEST_EPOCH"

// DefaultEpoch is where a test world's clock starts when EpochVariable is unset:
// a minute after the latest time of the sample events in testdata/events, so
// that none of them is a deploy from the future (amibump rejects those).
var DefaultEpoch = time.Date(2026, 11, 26, 4, 1, 0, 0, time.UTC)

// Epoch returns where test worlds start their clocks: EpochVariable when set,
// else DefaultEpoch. A value that is not RFC 3339 panics with a message naming
// the variable: a test run on a wrong epoch must not pass for a run on the
// right one.
func Epoch() time.Time {
	v := os.Getenv(EpochVariable)
	if v == "" {
		return DefaultEpoch
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		panic(fmt.Sprintf("awsfake: %s=%q is not an RFC 3339 time such as 2031-06-01T00:00:00Z", EpochVariable, v))
	}
	return t.UTC()
}

// Shift moves a time of the sample events (which are written for DefaultEpoch)
// to the same distance from Epoch(): tests that read a sample event's time, or
// expect one, pass it through Shift so that the suite holds on any epoch.
func Shift(t time.Time) time.Time { return t.Add(Epoch().Sub(DefaultEpoch)) }

// eventTime is an EventBridge event's "time" field.
var eventTime = regexp.MustCompile(`"time"(\s*):(\s*)"([^"]*)"`)

// ShiftEvent returns an event (JSON, such as a file of testdata/events) with
// its "time" passed through Shift, leaving every other byte as it was. A time
// that is not RFC 3339 is left alone: the event is meant to be invalid.
func ShiftEvent(raw []byte) []byte {
	return eventTime.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := eventTime.FindSubmatch(m)
		at, err := time.Parse(time.RFC3339, string(sub[3]))
		if err != nil {
			return m
		}
		return fmt.Appendf(nil, `"time"%s:%s"%s"`, sub[1], sub[2], Shift(at).Format(time.RFC3339))
	})
}

// RunningClock starts at a given time and runs at the pace of real (monotonic)
// time: the date is fixed by the test, durations are real, so code that sleeps
// (the SDK's waiter) and a fake whose AMIs turn available after a delay agree.
type RunningClock struct {
	start   time.Time
	origin  time.Time    // monotonic reading when the clock started
	skipped atomic.Int64 // nanoseconds Skip moved the clock forward
}

// NewRunningClock returns a clock that reads start now and advances with real time.
func NewRunningClock(start time.Time) *RunningClock {
	return &RunningClock{start: start.UTC(), origin: time.Now()}
}

// Now returns start plus the real time elapsed since the clock was made.
// plus what Skip moved it forward.
func (c *RunningClock) Now() time.Time {
	return c.start.Add(time.Since(c.origin) + time.Duration(c.skipped.Load()))
}

// Skip moves the clock forward by d at once, as if that much time had passed
// between two calls.
func (c *RunningClock) Skip(d time.Duration) { c.skipped.Add(int64(d)) }

// WallClock is the time of day, for a cloud that serves a real process which
// reads the system clock (the bootstrap under the Lambda emulator, make demo):
// both sides then agree on what time it is.
type WallClock struct{}

// Now returns the system clock's time in UTC.
func (WallClock) Now() time.Time { return time.Now().UTC() }

// ManualClock is a Clock that moves only when told to. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
