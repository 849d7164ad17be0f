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

func TestDeprecateAt(t *testing.T) {
	for _, tt := range []struct{ now, want time.Time }{
		{t0, t0},
		{t0.Add(time.Second), t0.Add(time.Minute)},
		{t0.Add(59*time.Second + time.Millisecond), t0.Add(time.Minute)},
	} {
		if got := DeprecateAt(tt.now); !got.Equal(tt.want) || got.Round(time.Minute).Before(tt.now) {
			t.Errorf("DeprecateAt(%v) = %v, want %v, never in the past once EC2 rounds it", tt.now, got, tt.want)
		}
	}
}

func TestDeleteAfterWarningSaysWhatIsAllowed(t *testing.T) {
	_, warnings := ReadSettings(map[string]string{"amibump:delete-after": "forever"})
	if len(warnings) != 1 || !strings.Contains(warnings[0], "from 0 (deregister at once) to 365") || !strings.Contains(warnings[0], "14 days") {
		t.Errorf("warnings %q, want one naming the allowed values and the default", warnings)
	}
}
