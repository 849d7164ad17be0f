package awssim_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// A cloud under a permission set answers, over the wire, what AWS answers a
// caller that lacks a grant: each service's access-denied error and status,
// and for snapshots DeregisterImage could not delete, missing-permissions in
// a successful answer.
func TestPermissionSetOverTheWire(t *testing.T) {
	ctx := context.Background()
	cloud := awsfake.New()
	seed(cloud)
	own := map[string]string{"amibump:launch-template": "lt-0123456789abcdef0"}
	ami := cloud.AddImage(awsfake.Image{Name: "amibump-made", Tags: own})
	cloud.AddParameter("/amibump/web", ami, "aws:ec2:image")
	p, err := awsfake.ParsePolicy([]byte(`{"Statement":[{"Effect":"Allow","Resource":"*","Action":[
		"ec2:DescribeLaunchTemplates","ec2:CreateLaunchTemplateVersion","ec2:DeregisterImage","ssm:PutParameter","ssm:GetParameter"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cloud.SetPolicy(&p)
	_, url := serve(t, cloud)
	cfg := sdkConfig(url, 0)
	ec2c, ssmc := ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	out, err := ec2c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"shop-web-prod-a"}})
	if err != nil {
		t.Fatal(err)
	}
	lt := aws.ToString(out.LaunchTemplates[0].LaunchTemplateId)
	_, resolve := ec2c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/web")}})
	_, put := ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/amibump/web"), Value: aws.String(ami),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
	_, refresh := autoscaling.NewFromConfig(cfg).StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-a")})
	_, events := eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{EventBusName: aws.String("amibump"), Source: aws.String("amibump"), DetailType: aws.String("x"), Detail: aws.String("{}")}}})
	for _, tt := range []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"EC2: resolve:ssm: without ssm:GetParameters", resolve, "UnauthorizedOperation", 403},
		{"SSM: aws:ec2:image without ec2:DescribeImages", put, "AccessDeniedException", 400},
		{"Auto Scaling", refresh, "AccessDenied", 403},
		{"EventBridge", events, "AccessDeniedException", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code(tt.err) != tt.code || status(tt.err) != tt.status {
				t.Errorf("got %q (HTTP %d), want %q (HTTP %d): %v", code(tt.err), status(tt.err), tt.code, tt.status, tt.err)
			}
		})
	}
	dereg, err := ec2c.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ami), DeleteAssociatedSnapshots: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if r := dereg.DeleteSnapshotResults; len(r) != 1 || r[0].ReturnCode != ec2types.SnapshotReturnCodesErrorMissingPermissions {
		t.Errorf("snapshot results %+v, want one missing-permissions", r)
	}
	if len(cloud.Versions(lt)) != 3 || len(cloud.InstanceRefreshes("shop-web-prod-a")) != 0 || len(cloud.Events()) != 0 {
		t.Error("a denied call changed the cloud")
	}
}
