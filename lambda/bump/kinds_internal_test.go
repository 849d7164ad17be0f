package bump

import (
	"testing"

	"github.com/amibump/amibump/lambda/event"
)

// TestEveryKindHasAHandler: a kind added to event.Kinds without a handler
// would be rejected as unsupported by the function that the stack routes it to.
func TestEveryKindHasAHandler(t *testing.T) {
	for _, k := range event.Kinds {
		if handlers[k] == nil {
			t.Errorf("kind %s (%s) has no handler", k.Name, k.DetailType)
		}
	}
	if len(handlers) != len(event.Kinds) {
		t.Errorf("%d handlers for %d kinds", len(handlers), len(event.Kinds))
	}
}
