package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// Exit codes, the same for every subcommand (also in the usage text and the README).
const (
	exitOK       = 0 // done: sent; promoted, superseded, pending or dry-run
	exitInvalid  = 2 // invalid input: bad flags or an invalid event; nothing was sent or changed
	exitRejected = 3 // rejected: a retry of the same input will not help (see the reason)
	exitFailure  = 4 // failure: an AWS error, a failed AMI, a transient problem; a retry may help
)

// clientsFunc builds the AWS clients for a profile and region ("" = the
// default chain). main passes the SDK's; tests pass fakes.
type clientsFunc func(ctx context.Context, profile, region string) (bump.EC2, bump.AutoScaling, bump.Events, error)

// ssmFunc builds the Systems Manager client for a profile and region, as
// clientsFunc does the others.
type ssmFunc func(ctx context.Context, profile, region string) (bump.SSM, error)

// option adds to a cli what not every command needs.
type option func(*cli)

// withSSM gives plan and run the SSM client that writes release parameters.
func withSSM(f ssmFunc) option { return func(c *cli) { c.ssm = f } }

// usageError is a problem with what the caller asked for, reported with exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// cli is one invocation of the command.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	clients        clientsFunc
	ssm            ssmFunc // nil: plan and run have no SSM client
	now            func() time.Time
	// writeErr is the first output that could not be written.
	writeErr error
}

// printf writes to w (c.stdout or c.stderr). A failed write makes the command
// fail, so that output lost to a closed pipe does not pass for success.
func (c *cli) printf(w io.Writer, format string, args ...any) {
	if _, err := fmt.Fprintf(w, format, args...); err != nil && c.writeErr == nil {
		c.writeErr = err
	}
}

const usage = `amibump: emit, plan and run amibump's deploy-finished events from a pipeline or a laptop,
and see what every managed launch template launches now.

Usage:
  amibump emit --app APP --env ENV [--layer L] [--group G] [--instance-id ID] [--dry-run] [--print]
  amibump plan EVENT.json | --app APP --env ENV [...]
  amibump run  EVENT.json | --app APP --env ENV [...]
  amibump status [--app APP] [--env ENV] [--layer L] [--group G] [--json]
  amibump COMMAND -h          flags of a command
  amibump --version           the release of this binary

Commands:
  emit   put a deploy-finished event on the bus (--print: print the PutEvents entry instead)
  plan   run the function's dry run locally and print what it would do; changes nothing
  run    process an event locally, exactly as the function would (break-glass when it is down)
  status what each managed launch template and its groups launch now; read-only

Build id, URL and commit default to Jenkins' BUILD_TAG, BUILD_URL and GIT_COMMIT.
AWS credentials and region come from the standard chain; --profile and --region override.
Output is for people; --json prints JSON.

Exit codes:
  0  ok: the event was sent; or every target was promoted, superseded, pending or dry-run
  2  invalid input: bad flags or an invalid event; nothing was sent or changed
  3  rejected: EventBridge refused the event, or amibump rejected it (no matching template,
     no source instance, access denied); sending the same again will not help
  4  failure: an AWS error, throttling, a failed AMI; trying again may help
`

// run executes the command line args and returns the exit code. now is the
// clock: the time of the events it builds, and the function's clock for plan
// and run.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clients clientsFunc, now func() time.Time, opts ...option) int {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr, clients: clients, now: now}
	for _, o := range opts {
		o(c)
	}
	code := c.dispatch(ctx, args)
	if c.writeErr != nil && code == exitOK {
		return exitFailure
	}
	return code
}

func (c *cli) dispatch(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.printf(c.stderr, "%s", usage)
		return exitInvalid
	}
	switch args[0] {
	case "emit":
		return c.emit(ctx, args[1:])
	case "plan":
		return c.local(ctx, "plan", args[1:])
	case "run":
		return c.local(ctx, "run", args[1:])
	case "status":
		return c.status(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		c.printf(c.stdout, "%s", usage)
		return exitOK
	case "version", "-version", "--version":
		c.printf(c.stdout, "%s\n", versionLine())
		return exitOK
	}
	c.printf(c.stderr, "amibump: unknown command %q; use emit, plan, run or status\n\n%s", args[0], usage)
	return exitInvalid
}

// fail reports err for a command and returns its exit code: 2 for a usage
// error, else code.
func (c *cli) fail(cmd string, err error, code int) int {
	var u usageError
	if errors.As(err, &u) {
		code = exitInvalid
	}
	c.printf(c.stderr, "amibump %s: %v\n", cmd, err)
	return code
}

// newFlagSet returns a flag set for a command whose usage prints synopsis.
func (c *cli) newFlagSet(cmd, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("amibump "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		c.printf(fs.Output(), "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		c.printf(fs.Output(), "\nExit codes: 0 ok, 2 invalid input, 3 rejected, 4 failure (amibump -h explains them).\n")
	}
	return fs
}

// parse parses flags and positional arguments in any order
// ("plan event.json --json" as well as "plan --json event.json").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// parseFlags parses args and turns -h into exit code 0 and a bad flag into 2;
// ok is false when the command must stop with code.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	positional, err := parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitInvalid, false // the flag package has printed the problem and the usage
	}
	return positional, exitOK, true
}

// awsFlags are the flags that choose credentials and region.
type awsFlags struct{ profile, region string }

func (a *awsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.profile, "profile", "", "AWS shared config `profile` (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&a.region, "region", "", "AWS `region` (default: AWS_REGION, else the profile's region)")
}

// detailFlags describe a deploy-finished detail on the command line.
type detailFlags struct {
	app, env, layer, group, instanceID string
	buildID, buildURL, commit          string
	dryRun                             bool
}

func (d *detailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.app, "app", "", "`app`: selects launch templates tagged amibump:app (required)")
	fs.StringVar(&d.env, "env", "", "`env`: selects launch templates tagged amibump:env (required)")
	fs.StringVar(&d.layer, "layer", "", "`layer`: narrows to amibump:layer (default: every layer)")
	fs.StringVar(&d.group, "group", "", "`group`: narrows to amibump:group (default: every group)")
	fs.StringVar(&d.instanceID, "instance-id", "", "the `instance` to image; only with exactly one matching template")
	fs.StringVar(&d.buildID, "build-id", "", "build `id`, unique per deploy: the idempotency key (default: $BUILD_TAG)")
	fs.StringVar(&d.buildURL, "build-url", "", "build `url`, recorded on the AMI (default: $BUILD_URL)")
	fs.StringVar(&d.commit, "commit", "", "`commit` deployed, recorded on the AMI (default: $GIT_COMMIT)")
	fs.BoolVar(&d.dryRun, "dry-run", false, "ask for a dry run: resolve and check permissions, change nothing, report the plan")
}

// detailFlagNames are the flags that make up a detail.
var detailFlagNames = []string{"app", "env", "layer", "group", "instance-id", "build-id", "build-url", "commit", "dry-run"}

// deploy returns the detail the flags describe. Build id, URL and commit
// default to Jenkins' variables; a flag given, even empty, wins.
func (d *detailFlags) deploy(fs *flag.FlagSet, getenv func(string) string) event.Deploy {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	orEnv := func(flagName, v, envName string) string {
		if set[flagName] {
			return v
		}
		return strings.TrimSpace(getenv(envName))
	}
	return event.Deploy{
		App: d.app, Env: d.env, Layer: d.layer, Group: d.group, InstanceID: d.instanceID, DryRun: d.dryRun,
		Build: event.Build{
			ID:     orEnv("build-id", d.buildID, "BUILD_TAG"),
			URL:    orEnv("build-url", d.buildURL, "BUILD_URL"),
			Commit: orEnv("commit", d.commit, "GIT_COMMIT"),
		},
	}
}

// anySet reports whether any of the named flags was given.
func anySet(fs *flag.FlagSet, names []string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n {
				found = true
			}
		}
	})
	return found
}

// localID is the id of an event made up locally: "local-" and 16 hex digits.
func localID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "local-" + hex.EncodeToString(b)
}
