// Package metrics names every CloudWatch metric amibump emits. The function
// writes them in the Embedded Metric Format inside its JSON log lines; the
// stack's dashboard and alarms read them. Both import the names from here, so
// a renamed metric cannot leave a dashboard graph or an alarm looking at nothing.
package metrics

// Namespace is the CloudWatch namespace of every amibump metric.
const Namespace = "amibump"

// DimensionStatus is the dimension of Results: a result's status
// (promoted, superseded, pending, rejected, failed, dry-run, drifted).
const DimensionStatus = "Status"

// The metrics, each with its unit. Results is emitted with one dimension set,
// [Status]; every other metric with none (an empty dimension set), so that a
// dashboard or alarm finds it by name alone.
const (
	// Results counts results, one per target and event, by DimensionStatus. Unit: Count.
	Results = "Results"
	// DeployToPromoted is the time from the deploy event to the promoted
	// launch template version. Unit: Seconds.
	DeployToPromoted = "DeployToPromotedSeconds"
	// ImageCreation is the time from CreateImage to the AMI being seen
	// available. Unit: Seconds.
	ImageCreation = "ImageCreationSeconds"
	// AddedLatency is the time from the AMI being seen available to the new
	// launch template version: amibump's own overhead. Unit: Seconds.
	AddedLatency = "AddedLatencySeconds"
	// ImagesPruned counts AMIs retention deregistered. Unit: Count.
	ImagesPruned = "ImagesPruned"
	// ImagesRetired counts AMIs retention retired (deprecated and disabled,
	// to be deregistered amibump:delete-after days later). Unit: Count.
	ImagesRetired = "ImagesRetired"
	// VersionsPruned counts launch template versions retention deleted. Unit: Count.
	VersionsPruned = "VersionsPruned"
	// StaleTicksSkipped counts reconcile ticks skipped because they were older
	// than the reconcile period when they arrived (throttled or queued in
	// Lambda's asynchronous queue): the next tick was already due. Unit: Count.
	StaleTicksSkipped = "StaleReconcileTicksSkipped"
)

// All lists every metric with its CloudWatch unit, for the dashboard and tests.
var All = []struct{ Name, Unit string }{
	{Results, "Count"},
	{DeployToPromoted, "Seconds"},
	{ImageCreation, "Seconds"},
	{AddedLatency, "Seconds"},
	{ImagesPruned, "Count"},
	{ImagesRetired, "Count"},
	{VersionsPruned, "Count"},
	{StaleTicksSkipped, "Count"},
}
