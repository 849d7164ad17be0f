package event

// KindReconcile is the reconcile schedule's tick: EventBridge's Scheduled
// Event, with an empty detail.
var KindReconcile = &Kind{
	Name:       "reconcile",
	DetailType: ScheduledEvent,
	Source:     SourceEvents,
	From:       "from " + SourceEvents,
}
