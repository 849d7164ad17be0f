package awsfake

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// EventBridge is the fake EventBridge client, with the SDK's exact signatures.
type EventBridge struct{ c *Cloud }

// CreateEventBus adds an event bus; the bus "default" always exists.
func (c *Cloud) CreateEventBus(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buses[name] = true
}

// FailEntries makes the next n otherwise valid PutEvents entries fail inside the output (ErrorCode
// code, ErrorMessage message, counted in FailedEntryCount) without being stored.
func (c *Cloud) FailEntries(n int, code, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failEntries, c.failEntryCode, c.failEntryMsg = n, code, message
}

// Events returns the accepted entries, in order.
func (c *Cloud) Events() []ebtypes.PutEventsRequestEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return clone(c.events)
}

// busName resolves an entry's EventBusName (a name or an ARN; empty = default).
func (c *Cloud) busName(s string) string {
	if s == "" {
		return "default"
	}
	if strings.HasPrefix(s, "arn:") {
		// arn:<partition>:events:<region>:<account>:event-bus/<name>
		parts := strings.SplitN(s, ":", 6)
		if len(parts) == 6 && parts[2] == "events" && parts[3] == c.scope.Region && parts[4] == c.scope.Account &&
			strings.HasPrefix(parts[5], "event-bus/") {
			return strings.TrimPrefix(parts[5], "event-bus/")
		}
		return "" // another account's or region's bus: not in this cloud
	}
	return s
}

// PutEvents accepts 1 to 10 entries. Each needs Source, DetailType, a Detail that
// is a JSON object, and an existing bus; an entry that fails is reported in its
// result (ErrorCode, ErrorMessage) and counted in FailedEntryCount, and the call
// itself succeeds, as in AWS.
func (eb *EventBridge) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return serve(ctx, eb.c, svcEventBridge, "PutEvents", in, eb.c.putEvents)
}

func (c *Cloud) putEvents(in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
	if in == nil || len(in.Entries) == 0 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.Entries) > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	out := &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		code, msg := c.checkEntry(e)
		if code == "" && c.failEntries > 0 {
			c.failEntries--
			code, msg = c.failEntryCode, c.failEntryMsg
		}
		if code != "" {
			out.Entries[i] = ebtypes.PutEventsResultEntry{ErrorCode: ptr(code), ErrorMessage: ptr(msg)}
			out.FailedEntryCount++
			continue
		}
		id := c.newUUID()
		out.Entries[i] = ebtypes.PutEventsResultEntry{EventId: ptr(id)}
		if e.Time == nil {
			e.Time = ptr(c.now())
		}
		c.events = append(c.events, clone(e))
	}
	return out, nil
}

// checkEntry returns the error code and message an entry fails with, or "".
func (c *Cloud) checkEntry(e ebtypes.PutEventsRequestEntry) (code, msg string) {
	switch {
	case derefString(e.Source) == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case derefString(e.DetailType) == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case derefString(e.Detail) == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(*e.Detail), &obj); err != nil || obj == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	// AWS has at times accepted entries for a bus that does not exist and dropped
	// them (aws/aws-cli#9186). The fake is stricter: such an entry fails, so a
	// misconfigured bus name shows up in tests.
	if name := c.busName(derefString(e.EventBusName)); name == "" || !c.buses[name] {
		return "ResourceNotFoundException", "Event bus " + derefString(e.EventBusName) + " does not exist."
	}
	return "", ""
}
