package event

import (
	"fmt"
	"time"
)

// DefaultClockSkew is how far a deploy event's time may lie ahead of the
// reader's clock (the contract's event time). Five minutes is the skew AWS itself
// tolerates in a signed request (Signature Version 4): a sender whose clock is
// further off than that is wrong, not merely unsynchronised.
const DefaultClockSkew = 5 * time.Minute

// CheckTime rejects a deploy event whose time lies more than skew ahead of now.
// A newer deploy always wins, so one event from the future (a CI agent with a
// wrong clock, a hand-set PutEvents Time) would make every real deploy after it
// superseded, for ever. setting names where the allowance is set, for the
// message. An old time is fine: the deploy is superseded or resumed.
func CheckTime(at, now time.Time, skew time.Duration, setting string) error {
	ahead := at.Sub(now)
	if ahead <= skew {
		return nil
	}
	by := "more than a year"
	if ahead < 366*24*time.Hour {
		by = ahead.Round(time.Second).String()
	}
	return fmt.Errorf("time %s is %s ahead of amibump's clock (%s), beyond the allowed clock skew of %s (%s): "+
		"a deploy from the future would supersede every real deploy after it; fix the clock of the machine that sent the event, "+
		"or leave PutEvents' Time unset so that EventBridge sets it",
		at.UTC().Format(time.RFC3339), by, now.UTC().Format(time.RFC3339), skew, setting)
}
