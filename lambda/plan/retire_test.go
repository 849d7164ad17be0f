package plan

import (
	"strings"
	"testing"
	"time"
)

func TestRetireStage(t *testing.T) {
	now := t0.Add(30 * 24 * time.Hour)
	img := func(state string, l Lifecycle) Image { return Image{ID: "ami-1", State: state, Life: l} }
	tests := []struct {
		name        string
		img         Image
		deleteAfter int
		want        RetireStep
		due         time.Time
	}{
		{"available: retire", img("available", Lifecycle{}), 14, RetireNow, time.Time{}},
		{"protected available: retire (protection lifted first)", img("available", Lifecycle{Protected: true, Cooldown: true}), 14, RetireNow, time.Time{}},
		{"disabled without a deprecation time: retire, which starts its clock", img("disabled", Lifecycle{}), 14, RetireNow, time.Time{}},
		{"retired 13 days ago: wait", img("disabled", Lifecycle{Deprecated: now.AddDate(0, 0, -13)}), 14, RetireWait, now.AddDate(0, 0, 1)},
		{"retired 14 days ago: delete", img("disabled", Lifecycle{Deprecated: now.AddDate(0, 0, -14)}), 14, RetireDelete, now},
		{"due but cooling down: wait until the cooldown ends", img("disabled", Lifecycle{Deprecated: now.AddDate(0, 0, -20), Cooling: true, CoolingUntil: now.Add(time.Hour)}), 14, RetireWait, now.Add(time.Hour)},
		{"delete-after 0: delete at once", img("available", Lifecycle{}), 0, RetireDelete, time.Time{}},
		{"delete-after 0, cooling down: wait", img("available", Lifecycle{Cooling: true}), 0, RetireWait, time.Time{}},
		{"failed: delete", img("failed", Lifecycle{}), 14, RetireDelete, time.Time{}},
		{"pending: wait", img("pending", Lifecycle{}), 14, RetireWait, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, due := RetireStage(tt.img, now, tt.deleteAfter)
			if got != tt.want || !due.Equal(tt.due) {
				t.Errorf("RetireStage = %v, due %v; want %v, due %v", got, due, tt.want, tt.due)
			}
		})
	}
}

func TestDeleteAfterWarningSaysWhatIsAllowed(t *testing.T) {
	_, warnings := ReadSettings(map[string]string{"amibump:delete-after": "forever"})
	if len(warnings) != 1 || !strings.Contains(warnings[0], "from 0 (deregister at once) to 365") || !strings.Contains(warnings[0], "14 days") {
		t.Errorf("warnings %q, want one naming the allowed values and the default", warnings)
	}
}

// TestDeprecateAtIsAhead: the deprecation time is a whole minute at least one
// minute ahead, whatever the second: EC2 refuses a time in the past after
// rounding it to the minute, as the request arrives.
func TestDeprecateAtIsAhead(t *testing.T) {
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, offset := range []time.Duration{0, time.Millisecond, 29 * time.Second, 30 * time.Second, 59*time.Second + 999*time.Millisecond} {
		now := base.Add(offset)
		at := DeprecateAt(now)
		if at.Truncate(time.Minute) != at || at.Sub(now) < time.Minute || at.Sub(now) > 2*time.Minute {
			t.Errorf("DeprecateAt(%s) = %s, want a whole minute 1 to 2 minutes ahead", now.Format(time.RFC3339Nano), at.Format(time.RFC3339))
		}
	}
}
