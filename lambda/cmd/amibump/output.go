package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/event"
)

// printResults writes the function's response for a person: a line about the
// event, then a short block per launch template.
// failed says the run ended with an error (reported apart).
// where is the account and region, for the first line ("" to leave it out).
func (c *cli) printResults(cmd string, raw []byte, resp event.Response, failed bool, where string) {
	say := func(format string, args ...any) { c.printf(c.stdout, format, args...) }
	if where != "" {
		where = " in " + where
	}
	if env, err := event.ParseEnvelope(raw); err == nil {
		what := fmt.Sprintf("%s event %s at %s", env.DetailType, env.ID, env.Time.UTC().Format(time.RFC3339))
		if d, err := event.ParseDeploy(env.Detail); err == nil && env.Classify() == event.KindDeploy {
			what = fmt.Sprintf("deploy of build %s to %s (event %s at %s)", d.Build.ID, describe(*d), env.ID, env.Time.UTC().Format(time.RFC3339))
		}
		if cmd == "plan" {
			say("Plan for the %s%s; dry run, nothing was changed.\n", what, where)
		} else {
			say("Processed the %s%s.\n", what, where)
		}
	}
	if len(resp.Results) == 0 {
		if !failed {
			say("\nNothing to do.\n")
		}
		return
	}
	for _, r := range resp.Results {
		say("\n")
		switch {
		case r.LaunchTemplateName != "":
			say("%s (%s): %s\n", r.LaunchTemplateName, r.LaunchTemplateID, r.Status)
		case r.LaunchTemplateID != "":
			say("%s: %s\n", r.LaunchTemplateID, r.Status)
		default:
			say("%s\n", r.Status)
		}
		row := func(key, value string) {
			if value != "" {
				say("  %-9s %s\n", key+":", value)
			}
		}
		row("reason", r.Reason)
		row("image", r.ImageID)
		if r.Version != 0 {
			row("version", fmt.Sprint(r.Version))
		}
		row("source", r.SourceInstance)
		row("copy of", r.CopyOf)
		if r.Build != nil && cmd == "run" {
			b := r.Build.ID
			if r.Build.Commit != "" {
				b += ", commit " + r.Build.Commit
			}
			row("build", b)
		}
		if r.Pruned != nil {
			row("pruned", fmt.Sprintf("%d versions, %d AMIs retired, %d AMIs and %d snapshots deregistered", r.Pruned.Versions, r.Pruned.Retired, r.Pruned.Images, r.Pruned.Snapshots))
		}
		if len(r.Plan) > 0 {
			say("  plan:\n")
			for _, p := range r.Plan {
				say("    - %s\n", p)
			}
		}
		for _, warning := range r.Warnings {
			say("  WARNING: %s\n", strings.TrimSpace(warning))
		}
	}
}
