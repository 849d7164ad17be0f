package bump_test

import (
	"strings"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/event"
)

// TestDeployFromTheFutureIsRejected: a deploy event whose time lies beyond the
// clock-skew allowance ahead of the function's clock (a CI agent with a wrong
// clock, a hand-set PutEvents Time) is rejected with a reason naming the field,
// the time and the allowance, and changes nothing; real deploys after it are
// promoted, not superseded by it.
func TestDeployFromTheFutureIsRejected(t *testing.T) {
	endOfTime := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name  string
		ahead func(now time.Time) time.Time
		skew  time.Duration
		want  event.Status
		says  []string
	}{
		{"the end of time", func(time.Time) time.Time { return endOfTime }, 0, event.Rejected,
			[]string{"time 9999-12-31T23:59:59Z", "more than a year ahead", "clock skew of 5m0s (AMIBUMP_CLOCK_SKEW)"}},
		{"a CI clock ten minutes fast", func(now time.Time) time.Time { return now.Add(10 * time.Minute) }, 0, event.Rejected,
			[]string{"10m0s ahead", "clock skew of 5m0s"}},
		{"a CI clock a few minutes fast, within the allowance", func(now time.Time) time.Time { return now.Add(4 * time.Minute) }, 0, event.Promoted, nil},
		{"ten minutes fast with AMIBUMP_CLOCK_SKEW=15m", func(now time.Time) time.Time { return now.Add(10 * time.Minute) }, 15 * time.Minute, event.Promoted, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.skew != 0 {
				w.cfg.ClockSkew = tt.skew
			}
			at := tt.ahead(w.cloud.Clock().Now())
			resp, err := w.handle(deployEvent(t, "from-the-future", "jenkins-shop-deploy-999", at))
			if err != nil {
				t.Fatalf("returned %v; a retry cannot fix the event's time, it must not be retried", err)
			}
			res := one(t, resp)
			if res.Status != tt.want {
				t.Fatalf("result %+v, want %s", res, tt.want)
			}
			if tt.want != event.Rejected {
				return
			}
			for _, s := range tt.says {
				if !strings.Contains(res.Reason, s) {
					t.Errorf("reason %q does not say %q", res.Reason, s)
				}
			}
			if res.Build == nil || res.Build.ID != "jenkins-shop-deploy-999" {
				t.Errorf("result build %+v, want the event's build named", res.Build)
			}
			if n, v := len(w.amibumpImages(w.lt)), len(w.cloud.Versions(w.lt)); n != 0 || v != 1 {
				t.Errorf("%d images and %d versions after a rejected event, want 0 and 1", n, v)
			}
			if pub := w.published(); len(pub) != 1 || pub[0].Status != event.Rejected {
				t.Errorf("published %+v, want the rejection", pub)
			}
			// The next real deploy is promoted: the rejected one froze nothing.
			next := one(t, must(w.handle(deployEvent(t, "real", "jenkins-shop-deploy-143", w.cloud.Clock().Now()))))
			if next.Status != event.Promoted {
				t.Errorf("the next real deploy: %+v, want promoted", next)
			}
		})
	}
}

// TestOldDeployIsNotFromTheFuture: an event from long ago (a replay from the
// archive) is judged as a deploy, never by the clock: superseded here.
func TestOldDeployIsNotFromTheFuture(t *testing.T) {
	w := newWorld(t)
	one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
	res := one(t, must(w.handle(deployEvent(t, "old", "jenkins-shop-deploy-100", at(2, 15).AddDate(-1, 0, 0)))))
	if res.Status != event.Superseded {
		t.Errorf("result %+v, want superseded", res)
	}
}
