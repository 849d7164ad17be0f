package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/golden"
)

// statusNow is the status world's clock, fixed so that the goldens' dates and
// ages hold on any day and any AMIBUMP_TEST_EPOCH.
var statusNow = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// statusWorld is the world's account after a few releases, on a stopped clock,
// with EC2 and Auto Scaling answering one item a page:
//   - shop-web-prod-a: v1 the base AMI, v2 build 141, v3 build 142 ($Latest and
//     $Default, protected from deregistration); build 143's AMI pending, build
//     140's failed, build 139's retired three days ago (deprecated, disabled),
//     build 138's disabled by a person; held back from build 144 by a rollback. Group
//     shop-web-prod-a launches $Latest with three instances (base, 141, 142);
//     shop-web-prod-a-canary is pinned to v2, its instance on 141.
//   - shop-worker-prod: resolves its AMI from SSM (amibump:ssm-parameter=true),
//     launched by group shop-worker-prod at $Default.
//   - legacy-web: not managed (no amibump:app); never shown.
type statusWorld struct {
	*world
	worker string
	ami    map[string]string // build number → AMI
}

func newStatusWorld(t *testing.T) *statusWorld {
	t.Helper()
	cloud := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(statusNow)), awsfake.WithImageDelay(time.Hour), awsfake.WithPageSize(1))
	w := &statusWorld{world: newWorldOn(t, cloud, nil), ami: map[string]string{}}
	release := func(build string, deployed time.Duration, state ec2types.ImageState) {
		w.ami[build] = cloud.AddImage(awsfake.Image{Name: "shop-web-prod-a-" + build, State: state, CreationDate: statusNow.Add(-deployed), Tags: map[string]string{
			event.TagLaunchTemplate: w.lt, event.TagBuildID: "jenkins-shop-deploy-" + build, event.TagCommit: "9f1c2e7d" + build,
			event.TagDeployedAt: statusNow.Add(-deployed).Format(time.RFC3339),
		}})
	}
	release("140", 50*time.Hour, ec2types.ImageStateFailed)
	release("141", 26*time.Hour, ec2types.ImageStateAvailable)
	release("142", 105*time.Minute, ec2types.ImageStateAvailable)
	release("143", 5*time.Minute, ec2types.ImageStatePending)
	for _, build := range []string{"141", "142"} {
		w.createVersion(w.lt, w.ami[build])
	}
	if _, err := cloud.EC2().ModifyLaunchTemplate(context.Background(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(w.lt), DefaultVersion: aws.String("3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.EC2().EnableImageDeregistrationProtection(context.Background(), &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(w.ami["142"]), WithCooldown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	cloud.TagLaunchTemplate(w.lt, map[string]string{event.TagHold: "jenkins-shop-deploy-144@2026-11-26T03:00:00Z"})
	on141 := cloud.AddInstance(awsfake.Instance{ID: "i-0000000000000a141", ImageID: w.ami["141"]})
	on142 := cloud.AddInstance(awsfake.Instance{ID: "i-0000000000000a142", ImageID: w.ami["142"]})
	canary := cloud.AddInstance(awsfake.Instance{ID: "i-0000000000000c141", ImageID: w.ami["141"]})
	w.group("shop-web-prod-a", "$Latest", w.source, on141, on142)
	w.group("shop-web-prod-a-canary", "2", canary)

	w.worker = cloud.AddLaunchTemplate("shop-worker-prod", map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "worker", event.TagSSMParameter: "true"},
		ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/shop-worker-prod"), InstanceType: ec2types.InstanceTypeT3Micro})
	w.groupOf(w.worker, "shop-worker-prod", "", cloud.AddInstance(awsfake.Instance{ImageID: w.baseAMI}), cloud.AddInstance(awsfake.Instance{ImageID: w.ami["142"]}))

	legacy := cloud.AddLaunchTemplate("legacy-web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.baseAMI)})
	w.groupOf(legacy, "legacy-web", "$Latest", cloud.AddInstance(awsfake.Instance{ImageID: w.baseAMI}))
	// Seeded last, so that the ids above stay as they were.
	cloud.AddImage(awsfake.Image{Name: "shop-web-prod-a-139", State: ec2types.ImageStateDisabled, CreationDate: statusNow.Add(-100 * time.Hour),
		DeprecationTime: statusNow.Add(-72 * time.Hour), Tags: map[string]string{
			event.TagLaunchTemplate: w.lt, event.TagBuildID: "jenkins-shop-deploy-139", event.TagDeployedAt: statusNow.Add(-100 * time.Hour).Format(time.RFC3339),
		}})
	release("138", 120*time.Hour, ec2types.ImageStateDisabled)
	return w
}

func (w *statusWorld) createVersion(lt, ami string) {
	w.t.Helper()
	_, err := w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami)},
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// groupOf adds a group launching from any template at a version ("" = unset).
func (w *statusWorld) groupOf(lt, name, version string, instances ...string) {
	g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name), LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt)}}
	if version != "" {
		g.LaunchTemplate.Version = aws.String(version)
	}
	for _, id := range instances {
		g.Instances = append(g.Instances, astypes.Instance{InstanceId: aws.String(id), HealthStatus: aws.String("Healthy"), LifecycleState: astypes.LifecycleStateInService})
	}
	w.cloud.AddAutoScalingGroup(g)
}

// snapshot is everything in the account that status could change, as JSON.
func (w *statusWorld) snapshot() string {
	w.t.Helper()
	groups, err := w.cloud.AutoScaling().DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	out, err := json.MarshalIndent(map[string]any{"images": w.cloud.Images(), "web": w.cloud.Versions(w.lt), "worker": w.cloud.Versions(w.worker),
		"groups": groups.AutoScalingGroups, "events": w.cloud.Events()}, "", " ")
	if err != nil {
		w.t.Fatal(err)
	}
	return string(out)
}

// mutations are the calls that change an account, of those the fakes serve.
var mutations = []string{"CreateImage", "DeregisterImage", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplateVersions", "StartInstanceRefresh", "PutEvents",
	"EnableImageDeprecation", "DisableImage", "EnableImage", "EnableImageDeregistrationProtection", "DisableImageDeregistrationProtection"}

// TestStatusGolden pins both outputs of amibump status over the status world,
// and proves the command read-only: nothing in the account changed and no
// mutating call was made.
func TestStatusGolden(t *testing.T) {
	w := newStatusWorld(t)
	before := w.snapshot()
	w.cloud.ResetCalls()

	code, stdout, stderr := w.amibump("status", "--json")
	if code != exitOK {
		t.Fatalf("status --json: exit %d\n%s", code, stderr)
	}
	golden.Check(t, "status.json", []byte(stdout))
	checkStatusJSON(t, stdout)

	code, stdout, stderr = w.amibump("status")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	golden.Check(t, "status.txt", []byte(stdout))
	if strings.Contains(stdout, "\x1b[") {
		t.Error("colour written to a writer that is not a terminal")
	}

	for _, op := range mutations {
		if n := w.cloud.Calls(op); n != 0 {
			t.Errorf("status called %s %d times; it must be read-only", op, n)
		}
	}
	if diff := cmp.Diff(before, w.snapshot()); diff != "" {
		t.Errorf("status changed the account (-before +after):\n%s", diff)
	}
}

// decodeStrict decodes raw into v, refusing members v does not have.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func TestStatusSelects(t *testing.T) {
	w := newStatusWorld(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every managed template", nil, []string{"shop-web-prod-a", "shop-worker-prod"}},
		{"by layer", []string{"--layer", "worker"}, []string{"shop-worker-prod"}},
		{"by app, env and group", []string{"--app", "shop", "--env", "prod", "--group", "a"}, []string{"shop-web-prod-a"}},
		{"nothing matches", []string{"--app", "billing"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := w.amibump(append([]string{"status", "--json"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var report statusReport
			if err := json.Unmarshal([]byte(stdout), &report); err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, tmpl := range report.Templates {
				got = append(got, tmpl.LaunchTemplateName)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("templates (-want +got):\n%s", diff)
			}
		})
	}
	if code, stdout, _ := w.amibump("status", "--app", "billing"); code != exitOK || !strings.Contains(stdout, "No launch template") {
		t.Errorf("status with no match: exit %d, %q", code, stdout)
	}
}

func TestStatusBadInput(t *testing.T) {
	w := newStatusWorld(t)
	tests := []struct {
		name  string
		args  []string
		names string // what stderr must name
	}{
		{"unknown flag", []string{"--bogus"}, "-bogus"},
		{"bad selector value", []string{"--layer", "web/x"}, `--layer "web/x"`},
		{"an argument", []string{"shop"}, `"shop"`},
		{"flag without value", []string{"--app"}, "-app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := w.clientCalls
			code, stdout, stderr := w.amibump(append([]string{"status"}, tt.args...)...)
			if code != exitInvalid || !strings.Contains(stderr, tt.names) {
				t.Errorf("exit %d, want %d with a message naming %s\n%s", code, exitInvalid, tt.names, stderr)
			}
			if stdout != "" || w.clientCalls != calls {
				t.Errorf("bad input printed %q and built clients %d times; want nothing", stdout, w.clientCalls-calls)
			}
		})
	}
	if code, stdout, _ := w.amibump("status", "-h"); code != exitOK || !strings.Contains(stdout, "older") {
		t.Errorf("status -h: exit %d, and the help must say what an older image is\n%s", code, stdout)
	}
}

// emptyString returns the path of the first "" in a JSON value, or "".
func emptyString(v any, path string) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return path
		}
	case []any:
		for i, e := range v {
			if p := emptyString(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for k, e := range v {
			if p := emptyString(e, path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestStatusAWSErrors(t *testing.T) {
	tests := []struct {
		name   string
		inject func(*awsfake.Cloud)
		want   int
	}{
		{"throttled after the SDK's retries", func(c *awsfake.Cloud) { c.FailNext("DescribeAutoScalingGroups", awsfake.Throttle()) }, exitFailure},
		{"no permission to describe instances", func(c *awsfake.Cloud) { c.Deny("DescribeInstances") }, exitRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newStatusWorld(t)
			tt.inject(w.cloud)
			code, stdout, stderr := w.amibump("status", "--json")
			var got errorJSON
			if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.ExitCode != code || got.Error == "" || got.ErrorCode == "" {
				t.Errorf("--json on an error printed %q (%v); want one JSON error object with the exit code and AWS's error code", stdout, err)
			}
			if code != tt.want || !strings.HasPrefix(stderr, "amibump status: ") {
				t.Errorf("exit %d, want %d\n%s", code, tt.want, stderr)
			}
		})
	}
}

// TestStatusColour: colour only on a terminal (/dev/null is a character
// device, as a terminal is), and never with NO_COLOR.
func TestStatusColour(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer func() { _ = devNull.Close() }()
	file, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = file.Close() }()
	tests := []struct {
		name    string
		out     *os.File
		noColor string
		want    bool
	}{
		{"terminal", devNull, "", true},
		{"terminal with NO_COLOR", devNull, "1", false},
		{"file", file, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{stdout: tt.out, getenv: func(k string) string {
				if k == "NO_COLOR" {
					return tt.noColor
				}
				return ""
			}}
			if got := c.painter()(yellow, "x") != "x"; got != tt.want {
				t.Errorf("coloured = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestStatusOverTheLocalEndpoint: through main's real SDK clients and the wire
// protocols (AWS_ENDPOINT_URL at the local endpoint, one item a page), status
// --json prints the golden object.
func TestStatusOverTheLocalEndpoint(t *testing.T) {
	w := newStatusWorld(t)
	amibump := overTheLocalEndpoint(t, w.world)
	code, stdout, stderr := amibump("status", "--json")
	if code != exitOK {
		t.Fatalf("status --json: exit %d\n%s", code, stderr)
	}
	if diff := cmp.Diff(string(golden.Read(t, "status.json")), stdout); diff != "" {
		t.Errorf("status --json over the endpoint (-golden +got):\n%s", diff)
	}
}

// TestREADMEStatusExample: the README's example is status's real output.
func TestREADMEStatusExample(t *testing.T) {
	for path, doc := range readmes(t) {
		if diff := cmp.Diff(string(golden.Read(t, "status.txt")), block(t, doc, "status")); diff != "" {
			t.Errorf("%s: the status example is not testdata/golden/status.txt (-golden +README):\n%s", path, diff)
		}
	}
}

// TestStatusPinnedToAGoneVersion: a group pinned to a version that no longer
// exists is reported with its instances not compared; the rest still reads.
func TestStatusPinnedToAGoneVersion(t *testing.T) {
	w := newStatusWorld(t)
	w.group("shop-web-prod-a-canary", "9", "i-0000000000000c141")
	code, stdout, stderr := w.amibump("status", "--json", "--layer", "web")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var report statusReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	got := map[string]groupStatus{}
	for _, g := range report.Templates[0].Groups {
		got[g.Name] = g
	}
	if g := got["shop-web-prod-a-canary"]; g.Version != 9 || !g.Pinned || g.InstancesOnOlderImages != nil {
		t.Errorf("canary %+v, want version 9, pinned, instances not compared", g)
	}
	if g := got["shop-web-prod-a"]; g.InstancesOnOlderImages == nil || *g.InstancesOnOlderImages != 2 || report.Templates[0].Latest.BuildID != "jenkins-shop-deploy-142" {
		t.Errorf("the rest of the template was not read: %+v", report.Templates[0])
	}
}

// TestStatusWarmPoolsAndResolvingPins: instances waiting in a warm pool launched
// from the template too, and are counted and compared (DescribeWarmPool lists
// them; the group's Instances do not); a group pinned to a version that
// resolves the same parameter as $Latest launches the current release and is
// not warned about. An instance listed by both (on its way out of the pool)
// counts once, as the group's.
func TestStatusWarmPoolsAndResolvingPins(t *testing.T) {
	w := newStatusWorld(t)
	w.cloud.AddWarmPool("shop-web-prod-a", w.cloud.AddInstance(awsfake.Instance{ID: "i-0000000000000w001", ImageID: w.baseAMI}), "i-0000000000000a141")
	w.createVersion(w.worker, "resolve:ssm:/amibump/shop-worker-prod")
	w.groupOf(w.worker, "shop-worker-prod-cfn", "1", w.cloud.AddInstance(awsfake.Instance{ImageID: w.ami["142"]}))
	code, stdout, stderr := w.amibump("status", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var report statusReport
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatal(err)
	}
	groups := map[string]groupStatus{}
	for _, tmpl := range report.Templates {
		for _, g := range tmpl.Groups {
			groups[g.Name] = g
		}
	}
	if g := groups["shop-web-prod-a"]; g.Instances != 4 || g.WarmPoolInstances != 1 || g.InstancesOnOlderImages == nil || *g.InstancesOnOlderImages != 3 {
		t.Errorf("shop-web-prod-a %+v: want 4 instances, 1 of them warm, 3 on older images", g)
	}
	code, stdout, stderr = w.amibump("status", "--layer", "worker")
	if code != exitOK || strings.Contains(stdout, "shop-worker-prod-cfn is pinned") || !strings.Contains(stdout, "shop-worker-prod-cfn") {
		t.Errorf("exit %d: want shop-worker-prod-cfn listed and not warned about\n%s%s", code, stdout, stderr)
	}
}

// TestStatusReadsTheFunctionsRules: status names the parameter the function
// would write, read by the same rule: amibump:ssm-parameter=false (in any
// case) is none, =TRUE is <prefix><template name>, a name is itself; and the
// AMIs it lists are those the function counts as amibump's (an AMI tagged for
// the template without amibump's build tags is not).
func TestStatusReadsTheFunctionsRules(t *testing.T) {
	for _, tt := range []struct{ tag, want string }{
		{"false", ""},
		{"FALSE", ""},
		{"TRUE", "/amibump/shop-web-prod-a"},
		{" true ", "/amibump/shop-web-prod-a"},
		{"/amibump/releases/shop", "/amibump/releases/shop"},
	} {
		t.Run(tt.tag, func(t *testing.T) {
			w := newWorld(t, map[string]string{event.TagSSMParameter: tt.tag})
			w.cloud.AddImage(awsfake.Image{Name: "hand-made", State: ec2types.ImageStatePending,
				Tags: map[string]string{event.TagLaunchTemplate: w.lt}})
			code, stdout, stderr := w.amibump("status", "--json")
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var report statusReport
			if err := json.Unmarshal([]byte(stdout), &report); err != nil || len(report.Templates) != 1 {
				t.Fatalf("%v\n%s", err, stdout)
			}
			got := report.Templates[0]
			if got.SSMParameter != tt.want {
				t.Errorf("ssmParameter %q, want %q (the function's reading of the tag)", got.SSMParameter, tt.want)
			}
			if len(got.Pending) != 0 {
				t.Errorf("pending %v, want none: the function does not count an AMI without amibump's build tags", got.Pending)
			}
		})
	}
}

// A template whose $Latest or $Default carries a disabled AMI launches
// nothing: status says so, and how to get out of it.
func TestStatusWarnsOfADisabledRelease(t *testing.T) {
	st := templateStatus{Latest: latestStatus{Version: 3, ImageID: "ami-0000000000000000c"}, Default: versionStatus{Version: 2, ImageID: "ami-0000000000000000a"},
		Disabled: []string{"ami-0000000000000000c"}}
	got := strings.Join(templateWarnings(st), "\n")
	if !strings.Contains(got, "$Latest carries AMI ami-0000000000000000c, which is disabled") || !strings.Contains(got, "aws ec2 enable-image --image-id ami-0000000000000000c") ||
		strings.Contains(got, "$Default") {
		t.Errorf("warnings %q, want one for $Latest's disabled AMI saying how to enable it, none for $Default", got)
	}
}

// checkStatusJSON checks that status --json printed the documented object,
// with one convention for what is absent (null, never ""), and returns it.
func checkStatusJSON(t *testing.T, stdout string) statusReport {
	t.Helper()
	var report statusReport
	if err := decodeStrict([]byte(stdout), &report); err != nil {
		t.Fatalf("status --json is not the documented object: %v", err)
	}
	var doc any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if path := emptyString(doc, "$"); path != "" {
		t.Errorf("status --json has \"\" at %s; an absent value is null", path)
	}
	return report
}
