package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// printStatus writes the status for a person: where (the account and
// region) first, then a block per template, its columns aligned, warnings on
// lines marked "!".
func (c *cli) printStatus(r statusReport, now time.Time, where string) {
	if where != "" {
		c.printf(c.stdout, "In %s:\n\n", where)
	}
	if len(r.Templates) == 0 {
		c.printf(c.stdout, "No launch template tagged amibump:app matches.\n")
		return
	}
	paint := c.painter()
	for i, t := range r.Templates {
		if i > 0 {
			c.printf(c.stdout, "\n")
		}
		var block bytes.Buffer
		tw := tabwriter.NewWriter(&block, 0, 0, 2, ' ', 0)
		warnings := writeTemplate(tw, t, now)
		lines := strings.Split(strings.TrimSuffix(block.String(), "\n"), "\n")
		c.printf(c.stdout, "%s\n", paint(bold, lines[0]))
		for _, l := range lines[1:] {
			c.printf(c.stdout, "%s\n", l)
		}
		for _, w := range warnings {
			c.printf(c.stdout, "%s\n", paint(yellow, "! "+w))
		}
	}
}

// writeTemplate writes one template's rows and returns its warnings. The
// versions and the groups are aligned apart.
// w writes to a bytes.Buffer, which cannot fail: its errors are not checked.
func writeTemplate(w *tabwriter.Writer, t templateStatus, now time.Time) []string {
	defer func() { _ = w.Flush() }()
	warnings := templateWarnings(t)
	row := func(cells ...string) { _, _ = fmt.Fprintln(w, strings.Join(cells, "\t")) }
	var selector []string
	for _, kv := range [][2]string{{"app", t.App}, {"env", t.Env}, {"layer", t.Layer}, {"group", t.Group}} {
		if kv[1] != "" {
			selector = append(selector, kv[0]+"="+kv[1])
		}
	}
	_, _ = fmt.Fprintf(w, "%s (%s) %s\n", t.LaunchTemplateName, t.LaunchTemplateID, strings.Join(selector, " "))
	row("  $Latest", fmt.Sprintf("v%d", t.Latest.Version), t.Latest.ImageID, release(t, now))
	def := ""
	if t.Default.Version == t.Latest.Version {
		def = "same as $Latest"
	}
	row("  $Default", fmt.Sprintf("v%d", t.Default.Version), t.Default.ImageID, def)
	replicaRows(row, t, now)
	if len(t.Pending) > 0 {
		row("  pending", strings.Join(t.Pending, " "))
	}
	if t.SSMParameter != "" {
		row("  ssm", t.SSMParameter)
	}
	writeLifecycles(row, t)
	if len(t.Groups) == 0 {
		row("  no Auto Scaling group launches from it")
		return warnings
	}
	_ = w.Flush() // to a bytes.Buffer: cannot fail
	row("  group", "launches", "instances", "on older images")
	for _, g := range t.Groups {
		older := "?"
		if g.InstancesOnOlderImages != nil {
			older = fmt.Sprint(*g.InstancesOnOlderImages)
		}
		how := g.Launches
		if g.Pinned {
			how = "pinned"
		}
		row("  "+g.Name, fmt.Sprintf("v%d (%s)", g.Version, how), fmt.Sprint(g.Instances), older)
	}
	return warnings
}

// writeLifecycles writes the template's hold, its protected AMIs, the AMIs
// retired and when they go, and the disabled ones amibump did not retire.
func writeLifecycles(row func(...string), t templateStatus) {
	if t.Hold != "" {
		if t.HoldSince != nil {
			row("  hold", "build "+t.Hold, "rolled back from at "+t.HoldSince.UTC().Format(time.RFC3339)+": no deploy of it or an older build, nor one made before then, is promoted")
		} else {
			row("  hold", "build "+t.Hold, "rolled back from: no deploy of it or an older build is promoted")
		}
	}
	if len(t.Protected) > 0 {
		row("  protected", strings.Join(t.Protected, " "), "from deregistration")
	}
	retired := map[string]bool{}
	for _, r := range t.Retired {
		retired[r.ImageID] = true
		row("  retired", r.ImageID, fmt.Sprintf("build %s, %s, retired %s; deregistered from %s", r.BuildID, r.State, r.RetiredAt.Format(time.RFC3339), r.DeletionDue.Format(time.RFC3339)))
	}
	var other []string
	for _, id := range t.Disabled {
		if !retired[id] {
			other = append(other, id)
		}
	}
	if len(other) > 0 {
		row("  disabled", strings.Join(other, " "), "not retired by amibump")
	}
}

// templateWarnings are what a person should act on, for one template: the
// "!" lines of the text, "warnings" in JSON.
func templateWarnings(t templateStatus) []string {
	warnings := []string{}
	for _, id := range t.Failed {
		warnings = append(warnings, fmt.Sprintf("AMI %s failed; the next reconcile removes it, and the next deploy makes a fresh one", id))
	}
	warnings = append(warnings, replicaWarnings(t)...)
	for _, head := range []struct{ name, id string }{{"$Latest", t.Latest.ImageID}, {"$Default", t.Default.ImageID}} {
		if slices.Contains(t.Disabled, head.id) {
			warnings = append(warnings, fmt.Sprintf("%s carries AMI %s, which is disabled: launches from it fail; enable it (aws ec2 enable-image --image-id %s) or roll back", head.name, head.id, head.id))
		}
	}
	for _, g := range t.Groups {
		warnings = append(warnings, groupWarnings(t, g)...)
	}
	return warnings
}

// release describes the release $Latest carries.
func release(t templateStatus, now time.Time) string {
	switch {
	case strings.HasPrefix(t.Latest.ImageID, ssmPrefix):
		return "resolved by EC2 at launch; instances not compared"
	case t.Latest.BuildID == "":
		return "not an AMI amibump made"
	}
	s := "build " + t.Latest.BuildID
	if t.Latest.Commit != "" {
		s += ", commit " + t.Latest.Commit
	}
	if at := t.Latest.DeployedAt; at != nil {
		s += fmt.Sprintf(", deployed %s (%s ago)", at.Format(time.RFC3339), age(now.Sub(*at)))
	}
	return s
}

func groupWarnings(t templateStatus, g groupStatus) []string {
	var out []string
	switch {
	case g.Pinned && g.resolvesLatest:
		// The pinned version resolves the parameter $Latest does: EC2 reads it at each launch.
	case g.Pinned:
		out = append(out, fmt.Sprintf("group %s is pinned to version %d and will not launch newer releases; set it to $Latest or $Default", g.Name, g.Version))
	case g.Launches == "$Default" && g.Version != t.Latest.Version:
		out = append(out, fmt.Sprintf("group %s launches $Default (v%d), not $Latest (v%d)", g.Name, g.Version, t.Latest.Version))
	}
	if n := g.InstancesOnOlderImages; n != nil && *n > 0 {
		out = append(out, fmt.Sprintf("group %s: %d of %d instances run an older image than v%d's; an instance refresh is due", g.Name, *n, g.Instances, g.Version))
	}
	return out
}

// age is a duration for a person: 45s, 12m, 5h3m, 3d4h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// ANSI styles.
const (
	bold   = "\x1b[1m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// painter returns a function that styles a line, when stdout is a terminal
// and NO_COLOR (https://no-color.org) is unset or empty; else one that
// leaves it as it is.
func (c *cli) painter() func(style, line string) string {
	plain := func(_, line string) string { return line }
	f, ok := c.stdout.(*os.File)
	if !ok || c.getenv("NO_COLOR") != "" || c.getenv("TERM") == "dumb" {
		return plain
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return plain
	}
	return func(style, line string) string { return style + line + reset }
}
