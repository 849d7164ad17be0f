package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/local"
)

// bins are the bootstrap and the emulator, built once for the package.
var bins local.Binaries

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the end-to-end tests skip themselves
	}
	dir, err := os.MkdirTemp("", "amibump-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// No deadline of its own: a cold build on a small, busy machine takes
	// minutes, and go test's -timeout bounds the whole run anyway.
	bins, err = local.Build(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the function and the emulator:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// env is one account behind awssim, and the real function under the emulator.
type env struct {
	t       *testing.T
	cloud   *awsfake.Cloud
	sim     *awssim.Server
	account awsfaketest.Fleet
	fn      *local.Function
}

func newEnv(t *testing.T, opts ...awsfake.Option) *env {
	t.Helper()
	return newEnvTimeout(t, 0, opts...)
}

// newEnvTimeout is newEnv with the function's timeout (0: the emulator's
// 60 s); the function waits for an AMI until its deadline minus 45 s.
func newEnvTimeout(t *testing.T, timeout time.Duration, opts ...awsfake.Option) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the function under the emulator")
	}
	opts = append([]awsfake.Option{awsfake.WithClock(awsfake.WallClock{}), awsfake.WithImageDelay(300 * time.Millisecond)}, opts...) // the bootstrap reads the system clock
	world := awsfaketest.New(opts...)
	e := &env{t: t, cloud: world.Cloud}
	e.account = awsfaketest.SeedFleet(e.cloud)
	// The function runs under the stack's own role, as synthesized: a grant
	// the role lacks fails here as it would in AWS.
	role, err := awsfaketest.FunctionRole()
	if err != nil {
		t.Fatal(err)
	}
	e.cloud.SetPolicy(&role)
	// The function signs with the default key in the default region: the
	// World serves it the default scope's Cloud.
	sim, url, err := world.Serve()
	if err != nil {
		t.Fatal(err)
	}
	e.sim = sim
	t.Cleanup(func() { _ = e.sim.Close() })
	logs := &local.LogBuffer{}
	e.fn, err = local.Start(context.Background(), bins, local.Settings{Endpoint: url, Bus: "amibump",
		PollMin: 100 * time.Millisecond, PollMax: 300 * time.Millisecond, Timeout: timeout, Logs: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.fn.Stop()
		if t.Failed() {
			t.Logf("function and emulator output:\n%s", logs.String())
		}
	})
	return e
}

// invoke sends a file of testdata/events to the function.
func (e *env) invoke(name string) (event.Response, error) {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		e.t.Fatal(err)
	}
	return e.invokeRaw(raw)
}

// invokeRaw sends an event to the function.
func (e *env) invokeRaw(raw []byte) (event.Response, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body, err := e.fn.Invoke(ctx, raw)
	if err != nil {
		return event.Response{}, err
	}
	var resp event.Response
	if err := json.Unmarshal(body, &resp); err != nil {
		e.t.Fatalf("response %s: %v", body, err)
	}
	return resp, nil
}

func (e *env) mustInvoke(name string) event.Response {
	e.t.Helper()
	resp, err := e.invoke(name)
	if err != nil {
		e.t.Fatalf("invoke %s: %v", name, err)
	}
	return resp
}

// imagesOf lists the current AMIs of a build.
func (e *env) imagesOf(build string) []ec2types.Image {
	var out []ec2types.Image
	for _, img := range e.cloud.Images() {
		for _, tag := range img.Tags {
			if aws.ToString(tag.Key) == event.TagBuildID && aws.ToString(tag.Value) == build {
				out = append(out, img)
			}
		}
	}
	return out
}

// head is the image $Latest and $Default of a template carry, and $Latest's number.
func (e *env) head(template string) (latest, def string, number int64) {
	for _, v := range e.cloud.Versions(e.account.Templates[template]) {
		if n := aws.ToInt64(v.VersionNumber); n > number {
			number, latest = n, aws.ToString(v.LaunchTemplateData.ImageId)
		}
		if aws.ToBool(v.DefaultVersion) {
			def = aws.ToString(v.LaunchTemplateData.ImageId)
		}
	}
	return latest, def, number
}

func one(t *testing.T, resp event.Response) event.Result {
	t.Helper()
	if len(resp.Results) != 1 {
		t.Fatalf("got %d results, want 1: %+v", len(resp.Results), resp.Results)
	}
	return resp.Results[0]
}

func TestBump(t *testing.T) {
	e := newEnv(t)
	res := one(t, e.mustInvoke("deploy-finished.json"))
	if res.Status != event.Promoted || res.LaunchTemplateName != "shop-web-prod-a" || res.Version != 4 || res.SourceInstance != awsfake.SampleInstance {
		t.Fatalf("got %+v, want shop-web-prod-a promoted to version 4 from %s", res, awsfake.SampleInstance)
	}
	imgs := e.imagesOf("jenkins-shop-deploy-142")
	if len(imgs) != 1 || aws.ToString(imgs[0].ImageId) != res.ImageID || imgs[0].State != ec2types.ImageStateAvailable {
		t.Fatalf("AMIs of build 142: got %+v, want one available, %s", imgs, res.ImageID)
	}
	if latest, def, n := e.head("shop-web-prod-a"); latest != res.ImageID || def != res.ImageID || n != 4 {
		t.Errorf("$Latest (version %d) carries %s and $Default %s, want both %s", n, latest, def, res.ImageID)
	}
	// keep=2: the oldest amibump release (version 2, build 138) is pruned:
	// its version deleted, its AMI retired (deregistered 14 days later).
	if res.Pruned == nil || res.Pruned.Versions != 1 || res.Pruned.Retired != 1 || res.Pruned.Images != 0 {
		t.Errorf("pruned: got %+v, want 1 version deleted and 1 image retired", res.Pruned)
	}
	if imgs := e.imagesOf("jenkins-shop-deploy-138"); len(imgs) != 1 || imgs[0].State != ec2types.ImageStateDisabled {
		t.Errorf("the AMI of build 138: %+v, want it retired (disabled)", imgs)
	}
	if got := published(e.cloud); len(got) != 1 || got[0].Status != event.Promoted {
		t.Errorf("published results: got %+v, want one promoted", got)
	}
	if p, ok := e.cloud.Parameter("/amibump/shop-web-prod-a"); !ok || aws.ToString(p.Value) != res.ImageID {
		t.Errorf("parameter /amibump/shop-web-prod-a: %+v, want it holding %s", p, res.ImageID)
	}
}

func TestReplay(t *testing.T) {
	e := newEnv(t)
	first := one(t, e.mustInvoke("deploy-finished.json"))
	again := one(t, e.mustInvoke("deploy-finished-replay.json"))
	if again.Status != event.Promoted || again.ImageID != first.ImageID || again.Version != first.Version {
		t.Errorf("replay: got %+v, want promoted with %s, version %d", again, first.ImageID, first.Version)
	}
	if n := len(e.imagesOf("jenkins-shop-deploy-142")); n != 1 {
		t.Errorf("AMIs of build 142: got %d, want 1", n)
	}
	if _, _, n := e.head("shop-web-prod-a"); n != first.Version {
		t.Errorf("$Latest is version %d, want %d: the replay made a version", n, first.Version)
	}
}

func TestStale(t *testing.T) {
	e := newEnv(t)
	newer := one(t, e.mustInvoke("deploy-finished.json"))
	res := one(t, e.mustInvoke("deploy-finished-old.json"))
	if res.Status != event.Superseded {
		t.Fatalf("got %+v, want superseded", res)
	}
	if n := len(e.imagesOf("jenkins-shop-deploy-141")); n != 0 {
		t.Errorf("AMIs of the stale build: got %d, want 0", n)
	}
	if latest, _, _ := e.head("shop-web-prod-a"); latest != newer.ImageID {
		t.Errorf("$Latest carries %s, want the newer %s", latest, newer.ImageID)
	}
}

func TestInvalid(t *testing.T) {
	e := newEnv(t)
	before := len(e.cloud.Images())
	res := one(t, e.mustInvoke("invalid-unknown-field.json"))
	if res.Status != event.Rejected || res.Reason == "" {
		t.Fatalf("got %+v, want rejected with a reason", res)
	}
	if got := len(e.cloud.Images()); got != before {
		t.Errorf("images: got %d, want %d: nothing created", got, before)
	}
	if e.sim.Requests("CreateImage") != 0 {
		t.Error("CreateImage was called for an invalid event")
	}
}

func TestFanOut(t *testing.T) {
	e := newEnv(t)
	resp := e.mustInvoke("deploy-finished-fanout.json")
	got := map[string]event.Result{}
	for _, r := range resp.Results {
		got[r.LaunchTemplateName] = r
	}
	for _, name := range []string{"shop-web-prod-a", "shop-api-prod-a", "shop-worker-prod"} {
		r, ok := got[name]
		if !ok || r.Status != event.Promoted || r.ImageID == "" {
			t.Errorf("%s: got %+v, want promoted", name, r)
		}
	}
	if len(resp.Results) != 3 {
		t.Errorf("got %d results, want 3 (shop prod only): %+v", len(resp.Results), resp.Results)
	}
	if w := got["shop-api-prod-a"].Warnings; len(w) == 0 {
		t.Error("shop-api-prod-a: no warning, want one for its group pinned to version 1")
	}
	if n := len(e.imagesOf("jenkins-shop-deploy-150")); n != 3 {
		t.Errorf("AMIs of build 150: got %d, want 3", n)
	}
	for _, name := range []string{"shop-web-staging-a", "blog-web-prod"} {
		if latest, _, n := e.head(name); n != 1 || latest != e.account.BaseAMI {
			t.Errorf("%s changed: $Latest is version %d with %s", name, n, latest)
		}
	}
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	before := len(e.cloud.Images())
	res := one(t, e.mustInvoke("deploy-finished-dry-run.json"))
	if res.Status != event.DryRun || len(res.Plan) == 0 {
		t.Fatalf("got %+v, want dry-run with a plan", res)
	}
	if got := len(e.cloud.Images()); got != before {
		t.Errorf("images: got %d, want %d", got, before)
	}
	if _, _, n := e.head("shop-web-prod-a"); n != 3 {
		t.Errorf("$Latest is version %d, want 3: a dry run changes nothing", n)
	}
}

// TestFaults runs the function against a misbehaving endpoint: short bursts
// are absorbed by the SDK's retries; a persistent fault makes the function
// return an error (so Lambda retries the event), and the retry finishes the
// job with nothing duplicated.
func TestFaults(t *testing.T) {
	t.Run("bursts are absorbed", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Inject("CreateImage", awssim.Throttled(2))
		e.sim.Inject("DescribeLaunchTemplates", awssim.ServerError(500, 1))
		e.sim.Inject("CreateLaunchTemplateVersion", awssim.Dropped(1))
		e.sim.Inject("DescribeAutoScalingGroups", awssim.Throttled(1))
		e.sim.Inject("PutEvents", awssim.ServerError(503, 1))
		e.sim.Inject("DescribeImages", awssim.Slow(200*time.Millisecond, 2))
		e.sim.Inject("PutParameter", awssim.Throttled(2))
		res := one(t, e.mustInvoke("deploy-finished.json"))
		if res.Status != event.Promoted {
			t.Fatalf("got %+v, want promoted", res)
		}
		if p, _ := e.cloud.Parameter("/amibump/shop-web-prod-a"); aws.ToString(p.Value) != res.ImageID || e.sim.Requests("PutParameter") != 3 {
			t.Errorf("parameter holds %q after %d PutParameter requests, want %s after 3", aws.ToString(p.Value), e.sim.Requests("PutParameter"), res.ImageID)
		}
		if n := len(e.imagesOf("jenkins-shop-deploy-142")); n != 1 {
			t.Errorf("AMIs: got %d, want 1", n)
		}
		if _, _, n := e.head("shop-web-prod-a"); n != 4 {
			t.Errorf("$Latest is version %d, want 4: one version made", n)
		}
	})
	for _, f := range []struct {
		name  string
		op    string
		fault awssim.Fault
	}{
		{"throttled image creation", "CreateImage", awssim.Persistent(awssim.Throttled(1))},
		{"failing promotion", "CreateLaunchTemplateVersion", awssim.Persistent(awssim.ServerError(500, 1))},
		{"dropped connections while waiting", "DescribeImages", awssim.Persistent(awssim.Dropped(1))},
	} {
		t.Run("persistent "+f.name+" is retried by Lambda", func(t *testing.T) {
			e := newEnv(t)
			e.sim.Inject(f.op, f.fault)
			_, err := e.invoke("deploy-finished.json")
			var fe *local.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want the function to return an error", err)
			}
			e.sim.Clear() // the fault passes; Lambda's retry comes
			res := one(t, e.mustInvoke("deploy-finished.json"))
			if res.Status != event.Promoted {
				t.Fatalf("retry: got %+v, want promoted", res)
			}
			if n := len(e.imagesOf("jenkins-shop-deploy-142")); n != 1 {
				t.Errorf("AMIs of build 142: got %d, want 1", n)
			}
			if _, _, n := e.head("shop-web-prod-a"); n != 4 {
				t.Errorf("$Latest is version %d, want 4: one version made", n)
			}
		})
	}
}

// published returns the bump-finished results put on the bus.
func published(c *awsfake.Cloud) []event.Result {
	var out []event.Result
	for _, e := range c.Events() {
		var r event.Result
		if aws.ToString(e.DetailType) == event.BumpFinished && json.Unmarshal([]byte(aws.ToString(e.Detail)), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// TestTemplateManagedAsCodeUnderTheRole: a template whose ImageId is
// resolve:ssm:<parameter> (Terraform's version), deployed by the function
// under the stack's role. EC2 resolves the parameter while it creates the
// version, with the function's ssm:GetParameters: the role grants it, and
// without that grant the version is refused and the deploy rejected.
func TestTemplateManagedAsCodeUnderTheRole(t *testing.T) {
	for _, tt := range []struct {
		name, without string
		want          event.Status
	}{
		{"the role as synthesized", "", event.Promoted},
		{"without ssm:GetParameters", "ssm:GetParameters", event.Rejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			const param = "/amibump/shop-web-prod-a"
			lt := e.account.Templates["shop-web-prod-a"]
			role, err := awsfaketest.FunctionRole()
			if err != nil {
				t.Fatal(err)
			}
			e.cloud.SetPolicy(nil) // Terraform's own permissions
			e.cloud.AddParameter(param, e.account.BaseAMI, "aws:ec2:image")
			if _, err := e.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
				LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("$Latest"), VersionDescription: aws.String("terraform apply"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:" + param)},
			}); err != nil {
				t.Fatal(err)
			}
			if tt.without != "" {
				role = role.Without(tt.without)
			}
			e.cloud.SetPolicy(&role)
			res := one(t, e.mustInvoke("deploy-finished.json"))
			latest, _, n := e.head("shop-web-prod-a")
			switch tt.want {
			case event.Promoted:
				if res.Status != event.Promoted || latest != "resolve:ssm:"+param || n != 5 || len(e.cloud.Denials()) != 0 {
					t.Errorf("got %+v, $Latest %d with %s, denials %q; want promoted to a version 5 that resolves %s, nothing denied",
						res, n, latest, e.cloud.Denials(), param)
				}
				if p, _ := e.cloud.Parameter(param); aws.ToString(p.Value) != res.ImageID {
					t.Errorf("parameter holds %s, want %s", aws.ToString(p.Value), res.ImageID)
				}
			default:
				if res.Status != event.Rejected || !strings.Contains(res.Reason, "UnauthorizedOperation") || n != 4 {
					t.Errorf("got %+v, $Latest %d; want rejected for UnauthorizedOperation and no version made", res, n)
				}
				if d := e.cloud.Denials(); len(d) == 0 || !strings.Contains(d[0], "ssm:GetParameters on arn:aws:ssm:") {
					t.Errorf("denials %q, want ssm:GetParameters on the parameter", d)
				}
			}
		})
	}
}
