package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// putEntry is a PutEvents request entry as `aws events put-events --entries`
// takes it: the detail is a string holding JSON. EventBridge sets the time
// when the entry has none.
type putEntry struct {
	Source       string `json:"Source"`
	DetailType   string `json:"DetailType"`
	EventBusName string `json:"EventBusName"`
	Detail       string `json:"Detail"`
}

// emitResult is emit's output with --json.
type emitResult struct {
	EventID      string `json:"eventId,omitempty"`
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

const emitSynopsis = `Usage: amibump emit --app APP --env ENV [--layer L] [--group G] [--instance-id ID] [--dry-run] [--check] [--print]

Builds the deploy-finished event, validates it as the function does, and puts it on the
bus. Prints the event id. Build id, URL and commit default to Jenkins' BUILD_TAG, BUILD_URL
and GIT_COMMIT. With --print, prints the entry as "aws events put-events --entries" takes
it instead of sending it (no AWS call, no credentials needed). With --check, first reads
the launch templates (ec2:DescribeLaunchTemplates) and sends nothing, with exit code 3,
when none is tagged for the event: amibump would reject it.`

func (c *cli) emit(ctx context.Context, args []string) int {
	fs := c.newFlagSet("emit", emitSynopsis)
	var d detailFlags
	d.register(fs)
	var a awsFlags
	a.register(fs)
	source := fs.String("source", event.DefaultCISource, "event `source`: the one the stack admits (cdk context ciSource)")
	bus := fs.String("bus", event.DefaultBusName, "event `bus` name, or ARN of a bus in another account or region (the event goes to the ARN's region)")
	printEntry := fs.Bool("print", false, "print the PutEvents entry (JSON) instead of sending it")
	check := fs.Bool("check", false, "first check that a launch template is tagged for the event (ec2:DescribeLaunchTemplates); send nothing, exit 3, when none is")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	a.registerTimeout(fs, 30*time.Second)
	positional, code, ok := c.parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return c.fail("emit", fmt.Errorf("unexpected argument %q: emit takes flags only", positional[0]), exitInvalid)
	}
	if *check && *printEntry {
		return c.fail("emit", errors.New("--check reads the launch templates and --print makes no AWS call: give one of them"), exitInvalid)
	}
	deploy := d.deploy(fs, c.getenv)
	entry, err := newEntry(deploy, *source, *bus)
	if err != nil {
		return c.fail("emit", err, exitInvalid)
	}
	if *printEntry {
		return c.printJSON([]putEntry{entry})
	}

	if a.region, err = emitRegion(a.region, entry.EventBusName); err != nil {
		return c.fail("emit", err, exitInvalid)
	}
	ctx, cancel := withTimeout(ctx, a)
	defer cancel()
	clients, err := c.awsClients(ctx, a)
	if err != nil {
		return c.fail("emit", err, exitFailure)
	}
	if *check {
		if code, ok := c.checkTemplates(ctx, clients.EC2, deploy); !ok {
			return code
		}
	}
	id, code, ok := c.putEntry(ctx, "emit", clients.Events, entry)
	if !ok {
		return code
	}
	if *jsonOut {
		return c.printJSON(emitResult{EventID: id})
	}
	c.printf(c.stdout, "%s\n", id)
	c.printf(c.stderr, "amibump emit: deploy-finished for %s, build %s, put on bus %s\n", describe(deploy), deploy.Build.ID, entry.EventBusName)
	return exitOK
}

// putEntry puts one entry on the bus and returns the event id; ok is false
// (with the exit code, the failure told) when EventBridge did not take it.
func (c *cli) putEntry(ctx context.Context, cmd string, events bump.Events, entry putEntry) (id string, code int, ok bool) {
	out, err := events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source:       aws.String(entry.Source),
		DetailType:   aws.String(entry.DetailType),
		EventBusName: aws.String(entry.EventBusName),
		Detail:       aws.String(entry.Detail),
		// No Time: EventBridge stamps the event with its own clock, so a CI
		// agent whose clock is wrong cannot send a deploy from the future.
	}}})
	if err != nil {
		if t := timedOut(ctx, err); t != nil {
			return "", c.fail(cmd, fmt.Errorf("put the event on bus %s: %w", entry.EventBusName, t), exitFailure), false
		}
		code, hint := exitFailure, ""
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			hint = entryHint(apiErr.ErrorCode())
			if bump.IsPermanent(err) || apiErr.ErrorCode() == "ResourceNotFoundException" {
				code = exitRejected
			}
		}
		return "", c.fail(cmd, fmt.Errorf("put the event on bus %s: %w%s", entry.EventBusName, err, hint), code), false
	}
	// PutEvents answers HTTP 200 when entries fail: the failure is in the entry.
	if out.FailedEntryCount > 0 || len(out.Entries) == 0 || out.Entries[0].EventId == nil {
		var failed entryError
		if len(out.Entries) > 0 {
			failed = entryError{code: aws.ToString(out.Entries[0].ErrorCode), message: aws.ToString(out.Entries[0].ErrorMessage)}
		}
		return "", c.fail(cmd, fmt.Errorf("EventBridge did not accept the event on bus %s: %s: %s%s: %w",
			entry.EventBusName, failed.code, failed.message, entryHint(failed.code), failed), entryExitCode(failed.code)), false
	}
	return aws.ToString(out.Entries[0].EventId), exitOK, true
}

// checkTemplates tells whether a launch template is tagged for the deploy, as
// the function looks them up; ok is false (with the exit code) when none is,
// or when the templates cannot be read.
func (c *cli) checkTemplates(ctx context.Context, ec2Client bump.EC2, d event.Deploy) (code int, ok bool) {
	var filters []ec2types.Filter
	for _, tv := range d.Selector() {
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:" + tv.Key), Values: []string{tv.Value}})
	}
	var names []string
	pages := ec2.NewDescribeLaunchTemplatesPaginator(ec2Client, &ec2.DescribeLaunchTemplatesInput{Filters: filters})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if t := timedOut(ctx, err); t != nil {
				err = t
			}
			code := exitFailure
			if bump.IsPermanent(err) {
				code = exitRejected
			}
			return c.fail("emit", fmt.Errorf("--check: read the launch templates: %w", err), code), false
		}
		for _, lt := range page.LaunchTemplates {
			names = append(names, aws.ToString(lt.LaunchTemplateName))
		}
	}
	if len(names) == 0 {
		return c.fail("emit", fmt.Errorf("--check: no launch template is tagged %s in this account and region, so amibump would reject this deploy; nothing was sent. Tag the template (README: Tags) or fix --app/--env/--layer/--group",
			describe(d)), exitRejected), false
	}
	c.printf(c.stderr, "amibump emit: --check: %d launch template(s) tagged %s: %s\n", len(names), describe(d), strings.Join(names, ", "))
	return exitOK, true
}

// busRegion is the region of a bus given by ARN
// (arn:<partition>:events:<region>:<account>:event-bus/<name>), "" for a bus
// given by name; an ARN of another shape is an error that says the shape.
func busRegion(bus string) (string, error) {
	if !strings.HasPrefix(bus, "arn:") {
		return "", nil
	}
	parts := strings.SplitN(bus, ":", 6)
	if len(parts) != 6 || parts[2] != "events" || parts[3] == "" || len(parts[4]) != 12 ||
		!strings.HasPrefix(parts[5], "event-bus/") || parts[5] == "event-bus/" {
		return "", fmt.Errorf("--bus %q is not an event bus ARN: arn:<partition>:events:<region>:<account>:event-bus/<name>", bus)
	}
	if !regionPattern.MatchString(parts[3]) {
		return "", fmt.Errorf("--bus %q names region %q, not an AWS Region name such as us-east-1 or cn-north-1", bus, parts[3])
	}
	return parts[3], nil
}

// emitRegion is the region emit sends to: a bus ARN's own region (EventBridge
// takes an event on the bus's regional endpoint only), else --region.
func emitRegion(flagRegion, bus string) (string, error) {
	region, err := busRegion(bus)
	switch {
	case err != nil:
		return "", usageError{err}
	case region == "":
		return flagRegion, nil
	case flagRegion != "" && flagRegion != region:
		return "", usageError{fmt.Errorf("--region %s, but --bus is a bus in %s: the event is sent to the bus's region; drop --region or make them agree", flagRegion, region)}
	}
	return region, nil
}

// newEntry validates the detail as the function does and returns the
// PutEvents entry that carries it.
func newEntry(d event.Deploy, source, bus string) (putEntry, error) {
	detail, err := json.Marshal(d)
	if err != nil {
		return putEntry{}, err
	}
	if _, err := event.ParseDeploy(detail); err != nil {
		return putEntry{}, usageError{flagNames(err)}
	}
	if err := checkSourceAndBus(source, bus); err != nil {
		return putEntry{}, err
	}
	return putEntry{Source: source, DetailType: event.DeployFinished, EventBusName: bus, Detail: string(detail)}, nil
}

// checkSourceAndBus checks an entry's source and bus before anything is sent.
func checkSourceAndBus(source, bus string) error {
	var problems []string
	if strings.TrimSpace(source) == "" || strings.HasPrefix(source, "aws.") {
		problems = append(problems, fmt.Sprintf("--source %q is not allowed: use the source the stack admits, such as %s", source, event.DefaultCISource))
	}
	if strings.TrimSpace(bus) == "" {
		problems = append(problems, "--bus is required: the name or ARN of the amibump event bus")
	} else if _, err := busRegion(bus); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return usageError{errors.New(strings.Join(problems, "\n"))}
	}
	return nil
}

// flagNames adds, to a validation error about the detail, the flag (or
// Jenkins variable) that sets each field, so a person knows what to change.
func flagNames(err error) error {
	replacer := strings.NewReplacer(
		"detail.app ", "detail.app (--app) ",
		"detail.env ", "detail.env (--env) ",
		"detail.layer ", "detail.layer (--layer) ",
		"detail.group ", "detail.group (--group) ",
		"detail.build.id ", "detail.build.id (--build-id or BUILD_TAG) ",
		"detail.build.url ", "detail.build.url (--build-url or BUILD_URL) ",
		"detail.build.commit ", "detail.build.commit (--commit or GIT_COMMIT) ",
		"detail.instanceId ", "detail.instanceId (--instance-id) ",
	)
	return errors.New(replacer.Replace(err.Error()))
}

// entryExitCode sorts a failed entry's error code: EventBridge's own
// trouble may pass on a retry (4); anything else is a refusal (3).
func entryExitCode(code string) int {
	switch code {
	case "InternalFailure", "InternalException", "ThrottlingException", "ServiceUnavailable", "":
		return exitFailure
	}
	return exitRejected
}

// entryHint tells a person what to do about a failed entry.
func entryHint(code string) string {
	switch code {
	case "ResourceNotFoundException":
		return "; check --bus: the stack's bus is named by cdk context busName (default amibump), in the account and region of the credentials"
	case "AccessDeniedException", "NotAuthorizedForSourceException", "NotAuthorizedForDetailTypeException":
		return "; the caller needs events:PutEvents on the bus, and the bus's stack must admit its account or role (cdk context ciPrincipals) or its organisation (ciOrgId)"
	case "InternalFailure", "ThrottlingException":
		return "; try again"
	}
	return ""
}

// describe names what a detail selects: "app=shop env=prod layer=web group=a".
func describe(d event.Deploy) string {
	parts := make([]string, 0, 4)
	for _, tv := range d.Selector() {
		parts = append(parts, strings.TrimPrefix(tv.Key, "amibump:")+"="+tv.Value)
	}
	return strings.Join(parts, " ")
}

// printJSON writes v as indented JSON to stdout.
func (c *cli) printJSON(v any) int {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return c.fail("", err, exitFailure)
	}
	c.printf(c.stdout, "%s\n", out)
	return exitOK
}
