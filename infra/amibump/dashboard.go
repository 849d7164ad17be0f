package amibump

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/metrics"
)

// statuses are the result statuses graphed on the dashboard, each a value of
// the Results metric's Status dimension.
var statuses = []event.Status{
	event.Promoted, event.Superseded, event.Pending, event.DryRun, event.Drifted, event.Unreachable, event.Rejected, event.Failed,
}

// units are the CloudWatch units of metrics.All, as the CDK names them.
var units = map[string]awscloudwatch.Unit{"Count": awscloudwatch.Unit_COUNT, "Seconds": awscloudwatch.Unit_SECONDS}

// metric is one of amibump's own metrics (package metrics: the names the
// function emits); it panics on a name that package does not list, so the
// dashboard cannot graph a metric nobody writes.
func metric(name, statistic string, period awscdk.Duration, dimensions map[string]*string) awscloudwatch.Metric {
	var unit awscloudwatch.Unit
	for _, m := range metrics.All {
		if m.Name == name {
			unit = units[m.Unit]
		}
	}
	if unit == "" {
		panic(fmt.Sprintf("amibump: metric %q is not one the function emits with a known unit (lambda/metrics.All)", name))
	}
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(metrics.Namespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &dimensions,
		Statistic:     jsii.String(statistic),
		Period:        period,
		Unit:          unit,
	})
}

// resultsMetric counts the results with one status.
func resultsMetric(status event.Status, period awscdk.Duration) awscloudwatch.Metric {
	return metric(metrics.Results, "Sum", period, map[string]*string{metrics.DimensionStatus: jsii.String(string(status))})
}

// newDashboard shows, over time, amibump's own metrics, the function's errors,
// duration and throttles, both queues' depth, and the alarms' states.
func newDashboard(scope constructs.Construct, a *Amibump) {
	period := awscdk.Duration_Minutes(jsii.Number(5))
	var results []awscloudwatch.IMetric
	for _, s := range statuses {
		results = append(results, resultsMetric(s, period).With(&awscloudwatch.MetricOptions{Label: jsii.String(string(s))}))
	}
	own := func(statistic string, names ...string) *[]awscloudwatch.IMetric {
		var out []awscloudwatch.IMetric
		for _, n := range names {
			out = append(out, metric(n, statistic, period, nil))
		}
		return &out
	}
	fn := &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}
	queue := &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Maximum")}
	graph := func(title string, left, right *[]awscloudwatch.IMetric, stacked bool) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: left, Right: right, Stacked: jsii.Bool(stacked), Width: jsii.Number(12),
		})
	}
	alarms := make([]interfacesawscloudwatch.IAlarmRef, len(a.Alarms))
	for i, alarm := range a.Alarms {
		alarms[i] = alarm
	}
	a.Dashboard = awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Days(jsii.Number(7)),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String("amibump alarms"), Alarms: &alarms, Width: jsii.Number(24),
			})},
			{graph("Results by status", &results, nil, true),
				graph("Deploy to promoted, image creation, added latency (seconds)",
					own("Average", metrics.DeployToPromoted, metrics.ImageCreation, metrics.AddedLatency), nil, false)},
			{graph("Function errors and throttles (left), duration ms (right)",
				&[]awscloudwatch.IMetric{a.Function.MetricErrors(fn), a.Function.MetricThrottles(fn)},
				&[]awscloudwatch.IMetric{a.Function.MetricDuration(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Maximum")})}, false),
				graph("Messages waiting: failure queue, dead-letter queue",
					&[]awscloudwatch.IMetric{
						a.Queue.MetricApproximateNumberOfMessagesVisible(queue).With(&awscloudwatch.MetricOptions{Label: jsii.String("failure queue")}),
						a.DeadLetterQueue.MetricApproximateNumberOfMessagesVisible(queue).With(&awscloudwatch.MetricOptions{Label: jsii.String("dead-letter queue")}),
					}, nil, false)},
			{graph("Retention: AMIs retired, AMIs and launch template versions removed", own("Sum", metrics.ImagesRetired, metrics.ImagesPruned, metrics.VersionsPruned), nil, true),
				graph("Lambda's async queue: oldest event age ms (left); events dropped, stale reconcile ticks skipped (right)",
					&[]awscloudwatch.IMetric{a.Function.Metric(jsii.String("AsyncEventAge"), queue)},
					&[]awscloudwatch.IMetric{a.Function.Metric(jsii.String("AsyncEventsDropped"), fn), metric(metrics.StaleTicksSkipped, "Sum", period, nil)}, false)},
		},
	})
}
