package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/golden"
)

// drWorld is a disaster-recovery region, us-west-2, whose template
// shop-web-prod-a follows us-east-1 (amibump:replicate-from), on the status
// world's stopped clock: build 142's AMI in us-east-1 was copied (CopyImage
// through the World, tagged as the function tags a copy) and is the DR
// template's $Latest and $Default; build 143's copy is still pending (the
// copy takes an hour).
type drWorld struct {
	*world
	source map[string]string // build number → the AMI in us-east-1
	copies map[string]string // build number → its copy in us-west-2
}

const (
	drSourceRegion = "us-east-1"
	drRegion       = "us-west-2"
)

func newDRWorld(t *testing.T, replicateFrom string) *drWorld {
	t.Helper()
	clock := awsfake.NewManualClock(statusNow.Add(-3 * time.Hour))
	wd := awsfake.NewWorld(awsfake.WithClock(clock), awsfake.WithImageDelay(time.Minute), awsfake.WithCopyTime(time.Hour), awsfake.WithPageSize(1))
	src := wd.Cloud(awsfake.Scope{Account: awsfake.Account, Region: drSourceRegion})
	drScope := awsfake.Scope{Account: awsfake.Account, Region: drRegion}
	w := &drWorld{world: newWorldOn(t, wd.Cloud(drScope), map[string]string{event.TagReplicateFrom: replicateFrom}),
		source: map[string]string{}, copies: map[string]string{}}
	deployed := map[string]time.Time{"142": statusNow.Add(-3 * time.Hour), "143": statusNow.Add(-10 * time.Minute)}
	for _, build := range []string{"142", "143"} {
		w.source[build] = src.AddImage(awsfake.Image{Name: "shop-web-prod-a-" + build, Tags: map[string]string{
			event.TagLaunchTemplate: "lt-0source000000000", event.TagBuildID: "jenkins-shop-deploy-" + build,
			event.TagCommit: "9f1c2e7d" + build, event.TagDeployedAt: deployed[build].Format(time.RFC3339),
		}})
	}
	copyOf := func(build string) {
		out, err := wd.EC2(drScope).CopyImage(context.Background(), &ec2.CopyImageInput{
			Name: aws.String("shop-web-prod-a-" + build), SourceImageId: aws.String(w.source[build]), SourceRegion: aws.String(drSourceRegion),
			ClientToken: aws.String("copy-" + build),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{
				{Key: aws.String(event.TagLaunchTemplate), Value: aws.String(w.lt)},
				{Key: aws.String(event.TagBuildID), Value: aws.String("jenkins-shop-deploy-" + build)},
				{Key: aws.String(event.TagCommit), Value: aws.String("9f1c2e7d" + build)},
				{Key: aws.String(event.TagDeployedAt), Value: aws.String(deployed[build].Format(time.RFC3339))},
				{Key: aws.String(event.TagCopyOf), Value: aws.String(drSourceRegion + "/" + w.source[build])},
			}}},
		})
		if err != nil {
			t.Fatalf("copy build %s: %v", build, err)
		}
		w.copies[build] = aws.ToString(out.ImageId)
	}
	copyOf("142")
	clock.Advance(2 * time.Hour) // the copy of 142 is available
	if _, err := w.cloud.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(w.lt), SourceVersion: aws.String("$Latest"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(w.copies["142"])},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.cloud.EC2().ModifyLaunchTemplate(context.Background(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(w.lt), DefaultVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour - 5*time.Minute) // 143 deployed 10 minutes before statusNow
	copyOf("143")
	clock.Advance(5 * time.Minute) // statusNow: the copy of 143 started 5 minutes ago, pending
	return w
}

// TestStatusDRGolden pins both outputs of amibump status for a DR template:
// the source release its $Latest follows (region, source AMI, build,
// deployed at) and the copy pending, read from the AMIs' tags.
func TestStatusDRGolden(t *testing.T) {
	w := newDRWorld(t, drSourceRegion)
	code, stdout, stderr := w.amibump("status", "--json")
	if code != exitOK {
		t.Fatalf("status --json: exit %d\n%s", code, stderr)
	}
	golden.Check(t, "status-dr.json", []byte(stdout))
	report := checkStatusJSON(t, stdout)
	deployed142, deployed143 := statusNow.Add(-3*time.Hour), statusNow.Add(-10*time.Minute)
	build := func(n string) *string { return aws.String("jenkins-shop-deploy-" + n) }
	want := &drStatus{ReplicateFrom: drSourceRegion,
		Follows: &sourceStatus{Region: drSourceRegion, ImageID: w.source["142"], BuildID: build("142"), DeployedAt: &deployed142},
		CopiesPending: []copyStatus{{ImageID: w.copies["143"],
			Source: sourceStatus{Region: drSourceRegion, ImageID: w.source["143"], BuildID: build("143"), DeployedAt: &deployed143}}},
	}
	if len(report.Templates) != 1 {
		t.Fatalf("%d templates, want 1", len(report.Templates))
	}
	if diff := cmp.Diff(want, report.Templates[0].Replica); diff != "" {
		t.Errorf("replica (-want +got):\n%s", diff)
	}
	if got := report.Templates[0].Latest.ImageID; got != w.copies["142"] {
		t.Errorf("$Latest carries %s, want the copy of 142 %s", got, w.copies["142"])
	}

	code, stdout, stderr = w.amibump("status")
	if code != exitOK {
		t.Fatalf("status: exit %d\n%s", code, stderr)
	}
	golden.Check(t, "status-dr.txt", []byte(stdout))
}

// A template that follows no region has "replica": null; a DR template
// whose $Latest is no copy (yet) says so, and warns unless its first copy
// is on its way; one whose copy came from another region than it follows
// warns.
func TestStatusDRWarnings(t *testing.T) {
	code, stdout, _ := newStatusWorld(t).amibump("status", "--json")
	var plain struct{ Templates []map[string]any }
	if err := json.Unmarshal([]byte(stdout), &plain); err != nil || code != exitOK || len(plain.Templates) == 0 {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, stdout)
	}
	for _, tmpl := range plain.Templates {
		if r, ok := tmpl["replica"]; !ok || r != nil {
			t.Errorf("%s follows no region: replica = %v (present %v), want null", tmpl["launchTemplateName"], r, ok)
		}
	}
	fresh := newWorld(t, map[string]string{event.TagReplicateFrom: drSourceRegion})
	code, stdout, stderr := fresh.amibump("status")
	if code != exitOK || !strings.Contains(stdout, "follows   us-east-1: no copy yet") ||
		!strings.Contains(stdout, "! $Latest (v1) carries no copy of a us-east-1 release; the function copies the newest at the next reconcile") {
		t.Errorf("a DR template before its first copy: exit %d\n%s%s", code, stdout, stderr)
	}
	moved := newDRWorld(t, "eu-west-1")
	code, stdout, stderr = moved.amibump("status")
	if code != exitOK || !strings.Contains(stdout, "! $Latest (v2) carries a copy of a us-east-1 release, and the template follows eu-west-1") {
		t.Errorf("a DR template on another region's copy: exit %d\n%s%s", code, stdout, stderr)
	}
}

// A copy-of tag that is not <region>/<ami id> names no source: the AMI is
// no copy.
func TestCopySource(t *testing.T) {
	for value, want := range map[string]bool{
		"us-east-1/ami-0123456789abcdef0": true, "ami-0123456789abcdef0": false, "us-east-1/": false, "/ami-0123": false, "": false,
	} {
		img := ec2types.Image{Tags: []ec2types.Tag{{Key: aws.String(event.TagCopyOf), Value: aws.String(value)}}}
		if got := copySource(img) != nil; got != want {
			t.Errorf("copy-of %q: a copy = %v, want %v", value, got, want)
		}
	}
}

// TestREADMEDRStatusExample: the README's disaster-recovery example is
// status's real output.
func TestREADMEDRStatusExample(t *testing.T) {
	for path, doc := range readmes(t) {
		if diff := cmp.Diff(string(golden.Read(t, "status-dr.txt")), block(t, doc, "dr-status")); diff != "" {
			t.Errorf("%s: the DR status example is not testdata/golden/status-dr.txt (-golden +README):\n%s", path, diff)
		}
	}
}
