package hostile

import "testing"

func TestInputsFitAnEvent(t *testing.T) {
	for _, in := range Inputs() {
		if len(in.Event) > MaxEventSize {
			t.Errorf("%s: %d bytes, over EventBridge's %d", in.Name, len(in.Event), MaxEventSize)
		}
	}
}
