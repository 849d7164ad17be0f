package bump

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/metrics"
	"github.com/amibump/amibump/lambda/plan"
)

// The function's metrics are CloudWatch Embedded Metric Format records in its
// JSON logs (package metrics names them): one log line per record, at INFO, whose
// "_aws" member tells CloudWatch Logs which top-level members are metrics.
// Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
// The root node "MAY contain any other members", so slog's own (time, level,
// msg) and the logger's (eventId, requestId) ride along and are ignored.
//
// They cost no AWS call: the times come from what the run already sees. A
// run's EC2 client is wrapped (observedEC2) to note, per AMI, when CreateImage
// answered, when a read first showed it available after it was seen pending,
// and when CreateLaunchTemplateVersion answered with it; the release's deploy
// time is the AMI's amibump:deployed-at tag. An EC2 AMI State Change event
// (available) says when the AMI became available: its time counts as seen.

// metricsLogMessage is the message of every EMF log line.
const metricsLogMessage = "metrics"

// imageTimes is what a run saw of one AMI.
type imageTimes struct {
	requested  time.Time // CreateImage answered, or the AMI's CreationDate
	deployedAt time.Time // the release's deploy time (amibump:deployed-at)
	wasPending bool      // made or seen pending during this run
	available  time.Time // first seen available after wasPending (or the AMI state event's time)
	promoted   time.Time // a version was created with it
	// fromEvent: available is an AMI state event's time. Such an event may be
	// delivered twice; its AMI's creation time counts only with the promotion.
	fromEvent bool
}

// observations are a run's imageTimes, safe for its concurrent targets.
type observations struct {
	now    func() time.Time
	mu     sync.Mutex
	images map[string]*imageTimes
}

func newObservations(now func() time.Time) *observations {
	return &observations{now: now, images: map[string]*imageTimes{}}
}

// note updates the times of image id under the lock.
func (o *observations) note(id string, f func(*imageTimes)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it, ok := o.images[id]
	if !ok {
		it = &imageTimes{}
		o.images[id] = it
	}
	f(it)
}

// seen notes what a DescribeImages answer shows: creation and deploy times,
// pending, and the first sighting as available after pending.
func (o *observations) seen(images []ec2types.Image) {
	at := o.now()
	for _, img := range images {
		o.note(aws.ToString(img.ImageId), func(it *imageTimes) {
			if it.requested.IsZero() {
				it.requested, _ = time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
			}
			if it.deployedAt.IsZero() {
				it.deployedAt = deployedAt(img.Tags)
			}
			switch img.State {
			case ec2types.ImageStatePending:
				it.wasPending = true
			case ec2types.ImageStateAvailable:
				if it.wasPending && it.available.IsZero() {
					it.available = at
				}
			}
		})
	}
}

func deployedAt(tags []ec2types.Tag) time.Time {
	for _, t := range tags {
		if aws.ToString(t.Key) == event.TagDeployedAt {
			at, _ := time.Parse(time.RFC3339, aws.ToString(t.Value))
			return at
		}
	}
	return time.Time{}
}

// observedEC2 is a run's EC2 client, noting what the metrics need.
type observedEC2 struct {
	EC2
	obs *observations
}

func (c observedEC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, opts ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	out, err := c.EC2.CreateImage(ctx, in, opts...)
	if err == nil && !aws.ToBool(in.DryRun) {
		c.requested(aws.ToString(out.ImageId), in.TagSpecifications)
	}
	return out, err
}

func (c observedEC2) CopyImage(ctx context.Context, in *ec2.CopyImageInput, opts ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	out, err := c.EC2.CopyImage(ctx, in, opts...)
	if err == nil && !aws.ToBool(in.DryRun) {
		c.requested(aws.ToString(out.ImageId), in.TagSpecifications)
	}
	return out, err
}

// requested notes a new AMI, pending from now, with the deploy time its
// image tags carry: made by CreateImage or CopyImage alike.
func (c observedEC2) requested(imageID string, specs []ec2types.TagSpecification) {
	at := c.obs.now()
	var tags []ec2types.Tag
	for _, spec := range specs {
		if spec.ResourceType == ec2types.ResourceTypeImage {
			tags = spec.Tags
		}
	}
	c.obs.note(imageID, func(it *imageTimes) {
		it.requested, it.deployedAt, it.wasPending = at, deployedAt(tags), true
	})
}

func (c observedEC2) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	out, err := c.EC2.DescribeImages(ctx, in, opts...)
	if err == nil {
		c.obs.seen(out.Images)
	}
	return out, err
}

func (c observedEC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, opts ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	out, err := c.EC2.CreateLaunchTemplateVersion(ctx, in, opts...)
	if err == nil && !aws.ToBool(in.DryRun) && in.LaunchTemplateData != nil {
		at := c.obs.now()
		id := aws.ToString(in.LaunchTemplateData.ImageId)
		if plan.IsSSMAlias(id) {
			// The version keeps resolve:ssm:; its description names the AMI it stands for.
			id = plan.DescribedImage(aws.ToString(in.VersionDescription))
		}
		if id == "" {
			return out, err
		}
		c.obs.note(id, func(it *imageTimes) {
			if it.promoted.IsZero() {
				it.promoted = at
			}
		})
	}
	return out, err
}

// observeAMIState notes an EC2 AMI State Change event's AMI as available at
// the event's time.
func (r *run) observeAMIState() {
	s, err := event.ParseAMIState(r.env.Detail)
	if err != nil || s.State != string(ec2types.ImageStateAvailable) {
		return
	}
	r.obs.note(s.ImageID, func(it *imageTimes) { it.wasPending, it.fromEvent, it.available = true, true, r.env.Time.UTC() })
}

// emfDirective is one MetricDirective of the "_aws" member.
type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// emit logs one EMF record: values (metric name → value) under the dimension
// set dims, whose values are among extra (members for a person otherwise).
// Names and units are those of package metrics, in its order.
func (r *run) emit(ctx context.Context, at time.Time, dims []string, values map[string]float64, extra ...slog.Attr) {
	if len(values) == 0 {
		return
	}
	d := emfDirective{Namespace: metrics.Namespace, Dimensions: [][]string{dims}}
	attrs := make([]slog.Attr, 0, len(values)+len(extra)+1)
	for _, m := range metrics.All {
		if v, ok := values[m.Name]; ok {
			d.Metrics = append(d.Metrics, emfMetric{Name: m.Name, Unit: m.Unit})
			attrs = append(attrs, slog.Float64(m.Name, v))
		}
	}
	meta := emfMetadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: []emfDirective{d}}
	attrs = append([]slog.Attr{slog.Any("_aws", meta)}, append(attrs, extra...)...)
	r.log.LogAttrs(ctx, slog.LevelInfo, metricsLogMessage, attrs...)
}

// emitMetrics logs the metrics of a run's results: Results per status; per
// AMI made available or promoted in this run, the seconds it took; and what
// retention pruned.
func (r *run) emitMetrics(ctx context.Context, results []event.Result) {
	at := r.now()
	counts := map[event.Status]int{}
	var order []event.Status
	pruned := map[string]float64{}
	for _, res := range results {
		if counts[res.Status] == 0 {
			order = append(order, res.Status)
		}
		counts[res.Status]++
		if res.Pruned != nil {
			pruned[metrics.ImagesPruned] += float64(res.Pruned.Images)
			pruned[metrics.ImagesRetired] += float64(res.Pruned.Retired)
			pruned[metrics.VersionsPruned] += float64(res.Pruned.Versions)
		}
	}
	for _, s := range order {
		r.emit(ctx, at, []string{metrics.DimensionStatus}, map[string]float64{metrics.Results: float64(counts[s])}, slog.String(metrics.DimensionStatus, string(s)))
	}
	for _, id := range r.obs.imageIDs() {
		r.emit(ctx, at, []string{}, r.obs.durations(id, results), slog.String("imageId", id))
	}
	r.emit(ctx, at, []string{}, pruned)
}

// imageIDs are the AMIs observed, sorted.
func (o *observations) imageIDs() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make([]string, 0, len(o.images))
	for id := range o.images {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// durations are the seconds measured for one AMI: creation when it was seen
// turning available (from an AMI state event: when promoted); the
// deploy-to-promoted time and amibump's added latency when a result promoted
// it and this run created its version.
func (o *observations) durations(id string, results []event.Result) map[string]float64 {
	o.mu.Lock()
	it := *o.images[id]
	o.mu.Unlock()
	out := map[string]float64{}
	put := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() && !to.Before(from) {
			out[name] = math.Round(to.Sub(from).Seconds()*1000) / 1000
		}
	}
	promoted := !it.promoted.IsZero() && slices.ContainsFunc(results, func(r event.Result) bool { return r.Status == event.Promoted && r.ImageID == id })
	if !it.fromEvent || promoted {
		put(metrics.ImageCreation, it.requested, it.available)
	}
	if promoted {
		put(metrics.DeployToPromoted, it.deployedAt, it.promoted)
		put(metrics.AddedLatency, it.available, it.promoted)
	}
	return out
}

// finish names the run's scope in its results, logs its metrics and publishes
// the results.
func (r *run) finish(ctx context.Context, results []event.Result) {
	for i := range results {
		results[i].Account, results[i].Region = r.scope.Account, r.scope.Region
	}
	r.emitMetrics(ctx, results)
	r.publish(ctx, results)
}
