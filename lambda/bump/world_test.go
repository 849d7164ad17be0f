package bump_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// The instance id the sample events name.
const namedInstance = awsfake.SampleInstance

// world is an account with amibump's usual setup: app shop, env prod, template
// shop-web-prod-a launched by group shop-web-prod-a at $Latest, its instance
// tagged as the source, and the amibump bus.
type world struct {
	t       *testing.T
	env     *awsfaketest.Env
	cloud   *awsfake.Cloud
	cfg     bump.Config
	baseAMI string
	lt      string // shop-web-prod-a
	source  string
	// deadline is the invocation's time, as Lambda's context gives it.
	deadline time.Duration
}

func newWorld(t *testing.T, opts ...awsfake.Option) *world {
	t.Helper()
	opts = append([]awsfake.Option{awsfake.WithImageDelay(20 * time.Millisecond)}, opts...)
	env := awsfaketest.New(opts...)
	w := &world{t: t, env: env, cloud: env.Cloud}
	shop := env.SeedShop(nil)
	w.baseAMI, w.lt, w.source = shop.BaseAMI, shop.Template, shop.Source
	w.cfg = bump.Defaults()
	w.cfg.EventBus = "amibump"
	w.cfg.PollMin, w.cfg.PollMax = time.Millisecond, 5*time.Millisecond
	w.cfg.PromoteMargin = 20 * time.Millisecond
	w.cfg.MaxWait = 10 * time.Second
	w.cfg.ParameterWait = 50 * time.Millisecond
	w.cfg.RefreshCancelWait = 10 * time.Second
	w.deadline = 10 * time.Second
	return w
}

// template adds a managed template of app shop, env prod, with extra tags.
func (w *world) template(name string, tags map[string]string) string {
	all := map[string]string{"amibump:app": "shop", "amibump:env": "prod"}
	for k, v := range tags {
		all[k] = v
	}
	return w.cloud.AddLaunchTemplate(name, all, ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.baseAMI), InstanceType: ec2types.InstanceTypeT3Micro})
}

// group adds an Auto Scaling group launching from a template at a version,
// with InService, Healthy instances.
func (w *world) group(name, lt, version string, instances ...string) {
	w.cloud.AddGroup(name, lt, version, instances...)
}

func (w *world) bumper() *bump.Bumper {
	return bump.New(w.cloud.EC2(), w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
}

// handle sends an event (a file under testdata/events, possibly edited) to a
// fresh Bumper, as Lambda would, with a deadline.
func (w *world) handle(raw []byte) (event.Response, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), w.deadline)
	defer cancel()
	return w.bumper().Handle(ctx, raw)
}

// sample reads a file of testdata/events, its time moved with the world's
// epoch (awsfake.ShiftEvent): a sample deploy is never one from the future.
func sample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := awsfaketest.Sample(name)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// at is a time of the sample events' day (2026-11-26, UTC), moved as they are.
func at(hour, minute int) time.Time {
	return awsfake.Shift(time.Date(2026, 11, 26, hour, minute, 0, 0, time.UTC))
}

// edit changes a sample event: fields of the envelope ("id", "time") and of
// the detail ("detail.build.id", "detail.instanceId"...); a nil value removes it
// (awsfaketest.Edit).
func edit(t *testing.T, raw []byte, changes map[string]any) []byte {
	t.Helper()
	out, err := awsfaketest.Edit(raw, changes)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deployEvent is a deploy-finished event for the world's template.
func deployEvent(t *testing.T, id, build string, at time.Time) []byte {
	return edit(t, sample(t, "deploy-finished-web.json"), map[string]any{
		"id": id, "time": at.UTC().Format(time.RFC3339), "detail.build.id": build, "detail.build.commit": nil, "detail.build.url": nil,
	})
}

// amibumpImages lists the current AMIs amibump made for a template.
func (w *world) amibumpImages(lt string) []ec2types.Image {
	var out []ec2types.Image
	for _, img := range w.cloud.Images() {
		if tag(img.Tags, "amibump:launch-template") == lt {
			out = append(out, img)
		}
	}
	return out
}

func tag(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// head returns what $Latest and $Default carry.
func (w *world) head(lt string) (latest, def ec2types.LaunchTemplateVersion) {
	vs := w.cloud.Versions(lt)
	for _, v := range vs {
		if aws.ToInt64(v.VersionNumber) > aws.ToInt64(latest.VersionNumber) {
			latest = v
		}
		if aws.ToBool(v.DefaultVersion) {
			def = v
		}
	}
	return latest, def
}

func imageOf(v ec2types.LaunchTemplateVersion) string {
	if v.LaunchTemplateData == nil {
		return ""
	}
	return aws.ToString(v.LaunchTemplateData.ImageId)
}

// published returns the bump-finished results put on the bus.
func (w *world) published() []event.Result { return publishedIn(w.cloud) }

// publishedIn returns the bump-finished results put on a cloud's buses.
func publishedIn(c *awsfake.Cloud) []event.Result {
	var out []event.Result
	for _, e := range c.Events() {
		if aws.ToString(e.DetailType) != "bump-finished" {
			continue
		}
		var r event.Result
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &r); err != nil {
			panic(fmt.Sprintf("published detail %s: %v", aws.ToString(e.Detail), err))
		}
		out = append(out, r)
	}
	return out
}

func one(t *testing.T, resp event.Response) event.Result {
	t.Helper()
	if len(resp.Results) != 1 {
		t.Fatalf("got %d results, want 1: %+v", len(resp.Results), resp.Results)
	}
	return resp.Results[0]
}

func itoa(n int) string { return strconv.Itoa(n) }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
