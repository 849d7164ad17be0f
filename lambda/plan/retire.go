package plan

import (
	"time"
)

// Lifecycle is what EC2 tells of an AMI after it is available: its
// deprecation time and its deregistration protection.
type Lifecycle struct {
	// Deprecated is the AMI's DeprecationTime (zero: none). amibump deprecates
	// an AMI when it retires it, at once: the time records the retirement.
	Deprecated time.Time
	// Protected: deregistration protection is enabled.
	Protected bool
	// Cooldown: protection was enabled with its 24-hour cooldown.
	Cooldown bool
	// Cooling: protection was lifted but its cooldown still refuses
	// DeregisterImage (until CoolingUntil, when EC2 tells it).
	Cooling      bool
	CoolingUntil time.Time
}

// Guarded reports whether DeregisterImage would be refused: protected, or
// in the cooldown after protection was lifted.
func (l Lifecycle) Guarded() bool { return l.Protected || l.Cooling }

// RetireStep is what retention does next to an AMI that left the keep window.
type RetireStep int

// The steps RetireStage returns.
const (
	// RetireWait: retired already; its deregistration is not due yet, or its
	// protection's cooldown refuses it for now. A later run deregisters it.
	RetireWait RetireStep = iota
	// RetireNow: deprecate it now and disable it (a disabled AMI is only
	// deprecated: its clock starts).
	RetireNow
	// RetireDelete: deregister it with its snapshots.
	RetireDelete
)

func (s RetireStep) String() string { return [...]string{"wait", "retire", "delete"}[s] }

// RetireStage decides the next step for an AMI that left the keep window, at
// now, for a template that deletes retired AMIs deleteAfter days after their
// retirement. Lifting its deregistration protection comes first, whatever the
// step (the caller does it when the image is Protected):
//   - a failed AMI is deleted (it cannot be disabled, nor launched);
//   - deleteAfter 0 deletes at once;
//   - an available AMI is retired: deprecated now, then disabled;
//   - a disabled AMI without a deprecation time (disabled by a person, or
//     its deprecation cancelled) is deprecated now, which starts its clock;
//   - a disabled AMI is deleted once deleteAfter days have passed since its
//     deprecation.
//
// A deletion an unlifted protection or its cooldown refuses waits. due is when
// the AMI's deletion is due (zero when that is not known yet).
func RetireStage(img Image, now time.Time, deleteAfter int) (step RetireStep, due time.Time) {
	switch {
	case img.State == "failed" || deleteAfter == 0:
		step = RetireDelete
	case img.State == "available":
		return RetireNow, time.Time{}
	case img.State != "disabled":
		return RetireWait, time.Time{} // pending: never a candidate; anything else is not amibump's to judge
	case img.Life.Deprecated.IsZero():
		return RetireNow, time.Time{}
	default:
		due = DeleteDue(img.Life.Deprecated, deleteAfter)
		if now.Before(due) {
			return RetireWait, due
		}
		step = RetireDelete
	}
	if img.Life.Cooling {
		return RetireWait, later(due, img.Life.CoolingUntil)
	}
	return step, due
}

// DeleteDue is when an AMI retired (deprecated) at retired is due for
// deregistration.
func DeleteDue(retired time.Time, deleteAfter int) time.Time {
	return retired.AddDate(0, 0, deleteAfter)
}

// DeprecateAt is the deprecation time that retires an AMI at now: EC2 rounds
// the seconds to the nearest minute and refuses a time in the past
// (EnableImageDeprecation), as it is when the request arrives, after its
// travel and the clocks' skew: now plus two minutes, cut to the minute (one
// to two minutes ahead), never rounded back into the past.
func DeprecateAt(now time.Time) time.Time {
	return now.UTC().Add(2 * time.Minute).Truncate(time.Minute)
}

// MaxDeletionsPerRun bounds the retired AMIs one invocation deregisters (all
// templates together): the rest wait for the next run (the reconcile
// schedule, every 10 minutes by default). DeregisterImage is one of EC2's
// mutating calls, whose bucket every tool in the account shares.
const MaxDeletionsPerRun = 20

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// RetireDue reports whether a template has retention work due at now that
// reconcile should do: an AMI of the template that left the keep window and
// is not retired yet is covered by the count of settled AMIs; this looks at
// the retired (disabled) AMIs whose deletion is due, and at the AMIs of
// $Latest and $Default that should carry deregistration protection.
func RetireDue(t ReconcileTemplate, now time.Time) bool {
	ours := map[string]Image{}
	for _, img := range t.Images {
		ours[img.ID] = img.Image
		if img.State != "disabled" {
			continue
		}
		if step, _ := RetireStage(img.Image, now, t.Settings.DeleteAfter); step != RetireWait {
			return true
		}
	}
	for _, id := range []string{t.Latest.ImageID, t.Default.ImageID} {
		if img, ok := ours[id]; ok && img.State == "available" && !img.Life.Protected {
			return true
		}
	}
	return false
}
