package awsfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// allowing is a policy of one Allow statement per action, each on any resource.
func allowing(t *testing.T, actions ...string) *awsfake.Policy {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
	p, err := awsfake.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

// EC2 resolves resolve:ssm: while it creates the version, with the caller's
// ssm:GetParameters on the parameter: without it the version is refused
// (UnauthorizedOperation) and none is made, also when the ImageId is
// inherited from SourceVersion.
func TestImplicitGetParametersOnResolveSSM(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		in   func(lt string) *ec2.CreateLaunchTemplateVersionInput
	}{
		{"ImageId in the request", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/web")}}
		}},
		{"ImageId inherited from SourceVersion", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("1"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Small}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := awsfake.New()
			c.AddParameter("/amibump/web", c.AddImage(awsfake.Image{Name: "base"}), "aws:ec2:image")
			lt := c.AddLaunchTemplate("web", map[string]string{event.TagApp: "shop"},
				ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/web")})
			c.SetPolicy(allowing(t, "ec2:CreateLaunchTemplateVersion", "ssm:GetParameter"))
			_, err := c.EC2().CreateLaunchTemplateVersion(ctx, tt.in(lt))
			wantCode(t, err, "UnauthorizedOperation")
			if !strings.Contains(err.Error(), "ssm:GetParameters on resource: arn:aws:ssm:us-east-1:123456789012:parameter/amibump/web") {
				t.Errorf("the error does not name the missing permission: %v", err)
			}
			if n := len(c.Versions(lt)); n != 1 {
				t.Errorf("versions: got %d, want 1 (nothing made)", n)
			}
			c.SetPolicy(allowing(t, "ec2:CreateLaunchTemplateVersion", "ssm:GetParameters"))
			if _, err := c.EC2().CreateLaunchTemplateVersion(ctx, tt.in(lt)); err != nil {
				t.Fatalf("with ssm:GetParameters: %v", err)
			}
		})
	}
}

// PutParameter of an aws:ec2:image parameter needs ec2:DescribeImages too;
// a text parameter does not.
func TestImplicitDescribeImagesOnImageParameter(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	c.SetPolicy(allowing(t, "ssm:PutParameter"))
	put := func(name, dataType string) error {
		_, err := c.SSM().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(ami),
			Type: ssmtypes.ParameterTypeString, DataType: aws.String(dataType)})
		return err
	}
	err := put("/amibump/web", "aws:ec2:image")
	wantCode(t, err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "ec2:DescribeImages") {
		t.Errorf("the error does not name ec2:DescribeImages: %v", err)
	}
	if _, ok := c.Parameter("/amibump/web"); ok {
		t.Error("the denied write created the parameter")
	}
	if err := put("/amibump/text", "text"); err != nil {
		t.Errorf("a text parameter: %v", err)
	}
	c.SetPolicy(allowing(t, "ssm:PutParameter", "ec2:DescribeImages"))
	if err := put("/amibump/web", "aws:ec2:image"); err != nil {
		t.Fatalf("with ec2:DescribeImages: %v", err)
	}
	if p, ok := c.Parameter("/amibump/web"); !ok || aws.ToString(p.Value) != ami {
		t.Errorf("parameter: %+v, want %s", p, ami)
	}
}

// DescribeImageReferences of SSM parameters needs ssm:DescribeParameters and
// ssm:GetParameters, which EC2 calls with the caller's permissions and
// aws:CalledVia ec2-images.amazonaws.com: without them the call is
// UnauthorizedOperation; granted only via EC2 (the condition), it answers;
// the same grant does not let the caller call them itself.
func TestImplicitScansOfDescribeImageReferences(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	c.AddParameter("/platform/ami", ami, "aws:ec2:image")
	refs := func() error {
		_, err := c.EC2().DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter}}})
		return err
	}
	c.SetPolicy(allowing(t, "ec2:DescribeImageReferences"))
	err := refs()
	wantCode(t, err, "UnauthorizedOperation")
	if !strings.Contains(err.Error(), "ssm:DescribeParameters") {
		t.Errorf("the error does not name ssm:DescribeParameters: %v", err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:DescribeImageReferences","Resource":"*"},
		{"Effect":"Allow","Action":["ssm:DescribeParameters","ssm:GetParameters"],"Resource":"*",
		 "Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":["ec2-images.amazonaws.com"]}}}]}`
	p, err := awsfake.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c.SetPolicy(&p)
	if err := refs(); err != nil {
		t.Fatalf("with the scans granted via EC2: %v", err)
	}
	_, err = c.SSM().GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/platform/ami"}})
	wantCode(t, err, "AccessDeniedException")
}

// DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot as
// ec2:DeleteSnapshot: one the caller may not delete stays, reported as
// missing-permissions, and the AMI is deregistered all the same.
func TestImplicitDeleteSnapshotOnDeregister(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	own := map[string]string{event.TagLaunchTemplate: "lt-0123456789abcdef0"}
	tagged := c.AddImage(awsfake.Image{Name: "tagged", Tags: own, SnapshotTags: own})
	untagged := c.AddImage(awsfake.Image{Name: "untagged", Tags: own})
	p, err := awsfake.ParsePolicy([]byte(`{"Statement":[
		{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"arn:aws:ec2:us-east-1::image/*"},
		{"Effect":"Allow","Action":"ec2:DeleteSnapshot","Resource":"arn:aws:ec2:us-east-1::snapshot/*",
		 "Condition":{"Null":{"aws:ResourceTag/amibump:launch-template":"false"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.SetPolicy(&p)
	for _, tt := range []struct {
		id   string
		want ec2types.SnapshotReturnCodes
	}{
		{tagged, ec2types.SnapshotReturnCodesSuccess},
		{untagged, ec2types.SnapshotReturnCodesErrorMissingPermissions},
	} {
		snap := aws.ToString(mustImage(t, c, tt.id).BlockDeviceMappings[0].Ebs.SnapshotId)
		out, err := c.EC2().DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(tt.id), DeleteAssociatedSnapshots: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.DeleteSnapshotResults) != 1 || out.DeleteSnapshotResults[0].ReturnCode != tt.want || aws.ToString(out.DeleteSnapshotResults[0].SnapshotId) != snap {
			t.Errorf("%s: results %+v, want %s for %s", tt.id, out.DeleteSnapshotResults, tt.want, snap)
		}
		if _, ok := c.Image(tt.id); ok {
			t.Errorf("%s is still registered", tt.id)
		}
		kept := false
		for _, s := range c.Snapshots() {
			kept = kept || aws.ToString(s.SnapshotId) == snap
		}
		if kept != (tt.want != ec2types.SnapshotReturnCodesSuccess) {
			t.Errorf("%s: snapshot %s kept = %v after %s", tt.id, snap, kept, tt.want)
		}
	}
}

func mustImage(t *testing.T, c *awsfake.Cloud, id string) ec2types.Image {
	t.Helper()
	img, ok := c.Image(id)
	if !ok {
		t.Fatalf("no image %s", id)
	}
	return img
}

// CreateImage that tags the image and snapshots needs ec2:CreateTags on them
// with ec2:CreateAction = CreateImage; the request tags are aws:RequestTag/…
// of the new resources, the instance's tags aws:ResourceTag/….
func TestImplicitCreateTagsOnCreateImage(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	src := c.AddInstance(awsfake.Instance{Tags: map[string]string{event.TagSourceFor: "web"}})
	other := c.AddInstance(awsfake.Instance{})
	create := func(instance, name string) error {
		tags := []ec2types.Tag{{Key: aws.String(event.TagLaunchTemplate), Value: aws.String("lt-0123456789abcdef0")}}
		_, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String(name), NoReboot: aws.Bool(true),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: tags}, {ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}})
		return err
	}
	doc := `{"Statement":[
		{"Effect":"Allow","Action":"ec2:CreateImage","Resource":"arn:aws:ec2:us-east-1:123456789012:instance/*","Condition":{"Null":{"aws:ResourceTag/amibump:source-for":"false"}}},
		{"Effect":"Allow","Action":"ec2:CreateImage","Resource":["arn:aws:ec2:us-east-1::image/*","arn:aws:ec2:us-east-1::snapshot/*"],"Condition":{"Null":{"aws:RequestTag/amibump:launch-template":"false"}}}
		TAGS]}`
	without, err := awsfake.ParsePolicy([]byte(strings.Replace(doc, "TAGS", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	with, err := awsfake.ParsePolicy([]byte(strings.Replace(doc, "TAGS", `,{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateImage"}}}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	c.SetPolicy(&without)
	wantCode(t, create(src, "no-tag-permission"), "UnauthorizedOperation")
	c.SetPolicy(&with)
	wantCode(t, create(other, "not-a-source"), "UnauthorizedOperation")
	if err := create(src, "allowed"); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Images()); n != 1 {
		t.Errorf("images: got %d, want 1 (the denied calls made none)", n)
	}
	if d := c.Denials(); len(d) != 2 || !strings.Contains(d[0], "ec2:CreateTags") || !strings.Contains(d[1], "instance/"+other) {
		t.Errorf("denials: %q, want CreateTags, then the untagged instance", d)
	}
}

// A denied call answers the service's own access-denied error and changes
// nothing: EC2 UnauthorizedOperation, SSM AccessDeniedException, Auto
// Scaling AccessDenied, EventBridge AccessDeniedException. Auto Scaling
// groups are authorized with their tags (autoscaling:ResourceTag/… and
// aws:ResourceTag/…).
func TestDeniedByPolicy(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	c.CreateEventBus("amibump")
	lt := c.AddLaunchTemplate("web", map[string]string{"team": "web"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-0123456789abcdef0")})
	for _, g := range []string{"tagged", "untagged"} {
		grp := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(g)}
		if g == "tagged" {
			grp.Tags = []astypes.TagDescription{{Key: aws.String(event.TagApp), Value: aws.String("shop")}}
		}
		c.AddAutoScalingGroup(grp)
	}
	p, err := awsfake.ParsePolicy([]byte(`{"Statement":[
		{"Effect":"Allow","Action":["ec2:ModifyLaunchTemplate","ssm:GetParameter","events:PutEvents"],"Resource":"*","Condition":{"Null":{"aws:ResourceTag/amibump:app":"false"}}},
		{"Effect":"Allow","Action":"autoscaling:StartInstanceRefresh","Resource":"*","Condition":{"StringEquals":{"autoscaling:ResourceTag/amibump:app":"shop"}}},
		{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameterHistory"],"Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/amibump/*"},
		{"Effect":"Allow","Action":"events:PutEvents","Resource":"arn:aws:events:us-east-1:123456789012:event-bus/amibump"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.SetPolicy(&p)
	c.AddParameter("/other/web", "x", "text")
	c.AddParameter("/amibump/web", "x", "text")
	_, err = c.EC2().ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("1")})
	wantCode(t, err, "UnauthorizedOperation")
	_, err = c.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/other/web")})
	wantCode(t, err, "AccessDeniedException")
	if _, err := c.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web")}); err != nil {
		t.Errorf("a parameter under /amibump/: %v", err)
	}
	// GetParameterHistory is authorized on the parameter, like GetParameter.
	_, err = c.SSM().GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/other/web")})
	wantCode(t, err, "AccessDeniedException")
	if _, err := c.SSM().GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/amibump/web")}); err != nil {
		t.Errorf("the history of a parameter under /amibump/: %v", err)
	}
	_, err = c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("untagged")})
	wantCode(t, err, "AccessDenied")
	if _, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("tagged")}); err != nil {
		t.Errorf("the tagged group: %v", err)
	}
	entry := func(bus string) []ebtypes.PutEventsRequestEntry {
		return []ebtypes.PutEventsRequestEntry{{EventBusName: aws.String(bus), Source: aws.String("amibump"), DetailType: aws.String("x"), Detail: aws.String("{}")}}
	}
	_, err = c.EventBridge().PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entry("default")})
	wantCode(t, err, "AccessDeniedException")
	if _, err := c.EventBridge().PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entry("amibump")}); err != nil {
		t.Errorf("the amibump bus: %v", err)
	}
	if len(c.InstanceRefreshes("untagged")) != 0 || len(c.Events()) != 1 {
		t.Errorf("a denied call changed the cloud: refreshes %v, events %d", c.InstanceRefreshes("untagged"), len(c.Events()))
	}
	c.SetPolicy(nil)
	if _, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("untagged")}); err != nil {
		t.Errorf("no permission set allows every call: %v", err)
	}
}

// Auto Scaling tags the instances it launches with aws:autoscaling:groupName;
// the fake's groups tag their seeded members so.
func TestGroupMembersTaggedWithGroupName(t *testing.T) {
	c := awsfake.New()
	id := c.AddInstance(awsfake.Instance{})
	c.AddGroup("web", "lt-0123456789abcdef0", "$Latest", id)
	out, err := c.EC2().DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tag := range out.Reservations[0].Instances[0].Tags {
		found = found || (aws.ToString(tag.Key) == awsfake.TagAutoScalingGroupName && aws.ToString(tag.Value) == "web")
	}
	if !found {
		t.Errorf("instance tags %+v, want %s=web", out.Reservations[0].Instances[0].Tags, awsfake.TagAutoScalingGroupName)
	}
}
