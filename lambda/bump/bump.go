// Package bump is amibump's pipeline: resolve the launch templates an event
// targets, pick a source instance, image it, wait for the AMI, promote it onto
// the template and prune what is no longer needed. It talks to AWS only through
// the interfaces EC2, AutoScaling, Events and SSM, gathered per account and
// region in Clients, and leaves every decision to package plan.
package bump

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/amibump/amibump/lambda/event"
)

// Bumper handles amibump's events. It is safe for concurrent use; build it once
// per process with clients built once.
type Bumper struct {
	clients Clients
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	budget  *Budget // nil: no request budget (tests)
	// regions makes the clients of another region of the account, where a
	// template that replicates from it reads its source (WithRegions); nil:
	// such a template's source region is unreachable.
	regions func(region string) (Clients, error)
}

// ForClients returns a Bumper over the clients of one scope (NewClients).
// log may be nil (logs discarded). It reads the system clock; tests give it
// their world's clock with WithClock.
func ForClients(c Clients, cfg Config, log *slog.Logger) *Bumper {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bumper{clients: c, cfg: cfg, log: log, now: time.Now} //nolint:forbidigo // the production clock
}

// New returns a Bumper over the given clients, without SSM (WithSSM adds it):
// ForClients with a Clients of these three.
func New(ec2Client EC2, asgClient AutoScaling, eventsClient Events, cfg Config, log *slog.Logger) *Bumper {
	return ForClients(Clients{EC2: ec2Client, AutoScaling: asgClient, Events: eventsClient}, cfg, log)
}

// WithClock makes the Bumper read the time from now: reconcile's pending limit,
// how long a new AMI may stay invisible, and the age of a deploy event.
func (b *Bumper) WithClock(now func() time.Time) *Bumper {
	c := *b
	c.now = now
	return &c
}

// WithSSM gives the Bumper the Systems Manager client it writes release
// parameters with (templates managed as code). Without it, a template
// that needs a parameter written is rejected before anything is made.
func (b *Bumper) WithSSM(c SSM) *Bumper {
	cp := *b
	cp.clients.SSM = c
	return &cp
}

// Handle processes one EventBridge event and returns one result per target.
// Permanent problems (a bad event, no target, access denied) are results with
// status rejected and a nil error; transient ones (throttling, 5xx, a failed AMI
// to be made again) are returned as an error, after the other targets' results
// are published, so that Lambda retries the event.
func (b *Bumper) Handle(ctx context.Context, raw json.RawMessage) (event.Response, error) {
	env, err := event.ParseEnvelope(raw)
	if err != nil {
		res := []event.Result{rejected(ctx, b.log, event.Result{}, err)}
		b.newRun(ctx, &event.Envelope{}).finish(ctx, res)
		return event.Response{Results: res}, nil
	}
	r := b.newRun(ctx, env)
	var results []event.Result
	if handle, ok := handlers[env.Classify()]; ok {
		results, err = handle(r, ctx)
	} else {
		results = []event.Result{rejected(ctx, r.log, event.Result{EventID: env.ID}, event.Unsupported(env))}
	}
	if errors.Is(err, errSkipped) {
		return event.Response{}, nil
	}
	if err != nil && IsPermanent(err) {
		// Access denied listing the account, say: a retry cannot fix it.
		results = append(results, rejected(ctx, r.log, event.Result{EventID: env.ID}, err))
		err = nil
	}
	r.finish(ctx, results)
	return event.Response{Results: results}, err
}

// handlers is the handler of each kind of event.Kinds.
var handlers = map[*event.Kind]func(*run, context.Context) ([]event.Result, error){
	event.KindDeploy:         (*run).deploy,
	event.KindAMIState:       (*run).amiState,
	event.KindReconcile:      (*run).reconcileTick,
	event.KindSourcePromoted: (*run).sourcePromoted,
	event.KindDeploy:         (*run).deploy,
	event.KindAMIState:       (*run).amiState,
	event.KindReconcile:      (*run).reconcileTick,
	event.KindRollback:       (*run).rollback,
}

// errSkipped is a handler's answer for an event it skips altogether: no
// result, nothing published.
var errSkipped = errors.New("event skipped")

// run is the handling of one event: its clients share one gate, so the bound on
// calls in flight holds across all its targets.
type run struct {
	// scope is the account and region the event names (the clients' where the
	// event names none): the key of the request budget, named by every result.
	scope Scope
	// The event's clients, gated: a run has no other way to AWS, so no call
	// escapes the bound on calls in flight or the request budget.
	ec2    EC2
	asg    AutoScaling
	events Events
	ssm    SSM
	env    *event.Envelope
	log    *slog.Logger
	cfg    Config
	now    func() time.Time

	groupsMu sync.Mutex
	groups   []astypes.AutoScalingGroup // nil until listed

	obs *observations // what the metrics need (emitMetrics)

	// inRegion is a run over the clients of another region of the run's
	// account, sharing its gate and budget (inRegion in replica.go).
	regions func(region string) (Clients, error)

	reads    eventReads // reads made once for all targets of a deploy event
	pollOnce sync.Once
	poll     *poller // the event's shared image poll, made by the first wait

	deletions atomic.Int32 // retired AMIs deregistered (plan.MaxDeletionsPerRun)
}

// poller returns the event's shared poll of images.
func (r *run) poller(ctx context.Context) *poller {
	r.pollOnce.Do(func() { r.poll = newPoller(ctx, r.ec2, r.cfg.PollMin, r.cfg.PollMax) })
	return r.poll
}

func (b *Bumper) newRun(ctx context.Context, env *event.Envelope) *run {
	g := make(gate, max(1, b.cfg.Concurrency))
	scope := b.runScope(ctx, env)
	r := &run{scope: scope, env: env, log: b.log, cfg: b.cfg, now: b.now, obs: newObservations(b.now)}
	if env.ID != "" {
		r.log = b.log.With("eventId", env.ID)
	}
	c := b.clients.wrap(scope, b.budget, g, r.obs)
	r.ec2, r.asg, r.events, r.ssm = c.EC2, c.AutoScaling, c.Events, c.SSM
	r.regions = func(region string) (Clients, error) {
		if b.regions == nil {
			return Clients{}, errors.New("this function has no clients for other regions")
		}
		c, err := b.regions(region)
		if err != nil {
			return Clients{}, err
		}
		s := Scope{Partition: PartitionOf(region), Account: scope.Account, Region: region}
		return c.wrap(s, b.budget, g, r.obs), nil
	}
	return r
}

// autoScalingGroups lists every group of the account once per event. A failed
// listing is not kept: the next target asks again.
func (r *run) autoScalingGroups(ctx context.Context) ([]astypes.AutoScalingGroup, error) {
	r.groupsMu.Lock()
	defer r.groupsMu.Unlock()
	if r.groups != nil {
		return r.groups, nil
	}
	groups := []astypes.AutoScalingGroup{}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(r.asg, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list auto scaling groups: %w", err)
		}
		groups = append(groups, page.AutoScalingGroups...)
	}
	r.groups = groups
	return groups, nil
}

// publish puts one bump-finished event per result on the bus, ten at a time.
// Entries that PutEvents reports as failed are tried once more; what still fails
// is logged: the results are also the function's return value and its logs.
func (r *run) publish(ctx context.Context, results []event.Result) {
	if r.cfg.EventBus == "" || r.events == nil || len(results) == 0 {
		return
	}
	entries := make([]ebtypes.PutEventsRequestEntry, 0, len(results))
	for _, res := range results {
		detail, err := json.Marshal(res)
		if err != nil {
			r.log.ErrorContext(ctx, "result not published", "error", err)
			continue
		}
		entries = append(entries, ebtypes.PutEventsRequestEntry{
			Source:       aws.String(event.SourceAmibump),
			DetailType:   aws.String(event.BumpFinished),
			EventBusName: aws.String(r.cfg.EventBus),
			Detail:       aws.String(string(detail)),
		})
	}
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		for attempt := 0; attempt < 2 && len(batch) > 0; attempt++ {
			out, err := r.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
			if err != nil {
				r.log.ErrorContext(ctx, "results not published", "bus", r.cfg.EventBus, "count", len(batch), "error", err)
				break
			}
			var failed []ebtypes.PutEventsRequestEntry
			for i, e := range out.Entries {
				if e.ErrorCode != nil && i < len(batch) {
					if attempt == 1 {
						r.log.ErrorContext(ctx, "result not published", "bus", r.cfg.EventBus, "errorCode", aws.ToString(e.ErrorCode), "error", aws.ToString(e.ErrorMessage))
					}
					failed = append(failed, batch[i])
				}
			}
			batch = failed
		}
	}
}

// joinTransient joins the errors that Lambda should retry.
func joinTransient(errs []error) error {
	var keep []error
	for _, err := range errs {
		if err != nil && !IsPermanent(err) {
			keep = append(keep, err)
		}
	}
	return errors.Join(keep...)
}

// runScope is where a run's calls go, which is what its request budget and
// its results name: the clients' scope; for an account the clients do not
// know, the account of the invoked function (its ARN in the Lambda context);
// the event's account and region only for what neither tells (tests and
// local runs without credentials to ask). The event's own account is not
// trusted first: EventBridge sets it to the sender's, and a deploy event from
// a CI in another account names that account, not the one the function
// images in.
func (b *Bumper) runScope(ctx context.Context, env *event.Envelope) Scope {
	s := b.clients.Scope
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		s = s.Or(Scope{Account: accountOfARN(lc.InvokedFunctionArn)})
	}
	return s.Or(Scope{Account: env.Account, Region: env.Region})
}

// accountOfARN is the account field of an ARN
// (arn:partition:service:region:account:resource), or "".
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
