package event

import (
	"strings"
	"testing"
	"time"
)

func TestCheckTime(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 16, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Time
		want []string // nil: accepted
	}{
		{"now", now, nil},
		{"a day old", now.Add(-24 * time.Hour), nil},
		{"years old", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"ahead by the allowance exactly", now.Add(5 * time.Minute), nil},
		{"ahead by a second more", now.Add(5*time.Minute + time.Second), []string{"time 2026-11-26T02:21:01Z", "5m1s ahead", "2026-11-26T02:16:00Z", "clock skew of 5m0s (SETTING)"}},
		{"a CI clock an hour fast, in another zone", now.Add(time.Hour).In(time.FixedZone("CET", 3600)), []string{"time 2026-11-26T03:16:00Z", "1h0m0s ahead"}},
		{"the end of time", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), []string{"time 9999-12-31T23:59:59Z", "more than a year ahead", "5m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTime(tt.at, now, DefaultClockSkew, "SETTING")
			if tt.want == nil {
				if err != nil {
					t.Fatalf("got %v, want accepted", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error saying %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
