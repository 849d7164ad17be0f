package bump_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// drRegion is the disaster-recovery region of the DR tests; the source is
// the default scope's region (us-east-1).
const drRegion = "us-west-2"

// drWorld is the usual world (the source region) and a second region of the
// same account with template shop-web-prod-a-dr, tagged like the source's
// template and amibump:replicate-from=us-east-1.
type drWorld struct {
	*world
	dr      *awsfake.Cloud
	drLT    string
	drScope awsfake.Scope
	// down makes the source region unreachable for the DR function.
	down error
	// wrapSource, when set, wraps the DR function's client of the source region.
	wrapSource func(bump.EC2) bump.EC2
}

func newDRWorld(t *testing.T, opts ...awsfake.Option) *drWorld {
	t.Helper()
	w := newWorld(t, opts...)
	d := &drWorld{world: w, drScope: awsfake.Scope{Account: awsfake.Account, Region: drRegion}}
	d.dr = w.env.Scope(d.drScope)
	d.dr.CreateEventBus("amibump")
	base := d.dr.AddImage(awsfake.Image{Name: "base-2026-01", Tags: map[string]string{"team": "platform"}})
	d.drLT = d.dr.AddLaunchTemplate("shop-web-prod-a-dr", map[string]string{
		event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a", event.TagReplicateFrom: awsfake.Region,
	}, ec2types.RequestLaunchTemplateData{ImageId: aws.String(base), InstanceType: ec2types.InstanceTypeT3Micro})
	return d
}

// drBumper is the DR region's function: its clients in us-west-2 (CopyImage
// served by the World), the other regions' through WithRegions.
func (d *drWorld) drBumper() *bump.Bumper { return d.drBumperDown(d.down) }

// drBumperDown is the DR region's function with the source region down
// (unreachable with the error down) or up (nil).
func (d *drWorld) drBumperDown(down error) *bump.Bumper {
	c := bump.Clients{Scope: bump.Scope{Account: d.drScope.Account, Region: drRegion}, EC2: d.env.World.EC2(d.drScope),
		AutoScaling: d.dr.AutoScaling(), Events: d.dr.EventBridge(), SSM: d.dr.SSM()}
	return bump.ForClients(c, d.cfg, nil).WithClock(d.cloud.Clock().Now).WithRegions(func(region string) (bump.Clients, error) {
		s := awsfake.Scope{Account: d.drScope.Account, Region: region}
		var api bump.EC2 = d.env.World.EC2(s)
		if down != nil {
			api = downEC2{api, down}
		}
		if d.wrapSource != nil {
			api = d.wrapSource(api)
		}
		return bump.Clients{Scope: bump.Scope{Account: s.Account, Region: region}, EC2: api}, nil
	})
}

// handleDR sends an event to the DR region's function.
func (d *drWorld) handleDR(raw []byte) (event.Response, error) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.deadline)
	defer cancel()
	return d.drBumper().Handle(ctx, raw)
}

// forwarded is the source's result as the DR bus delivers it.
func forwarded(t *testing.T, res event.Result, id string) []byte {
	t.Helper()
	detail, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(detail, &m); err != nil {
		t.Fatal(err)
	}
	return edit(t, sample(t, "bump-finished-forwarded.json"), map[string]any{"id": id, "detail": m})
}

// tick is a reconcile tick at the world's time.
func (d *drWorld) tick(t *testing.T, id string) []byte {
	return edit(t, sample(t, "scheduled-reconcile.json"), map[string]any{"id": id, "time": d.cloud.Clock().Now().UTC().Format(time.RFC3339), "region": drRegion})
}

// drDefault is the AMI of the DR template's $Default.
func (d *drWorld) drDefault() string {
	for _, v := range d.dr.Versions(d.drLT) {
		if aws.ToBool(v.DefaultVersion) {
			return aws.ToString(v.LaunchTemplateData.ImageId)
		}
	}
	return ""
}

// downEC2 is a region that cannot be reached: every call fails as the SDK
// reports an endpoint it cannot connect to.
type downEC2 struct {
	bump.EC2
	err error
}

func (e downEC2) DescribeLaunchTemplates(context.Context, *ec2.DescribeLaunchTemplatesInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return nil, e.err
}

func (e downEC2) DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	return nil, e.err
}

// TestDRPushCopiesAndPromotes: a promotion forwarded from the source region
// is copied into the DR region, named and tagged like any amibump AMI of the
// DR template plus amibump:copy-of, and promoted there; the same forward
// again makes nothing new.
func TestDRPushCopiesAndPromotes(t *testing.T) {
	d := newDRWorld(t)
	src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
	if src.Status != event.Promoted {
		t.Fatalf("source: %+v", src)
	}
	got := one(t, must(d.handleDR(forwarded(t, src, "fwd-1"))))
	if got.Status != event.Promoted || got.LaunchTemplateID != d.drLT || got.Region != drRegion {
		t.Fatalf("DR: %+v, want promoted on %s in %s", got, d.drLT, drRegion)
	}
	if want := awsfake.Region + "/" + src.ImageID; got.CopyOf != want {
		t.Errorf("DR result's copyOf = %q, want %q", got.CopyOf, want)
	}
	copied, ok := d.dr.Image(got.ImageID)
	if !ok || d.drDefault() != got.ImageID {
		t.Fatalf("DR $Default carries %s, want the copy %s (found %v)", d.drDefault(), got.ImageID, ok)
	}
	srcImg, _ := d.cloud.Image(src.ImageID)
	tags, srcTags := tagMap(copied.Tags), tagMap(srcImg.Tags)
	for k, v := range srcTags {
		if strings.HasPrefix(k, "amibump:") && k != event.TagLaunchTemplate && tags[k] != v {
			t.Errorf("copy's %s = %q, want the source's %q", k, tags[k], v)
		}
	}
	if tags[event.TagLaunchTemplate] != d.drLT || tags[event.TagCopyOf] != awsfake.Region+"/"+src.ImageID || !strings.HasPrefix(aws.ToString(copied.Name), "shop-web-prod-a-dr-") {
		t.Errorf("copy %s: tags %v, want launch-template %s and copy-of %s/%s", aws.ToString(copied.Name), tags, d.drLT, awsfake.Region, src.ImageID)
	}
	var copies int
	for _, s := range d.dr.Snapshots() {
		if strings.Contains(aws.ToString(s.Description), got.ImageID) {
			copies++
			if tagMap(s.Tags)[event.TagCopyOf] != awsfake.Region+"/"+src.ImageID || tagMap(s.Tags)[event.TagLaunchTemplate] != d.drLT {
				t.Errorf("snapshot %s tags %v, want copy-of and launch-template", aws.ToString(s.SnapshotId), tagMap(s.Tags))
			}
		}
	}
	if copies == 0 {
		t.Errorf("no snapshot of the copy %s", got.ImageID)
	}
	again := must(d.handleDR(forwarded(t, src, "fwd-1-again")))
	if len(again.Results) != 0 || d.dr.Calls("CopyImage") != 1 {
		t.Errorf("the forward again: %+v and %d CopyImage calls, want nothing new", again.Results, d.dr.Calls("CopyImage"))
	}
}

// TestDRPullCatchesUp: with no forward at all (lost, or the DR stack
// deployed later), the DR region's reconcile copies the source's newest
// release and promotes it; the next reconcile has nothing to do.
func TestDRPullCatchesUp(t *testing.T) {
	d := newDRWorld(t)
	one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-9*time.Minute)))))
	newest := one(t, must(d.handle(deployEvent(t, "event-2", "jenkins-shop-deploy-2", t0.Add(-5*time.Minute)))))
	got := one(t, must(d.handleDR(d.tick(t, "tick-1"))))
	if got.Status != event.Promoted || got.Build.ID != "jenkins-shop-deploy-2" {
		t.Fatalf("reconcile: %+v, want build 2 promoted", got)
	}
	if img, _ := d.dr.Image(d.drDefault()); tagMap(img.Tags)[event.TagCopyOf] != awsfake.Region+"/"+newest.ImageID {
		t.Errorf("DR $Default %s is not the copy of %s", d.drDefault(), newest.ImageID)
	}
	if resp := must(d.handleDR(d.tick(t, "tick-2"))); len(resp.Results) != 0 || d.dr.Calls("CopyImage") != 1 {
		t.Errorf("next reconcile: %+v, %d copies; want nothing", resp.Results, d.dr.Calls("CopyImage"))
	}
}

// TestDRSourceUnreachable: a source region that cannot be reached leaves the
// DR template on its last release, reported once per run as unreachable (no
// failed or rejected result, no error for Lambda to retry).
func TestDRSourceUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"endpoint", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: lookup ec2.us-east-1.amazonaws.com: no such host")}},
		{"access denied", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}},
		{"timeout", context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRWorld(t)
			src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			before := d.drDefault()
			d.down = tc.err
			for _, raw := range [][]byte{forwarded(t, src, "fwd-1"), d.tick(t, "tick-1")} {
				resp, err := d.handleDR(raw)
				if err != nil {
					t.Fatalf("error %v, want none (no retry)", err)
				}
				got := one(t, resp)
				if got.Status != event.Unreachable || !strings.Contains(got.Reason, "us-east-1") || !strings.Contains(got.Reason, "shop-web-prod-a-dr") {
					t.Errorf("%+v, want one unreachable result naming the region and the template", got)
				}
			}
			if d.drDefault() != before {
				t.Errorf("DR template moved to %s while its source was unreachable", d.drDefault())
			}
			d.down = nil
			if got := one(t, must(d.handleDR(d.tick(t, "tick-2")))); got.Status != event.Promoted {
				t.Errorf("once reachable: %+v, want promoted", got)
			}
		})
	}
}

// TestDRCopyRefusedAtTheQuotaWaits: CopyImage refused with
// ResourceLimitExceeded (EBS's snapshot copies in flight into the region,
// other tools' among them) is a pending result, not failed and not asked
// again within the event; the next reconcile copies.
func TestDRCopyRefusedAtTheQuotaWaits(t *testing.T) {
	d := newDRWorld(t)
	src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
	d.dr.FailNext("CopyImage", &smithy.GenericAPIError{Code: "ResourceLimitExceeded", Message: "You have reached the limit of 20 concurrent snapshot copies"})
	resp, err := d.handleDR(forwarded(t, src, "fwd-1"))
	if err != nil {
		t.Fatalf("error %v, want none (nothing to retry)", err)
	}
	if got := one(t, resp); got.Status != event.Pending || !strings.Contains(got.Reason, "waits") || d.dr.Calls("CopyImage") != 1 || len(d.amibumpImagesIn(d.dr)) != 0 {
		t.Fatalf("%+v after %d CopyImage calls, want one pending result saying the copy waits, asked once, nothing made", got, d.dr.Calls("CopyImage"))
	}
	if got := one(t, must(d.handleDR(d.tick(t, "tick-1")))); got.Status != event.Promoted {
		t.Errorf("next reconcile: %+v, want promoted", got)
	}
}

// TestDRCopiesKeepToTheQuota: a reconcile with more copies to make than EBS
// takes into a region at once (20 snapshot copies) starts those that fit
// and reports the others pending, nothing started and nothing failed, with
// no CopyImage refused; a later reconcile, once the copies in flight are
// done, starts the rest. Every DR template ends on its copy.
func TestDRCopiesKeepToTheQuota(t *testing.T) {
	const n = plan.CopySnapshotsPerRegion + 2
	d := newDRWorld(t, awsfake.WithCopyTime(2*time.Second))
	drLTs := map[string]string{}
	for i := range n {
		group := fmt.Sprintf("q%02d", i)
		sel := map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: group}
		lt := d.cloud.AddLaunchTemplate("shop-web-prod-"+group, sel, ec2types.RequestLaunchTemplateData{ImageId: aws.String(d.baseAMI)})
		tags := map[string]string{event.TagLaunchTemplate: lt, event.TagBuildID: "build-" + group, event.TagDeployedAt: t0.Add(-time.Hour).Format(time.RFC3339)}
		maps.Copy(tags, sel)
		d.cloud.AddImage(awsfake.Image{Name: "shop-web-prod-" + group + "-1", Tags: tags, SnapshotTags: tags})
		drSel := maps.Clone(sel)
		drSel[event.TagReplicateFrom] = awsfake.Region
		drLTs[d.dr.AddLaunchTemplate("shop-web-prod-"+group+"-dr", drSel, ec2types.RequestLaunchTemplateData{ImageId: aws.String(d.drDefault())})] = group
	}
	d.deadline = time.Second
	resp, err := d.handleDR(d.tick(t, "tick-1"))
	if err != nil {
		t.Fatal(err)
	}
	var started, waiting int
	for _, r := range resp.Results {
		switch {
		case r.Status == event.Pending && r.ImageID != "":
			started++
		case r.Status == event.Pending && strings.Contains(r.Reason, "waits"):
			waiting++
		default:
			t.Errorf("%+v, want pending", r)
		}
	}
	if started != plan.CopySnapshotsPerRegion || waiting != 2 || d.dr.Calls("CopyImage") != plan.CopySnapshotsPerRegion {
		t.Fatalf("%d copies started, %d waiting, %d CopyImage calls; want 20 started, 2 waiting, 20 calls (none refused)", started, waiting, d.dr.Calls("CopyImage"))
	}
	for range 300 { // the copy time, on the world's running clock
		if pending := d.dr.Calls("CopyImage") - availableCopies(d); pending == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	d.deadline = 10 * time.Second
	resp = must(d.handleDR(d.tick(t, "tick-2")))
	for _, r := range resp.Results {
		if r.Status != event.Promoted {
			t.Errorf("tick-2: %+v, want promoted", r)
		}
	}
	if d.dr.Calls("CopyImage") != n {
		t.Errorf("%d CopyImage calls, want %d: one a copy", d.dr.Calls("CopyImage"), n)
	}
	for lt, group := range drLTs {
		if def := defaultOf(d.dr, lt); !strings.HasPrefix(tagMap(mustImageIn(t, d.dr, def).Tags)[event.TagCopyOf], awsfake.Region+"/") {
			t.Errorf("DR template of %s is on %s, want a copy", group, def)
		}
	}
}

// availableCopies counts the available copies in the DR region.
func availableCopies(d *drWorld) int {
	n := 0
	for _, img := range d.amibumpImagesIn(d.dr) {
		if img.State == ec2types.ImageStateAvailable {
			n++
		}
	}
	return n
}

// defaultOf is the AMI of a template's $Default in c.
func defaultOf(c *awsfake.Cloud, lt string) string {
	for _, v := range c.Versions(lt) {
		if aws.ToBool(v.DefaultVersion) {
			return aws.ToString(v.LaunchTemplateData.ImageId)
		}
	}
	return ""
}

// mustImageIn is the image id of c.
func mustImageIn(t *testing.T, c *awsfake.Cloud, id string) ec2types.Image {
	t.Helper()
	img, ok := c.Image(id)
	if !ok {
		t.Fatalf("no image %s", id)
	}
	return img
}

// TestDRBadTags: amibump:replicate-from must name another region of the
// partition, and the source template must be exactly one.
func TestDRBadTags(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *drWorld)
		want  string
	}{
		{"own region", func(d *drWorld) { d.dr.TagLaunchTemplate(d.drLT, map[string]string{event.TagReplicateFrom: drRegion}) }, "own region"},
		{"another partition", func(d *drWorld) {
			d.dr.TagLaunchTemplate(d.drLT, map[string]string{event.TagReplicateFrom: "cn-north-1"})
		}, "partition aws-cn"},
		{"not a region", func(d *drWorld) {
			d.dr.TagLaunchTemplate(d.drLT, map[string]string{event.TagReplicateFrom: "virginia"})
		}, "not a region name"},
		{"no source", func(d *drWorld) { d.dr.TagLaunchTemplate(d.drLT, map[string]string{event.TagGroup: "b"}) }, "no launch template in us-east-1"},
		{"two sources", func(d *drWorld) {
			d.cloud.AddLaunchTemplate("shop-web-prod-a-copy", map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a"},
				ec2types.RequestLaunchTemplateData{ImageId: aws.String(d.baseAMI)})
		}, "shop-web-prod-a, shop-web-prod-a-copy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRWorld(t)
			one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			tc.setup(d)
			got := one(t, must(d.handleDR(d.tick(t, "tick-1"))))
			if got.Status != event.Rejected || !strings.Contains(got.Reason, tc.want) || got.LaunchTemplateName != "shop-web-prod-a-dr" {
				t.Errorf("%+v, want rejected for shop-web-prod-a-dr saying %q", got, tc.want)
			}
		})
	}
}

// TestDRForwardOutOfOrder: a forward of an older release after the newer
// one was copied is superseded and copies nothing; a forward of this
// region's own result or of another account's is skipped.
func TestDRForwardOutOfOrder(t *testing.T) {
	d := newDRWorld(t)
	old := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-9*time.Minute)))))
	newer := one(t, must(d.handle(deployEvent(t, "event-2", "jenkins-shop-deploy-2", t0.Add(-5*time.Minute)))))
	if got := one(t, must(d.handleDR(forwarded(t, newer, "fwd-2")))); got.Status != event.Promoted {
		t.Fatalf("newer forward: %+v", got)
	}
	if got := one(t, must(d.handleDR(forwarded(t, old, "fwd-1")))); got.Status != event.Superseded {
		t.Errorf("older forward: %+v, want superseded", got)
	}
	own := newer
	own.Region = drRegion
	other := newer
	other.Account = "210987654321"
	for _, res := range []event.Result{own, other} {
		if resp := must(d.handleDR(forwarded(t, res, "fwd-x"))); len(resp.Results) != 0 {
			t.Errorf("forward of %s/%s: %+v, want skipped", res.Account, res.Region, resp.Results)
		}
	}
	if n := d.dr.Calls("CopyImage"); n != 1 {
		t.Errorf("%d copies, want 1", n)
	}
}

// The DR stack's role (the golden role as deployed in the DR region): the
// copy needs ec2:CopyImage on the source AMI amibump made and on the new
// AMI and snapshots with amibump's request tags, and ec2:CreateTags with
// ec2:CreateAction=CopyImage; without CopyImage the copy is refused and
// rejected, nothing made.
func TestDRCopyUnderTheRole(t *testing.T) {
	for _, tc := range []struct {
		name    string
		without string
		want    event.Status
	}{
		{"the role as synthesized", "", event.Promoted},
		{"without ec2:CopyImage", "ec2:CopyImage", event.Rejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRWorld(t)
			src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			role := functionRole(t).InRegion(drRegion)
			if tc.without != "" {
				role = role.Without(tc.without)
			}
			d.dr.SetPolicy(&role)
			got := one(t, must(d.handleDR(forwarded(t, src, "fwd-1"))))
			if got.Status != tc.want {
				t.Fatalf("%+v, want %s", got, tc.want)
			}
			if tc.want == event.Promoted && len(d.dr.Denials()) != 0 {
				t.Errorf("denials %q, want none", d.dr.Denials())
			}
			if tc.want == event.Rejected && (!strings.Contains(got.Reason, "ec2:CopyImage") || len(d.amibumpImagesIn(d.dr)) != 0) {
				t.Errorf("reason %q, want ec2:CopyImage named; %d copies made, want none", got.Reason, len(d.amibumpImagesIn(d.dr)))
			}
		})
	}
}

// A copy encrypted with AMIBUMP_COPY_KMS_KEY_ARN needs the KMS actions of
// EBS encryption on that key: the golden role (no copyKmsKeyArn) lacks them,
// so EC2 fails the copy after CopyImage answered, and the result is failed
// naming the key, the failed copy removed, no error for Lambda to retry;
// with the grant the copy is encrypted with the key and promoted.
func TestDRCopyKMSKey(t *testing.T) {
	key := "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	grant := awsfake.Statement{Effect: "Allow", Resource: []string{key}, Action: []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
		"kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}}
	for _, tc := range []struct {
		name  string
		grant bool
		want  event.Status
	}{
		{"the role may not use the key", false, event.Failed},
		{"the role may use the key", true, event.Promoted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRWorld(t)
			d.cfg.CopyKMSKey = key
			src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			role := functionRole(t).InRegion(drRegion)
			if tc.grant {
				role.Statement = append(role.Statement, grant)
			}
			d.dr.SetPolicy(&role)
			resp, err := d.handleDR(forwarded(t, src, "fwd-1"))
			if err != nil {
				t.Fatalf("error %v, want none", err)
			}
			got := one(t, resp)
			if got.Status != tc.want {
				t.Fatalf("%+v, want %s", got, tc.want)
			}
			if tc.want == event.Failed {
				if !strings.Contains(got.Reason, key) || len(d.amibumpImagesIn(d.dr)) != 0 {
					t.Errorf("reason %q, want the key named; %d copies left, want none", got.Reason, len(d.amibumpImagesIn(d.dr)))
				}
				if resp := must(d.handleDR(d.tick(t, "tick-1"))); len(resp.Results) != 1 || resp.Results[0].Status != event.Failed {
					t.Errorf("the next reconcile: %+v, want a fresh copy, failed again", resp.Results)
				}
				role.Statement = append(role.Statement, grant)
				d.dr.SetPolicy(&role)
				if got := one(t, must(d.handleDR(d.tick(t, "tick-2")))); got.Status != event.Promoted {
					t.Errorf("the reconcile after the key is granted: %+v, want promoted", got)
				}
				return
			}
			img, _ := d.dr.Image(got.ImageID)
			if len(img.BlockDeviceMappings) == 0 || aws.ToString(img.BlockDeviceMappings[0].Ebs.KmsKeyId) != key {
				t.Errorf("the copy's volumes: %+v, want encrypted with %s", img.BlockDeviceMappings, key)
			}
		})
	}
}

// amibumpImagesIn lists the AMIs amibump made in a cloud (deregistered ones left out).
func (d *drWorld) amibumpImagesIn(c *awsfake.Cloud) []ec2types.Image {
	var out []ec2types.Image
	for _, img := range c.Images() {
		if tagMap(img.Tags)[event.TagLaunchTemplate] != "" && img.State != ec2types.ImageStateDeregistered {
			out = append(out, img)
		}
	}
	return out
}

// A deploy event that reaches the DR region and names a template that
// replicates is rejected for it (its AMIs are copies); the other templates
// of the event are bumped.
func TestDRDeployHereRejected(t *testing.T) {
	d := newDRWorld(t)
	raw := edit(t, deployEvent(t, "event-dr", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)), map[string]any{"region": drRegion})
	got := one(t, must(d.handleDR(raw)))
	if got.Status != event.Rejected || !strings.Contains(got.Reason, "amibump:replicate-from") || d.dr.Calls("CreateImage") != 0 {
		t.Errorf("%+v, want rejected naming amibump:replicate-from, nothing imaged", got)
	}
}

// A copy still pending when the invocation's time runs out is promoted by
// its AMI state change event, as any amibump AMI.
func TestDRCopyPromotedByItsStateChange(t *testing.T) {
	d := newDRWorld(t, awsfake.WithCopyTime(600*time.Millisecond))
	src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
	d.deadline = 150 * time.Millisecond
	pending := one(t, must(d.handleDR(forwarded(t, src, "fwd-1"))))
	if pending.Status != event.Pending {
		t.Fatalf("%+v, want pending", pending)
	}
	for range 100 { // the copy time, on the world's running clock
		if img, _ := d.dr.Image(pending.ImageID); img.State == ec2types.ImageStateAvailable {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	state := edit(t, sample(t, "ami-state-available.json"), map[string]any{"region": drRegion, "detail.ImageId": pending.ImageID})
	d.deadline = 10 * time.Second
	if got := one(t, must(d.handleDR(state))); got.Status != event.Promoted || d.drDefault() != pending.ImageID {
		t.Errorf("%+v, DR $Default on %s; want the copy %s promoted", got, d.drDefault(), pending.ImageID)
	}
}

// A source AMI gone from its region when the copy starts (retention there
// after a newer release) is superseded when the source template has a newer
// release, nothing copied, no retry; gone with nothing newer (a person
// deregistered or disabled the release itself) it is failed, naming it.
func TestDRSourceGone(t *testing.T) {
	t.Run("a newer release: superseded", func(t *testing.T) {
		d := newDRWorld(t)
		old := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-9*time.Minute)))))
		newer := one(t, must(d.handle(deployEvent(t, "event-2", "jenkins-shop-deploy-2", t0.Add(-5*time.Minute)))))
		reads := 0 // the DR function's first read of the source misses the newer release
		d.wrapSource = func(api bump.EC2) bump.EC2 { return hideImage{api, newer.ImageID, &reads} }
		d.dr.FailNext("CopyImage", &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound", Message: "The image id '[" + old.ImageID + "]' does not exist"})
		resp, err := d.handleDR(forwarded(t, old, "fwd-1"))
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		if got := one(t, resp); got.Status != event.Superseded || !strings.Contains(got.Reason, old.ImageID) || !strings.Contains(got.Reason, newer.ImageID) || len(d.amibumpImagesIn(d.dr)) != 0 {
			t.Errorf("%+v, want superseded naming %s and the newer %s, nothing copied", got, old.ImageID, newer.ImageID)
		}
	})
	t.Run("nothing newer: failed", func(t *testing.T) {
		d := newDRWorld(t)
		src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
		before := d.drDefault()
		d.dr.FailNext("CopyImage", &smithy.GenericAPIError{Code: "InvalidAMIID.Unavailable", Message: "The image id '[" + src.ImageID + "]' is no longer available"})
		resp, err := d.handleDR(forwarded(t, src, "fwd-1"))
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		if got := one(t, resp); got.Status != event.Failed || !strings.Contains(got.Reason, src.ImageID) || !strings.Contains(got.Reason, "no newer release") || d.drDefault() != before {
			t.Errorf("%+v, DR on %s; want failed naming %s and no newer release, the DR template unchanged", got, d.drDefault(), src.ImageID)
		}
	})
}

// hideImage leaves an image out of the first DescribeImages answer.
type hideImage struct {
	bump.EC2
	id    string
	reads *int
}

func (h hideImage) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	out, err := h.EC2.DescribeImages(ctx, in, opts...)
	*h.reads++
	if err != nil || *h.reads > 1 {
		return out, err
	}
	kept := *out
	kept.Images = slices.DeleteFunc(slices.Clone(out.Images), func(img ec2types.Image) bool { return aws.ToString(img.ImageId) == h.id })
	return &kept, nil
}

// TestDRCopyStateEventDuringTheWait: EC2 sends AMI state change events for
// CopyImage as for CreateImage (available, failed): one delivered while the
// forward's invocation still waits for its copy leaves exactly one result
// for the copy between the two invocations: promoted when the copy became
// available, failed when EC2 could not make it (a KMS key the role may not
// use).
func TestDRCopyStateEventDuringTheWait(t *testing.T) {
	for _, tc := range []struct {
		state ec2types.ImageState
		want  event.Status
	}{
		{ec2types.ImageStateAvailable, event.Promoted},
		{ec2types.ImageStateFailed, event.Failed},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			clock := awsfake.NewManualClock(t0)
			d := newDRWorld(t, awsfake.WithClock(clock), awsfake.WithImageDelay(0), awsfake.WithCopyTime(5*time.Minute))
			src := one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			if tc.state == ec2types.ImageStateFailed {
				d.cfg.CopyKMSKey = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
				role := functionRole(t).InRegion(drRegion)
				d.dr.SetPolicy(&role)
			}
			fwd := make(chan event.Response, 1)
			go func() { fwd <- must(d.handleDR(forwarded(t, src, "fwd-1"))) }()
			var copyID string
			for range 2000 {
				if imgs := d.amibumpImagesIn(d.dr); len(imgs) == 1 {
					copyID = aws.ToString(imgs[0].ImageId)
					break
				}
				time.Sleep(time.Millisecond)
			}
			if copyID == "" {
				t.Fatal("no copy requested")
			}
			clock.Advance(5 * time.Minute) // the copy is done (or failed) while the forward waits
			state := edit(t, sample(t, "ami-state-available.json"), map[string]any{"region": drRegion, "detail.ImageId": copyID, "detail.State": string(tc.state)})
			byEvent := must(d.handleDR(state))
			byFwd := <-fwd
			if len(byFwd.Results) > 1 || len(byEvent.Results) > 1 {
				t.Fatalf("forward %+v, state event %+v: want at most one result each", byFwd.Results, byEvent.Results)
			}
			all := append(byFwd.Results, byEvent.Results...)
			switch tc.want {
			case event.Failed: // reported once, by whichever removed the copy
				if len(all) != 1 || all[0].Status != event.Failed || !strings.Contains(all[0].Reason, "KMS key") {
					t.Fatalf("results %+v, want exactly one failed naming the KMS key", all)
				}
			case event.Promoted: // one promotion; a second trigger reports it again, as for any AMI
				for _, r := range all {
					if r.Status != event.Promoted || r.ImageID != copyID || r.Version != all[0].Version {
						t.Errorf("result %+v, want promoted %s as version %d", r, copyID, all[0].Version)
					}
				}
				if len(all) == 0 || d.drDefault() != copyID || len(d.dr.Versions(d.drLT)) != 2 {
					t.Errorf("%d results, DR $Default on %s with %d versions; want the copy %s promoted once", len(all), d.drDefault(), len(d.dr.Versions(d.drLT)), copyID)
				}
			}
		})
	}
}

// TestDRCopyKeysNamed: without copyKmsKeyArn a copy still uses KMS keys: the
// DR region's default KMS key for EBS when EBS encryption by default is on
// there (it may be a customer managed key), and the source's key. A key the
// role may not use fails the copy; the result names the keys and what to
// set, and once the role may use the key (kmsKeyArns) the next reconcile
// promotes the copy.
func TestDRCopyKeysNamed(t *testing.T) {
	const (
		drDefault = "arn:aws:kms:us-west-2:123456789012:key/dr-default"
		srcKey    = "arn:aws:kms:us-east-1:123456789012:key/source"
	)
	for _, tc := range []struct {
		name, key string
		setup     func(d *drWorld)
	}{
		{"the DR region's default EBS key", drDefault, func(d *drWorld) {
			one(t, must(d.handle(deployEvent(t, "event-1", "jenkins-shop-deploy-1", t0.Add(-5*time.Minute)))))
			d.dr.SetEBSEncryptionByDefault(drDefault)
		}},
		{"the source's key", srcKey, func(d *drWorld) {
			tags := map[string]string{event.TagApp: "shop", event.TagEnv: "prod", event.TagLayer: "web", event.TagGroup: "a",
				event.TagLaunchTemplate: d.lt, event.TagBuildID: "jenkins-shop-deploy-1", event.TagDeployedAt: t0.Add(-time.Hour).Format(time.RFC3339)}
			d.cloud.AddImage(awsfake.Image{Name: "shop-web-prod-a-1", Tags: tags, SnapshotTags: tags, KMSKey: srcKey})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDRWorld(t)
			tc.setup(d)
			role := functionRole(t).InRegion(drRegion)
			d.dr.SetPolicy(&role)
			got := one(t, must(d.handleDR(d.tick(t, "tick-1"))))
			if got.Status != event.Failed || !strings.Contains(got.Reason, tc.key) || !strings.Contains(got.Reason, "default KMS key for EBS") || !strings.Contains(got.Reason, "kmsKeyArns") {
				t.Fatalf("%+v, want failed naming %s, the default EBS key and kmsKeyArns", got, tc.key)
			}
			role.Statement = append(role.Statement, awsfake.Statement{Effect: "Allow", Resource: []string{tc.key}, Action: []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
				"kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}})
			d.dr.SetPolicy(&role)
			if got := one(t, must(d.handleDR(d.tick(t, "tick-2")))); got.Status != event.Promoted {
				t.Errorf("once the role may use the key: %+v, want promoted", got)
			}
		})
	}
}
