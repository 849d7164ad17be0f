package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

const statusSynopsis = `Usage: amibump status [--app APP] [--env ENV] [--layer L] [--group G] [--json]
       amibump status --accounts ID,ID --regions R,R [--role amibump-readonly] [...]

Shows what every launch template amibump manages (tagged amibump:app) would launch if its
groups scaled out now. Read-only: it only describes templates, AMIs, groups and instances.

Per template: $Latest and $Default, each with its AMI; the release $Latest carries (build,
commit, deployed at, age); amibump AMIs still pending or failed; the SSM parameter, if the
template is tagged amibump:ssm-parameter or resolves its AMI with resolve:ssm:; the build a
rollback holds it back from (amibump:hold); the AMIs protected from deregistration; the AMIs
retired (deprecated and disabled when they left the keep window) with the time from which
reconcile deregisters them; disabled AMIs amibump did not retire. A template
tagged amibump:replicate-from=REGION (a disaster-recovery region's) also shows the source
release its $Latest follows (the source AMI, build and deploy time its copy's tags name) and
each copy still pending.
Under it, each Auto Scaling group that launches from the template: the version it launches
(pinned: a version number instead of $Latest or $Default), its instances (warm pool included), and how many run
an older image. "Older" means an image other than the AMI of the version the group launches
now: such an instance was launched before the template moved on, and only an instance
refresh (or a scale-in) replaces it. A template whose AMI is resolve:ssm:NAME is resolved
by EC2 at launch; status does not read the parameter, so its instances are not compared
("?" here, null in JSON).

Lines marked "!" are warnings. Colour only on a terminal, never with NO_COLOR set.
--json prints {"templates": [...]}, one object per template; the README documents every field.

--accounts reads each account in each of --regions under --role (default amibump-readonly,
assumed with STS AssumeRole), 16 account/region pairs at a time, with a progress line when
stderr is a terminal. --json then adds "account" and "region" to every template and an
"errors" list ({account, region, error}). A pair that cannot be read (role missing or not
trusting the caller, region not enabled) is reported and does not hide the others; the exit
code is then 4.`

// Read-only by construction: status is given only these calls.
type (
	statusEC2 interface {
		ec2.DescribeLaunchTemplatesAPIClient
		ec2.DescribeLaunchTemplateVersionsAPIClient
		ec2.DescribeImagesAPIClient
		ec2.DescribeInstancesAPIClient
	}
	statusAutoScaling interface {
		autoscaling.DescribeAutoScalingGroupsAPIClient
		autoscaling.DescribeWarmPoolAPIClient
	}
)

// statusReport is what amibump status --json prints. Account and Region are
// null when they cannot be told.
type statusReport struct {
	Account   *string          `json:"account"`
	Region    *string          `json:"region"`
	Templates []templateStatus `json:"templates"`
}

type templateStatus struct {
	LaunchTemplateID   string        `json:"launchTemplateId"`
	LaunchTemplateName string        `json:"launchTemplateName"`
	App                string        `json:"app"`
	Env                string        `json:"env"`
	Layer              string        `json:"layer"`
	Group              string        `json:"group"`
	Latest             latestStatus  `json:"latest"`
	Default            versionStatus `json:"default"`
	// Pending and Failed are amibump's AMIs for the template in those states.
	Pending      []string `json:"pending"`
	Failed       []string `json:"failed"`
	SSMParameter string   `json:"ssmParameter,omitempty"`
	// Hold is the build a rollback holds the template back from (the tag
	// amibump:hold), "" when none; HoldSince when that rollback was asked
	// for (nil when the tag tells no time: by hand, or an older rollback).
	Hold      string     `json:"hold,omitempty"`
	HoldSince *time.Time `json:"holdSince,omitempty"`
	// Disabled are amibump's disabled AMIs of the template; Retired those it
	// deprecated, waiting for their deregistration; Protected those with
	// deregistration protection.
	Disabled  []string        `json:"disabled"`
	Retired   []retiredStatus `json:"retired"`
	Protected []string        `json:"protected"`
	Groups    []groupStatus   `json:"groups"`
	// Replica is a disaster-recovery template's (amibump:replicate-from);
	// nil for any other.
	Replica *drStatus `json:"replica"`
	// Warnings is what MarshalJSON writes of templateWarnings; read back by tests.
	Warnings []string `json:"warnings"`
}

// retiredStatus is an AMI that left the keep window: deprecated (retired) at
// RetiredAt, deregistered by reconcile from DeletionDue on (the template's
// amibump:delete-after days later, or the end of its protection's cooldown).
type retiredStatus struct {
	ImageID     string    `json:"imageId"`
	BuildID     string    `json:"buildId"`
	State       string    `json:"state"`
	RetiredAt   time.Time `json:"retiredAt"`
	DeletionDue time.Time `json:"deletionDue"`
}

type versionStatus struct {
	Version int64  `json:"version"`
	ImageID string `json:"imageId"`
}

// latestStatus is $Latest with the release its AMI carries; BuildID is ""
// and DeployedAt null when the AMI is not one amibump made.
type latestStatus struct {
	Version    int64      `json:"version"`
	ImageID    string     `json:"imageId"`
	BuildID    string     `json:"buildId"`
	Commit     string     `json:"commit,omitempty"`
	DeployedAt *time.Time `json:"deployedAt"`
}

type groupStatus struct {
	Name string `json:"name"`
	// Version is the version the group launches now; Launches is how the
	// group names it ($Latest, $Default or the pinned number).
	Version  int64  `json:"version"`
	Launches string `json:"launches"`
	Pinned   bool   `json:"pinned"`
	// Instances counts the group's instances, those waiting in its warm pool
	// included (WarmPoolInstances of them): they launched from the template too.
	Instances         int `json:"instances"`
	WarmPoolInstances int `json:"warmPoolInstances"`
	// InstancesOnOlderImages is null when the group's AMI is not known here
	// (resolve:ssm:, or a pinned version that no longer exists).
	InstancesOnOlderImages *int `json:"instancesOnOlderImages"`
	// resolvesLatest: the version the group launches resolves the same SSM
	// parameter as $Latest, so it launches the current release wherever pinned.
	resolvesLatest bool
}

// MarshalJSON writes a template's status with one convention for what is
// absent: null, never "" nor a missing key (buildId, commit and deployedAt
// when amibump did not make $Latest's AMI; layer, group, env when the tag is
// absent; ssmParameter when there is none; an imageId not known); lists are
// [] when empty. "warnings" are the lines the text marks with "!".
func (t templateStatus) MarshalJSON() ([]byte, error) {
	type latestJSON struct {
		Version    int64      `json:"version"`
		ImageID    *string    `json:"imageId"`
		BuildID    *string    `json:"buildId"`
		Commit     *string    `json:"commit"`
		DeployedAt *time.Time `json:"deployedAt"`
	}
	type versionJSON struct {
		Version int64   `json:"version"`
		ImageID *string `json:"imageId"`
	}
	return json.Marshal(struct {
		LaunchTemplateID   string          `json:"launchTemplateId"`
		LaunchTemplateName string          `json:"launchTemplateName"`
		App                string          `json:"app"`
		Env                *string         `json:"env"`
		Layer              *string         `json:"layer"`
		Group              *string         `json:"group"`
		Latest             latestJSON      `json:"latest"`
		Default            versionJSON     `json:"default"`
		Pending            []string        `json:"pending"`
		Failed             []string        `json:"failed"`
		SSMParameter       *string         `json:"ssmParameter"`
		Hold               *string         `json:"hold"`
		HoldSince          *time.Time      `json:"holdSince"`
		Disabled           []string        `json:"disabled"`
		Retired            []retiredStatus `json:"retired"`
		Protected          []string        `json:"protected"`
		Groups             []groupStatus   `json:"groups"`
		Replica            *drStatus       `json:"replica"`
		Warnings           []string        `json:"warnings"`
	}{
		t.LaunchTemplateID, t.LaunchTemplateName, t.App, orNull(t.Env), orNull(t.Layer), orNull(t.Group),
		latestJSON{t.Latest.Version, orNull(t.Latest.ImageID), orNull(t.Latest.BuildID), orNull(t.Latest.Commit), t.Latest.DeployedAt},
		versionJSON{t.Default.Version, orNull(t.Default.ImageID)},
		orEmpty(t.Pending), orEmpty(t.Failed), orNull(t.SSMParameter), orNull(t.Hold), t.HoldSince,
		orEmpty(t.Disabled), orEmpty(t.Retired), orEmpty(t.Protected), orEmpty(t.Groups), t.Replica, templateWarnings(t),
	})
}

// orEmpty is list, or [] (never JSON null) when it is nil.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// orNull is s, or nil (JSON null) when s is "".
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// status runs amibump status.
func (c *cli) status(ctx context.Context, args []string) int {
	fs := c.newFlagSet("status", statusSynopsis)
	sel := map[string]*string{}
	for _, name := range []string{"app", "env", "layer", "group"} {
		sel[name] = fs.String(name, "", "only templates tagged amibump:"+name+" with this `value`")
	}
	var a awsFlags
	a.register(fs)
	jsonOut := fs.Bool("json", false, "print the status as one JSON object")
	accounts := fs.String("accounts", "", "read these `accounts` (comma-separated ids) under --role, each in every region of --regions")
	regions := fs.String("regions", "", "with --accounts: the `regions` to read (comma-separated; default --region)")
	role := fs.String("role", DefaultReadOnlyRole, "with --accounts: the `role` to assume in each account (a name, or an ARN)")
	a.registerTimeout(fs, time.Minute)
	positional, code, ok := c.parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		return c.fail("status", fmt.Errorf("unexpected argument %q: status takes only flags (amibump status -h)", positional[0]), exitInvalid)
	}
	filters := []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{event.TagApp}}}
	for _, name := range []string{"app", "env", "layer", "group"} {
		v := *sel[name]
		if v == "" {
			continue
		}
		if !event.ValidSelectorValue(v) {
			return c.fail("status", fmt.Errorf("--%s %q is not allowed: use 1-32 characters of A-Z a-z 0-9 . _ -", name, v), exitInvalid)
		}
		filters = append(filters, ec2types.Filter{Name: aws.String("tag:amibump:" + name), Values: []string{v}})
	}
	if *accounts != "" || *regions != "" {
		pairs, err := statusPairs(*accounts, cmp.Or(*regions, a.region))
		if err != nil {
			return c.fail("status", err, exitInvalid)
		}
		return c.statusAccounts(ctx, a, *role, pairs, filters, *jsonOut)
	}
	ctx, cancel := withTimeout(ctx, a)
	defer cancel()
	clients, err := c.awsClients(ctx, a)
	if err != nil {
		return c.fail("status", err, exitFailure)
	}
	// The SDK's client and the fake both describe warm pools; bump.AutoScaling
	// does not declare it, as the function never calls it.
	statusASG, ok := clients.AutoScaling.(statusAutoScaling)
	if !ok {
		return c.fail("status", fmt.Errorf("the Auto Scaling client cannot describe warm pools (DescribeWarmPool)"), exitFailure)
	}
	report, err := readStatus(ctx, clients.EC2, statusASG, filters, c.getenv)
	if t := timedOut(ctx, err); t != nil {
		err = t
	}
	if err != nil {
		code := exitFailure
		if bump.IsPermanent(err) {
			code = exitRejected
		}
		return c.fail("status", err, code)
	}
	if c.scope != nil {
		account, region := c.scope(ctx, a.profile, a.region)
		report.Account, report.Region = orNull(account), orNull(region)
	}
	if *jsonOut {
		return c.printJSON(report)
	}
	c.printStatus(report, c.now(), c.where(ctx))
	return exitOK
}

// inventory is what status reads of the account, with paginators, in five kinds
// of call whatever the number of templates: templates, groups, amibump AMIs,
// the versions in use (one call per template) and the groups' instances.
type inventory struct {
	templates []ec2types.LaunchTemplate
	groups    []astypes.AutoScalingGroup
	images    map[string]ec2types.Image                           // amibump AMIs of the templates, by id
	versions  map[string]map[int64]ec2types.LaunchTemplateVersion // by template id, then number
	instances map[string]string                                   // instance id → AMI id
	warm      map[string][]astypes.Instance                       // warm pool instances, by group name
}

func readStatus(ctx context.Context, ec2Client statusEC2, asgClient statusAutoScaling, filters []ec2types.Filter, getenv func(string) string) (statusReport, error) {
	var inv inventory
	var err error
	lts := ec2.NewDescribeLaunchTemplatesPaginator(ec2Client, &ec2.DescribeLaunchTemplatesInput{Filters: filters, MaxResults: aws.Int32(200)})
	inv.templates, err = collect(ctx, lts.HasMorePages, lts.NextPage, func(o *ec2.DescribeLaunchTemplatesOutput) []ec2types.LaunchTemplate { return o.LaunchTemplates })
	if err != nil {
		return statusReport{}, fmt.Errorf("find launch templates tagged %s: %w", event.TagApp, err)
	}
	report := statusReport{Templates: []templateStatus{}}
	if len(inv.templates) == 0 {
		return report, nil
	}
	slices.SortFunc(inv.templates, func(a, b ec2types.LaunchTemplate) int {
		return cmp.Compare(aws.ToString(a.LaunchTemplateName), aws.ToString(b.LaunchTemplateName))
	})
	groups := autoscaling.NewDescribeAutoScalingGroupsPaginator(asgClient, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)})
	inv.groups, err = collect(ctx, groups.HasMorePages, groups.NextPage, func(o *autoscaling.DescribeAutoScalingGroupsOutput) []astypes.AutoScalingGroup {
		return o.AutoScalingGroups
	})
	if err != nil {
		return statusReport{}, fmt.Errorf("list auto scaling groups: %w", err)
	}
	if err := inv.readWarmPools(ctx, asgClient); err != nil {
		return statusReport{}, err
	}
	for _, read := range []func(context.Context, statusEC2) error{inv.readImages, inv.readVersions, inv.readInstances} {
		if err := read(ctx, ec2Client); err != nil {
			return statusReport{}, err
		}
	}
	for _, lt := range inv.templates {
		report.Templates = append(report.Templates, inv.templateStatus(lt, getenv))
	}
	return report, nil
}

// collect reads every page of one of the SDK's paginators (given as its
// HasMorePages and NextPage) and returns their items.
func collect[O, T, Opt any](ctx context.Context, more func() bool, next func(context.Context, ...func(*Opt)) (O, error), items func(O) []T) ([]T, error) {
	var out []T
	for more() {
		page, err := next(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, items(page)...)
	}
	return out, nil
}

// readImages reads amibump's AMIs of the templates, as the function counts
// them (bump.ListImages).
func (inv *inventory) readImages(ctx context.Context, ec2Client statusEC2) error {
	ids := make([]string, len(inv.templates))
	for i, lt := range inv.templates {
		ids[i] = aws.ToString(lt.LaunchTemplateId)
	}
	images, err := bump.ListImages(ctx, ec2Client, ids)
	if err != nil {
		return err
	}
	inv.images = map[string]ec2types.Image{}
	for _, img := range images {
		inv.images[aws.ToString(img.ImageId)] = img
	}
	return nil
}

// groupUse is a group that launches from a template, with the version resolved.
type groupUse struct {
	group    astypes.AutoScalingGroup
	launches string // as the group names the version
	version  int64  // 0 when the group names a version that is not a number
	pinned   bool
}

// uses lists the groups that launch from lt, by name. A group that launches
// from it in several places (a mixed instances policy's overrides) is listed
// once, at the first.
func (inv *inventory) uses(lt ec2types.LaunchTemplate) []groupUse {
	var out []groupUse
	for _, g := range inv.groups {
		found := bump.GroupUses(g, aws.ToString(lt.LaunchTemplateId), aws.ToString(lt.LaunchTemplateName))
		if len(found) == 0 {
			continue
		}
		u := groupUse{group: g, launches: found[0].Version}
		switch u.launches {
		case "$Latest":
			u.version = aws.ToInt64(lt.LatestVersionNumber)
		case "$Default":
			u.version = aws.ToInt64(lt.DefaultVersionNumber)
		default:
			u.pinned = true
			u.version, _ = strconv.ParseInt(u.launches, 10, 64)
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b groupUse) int {
		return cmp.Compare(aws.ToString(a.group.AutoScalingGroupName), aws.ToString(b.group.AutoScalingGroupName))
	})
	return out
}

// versionReaders bounds the version reads of one status in flight (one call
// per template, the bulk of status's calls; EC2 has no call for several
// templates' versions): 8 at once, within EC2's DescribeLaunchTemplateVersions
// bucket (100 calls, refilled at 20 a second).
const versionReaders = 8

// readVersions reads, per template, $Latest, $Default and the versions groups
// are pinned to, versionReaders templates at a time. A pinned version that no
// longer exists is left unknown.
func (inv *inventory) readVersions(ctx context.Context, ec2Client statusEC2) error {
	inv.versions = map[string]map[int64]ec2types.LaunchTemplateVersion{}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	slots := make(chan struct{}, versionReaders)
	for _, lt := range inv.templates {
		wanted := []string{"$Latest", "$Default"}
		for _, u := range inv.uses(lt) {
			if u.pinned && u.version > 0 && !slices.Contains(wanted, u.launches) {
				wanted = append(wanted, strconv.FormatInt(u.version, 10))
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			versions, err := templateVersions(ctx, ec2Client, lt, wanted)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				first = cmp.Or(first, err)
				return
			}
			inv.versions[aws.ToString(lt.LaunchTemplateId)] = versions
		}()
	}
	wg.Wait()
	return first
}

// templateVersions reads the wanted versions of one template, by number.
func templateVersions(ctx context.Context, ec2Client statusEC2, lt ec2types.LaunchTemplate, wanted []string) (map[int64]ec2types.LaunchTemplateVersion, error) {
	id := aws.ToString(lt.LaunchTemplateId)
	versions, err := describeVersions(ctx, ec2Client, id, wanted)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidLaunchTemplateId.VersionNotFound" {
		versions, err = describeVersions(ctx, ec2Client, id, wanted[:2])
	}
	if err != nil {
		return nil, fmt.Errorf("describe versions of launch template %s: %w", aws.ToString(lt.LaunchTemplateName), err)
	}
	out := map[int64]ec2types.LaunchTemplateVersion{}
	for _, v := range versions {
		out[aws.ToInt64(v.VersionNumber)] = v
	}
	return out, nil
}

func describeVersions(ctx context.Context, ec2Client statusEC2, id string, versions []string) ([]ec2types.LaunchTemplateVersion, error) {
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(ec2Client, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: versions})
	return collect(ctx, p.HasMorePages, p.NextPage, func(o *ec2.DescribeLaunchTemplateVersionsOutput) []ec2types.LaunchTemplateVersion {
		return o.LaunchTemplateVersions
	})
}

// readWarmPools reads the warm pool instances of the groups that launch from
// the templates and have a warm pool (one paginated call each).
func (inv *inventory) readWarmPools(ctx context.Context, asgClient statusAutoScaling) error {
	inv.warm = map[string][]astypes.Instance{}
	for _, lt := range inv.templates {
		for _, u := range inv.uses(lt) {
			name := aws.ToString(u.group.AutoScalingGroupName)
			if u.group.WarmPoolConfiguration == nil || inv.warm[name] != nil {
				continue
			}
			p := autoscaling.NewDescribeWarmPoolPaginator(asgClient, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String(name), MaxRecords: aws.Int32(50)})
			instances, err := collect(ctx, p.HasMorePages, p.NextPage, func(o *autoscaling.DescribeWarmPoolOutput) []astypes.Instance { return o.Instances })
			if err != nil {
				return fmt.Errorf("describe the warm pool of group %s: %w", name, err)
			}
			inv.warm[name] = append([]astypes.Instance{}, instances...)
		}
	}
	return nil
}

// groupInstances are a group's instances and those in its warm pool, each
// once: an instance on its way between the pool and the group may be listed by
// both reads.
func (inv *inventory) groupInstances(g astypes.AutoScalingGroup) []astypes.Instance {
	return append(slices.Clone(g.Instances), inv.warmOnly(g)...)
}

// warmOnly are the instances of a group's warm pool that its Instances do not list.
func (inv *inventory) warmOnly(g astypes.AutoScalingGroup) []astypes.Instance {
	var warm []astypes.Instance
	for _, in := range inv.warm[aws.ToString(g.AutoScalingGroupName)] {
		if !slices.ContainsFunc(g.Instances, func(i astypes.Instance) bool { return aws.ToString(i.InstanceId) == aws.ToString(in.InstanceId) }) {
			warm = append(warm, in)
		}
	}
	return warm
}

// readInstances reads the AMI of every instance of the groups that launch from
// the templates. It filters on instance-id rather than naming InstanceIds,
// which fails the whole call with InvalidInstanceID.NotFound when one instance
// has just gone; 200 ids a request, as AWS documents no bound on a filter's
// values and a small one is the harsher reading.
func (inv *inventory) readInstances(ctx context.Context, ec2Client statusEC2) error {
	inv.instances = map[string]string{}
	var ids []string
	for _, lt := range inv.templates {
		for _, u := range inv.uses(lt) {
			for _, in := range inv.groupInstances(u.group) {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	slices.Sort(ids)
	for batch := range slices.Chunk(slices.Compact(ids), 200) {
		p := ec2.NewDescribeInstancesPaginator(ec2Client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000),
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: batch}}})
		reservations, err := collect(ctx, p.HasMorePages, p.NextPage, func(o *ec2.DescribeInstancesOutput) []ec2types.Reservation { return o.Reservations })
		if err != nil {
			return fmt.Errorf("describe the groups' instances: %w", err)
		}
		for _, r := range reservations {
			for _, in := range r.Instances {
				inv.instances[aws.ToString(in.InstanceId)] = aws.ToString(in.ImageId)
			}
		}
	}
	return nil
}

// defaultSSMPrefix is where amibump:ssm-parameter=true puts a template's
// parameter unless AMIBUMP_SSM_PREFIX says otherwise (the stack's ssmParameterPrefix).
const defaultSSMPrefix = plan.DefaultSSMPrefix

// ssmPrefix is the prefix of the "resolve:ssm:" image ids EC2 resolves at launch.
const ssmPrefix = plan.SSMAliasPrefix

// templateStatus assembles one template's status from what was read.
func (inv *inventory) templateStatus(lt ec2types.LaunchTemplate, getenv func(string) string) templateStatus {
	id, name := aws.ToString(lt.LaunchTemplateId), aws.ToString(lt.LaunchTemplateName)
	tags := tagMap(lt.Tags)
	st := templateStatus{LaunchTemplateID: id, LaunchTemplateName: name,
		App: tags[event.TagApp], Env: tags[event.TagEnv], Layer: tags[event.TagLayer], Group: tags[event.TagGroup],
		Pending: []string{}, Failed: []string{}, Groups: []groupStatus{}}
	latest := aws.ToInt64(lt.LatestVersionNumber)
	st.Latest = latestStatus{Version: latest, ImageID: inv.imageOf(id, latest)}
	if img, ok := inv.images[st.Latest.ImageID]; ok {
		t := tagMap(img.Tags)
		st.Latest.BuildID, st.Latest.Commit = t[event.TagBuildID], t[event.TagCommit]
		if at, err := time.Parse(time.RFC3339, t[event.TagDeployedAt]); err == nil {
			at = at.UTC()
			st.Latest.DeployedAt = &at
		}
	}
	st.Default = versionStatus{Version: aws.ToInt64(lt.DefaultVersionNumber), ImageID: inv.imageOf(id, aws.ToInt64(lt.DefaultVersionNumber))}
	st.Pending, st.Failed = inv.unfinished(id)
	st.Replica = inv.replica(id, tags, st.Latest.ImageID)
	if b, since := plan.ParseHoldTag(tags[event.TagHold]); b != "" {
		st.Hold = b
		if !since.IsZero() {
			st.HoldSince = &since
		}
	}
	settings, _ := plan.ReadSettings(tags)
	st.Disabled, st.Retired, st.Protected = inv.lifecycles(id, settings.DeleteAfter)
	st.SSMParameter = ssmParameter(st.Latest.ImageID, tags[event.TagSSMParameter], name, cmp.Or(getenv("AMIBUMP_SSM_PREFIX"), defaultSSMPrefix))
	for _, u := range inv.uses(lt) {
		st.Groups = append(st.Groups, inv.groupStatus(id, latest, u))
	}
	return st
}

// ssmParameter is the parameter a template's releases go to: the one its
// $Latest resolves (resolve:ssm:), else the one its amibump:ssm-parameter tag
// names, read by the function's rule (plan.TagParameter: "false" in any case
// is none, "true" is prefix+name). A tag the function refuses is shown as
// written.
func ssmParameter(latestImage, tag, templateName, prefix string) string {
	if param, ok := strings.CutPrefix(latestImage, ssmPrefix); ok {
		return param
	}
	name, err := plan.TagParameter(event.TagSSMParameter, tag, templateName, prefix)
	if err != nil {
		return tag
	}
	return name
}

// imageOf is the ImageId of a version of a template, "" when unknown.
func (inv *inventory) imageOf(templateID string, version int64) string {
	v, ok := inv.versions[templateID][version]
	if !ok || v.LaunchTemplateData == nil {
		return ""
	}
	return aws.ToString(v.LaunchTemplateData.ImageId)
}

// unfinished lists the template's amibump AMIs still pending, and failed,
// oldest first.
func (inv *inventory) unfinished(templateID string) (pending, failed []string) {
	pending, failed = []string{}, []string{}
	for _, img := range inv.ofTemplate(templateID) {
		switch img.State {
		case ec2types.ImageStatePending:
			pending = append(pending, aws.ToString(img.ImageId))
		case ec2types.ImageStateFailed:
			failed = append(failed, aws.ToString(img.ImageId))
		}
	}
	return pending, failed
}

// lifecycles lists the template's amibump AMIs by what happened to them
// after they were available: disabled, retired (deprecated: with when their
// deregistration is due, for a template that deletes deleteAfter days after
// retirement), protected from deregistration. Oldest first.
func (inv *inventory) lifecycles(templateID string, deleteAfter int) (disabled []string, retired []retiredStatus, protected []string) {
	disabled, retired, protected = []string{}, []retiredStatus{}, []string{}
	for _, img := range inv.ofTemplate(templateID) {
		id, l := aws.ToString(img.ImageId), bump.LifecycleOf(img)
		if img.State == ec2types.ImageStateDisabled {
			disabled = append(disabled, id)
		}
		if l.Protected {
			protected = append(protected, id)
		}
		if l.Deprecated.IsZero() || (img.State != ec2types.ImageStateDisabled && img.State != ec2types.ImageStateAvailable) {
			continue
		}
		due := plan.DeleteDue(l.Deprecated, deleteAfter)
		if l.CoolingUntil.After(due) {
			due = l.CoolingUntil
		}
		retired = append(retired, retiredStatus{ImageID: id, BuildID: tagMap(img.Tags)[event.TagBuildID], State: string(img.State), RetiredAt: l.Deprecated, DeletionDue: due})
	}
	return disabled, retired, protected
}

// ofTemplate are the template's amibump AMIs, oldest first.
func (inv *inventory) ofTemplate(templateID string) []ec2types.Image {
	var mine []ec2types.Image
	for _, img := range inv.images {
		if tagMap(img.Tags)[event.TagLaunchTemplate] == templateID {
			mine = append(mine, img)
		}
	}
	slices.SortFunc(mine, func(a, b ec2types.Image) int {
		return cmp.Or(cmp.Compare(aws.ToString(a.CreationDate), aws.ToString(b.CreationDate)), cmp.Compare(aws.ToString(a.ImageId), aws.ToString(b.ImageId)))
	})
	return mine
}

// groupStatus counts a group's instances, and those on another AMI than the
// one the group launches now.
func (inv *inventory) groupStatus(templateID string, latest int64, u groupUse) groupStatus {
	instances := inv.groupInstances(u.group)
	g := groupStatus{Name: aws.ToString(u.group.AutoScalingGroupName), Version: u.version, Launches: u.launches, Pinned: u.pinned,
		Instances: len(instances), WarmPoolInstances: len(inv.warmOnly(u.group))}
	current := inv.imageOf(templateID, u.version)
	if strings.HasPrefix(current, ssmPrefix) {
		g.resolvesLatest = current == inv.imageOf(templateID, latest)
	}
	if current == "" || strings.HasPrefix(current, ssmPrefix) {
		return g
	}
	older := 0
	for _, in := range instances {
		if ami, ok := inv.instances[aws.ToString(in.InstanceId)]; ok && ami != current {
			older++
		}
	}
	g.InstancesOnOlderImages = &older
	return g
}

func tagMap(list []ec2types.Tag) map[string]string {
	tags := map[string]string{}
	for _, t := range list {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags
}
