package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

const planSynopsis = `Usage: amibump plan EVENT.json | --app APP --env ENV [--layer L] [--group G] [--instance-id ID]

Runs the function's dry run locally, against the account of your credentials, and prints
the plan per matching launch template: the source instance and why it was chosen, the AMI
and version it would make, the Auto Scaling groups and the version they launch (groups
pinned to a version number are flagged), and what retention would delete. EC2's DryRun
checks that your credentials may make each change. Nothing is changed.

EVENT.json is an event as EventBridge delivers it (as in an archive or testdata/events)
or the entry list that "amibump emit --print" prints; without one, the flags describe it.`

const runSynopsis = `Usage: amibump run EVENT.json | --app APP --env ENV [--layer L] [--group G] [--instance-id ID]

Processes an event locally with your credentials, exactly as the function would: images the
source instance, waits for the AMI (up to --max-wait), promotes it onto the launch template
and prunes old versions and AMIs. The break-glass path when the function is down. Running it
again, or after the function, is safe: the AMI is found by its build id and resumed.

EVENT.json is any event the function takes (deploy-finished, EC2 AMI State Change, the
reconcile schedule) as EventBridge delivers it, or the entry list that "amibump emit
--print" prints; without one, the flags describe a deploy-finished event.

Results are printed, not put on the bus (the function puts them there for alarms and
chat); --publish-results puts them on --bus as the function does.`

// local runs plan or run: the function's own pipeline, in this process.
func (c *cli) local(ctx context.Context, cmd string, args []string) int {
	synopsis := runSynopsis
	if cmd == "plan" {
		synopsis = planSynopsis
	}
	fs := c.newFlagSet(cmd, synopsis)
	var d detailFlags
	d.register(fs)
	var a awsFlags
	a.register(fs)
	cfg := bump.Defaults()
	source := fs.String("source", event.DefaultCISource, "event `source` of an event made from flags")
	jsonOut := fs.Bool("json", false, "print the function's response (results) as JSON")
	verbose := fs.Bool("verbose", false, "log each step (the function's logs) to stderr")
	var bus *string
	var publish *bool
	if cmd == "run" { // plan neither waits nor publishes: these flags are run's only (runOnlyFlags)
		bus = fs.String("bus", event.DefaultBusName, "event `bus` that --publish-results puts results on")
		publish = fs.Bool("publish-results", false, "put a bump-finished event per result on --bus, as the function does; exit 4 if one does not get there")
		fs.DurationVar(&cfg.MaxWait, "max-wait", 30*time.Minute, "how long to wait for the AMI before reporting it pending")
		fs.DurationVar(&cfg.PollMin, "poll-min", cfg.PollMin, "shortest delay between polls of the AMI's state")
		fs.DurationVar(&cfg.PollMax, "poll-max", cfg.PollMax, "longest delay between polls of the AMI's state")
	} else {
		a.registerTimeout(fs, 2*time.Minute)
	}
	cfg.SSMPrefix = cmp.Or(c.getenv("AMIBUMP_SSM_PREFIX"), cfg.SSMPrefix)
	fs.StringVar(&cfg.SSMPrefix, "ssm-prefix", cfg.SSMPrefix, "parameter `path` amibump may write releases under (the stack's ssmParameterPrefix; default: AMIBUMP_SSM_PREFIX, else /amibump/)")
	fs.DurationVar(&cfg.ClockSkew, "clock-skew", cfg.ClockSkew, "how far ahead of this machine's clock a deploy event's time may be")
	positional, code, ok := c.parseFlags(fs, args)
	if !ok {
		return code
	}

	if cfg.PollMin <= 0 || cfg.PollMax < cfg.PollMin || cfg.MaxWait <= 0 || cfg.ClockSkew <= 0 {
		return c.fail(cmd, fmt.Errorf("--poll-min (%s), --poll-max (%s), --max-wait (%s) and --clock-skew (%s) must be positive, and --poll-min at most --poll-max",
			cfg.PollMin, cfg.PollMax, cfg.MaxWait, cfg.ClockSkew), exitInvalid)
	}
	if err := plan.CheckSSMPrefix(cfg.SSMPrefix); err != nil {
		return c.fail(cmd, fmt.Errorf("--ssm-prefix %q: %w", cfg.SSMPrefix, err), exitInvalid)
	}
	raw, err := c.localEvent(cmd, fs, &d, positional, *source, a.region)
	if err == nil {
		err = c.checkTime(raw, cfg.ClockSkew)
	}
	if err != nil {
		return c.fail(cmd, err, exitInvalid)
	}
	if publish != nil && *publish {
		cfg.EventBus = *bus
	}
	return c.handleLocally(ctx, cmd, raw, cfg, a, *jsonOut, *verbose)
}

// handleLocally hands an event to the function's own pipeline, in this
// process, with the caller's credentials, and prints the results.
func (c *cli) handleLocally(ctx context.Context, cmd string, raw []byte, cfg bump.Config, a awsFlags, jsonOut, verbose bool) int {
	ctx, cancel := withTimeout(ctx, a)
	defer cancel()
	clients, err := c.awsClients(ctx, a)
	if err != nil {
		return c.fail(cmd, err, exitFailure)
	}
	if c.scope != nil && clients.Scope.Account == "" {
		// The account the calls go to, for the results (an event file's own
		// account may be a CI account's, or a replayed event's).
		clients.Scope.Account, _ = c.scope(ctx, a.profile, a.region)
	}
	published := &publishRecorder{Events: clients.Events}
	clients.Events = published
	if cmd == "run" {
		clients.EC2 = c.newHeartbeat(clients.EC2, cfg.MaxWait)
	}
	var log *slog.Logger
	if verbose {
		log = slog.New(slog.NewTextHandler(c.stderr, nil))
	}
	// A template that replicates from another region reads its source there,
	// with the profile's clients of that region.
	inRegion := func(region string) (bump.Clients, error) { return c.clients(ctx, a.profile, region) }
	resp, err := bump.ForClients(clients, cfg, log).WithClock(c.now).WithBudget(bump.NewBudget(bump.DefaultRates, 1)).WithRegions(inRegion).Handle(ctx, raw)
	if t := timedOut(ctx, err); t != nil {
		err = t
	}
	if err != nil && len(resp.Results) == 0 {
		return c.fail(cmd, err, exitFailure) // nothing to print but the error (as JSON with --json)
	}
	if jsonOut {
		c.printJSON(resp)
	} else {
		c.printResults(cmd, raw, resp, err != nil, c.where(ctx))
	}
	code := exitCode(resp, err)
	if err != nil {
		code = c.fail(cmd, err, code)
	}
	if perr := published.err(); perr != nil && cfg.EventBus != "" {
		code = max(code, c.fail(cmd, fmt.Errorf("--publish-results: results were not all put on bus %s: %w%s", cfg.EventBus, perr, entryHint(publishCode(perr))), exitFailure))
	}
	for _, r := range resp.Results {
		if r.Status == event.Pending && err == nil && cmd == "run" {
			c.printf(c.stderr, "amibump run: %s is still pending; run the same command again to resume and promote it (nothing is made twice)\n", r.ImageID)
		}
	}
	return code
}

// publishCode is the AWS error code of a failure to publish, if any.
func publishCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// localEvent builds the event to process, as EventBridge would deliver it,
// from a file or from flags, and checks it before anything is sent: an
// invalid event is exit code 2, not a rejected result.
func (c *cli) localEvent(cmd string, fs *flag.FlagSet, d *detailFlags, positional []string, source, region string) ([]byte, error) {
	fromFlags := anySet(fs, detailFlagNames)
	var env map[string]any
	switch {
	case len(positional) > 1:
		return nil, fmt.Errorf("%d event files given; %s takes one", len(positional), cmd)
	case len(positional) == 1 && fromFlags:
		return nil, errors.New("give an event file or the detail flags (--app, --env...), not both")
	case len(positional) == 1:
		var err error
		if env, err = c.readEvent(positional[0]); err != nil {
			return nil, err
		}
	default:
		deploy := d.deploy(fs, c.getenv)
		detail, err := json.Marshal(deploy)
		if err != nil {
			return nil, err
		}
		if _, err := event.ParseDeploy(detail); err != nil {
			return nil, flagNames(err)
		}
		env = map[string]any{"detail-type": event.DeployFinished, "source": source, "detail": json.RawMessage(detail)}
	}
	// What EventBridge adds, when the file does not have it.
	defaults := map[string]any{"version": "0", "id": localID(), "time": c.now().UTC().Format(time.RFC3339), "resources": []string{}}
	if region != "" {
		defaults["region"] = region
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	raw, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	parsed, err := event.ParseEnvelope(raw)
	if err != nil {
		return nil, err
	}
	kind := parsed.Classify()
	switch {
	case kind == nil:
		return nil, event.Unsupported(parsed)
	case cmd == "plan" && !kind.Plannable():
		return nil, fmt.Errorf("plan takes a %s event; to see what this %q event would do, there is no dry run: amibump run processes it", plannable(), parsed.DetailType)
	}
	if kind.Check != nil {
		if err := kind.Check(parsed); err != nil {
			return nil, err
		}
	}
	if cmd != "plan" {
		return raw, nil
	}
	detail, err := kind.DryRun(parsed.Detail)
	if err != nil {
		return nil, err
	}
	env["detail"] = json.RawMessage(detail)
	return json.Marshal(env)
}

// plannable names the detail types that have a dry run, for plan's message.
func plannable() string {
	var names []string
	for _, k := range event.Kinds {
		if k.Plannable() {
			names = append(names, k.DetailType)
		}
	}
	return strings.Join(names, " or ")
}

// checkTime refuses a deploy event from the future before anything is sent,
// as the function would reject it (event.CheckTime).
func (c *cli) checkTime(raw []byte, skew time.Duration) error {
	env, err := event.ParseEnvelope(raw)
	if err != nil || env.Classify() != event.KindDeploy {
		return err
	}
	return event.CheckTime(env.Time, c.now(), skew, "--clock-skew")
}

// readEvent reads an event file ("-": standard input): an event as
// EventBridge delivers it, or a list of one PutEvents entry as "amibump emit
// --print" prints it.
func (c *cli) readEvent(path string) (map[string]any, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(c.stdin)
		path = "standard input"
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	if bytes.HasPrefix(raw, []byte("[")) {
		var entries []struct {
			Source, DetailType, Detail string
			Time                       *time.Time
		}
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("%s: not a PutEvents entry list: %s", path, event.Clip(err.Error()))
		}
		if len(entries) != 1 {
			return nil, fmt.Errorf("%s: %d PutEvents entries; give one", path, len(entries))
		}
		e := entries[0]
		if !json.Valid([]byte(e.Detail)) {
			return nil, fmt.Errorf("%s: Detail is not a string of JSON", path)
		}
		env := map[string]any{"detail-type": e.DetailType, "source": e.Source, "detail": json.RawMessage(e.Detail)}
		if e.Time != nil {
			env["time"] = e.Time.UTC().Format(time.RFC3339)
		}
		return env, nil
	}
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil || env == nil {
		return nil, fmt.Errorf("%s: not an EventBridge event (a JSON object with detail-type, source and detail) nor a PutEvents entry list: %v", path, event.Clip(fmt.Sprint(err)))
	}
	return env, nil
}

// exitCode is the worst outcome: a transient error or a failed target is a
// failure (4); a rejected target is a rejection (3); anything else is 0.
func exitCode(resp event.Response, err error) int {
	code := exitOK
	for _, r := range resp.Results {
		switch r.Status {
		case event.Failed:
			code = max(code, exitFailure)
		case event.Rejected:
			code = max(code, exitRejected)
		}
	}
	if err != nil {
		code = exitFailure
	}
	return code
}
