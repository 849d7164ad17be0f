package event

import (
	"fmt"
	"strings"
)

// Kind is one kind of event amibump handles: a row of Kinds. Each kind lives
// in a file of its own in this package, beside its detail type and parser,
// and has one handler in package bump; the function, the command-line tool and
// the stack's rules read this table, so that adding a kind is a row here and a
// handler there.
type Kind struct {
	// Name is the kind's short name, for messages and logs.
	Name string
	// DetailType is the event's detail-type.
	DetailType string
	// Source is the event's source; "" for a kind recognised by its detail
	// type alone (deploy-finished: the source is the CI's, a setting, and the
	// rule on the bus admits only it).
	Source string
	// From says, for messages, where events of the kind come from.
	From string
	// Check validates an event of the kind as the function reads it (nil:
	// nothing beyond the envelope).
	Check func(*Envelope) error
	// Schema is the JSON Schema of the event as EventBridge delivers it,
	// registered by the stack; nil when amibump publishes none.
	Schema []byte
	// DryRun returns the detail with a dry run asked for; nil when the kind
	// has no dry run (amibump plan refuses it; amibump run processes it).
	DryRun func(detail []byte) ([]byte, error)
}

// Kinds is every kind of event amibump handles, in the order messages list them.
var Kinds = []*Kind{KindDeploy, KindAMIState, KindReconcile, KindRollback, KindSourcePromoted}

// Plannable reports whether the kind has a dry run.
func (k *Kind) Plannable() bool { return k.DryRun != nil }

// matches reports whether e is an event of the kind.
func (k *Kind) matches(e *Envelope) bool {
	return e.DetailType == k.DetailType && (k.Source == "" || e.Source == k.Source)
}

// Classify tells which kind an envelope is, from its source and detail type;
// nil for none of amibump's.
func (e *Envelope) Classify() *Kind {
	for _, k := range Kinds {
		if k.matches(e) {
			return k
		}
	}
	return nil
}

// Unsupported is the error for an event of no kind amibump handles, naming
// every kind it does.
func Unsupported(e *Envelope) error {
	handled := make([]string, 0, len(Kinds))
	for _, k := range Kinds {
		handled = append(handled, fmt.Sprintf("%q %s", k.DetailType, k.From))
	}
	list := handled[len(handled)-1]
	if len(handled) > 1 {
		list = strings.Join(handled[:len(handled)-1], ", ") + " and " + list
	}
	return fmt.Errorf("unsupported event: source %s, detail-type %s; amibump handles detail-type %s",
		Quote(e.Source), Quote(e.DetailType), list)
}
