package awsfake_test

import (
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
)

func TestEpochFollowsTheVariable(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Time
		panics      bool
	}{
		{"unset is the default epoch", "", awsfake.DefaultEpoch, false},
		{"a later day", "2031-06-01T00:00:00Z", time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC), false},
		{"an offset is read as UTC", "2026-01-01T02:00:00+02:00", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"not RFC 3339", "2031-06-01", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(awsfake.EpochVariable, tt.value)
			defer func() {
				if r := recover(); (r != nil) != tt.panics {
					t.Errorf("panic %v, want panic %v", r, tt.panics)
				}
			}()
			if got := awsfake.Epoch(); !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Epoch() = %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

func TestShiftKeepsTheDistanceFromTheEpoch(t *testing.T) {
	t.Setenv(awsfake.EpochVariable, "2031-06-01T00:00:00Z")
	sample := awsfake.DefaultEpoch.Add(-time.Minute) // a sample event's time
	if got, want := awsfake.Shift(sample), time.Date(2031, 5, 31, 23, 59, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Shift(%v) = %v, want %v", sample, got, want)
	}
}

func TestRunningClockStartsWhereToldAndRuns(t *testing.T) {
	start := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)
	c := awsfake.NewRunningClock(start)
	first := c.Now()
	if first.Before(start) || first.Sub(start) > time.Hour {
		t.Fatalf("Now() = %v right after the start, want %v or a moment later", first, start)
	}
	time.Sleep(2 * time.Millisecond)
	if second := c.Now(); !second.After(first) {
		t.Errorf("Now() = %v after a sleep, want later than %v", second, first)
	}
}

func TestCloudRunsOnTheEpochByDefault(t *testing.T) {
	t.Setenv(awsfake.EpochVariable, "2031-06-01T00:00:00Z")
	now := awsfake.New().Clock().Now()
	if want := time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC); now.Before(want) || now.Sub(want) > time.Hour {
		t.Errorf("a new cloud's clock reads %v, want about %v", now, want)
	}
}

// TestShiftEvent: an event's time moves as Shift moves it, with every other
// byte left as it was; a time that is not RFC 3339 is left alone.
func TestShiftEvent(t *testing.T) {
	t.Setenv(awsfake.EpochVariable, "2031-06-01T00:00:00Z")
	at := time.Date(2026, 11, 26, 2, 15, 0, 0, time.UTC)
	want := awsfake.Shift(at).Format(time.RFC3339)
	if want == at.Format(time.RFC3339) {
		t.Fatal("Shift did not move the time: the test proves nothing")
	}
	tests := []struct{ in, want string }{
		{`{"id": "x",  "time": "2026-11-26T02:15:00Z", "detail": {"app": "shop"}}`, `{"id": "x",  "time": "` + want + `", "detail": {"app": "shop"}}`},
		{`{"time":"2026-11-26T02:15:00Z"}`, `{"time":"` + want + `"}`},
		{`{"time": "yesterday"}`, `{"time": "yesterday"}`},
		{`["not an object"]`, `["not an object"]`},
	}
	for _, tt := range tests {
		if got := string(awsfake.ShiftEvent([]byte(tt.in))); got != tt.want {
			t.Errorf("ShiftEvent(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
