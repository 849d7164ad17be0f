package main

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/bump"
)

// The instance the sample events name.
const namedInstance = awsfake.SampleInstance

// world is an account with amibump's usual setup, as lambda/bump's tests seed
// it: template shop-web-prod-a (app shop, env prod, layer web, group a),
// launched by group shop-web-prod-a at $Latest, its instance tagged as the
// source, and the amibump bus.
type world struct {
	t       *testing.T
	cloud   *awsfake.Cloud
	baseAMI string
	lt      string
	source  string
	// env is what the command sees as its environment (Jenkins' variables).
	env map[string]string
	// profile and region are what the command asked the clients for.
	profile, region string
	clientCalls     int
}

func newWorld(t *testing.T, templateTags map[string]string) *world {
	t.Helper()
	return newWorldOn(t, awsfaketest.New(awsfake.WithImageDelay(20*time.Millisecond)).Cloud, templateTags)
}

// newWorldOn seeds the world's account in a cloud.
func newWorldOn(t *testing.T, cloud *awsfake.Cloud, templateTags map[string]string) *world {
	t.Helper()
	w := &world{t: t, cloud: cloud, env: map[string]string{}}
	shop := awsfake.SeedShop(w.cloud, templateTags)
	w.baseAMI, w.lt, w.source = shop.BaseAMI, shop.Template, shop.Source
	return w
}

// group adds an Auto Scaling group launching from the world's template at a version.
func (w *world) group(name, version string, instances ...string) {
	w.cloud.AddGroup(name, w.lt, version, instances...)
}

// clients is the command's clientsFunc: the world's fakes.
func (w *world) clients(_ context.Context, profile, region string) (bump.Clients, error) {
	w.profile, w.region = profile, region
	w.clientCalls++
	return bump.Clients{EC2: w.cloud.EC2(), AutoScaling: w.cloud.AutoScaling(), Events: w.cloud.EventBridge(), SSM: w.cloud.SSM()}, nil
}

// scope is the world's account, and the region asked for or the world's.
func (w *world) scope(_ context.Context, _, region string) (string, string) {
	return w.cloud.Scope().Account, cmp.Or(region, w.cloud.Scope().Region)
}

// amibump runs the command line in-process against the world, with fast polls
// for run.
func (w *world) amibump(args ...string) (code int, stdout, stderr string) {
	w.t.Helper()
	if len(args) > 0 && args[0] == "run" {
		args = append([]string{args[0], "--poll-min", "1ms", "--poll-max", "5ms", "--max-wait", "10s"}, args[1:]...)
	}
	var out, errOut bytes.Buffer
	// No deadline, as on a command line: the wait is bounded by --max-wait.
	code = run(context.Background(), args, func(k string) string { return w.env[k] }, &out, &errOut, w.clients, w.cloud.Clock().Now, withScope(w.scope))
	return code, out.String(), errOut.String()
}

// head returns the version number and AMI of the template's $Latest and $Default.
func (w *world) head() (latest, def int64, latestImage string) {
	for _, v := range w.cloud.Versions(w.lt) {
		if n := aws.ToInt64(v.VersionNumber); n > latest {
			latest, latestImage = n, aws.ToString(v.LaunchTemplateData.ImageId)
		}
		if aws.ToBool(v.DefaultVersion) {
			def = aws.ToInt64(v.VersionNumber)
		}
	}
	return latest, def, latestImage
}

// sample is the path of a copy of a sample event with its time moved with the
// world's epoch (awsfaketest.Sample): a sample deploy is never one from the future.
func sample(t testing.TB, name string) string {
	t.Helper()
	raw, err := awsfaketest.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// eventFile writes a sample event with changes (awsfaketest.Edit: "id",
// "time", "detail.build.id"; nil removes) to a temporary file.
func (w *world) eventFile(name string, changes map[string]any) string {
	w.t.Helper()
	raw, err := awsfaketest.Sample(name)
	if err != nil {
		w.t.Fatal(err)
	}
	out, err := awsfaketest.Edit(raw, changes)
	if err != nil {
		w.t.Fatal(err)
	}
	path := filepath.Join(w.t.TempDir(), name)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// jenkins sets the variables Jenkins sets for a build.
func (w *world) jenkins(number string) {
	w.env["BUILD_TAG"] = "jenkins-shop-deploy-" + number
	w.env["BUILD_URL"] = "https://jenkins.example.com/job/shop-deploy/" + number + "/"
	w.env["GIT_COMMIT"] = "9f1c2e7d0a1b2c3d4e5f60718293a4b5c6d7e8f9"
}
