package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

const rollbackSynopsis = `Usage: amibump rollback --app APP --env ENV [--layer L] [--group G] [--to-build ID] [--reason TEXT] [--dry-run] [--local] [--print]

Rolls the matching launch templates back: puts a rollback-requested event on the bus, and the
function, for each template, makes a new version from the version that carries the release
before the current one (or the build --to-build names), moves $Default to it, writes the SSM
parameter and starts the instance refresh where the template opts in, and holds the template
(tag amibump:hold=<build rolled back from>@<time of the rollback>) until a deploy of a newer
build made after the rollback. A disabled AMI is enabled first. Prints the event id; the results come as bump-finished events (status
rolled-back). --dry-run asks the function for the plan instead.

With --local, runs the rollback in this process with your credentials, as "amibump run" does,
and prints the results (--dry-run: the plan, nothing changed). With --print, prints the
PutEvents entry instead of sending it.`

// rollbackFlags describe a rollback-requested detail on the command line.
type rollbackFlags struct {
	selectorFlags
	toBuild, reason string
	dryRun          bool
}

func (r *rollbackFlags) register(fs *flag.FlagSet) {
	r.selectorFlags.register(fs)
	fs.StringVar(&r.toBuild, "to-build", "", "build `id` to roll back to (default: the release before the current one)")
	fs.StringVar(&r.reason, "reason", "", "why, for people: the results repeat it (at most 256 characters)")
	fs.BoolVar(&r.dryRun, "dry-run", false, "ask for a dry run: plan and check permissions, change nothing")
}

func (r rollbackFlags) detail() event.Rollback {
	return event.Rollback{App: r.app, Env: r.env, Layer: r.layer, Group: r.group, ToBuild: r.toBuild, Reason: r.reason, DryRun: r.dryRun}
}

func (c *cli) rollback(ctx context.Context, args []string) int {
	fs := c.newFlagSet("rollback", rollbackSynopsis)
	var r rollbackFlags
	r.register(fs)
	var a awsFlags
	a.register(fs)
	source := fs.String("source", event.DefaultCISource, "event `source`: the one the stack admits (cdk context ciSource)")
	bus := fs.String("bus", event.DefaultBusName, "event `bus` name, or ARN of a bus in another account or region")
	printEntry := fs.Bool("print", false, "print the PutEvents entry (JSON) instead of sending it")
	local := fs.Bool("local", false, "run the rollback in this process with your credentials, as amibump run does")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	verbose := fs.Bool("verbose", false, "with --local, log each step to stderr")
	cfg := bump.Defaults()
	cfg.SSMPrefix = cmp.Or(c.getenv("AMIBUMP_SSM_PREFIX"), cfg.SSMPrefix)
	fs.StringVar(&cfg.SSMPrefix, "ssm-prefix", cfg.SSMPrefix, "with --local, parameter `path` amibump may write releases under (default: AMIBUMP_SSM_PREFIX, else /amibump/)")
	a.registerTimeout(fs, 2*time.Minute)
	positional, code, ok := c.parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return c.fail("rollback", fmt.Errorf("unexpected argument %q: rollback takes flags only", positional[0]), exitInvalid)
	}
	if *local && *printEntry {
		return c.fail("rollback", errors.New("--local runs the rollback here and --print sends nothing: give one of them"), exitInvalid)
	}
	if err := plan.CheckSSMPrefix(cfg.SSMPrefix); err != nil {
		return c.fail("rollback", fmt.Errorf("--ssm-prefix %q: %w", cfg.SSMPrefix, err), exitInvalid)
	}
	entry, err := newRollbackEntry(r.detail(), *source, *bus)
	if err != nil {
		return c.fail("rollback", err, exitInvalid)
	}
	switch {
	case *printEntry:
		return c.printJSON([]putEntry{entry})
	case *local:
		raw, err := json.Marshal(map[string]any{"version": "0", "id": localID(), "detail-type": entry.DetailType, "source": entry.Source,
			"time": c.now().UTC().Format(time.RFC3339), "region": a.region, "resources": []string{}, "detail": json.RawMessage(entry.Detail)})
		if err != nil {
			return c.fail("rollback", err, exitFailure)
		}
		cmd := "run"
		if r.dryRun {
			cmd = "plan"
		}
		return c.handleLocally(ctx, cmd, raw, cfg, a, *jsonOut, *verbose)
	}
	return c.putRollback(ctx, a, entry, r.detail(), *jsonOut)
}

// putRollback puts the rollback's entry on the bus, as emit does.
func (c *cli) putRollback(ctx context.Context, a awsFlags, entry putEntry, d event.Rollback, jsonOut bool) int {
	var err error
	if a.region, err = emitRegion(a.region, entry.EventBusName); err != nil {
		return c.fail("rollback", err, exitInvalid)
	}
	ctx, cancel := withTimeout(ctx, a)
	defer cancel()
	clients, err := c.awsClients(ctx, a)
	if err != nil {
		return c.fail("rollback", err, exitFailure)
	}
	id, code, ok := c.putEntry(ctx, "rollback", clients.Events, entry)
	if !ok {
		return code
	}
	if jsonOut {
		return c.printJSON(emitResult{EventID: id})
	}
	to := "the release before the current one"
	if d.ToBuild != "" {
		to = "build " + d.ToBuild
	}
	c.printf(c.stdout, "%s\n", id)
	c.printf(c.stderr, "amibump rollback: rollback-requested for %s, to %s, put on bus %s; the results come as bump-finished events (status rolled-back)\n",
		describe(event.Deploy{App: d.App, Env: d.Env, Layer: d.Layer, Group: d.Group}), to, entry.EventBusName)
	return exitOK
}

// newRollbackEntry validates the detail as the function does and returns the
// PutEvents entry that carries it.
func newRollbackEntry(d event.Rollback, source, bus string) (putEntry, error) {
	detail, err := json.Marshal(d)
	if err != nil {
		return putEntry{}, err
	}
	if _, err := event.ParseRollback(detail); err != nil {
		return putEntry{}, usageError{rollbackFlagNames(err)}
	}
	if err := checkSourceAndBus(source, bus); err != nil {
		return putEntry{}, err
	}
	return putEntry{Source: source, DetailType: event.RollbackRequested, EventBusName: bus, Detail: string(detail)}, nil
}

// rollbackFlagNames adds, to a validation error about the detail, the flag
// that sets each field.
func rollbackFlagNames(err error) error {
	replacer := strings.NewReplacer(
		"detail.app ", "detail.app (--app) ",
		"detail.env ", "detail.env (--env) ",
		"detail.layer ", "detail.layer (--layer) ",
		"detail.group ", "detail.group (--group) ",
		"detail.toBuild ", "detail.toBuild (--to-build) ",
		"detail.reason ", "detail.reason (--reason) ",
	)
	return errors.New(replacer.Replace(err.Error()))
}
