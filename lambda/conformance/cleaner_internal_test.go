package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestGone(t *testing.T) {
	apiErr := func(code string) error { return &smithy.GenericAPIError{Code: code} }
	tests := []struct {
		name string
		kind Kind
		err  error
		want bool
	}{
		{"instance not found", Instance, apiErr("InvalidInstanceID.NotFound"), true},
		{"AMI already deregistered", Image, apiErr("InvalidAMIID.Unavailable"), true},
		{"parameter not found", Parameter, apiErr("ParameterNotFound"), true},
		{"a validation error is not taken for a missing group", Group, apiErr("ValidationError"), false},
		{"a validation error is not a missing template", Template, apiErr("ValidationError"), false},
		{"snapshot in use stays an error", Snapshot, apiErr("InvalidSnapshot.InUse"), false},
		{"throttled stays an error", Instance, apiErr("RequestLimitExceeded"), false},
		{"not an AWS error", Instance, errors.New("connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := gone(tt.kind, tt.err); got != tt.want {
				t.Errorf("gone(%s, %v): got %v, want %v", tt.kind, tt.err, got, tt.want)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	refused := errors.New("refused for now")
	t.Run("no patience: one try", func(t *testing.T) {
		patience, cancel := context.WithTimeout(context.Background(), 0)
		defer cancel()
		calls := 0
		err := retry(patience, func() (bool, error) { calls++; return true, refused })
		if !errors.Is(err, refused) || calls != 1 {
			t.Errorf("got %v after %d calls, want the refusal after 1", err, calls)
		}
	})
	t.Run("a failure for good is not retried", func(t *testing.T) {
		calls := 0
		err := retry(context.Background(), func() (bool, error) { calls++; return false, refused })
		if !errors.Is(err, refused) || calls != 1 {
			t.Errorf("got %v after %d calls, want the error after 1", err, calls)
		}
	})
	t.Run("retried until it succeeds", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits the first backoff, a second")
		}
		patience, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		calls := 0
		err := retry(patience, func() (bool, error) {
			calls++
			if calls < 2 {
				return true, refused
			}
			return false, nil
		})
		if err != nil || calls != 2 {
			t.Errorf("got %v after %d calls, want success after 2", err, calls)
		}
	})
}

// TestBound: a wait ends at its own limit, or the cleanup margin before go
// test's -timeout, whichever comes first; without a -timeout, at its limit.
func TestBound(t *testing.T) {
	past := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("no -timeout: the wait's own limit", func(t *testing.T) {
		ctx, cancel := bound(context.Background(), time.Hour, time.Time{}, false, 10*time.Minute)
		defer cancel()
		if d, ok := ctx.Deadline(); ctx.Err() != nil || !ok || !d.Before(far) {
			t.Errorf("got deadline %v (%v), ended %v; want the hour's, not ended", d, ok, ctx.Err())
		}
	})
	t.Run("-timeout first: the margin before it", func(t *testing.T) {
		ctx, cancel := bound(context.Background(), time.Hour, past, true, 10*time.Minute)
		defer cancel()
		if d, _ := ctx.Deadline(); ctx.Err() == nil || !d.Equal(past.Add(-10*time.Minute)) {
			t.Errorf("got deadline %v, ended %v; want %v, ended", d, ctx.Err(), past.Add(-10*time.Minute))
		}
	})
	t.Run("the wait's limit first", func(t *testing.T) {
		ctx, cancel := bound(context.Background(), time.Hour, far, true, 10*time.Minute)
		defer cancel()
		if d, _ := ctx.Deadline(); ctx.Err() != nil || !d.Before(far.Add(-10*time.Minute)) {
			t.Errorf("got deadline %v, ended %v; want the hour's, not ended", d, ctx.Err())
		}
	})
}
