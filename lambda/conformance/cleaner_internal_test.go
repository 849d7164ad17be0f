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
		{"group name not found", Group, apiErr("ValidationError"), true},
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
