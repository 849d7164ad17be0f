package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// Exit codes, the same for every subcommand (also in the usage text and the README).
const (
	exitOK          = 0   // done: sent; promoted, rolled back, superseded, pending or dry-run
	exitInvalid     = 2   // invalid input: bad flags, an invalid event, no usable credentials; nothing was sent or changed
	exitRejected    = 3   // rejected: a retry of the same input will not help (see the reason)
	exitFailure     = 4   // failure: an AWS error, a failed AMI, a transient problem; a retry may help
	exitInterrupted = 130 // interrupted (Ctrl-C, SIGTERM), as a shell reports a command killed by SIGINT
)

// clientsFunc builds the AWS clients for a profile and region ("" = the
// default chain). main passes the SDK's (bump.NewClients); tests pass fakes.
type clientsFunc func(ctx context.Context, profile, region string) (bump.Clients, error)

// scopeFunc tells, for a profile and region, the account of the credentials
// and the region the clients use, for the headers of plan, run and status;
// "" when it cannot tell (the headers say so).
type scopeFunc func(ctx context.Context, profile, region string) (account, resolvedRegion string)

// option adds to a cli what not every command needs.
type option func(*cli)

// withScope gives the headers of plan, run and status their account and region.
func withScope(f scopeFunc) option { return func(c *cli) { c.scope = f } }

// withStdin gives plan and run the input that "-" names.
func withStdin(r io.Reader) option { return func(c *cli) { c.stdin = r } }

// withHeartbeat sets how often run says, on stderr, that it is still waiting
// for an AMI (default: every 30 seconds of the command's clock).
func withHeartbeat(every time.Duration) option { return func(c *cli) { c.heartbeat = every } }

// usageError is a problem with what the caller asked for, reported with exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// cli is one invocation of the command.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	clients        clientsFunc
	scope          scopeFunc // nil: headers without account and region
	// accountClients builds a role's clients in another account (status
	// --accounts); nil: not available.
	accountClients accountClientsFunc
	stdin          io.Reader
	now            func() time.Time
	heartbeat      time.Duration
	// jsonOut: the command was asked for --json, so a failure is also told as
	// a JSON object on stdout (unless the command has printed its JSON).
	jsonOut, wroteJSON bool
	// profile is the --profile in use (or AWS_PROFILE), for the hints of credential errors.
	profile string
	// flags are the AWS flags of the command, once its clients are built.
	flags awsFlags
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
roll back, and see what every managed launch template launches now.

Usage:
  amibump emit --app APP --env ENV [--layer L] [--group G] [--instance-id ID] [--dry-run] [--print]
  amibump plan EVENT.json | --app APP --env ENV [...]
  amibump run  EVENT.json | --app APP --env ENV [...]
  amibump rollback --app APP --env ENV [--layer L] [--group G] [--to-build ID] [--reason TEXT] [--dry-run] [--local]
  amibump status [--app APP] [--env ENV] [--layer L] [--group G] [--json]
  amibump status --accounts ID,ID --regions R,R [--role amibump-readonly] [--json]
  amibump help COMMAND        flags of a command (also: amibump COMMAND -h)
  amibump --version           the release of this binary

Commands:
  emit     put a deploy-finished event on the bus (--print: print the PutEvents entry instead)
  plan     run the function's dry run locally and print what it would do; changes nothing
  run      process an event locally, exactly as the function would (break-glass when it is down)
  rollback put the previous release (or --to-build's) back and hold it (--local: run it here)
  status   what each managed launch template and its groups launch now; read-only

Build id, URL and commit default to Jenkins' BUILD_TAG, BUILD_URL and GIT_COMMIT.
AWS credentials and region come from the standard chain; --profile and --region override.
Output is for people; --json prints JSON.

Exit codes:
  0    ok: the event was sent; or every target was promoted, rolled back, superseded, pending or dry-run
  2    invalid input: bad flags, an invalid event, or no usable AWS credentials (the message
       says what to do); nothing was sent or changed
  3    rejected: EventBridge refused the event, or amibump rejected it (no matching template,
       no source instance, access denied); sending the same again will not help
  4    failure: an AWS error, throttling, no answer within --timeout, a failed AMI; or status
       --accounts could not read some account/region pairs (the others are printed); trying
       again may help
  130  interrupted (Ctrl-C)
`

// run executes the command line args and returns the exit code. now is the
// clock: the time of the events it builds, and the function's clock for plan
// and run.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, clients clientsFunc, now func() time.Time, opts ...option) int {
	c := &cli{getenv: getenv, stdout: stdout, stderr: stderr, clients: clients, now: now}
	for _, o := range opts {
		o(c)
	}
	if c.stdin == nil {
		c.stdin = strings.NewReader("")
	}
	if c.heartbeat == 0 {
		c.heartbeat = 30 * time.Second
	}
	c.jsonOut = wantsJSON(args)
	code := c.dispatch(ctx, args)
	if ctx.Err() != nil {
		// The command's context ends only when the person stops it (a run
		// stopped while it waits reports the AMI pending, which is not done).
		c.printf(c.stderr, "amibump: interrupted\n")
		return exitInterrupted
	}
	if c.writeErr != nil && code == exitOK {
		return exitFailure
	}
	return code
}

// wantsJSON reports whether the command line asks for --json (before any "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "-json", "--json=true", "-json=true":
			return true
		}
	}
	return false
}

// commands are amibump's commands, in the order the usage lists them.
var commands = []string{"emit", "plan", "run", "rollback", "status"}

func (c *cli) dispatch(ctx context.Context, args []string) int {
	if len(args) == 0 {
		c.printf(c.stderr, "%s", usage)
		return exitInvalid
	}
	if args[0] == "help" && len(args) > 1 {
		if !slices.Contains(commands, args[1]) {
			return c.dispatch(ctx, args[1:]) // an unknown command, reported as such
		}
		return c.dispatch(ctx, []string{args[1], "-h"})
	}
	switch args[0] {
	case "emit":
		return c.emit(ctx, args[1:])
	case "plan":
		return c.local(ctx, "plan", args[1:])
	case "run":
		return c.local(ctx, "run", args[1:])
	case "rollback":
		return c.rollback(ctx, args[1:])
	case "status":
		return c.status(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		c.printf(c.stdout, "%s", usage)
		return exitOK
	case "version", "-version", "--version":
		c.printf(c.stdout, "%s\n", versionLine())
		return exitOK
	}
	c.printf(c.stderr, "amibump: unknown command %q; use emit, plan, run, rollback or status%s\n\n%s", args[0], didYouMean(args[0], commands, ""), usage)
	return exitInvalid
}

// errorJSON is what a command asked for --json prints on stdout when it
// fails without a result to print (never {"results": null}).
type errorJSON struct {
	Error    string `json:"error"`    // what went wrong, and what to do
	ExitCode int    `json:"exitCode"` // as the process exits
	// ErrorCode and ErrorMessage are AWS's, when AWS answered with an error.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// fail reports err for a command and returns its exit code: 2 for a usage
// error or unusable credentials, else code. With --json, it also prints the
// error as a JSON object on stdout, unless the command printed its own JSON.
func (c *cli) fail(cmd string, err error, code int) int {
	var u usageError
	if errors.As(err, &u) {
		code = exitInvalid
	}
	if hint, ok := credentialHint(err, c.profile); ok {
		err, code = fmt.Errorf("%w\n%s", err, hint), exitInvalid
	}
	if c.jsonOut && !c.wroteJSON {
		out := errorJSON{Error: err.Error(), ExitCode: code}
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			out.ErrorCode, out.ErrorMessage = apiErr.ErrorCode(), apiErr.ErrorMessage()
		}
		c.printJSON(out)
	}
	prefix := "amibump " + cmd
	if cmd == "" {
		prefix = "amibump"
	}
	c.printf(c.stderr, "%s: %v\n", prefix, err)
	return code
}

// newFlagSet returns a flag set for a command whose usage prints synopsis.
// Flags are shown as --name (Go's flag package takes -name and --name alike).
func (c *cli) newFlagSet(cmd, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("amibump "+cmd, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		c.printf(fs.Output(), "%s\n\nFlags:\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			name, help := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if name != "" {
				line += " " + name
			}
			switch f.DefValue {
			case "", "false", "0", "0s":
			default:
				help += " (default " + f.DefValue + ")"
			}
			c.printf(fs.Output(), "%s\n    \t%s\n", line, strings.ReplaceAll(help, "\n", "\n    \t"))
		})
		c.printf(fs.Output(), "\nExit codes: 0 ok, 2 invalid input, 3 rejected, 4 failure, 130 interrupted (amibump -h explains them).\n")
	}
	return fs
}

// didYouMean suggests the closest of names to a mistyped one ("" when none is
// close), each written with prefix ("--" for flags).
func didYouMean(typed string, names []string, prefix string) string {
	typed = strings.TrimLeft(typed, "-")
	best, bestDist := "", 3 // at most two edits away
	for _, n := range names {
		d := editDistance(typed, n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = min(d, 1) // a prefix: --inst for --instance-id
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + prefix + best + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
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

// parseFlags parses args and turns -h into the usage on stdout and exit code
// 0, and a bad flag into its problem (with the flag it resembles), the usage
// on stderr and 2; ok is false when the command must stop with code.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	fs.SetOutput(io.Discard) // the flag package's own report is replaced by the one below
	positional, err := parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(c.stdout)
		fs.Usage()
		return nil, exitOK, false
	case err != nil:
		msg := err.Error()
		if name, found := strings.CutPrefix(msg, "flag provided but not defined: "); found {
			var names []string
			fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			msg = "unknown flag --" + strings.TrimLeft(name, "-") + elsewhere(strings.TrimLeft(name, "-"), fs.Name()) + didYouMean(name, names, "--")
		}
		code := c.fail(strings.TrimPrefix(fs.Name(), "amibump "), usageError{errors.New(msg)}, exitInvalid)
		if !c.jsonOut {
			c.printf(c.stderr, "\n")
			fs.SetOutput(c.stderr)
			fs.Usage()
		}
		return nil, code, false
	}
	return positional, exitOK, true
}

// runOnlyFlags are run's flags that plan does not take: plan neither waits
// nor publishes.
var runOnlyFlags = []string{"max-wait", "poll-min", "poll-max", "publish-results", "bus"}

// elsewhere says which command takes a flag this one does not.
func elsewhere(name, cmd string) string {
	if cmd == "amibump plan" && slices.Contains(runOnlyFlags, name) {
		return " (run takes it; plan does not wait for an AMI nor publish results)"
	}
	return ""
}

// awsFlags are the flags that choose credentials and region, and how long a
// command waits for AWS.
type awsFlags struct {
	profile, region string
	timeout         time.Duration
}

func (a *awsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.profile, "profile", "", "AWS shared config `profile` (default: AWS_PROFILE, else the default profile)")
	fs.StringVar(&a.region, "region", "", "AWS `region` (default: AWS_REGION, then AWS_DEFAULT_REGION, else the profile's region)")
}

// registerTimeout adds --timeout: how long the command may wait for AWS in all.
func (a *awsFlags) registerTimeout(fs *flag.FlagSet, def time.Duration) {
	fs.DurationVar(&a.timeout, "timeout", def, "give up, with exit code 4, when AWS has not answered within this `duration` in all")
}

// selectorFlags select launch templates by their tags, as deploy-finished
// and rollback-requested details do.
type selectorFlags struct {
	app, env, layer, group string
}

func (t *selectorFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.app, "app", "", "`app`: selects launch templates tagged amibump:app (required)")
	fs.StringVar(&t.env, "env", "", "`env`: selects launch templates tagged amibump:env (required)")
	fs.StringVar(&t.layer, "layer", "", "`layer`: narrows to amibump:layer (default: every layer)")
	fs.StringVar(&t.group, "group", "", "`group`: narrows to amibump:group (default: every group)")
}

// detailFlags describe a deploy-finished detail on the command line.
type detailFlags struct {
	selectorFlags
	instanceID                string
	buildID, buildURL, commit string
	dryRun                    bool
}

func (d *detailFlags) register(fs *flag.FlagSet) {
	d.selectorFlags.register(fs)
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
