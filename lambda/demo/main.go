// Command demo runs amibump on this machine, without an AWS account: it builds
// the function, starts a local AWS endpoint (awssim) seeded with a realistic
// account, runs the function under the Lambda Runtime Interface Emulator, sends
// it a deploy, a replay of it, an older deploy and a fan-out, forwards the
// promotions to a second region's function, whose template follows the release
// by copies, and tells what happened. It stops everything it started, also on
// Ctrl-C.
//
// With -serve it only starts the seeded endpoint, prints the export lines that
// point amibump (and the AWS CLI) at it, and keeps it up until Ctrl-C: a place
// to try amibump status, plan, run and emit without an AWS account.
//
//	go run ./lambda/demo         # or: make demo
//	go run ./lambda/demo -logs   # with the function's JSON logs
//	go run ./lambda/demo -serve  # or: make sim
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/local"
)

func main() {
	logs := flag.Bool("logs", false, "show the function's JSON logs")
	serveOnly := flag.Bool("serve", false, "only start the seeded local AWS endpoint, print the export lines that point amibump at it, and keep it up until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	if *serveOnly {
		err = serve(ctx, printer{os.Stdout}, 0)
	} else {
		err = run(ctx, printer{os.Stdout}, *logs)
	}
	stop()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "demo: interrupted; everything it started is stopped")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// events are what the demo sends, from testdata/events, and why.
var events = []struct{ file, what string }{
	{"deploy-finished.json", "Jenkins finished deploy 142 of shop/prod web a, on instance " + awsfake.SampleInstance},
	{"deploy-finished-replay.json", "the same deploy again, replayed from the archive"},
	{"deploy-finished-old.json", "an older deploy (141) arrives late"},
	{"deploy-finished-fanout.json", "deploy 150 of shop/prod with no layer or group: every shop prod template"},
}

func run(ctx context.Context, w printer, showLogs bool) error {
	began := time.Now()
	root, err := awsfaketest.Root()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "amibump-demo-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	w.printf("Building the function (bootstrap, for this machine) and the Lambda Runtime Interface Emulator...\n")
	bins, err := local.Build(ctx, dir)
	if err != nil {
		return err
	}

	world := awsfaketest.New(awsfake.WithClock(awsfake.WallClock{}), awsfake.WithImageDelay(500*time.Millisecond),
		awsfake.WithCopyTime(time.Second)) // the bootstrap reads the system clock
	cloud := world.Cloud
	account := awsfaketest.SeedFleet(cloud)
	drLT := seedDR(world)
	// The function runs under the stack's role as synthesized: the endpoint
	// denies, as AWS would, what the role does not grant.
	role, err := awsfaketest.FunctionRole()
	if err != nil {
		return err
	}
	cloud.SetPolicy(&role)
	sim, endpoint, err := world.Serve()
	if err != nil {
		return err
	}
	defer func() { _ = sim.Close() }()
	w.printf("Local AWS endpoint at %s, account %s, %s, permissions of the stack's role (testdata/iam/function-role.json):\n",
		endpoint, awsfake.Account, awsfake.Region)
	describeAccount(ctx, w, cloud, account)

	fnLogs := io.Discard
	if showLogs {
		fnLogs = os.Stderr
	}
	fn, err := local.Start(ctx, bins, local.Settings{Endpoint: endpoint, Bus: "amibump",
		PollMin: 200 * time.Millisecond, PollMax: time.Second, Logs: fnLogs})
	if err != nil {
		return err
	}
	defer fn.Stop()
	w.printf("Function running under the emulator, AWS_ENDPOINT_URL pointing at the endpoint.\n")

	drFn, err := startDR(ctx, w, bins, endpoint, fnLogs)
	if err != nil {
		return err
	}
	defer drFn.Stop()
	for _, ev := range events {
		raw, err := os.ReadFile(filepath.Join(root, "testdata", "events", ev.file))
		if err != nil {
			return err
		}
		w.printf("\n> %s\n  %s\n", ev.file, ev.what)
		t0 := time.Now()
		body, err := fn.Invoke(ctx, raw)
		if err != nil {
			var fe *local.FunctionError
			if errors.As(err, &fe) {
				w.printf("  function error (Lambda would retry): %s\n", fe.Message)
				continue
			}
			return err
		}
		var resp event.Response
		if err := json.Unmarshal(body, &resp); err != nil {
			return fmt.Errorf("read the function's response %s: %w", body, err)
		}
		for _, r := range resp.Results {
			describeResult(w, r)
		}
		w.printf("  (%s)\n", time.Since(t0).Round(time.Millisecond))
		for _, r := range resp.Results {
			if r.Status == event.Promoted && r.LaunchTemplateName == "shop-web-prod-a" {
				if err := forwardToDR(ctx, w, drFn, ev.file, r); err != nil {
					return err
				}
			}
		}
	}
	describeDR(w, world, drLT)

	w.printf("\nLaunch templates now:\n")
	describeTemplates(w, cloud, account)
	if p, ok := cloud.Parameter("/amibump/shop-web-prod-a"); ok {
		w.printf("\nSSM parameter %s (what Terraform or CloudFormation reads): %s\n", aws.ToString(p.Name), aws.ToString(p.Value))
	}
	w.printf("\n%d AMIs registered; %d results published on the bus \"amibump\". Done in %s.\n",
		len(cloud.Images()), len(cloud.Events()), time.Since(began).Round(100*time.Millisecond))
	return nil
}

// localCredentials are what the endpoint takes: the key of the seeded
// account (another key is refused, as AWS refuses an unknown one).
var localCredentials = map[string]string{"AWS_ACCESS_KEY_ID": awsfake.DefaultAccessKey, "AWS_SECRET_ACCESS_KEY": "local"}

// exportLines are the shell lines that point the AWS SDKs and CLIs at endpoint.
func exportLines(endpoint string) []string {
	return []string{
		"export AWS_ENDPOINT_URL=" + endpoint,
		"export AWS_REGION=" + awsfake.Region + " AWS_DEFAULT_REGION=" + awsfake.Region,
		"export AWS_ACCESS_KEY_ID=" + localCredentials["AWS_ACCESS_KEY_ID"] + " AWS_SECRET_ACCESS_KEY=" + localCredentials["AWS_SECRET_ACCESS_KEY"],
		"unset AWS_PROFILE AWS_SESSION_TOKEN",
	}
}

// serve starts the seeded endpoint on port (0 = any free one), prints how to
// use it, and keeps it up until ctx ends (Ctrl-C). AMIs become available two
// seconds after they are made, on this machine's clock.
func serve(ctx context.Context, w printer, port int) error {
	world := awsfaketest.New(awsfake.WithClock(awsfake.WallClock{}), awsfake.WithImageDelay(2*time.Second))
	cloud := world.Cloud
	account := awsfaketest.SeedFleet(cloud)
	sim := awssim.NewWorld(world.World)
	endpoint, err := sim.Start(port)
	if err != nil {
		return err
	}
	defer func() { _ = sim.Close() }()
	w.printf("Local AWS endpoint at %s, account %s, %s, bus \"amibump\":\n", endpoint, awsfake.Account, awsfake.Region)
	describeAccount(ctx, w, cloud, account)
	w.printf("\nPoint amibump (and the AWS CLI) at it, in another shell:\n\n")
	for _, line := range exportLines(endpoint) {
		w.printf("  %s\n", line)
	}
	w.printf("\nthen, for example:\n\n" +
		"  amibump status\n" +
		"  amibump plan --app shop --env prod --layer web --group a --build-id try-1\n" +
		"  amibump run  --app shop --env prod --layer web --group a --build-id try-1\n" +
		"  amibump emit --app shop --env prod --build-id try-2   # on the bus; no function here processes it\n" +
		"\nCtrl-C stops the endpoint (everything in it is forgotten).\n")
	<-ctx.Done()
	w.printf("Endpoint stopped.\n")
	return nil
}

func describeResult(w printer, r event.Result) {
	name := r.LaunchTemplateName
	if name == "" {
		name = "(event)"
	}
	line := fmt.Sprintf("  %-20s %-10s", name, r.Status)
	if r.ImageID != "" {
		line += " " + r.ImageID
	}
	if r.Version != 0 {
		line += fmt.Sprintf(" version %d", r.Version)
	}
	if r.CopyOf != "" && r.Status == event.Promoted {
		line += " copy of " + r.CopyOf
	} else if r.SourceInstance != "" && r.Status == event.Promoted {
		line += " from " + r.SourceInstance
	}
	w.printf("%s\n", line)
	if r.Reason != "" {
		w.printf("      why: %s\n", r.Reason)
	}
	for _, warn := range r.Warnings {
		w.printf("      warning: %s\n", warn)
	}
	if p := r.Pruned; p != nil && p.Versions+p.Images+p.Snapshots > 0 {
		w.printf("      pruned: %d old version(s), %d AMI(s), %d snapshot(s)\n", p.Versions, p.Images, p.Snapshots)
	}
}

func describeAccount(ctx context.Context, w printer, cloud *awsfake.Cloud, account awsfaketest.Fleet) {
	out, err := cloud.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		return
	}
	byTemplate := map[string]string{}
	for _, g := range out.AutoScalingGroups {
		spec := g.LaunchTemplate
		mixed := ""
		if spec == nil && g.MixedInstancesPolicy != nil && g.MixedInstancesPolicy.LaunchTemplate != nil {
			spec, mixed = g.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification, ", mixed instances"
		}
		if spec == nil {
			continue
		}
		byTemplate[templateName(spec, account)] = fmt.Sprintf("group %s at %s%s", aws.ToString(g.AutoScalingGroupName), aws.ToString(spec.Version), mixed)
	}
	for _, name := range sortedNames(account) {
		latest, _, n := head(cloud, account.Templates[name])
		w.printf("  %-20s version %d (%s), %s\n", name, n, latest, byTemplate[name])
	}
}

func templateName(spec *astypes.LaunchTemplateSpecification, account awsfaketest.Fleet) string {
	if spec.LaunchTemplateName != nil {
		return *spec.LaunchTemplateName
	}
	for name, id := range account.Templates {
		if id == aws.ToString(spec.LaunchTemplateId) {
			return name
		}
	}
	return aws.ToString(spec.LaunchTemplateId)
}

func describeTemplates(w printer, cloud *awsfake.Cloud, account awsfaketest.Fleet) {
	for _, name := range sortedNames(account) {
		latest, def, n := head(cloud, account.Templates[name])
		same := "$Default too"
		if def != latest {
			same = "$Default " + def
		}
		w.printf("  %-20s $Latest = version %d, %s; %s\n", name, n, latest, same)
	}
}

func head(cloud *awsfake.Cloud, id string) (latest, def string, number int64) {
	for _, v := range cloud.Versions(id) {
		if n := aws.ToInt64(v.VersionNumber); n > number {
			number, latest = n, aws.ToString(v.LaunchTemplateData.ImageId)
		}
		if aws.ToBool(v.DefaultVersion) {
			def = aws.ToString(v.LaunchTemplateData.ImageId)
		}
	}
	return latest, def, number
}

func sortedNames(account awsfaketest.Fleet) []string {
	names := make([]string, 0, len(account.Templates))
	for n := range account.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// printer writes the account of the demo; a failed write to the terminal is
// not worth stopping for.
type printer struct{ w io.Writer }

func (p printer) printf(format string, args ...any) { _, _ = fmt.Fprintf(p.w, format, args...) }

// drRegion is the demo's disaster-recovery region.
const drRegion = "us-west-2"

// seedDR gives the World a second region with template shop-web-prod-a-dr,
// tagged like shop-web-prod-a and amibump:replicate-from=us-east-1, under
// the stack's role as deployed there; it returns the template's id.
func seedDR(world *awsfaketest.Env) string {
	dr := world.Scope(awsfake.Scope{Account: awsfake.Account, Region: drRegion})
	dr.CreateEventBus("amibump")
	base := dr.AddImage(awsfake.Image{Name: "base-2026-01"})
	if role, err := awsfaketest.FunctionRole(); err == nil {
		role = role.InRegion(drRegion)
		dr.SetPolicy(&role)
	}
	return dr.AddLaunchTemplate("shop-web-prod-a-dr", map[string]string{
		event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a", event.TagReplicateFrom: awsfake.Region,
	}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(base), InstanceType: ec2types.InstanceTypeT3Micro})
}

// startDR starts the function of the DR region, where shop-web-prod-a-dr
// follows shop-web-prod-a of us-east-1.
func startDR(ctx context.Context, w printer, bins local.Binaries, endpoint string, logs io.Writer) (*local.Function, error) {
	fn, err := local.Start(ctx, bins, local.Settings{Endpoint: endpoint, Bus: "amibump", Region: drRegion,
		PollMin: 200 * time.Millisecond, PollMax: time.Second, Logs: logs})
	if err == nil {
		w.printf("A second function in %s, whose template shop-web-prod-a-dr is tagged amibump:replicate-from=%s.\n", drRegion, awsfake.Region)
	}
	return fn, err
}

// forwardToDR sends a promotion of shop-web-prod-a to the DR region's
// function, as the source stack's rule forwards it (replicaRegions): the DR
// template follows by a copy of the AMI.
func forwardToDR(ctx context.Context, w printer, fn *local.Function, id string, r event.Result) error {
	raw, err := json.Marshal(map[string]any{"version": "0", "id": "forward-" + id, "detail-type": event.BumpFinished,
		"source": event.SourceAmibump, "account": awsfake.Account, "time": time.Now().UTC().Format(time.RFC3339),
		"region": awsfake.Region, "resources": []string{}, "detail": r})
	if err != nil {
		return err
	}
	w.printf("  -> its result forwarded to %s, where the copy takes a second:\n", drRegion)
	body, err := fn.Invoke(ctx, raw)
	if err != nil {
		return err
	}
	var resp event.Response
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("read the function's response %s: %w", body, err)
	}
	for _, res := range resp.Results {
		describeResult(w, res)
	}
	if len(resp.Results) == 0 {
		w.printf("  nothing to do: %s already has this release\n", "shop-web-prod-a-dr")
	}
	return nil
}

// describeDR tells what the DR template carries.
func describeDR(w printer, world *awsfaketest.Env, drLT string) {
	dr := world.Scope(awsfake.Scope{Account: awsfake.Account, Region: drRegion})
	for _, v := range dr.Versions(drLT) {
		if aws.ToBool(v.DefaultVersion) {
			img, _ := dr.Image(aws.ToString(v.LaunchTemplateData.ImageId))
			w.printf("\nshop-web-prod-a-dr in %s: $Default is version %d, %s, a copy of %s\n", drRegion, aws.ToInt64(v.VersionNumber),
				aws.ToString(img.ImageId), tagValue(img.Tags, event.TagCopyOf))
		}
	}
}

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
