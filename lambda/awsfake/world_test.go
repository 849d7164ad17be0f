package awsfake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/amibump/amibump/lambda/awsfake"
)

// TestNewIsAWorldOfOneCloud: New's cloud is DefaultScope's.
func TestNewIsAWorldOfOneCloud(t *testing.T) {
	c := awsfake.New()
	if c.Scope() != awsfake.DefaultScope || c.Partition() != "aws" {
		t.Errorf("New's cloud is %v in %s, want %v in aws", c.Scope(), c.Partition(), awsfake.DefaultScope)
	}
	img := c.AddImage(awsfake.Image{Name: "base"})
	if got := c.Images()[0]; aws.ToString(got.OwnerId) != awsfake.Account || aws.ToString(got.ImageId) != img {
		t.Errorf("image %+v, want owner %s", got, awsfake.Account)
	}
}

// TestWorldScopes: each scope's Cloud holds its own state and builds its
// ARNs from its own partition, region and account; ids never repeat across
// Clouds; every Cloud runs on the World's clock.
func TestWorldScopes(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	w := awsfake.NewWorld(awsfake.WithClock(clock), awsfake.WithImageDelay(time.Minute))
	east := w.Cloud(awsfake.Scope{Account: "111111111111", Region: "us-east-1"})
	china := w.Cloud(awsfake.Scope{Account: "222222222222", Region: "cn-north-1"})
	if w.Cloud(east.Scope()) != east {
		t.Fatal("a scope's Cloud is made once")
	}
	ctx := context.Background()
	ids := map[string]bool{}
	for _, c := range []*awsfake.Cloud{east, china} {
		src := c.AddInstance(awsfake.Instance{})
		out, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(src), Name: aws.String("release")})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{src, aws.ToString(out.ImageId)} {
			if ids[id] {
				t.Errorf("id %s made twice in one World", id)
			}
			ids[id] = true
		}
		if n := len(c.Images()); n != 1 {
			t.Errorf("%v holds %d images, want its own 1", c.Scope(), n)
		}
		c.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("web")})
	}
	if east.Clock() != w.Clock() || china.Clock() != w.Clock() {
		t.Error("a Cloud runs on a clock of its own")
	}
	clock.Advance(time.Minute)
	for _, c := range []*awsfake.Cloud{east, china} {
		if st := c.Images()[0].State; st != "available" {
			t.Errorf("%v: image %s after the World's clock passed the delay, want available", c.Scope(), st)
		}
	}

	if _, err := china.SSM().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/amibump/web"), Value: aws.String("x"), Type: "String"}); err != nil {
		t.Fatal(err)
	}
	p, _ := china.Parameter("/amibump/web")
	groups, err := china.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for what, arn := range map[string]string{
		"parameter": aws.ToString(p.ARN),
		"group":     aws.ToString(groups.AutoScalingGroups[0].AutoScalingGroupARN),
	} {
		if !strings.HasPrefix(arn, "arn:aws-cn:") || !strings.Contains(arn, ":cn-north-1:222222222222:") {
			t.Errorf("the %s's ARN %s is not in aws-cn, cn-north-1, 222222222222", what, arn)
		}
	}
	china.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{})
	lts, err := china.EC2().DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil || len(lts.LaunchTemplates) != 1 || aws.ToString(lts.LaunchTemplates[0].CreatedBy) != "arn:aws-cn:iam::222222222222:root" {
		t.Errorf("DescribeLaunchTemplates in aws-cn = %+v, %v; want CreatedBy arn:aws-cn:iam::222222222222:root", lts, err)
	}
}

// TestWorldResolve: an access key names its account and a request's region
// its Cloud, made on demand in a region the World serves; an unknown key or
// region is refused.
func TestWorldResolve(t *testing.T) {
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDSHOP", "111111111111", "ci")
	w.EnableRegion("eu-west-1")
	c, id, err := w.Resolve("AKIDSHOP", "eu-west-1")
	if err != nil || c.Scope() != (awsfake.Scope{Account: "111111111111", Region: "eu-west-1"}) || id.ARN("aws") != "arn:aws:iam::111111111111:user/ci" {
		t.Fatalf("Resolve = %v, %+v, %v", c, id, err)
	}
	if _, _, err := w.Resolve("AKIDNOBODY", "eu-west-1"); !errors.Is(err, awsfake.ErrUnknownKey) {
		t.Errorf("an unknown key: %v, want ErrUnknownKey", err)
	}
	if _, _, err := w.Resolve("AKIDSHOP", "us-west-2"); !errors.Is(err, awsfake.ErrUnknownRegion) {
		t.Errorf("a region the World does not serve: %v, want ErrUnknownRegion", err)
	}
	if got := w.Scopes(); len(got) != 1 {
		t.Errorf("scopes %v, want the one resolved", got)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "not 12 digits") {
			t.Errorf("a malformed scope: %v, want a panic naming the account", r)
		}
	}()
	w.Cloud(awsfake.Scope{Account: "shop", Region: "us-east-1"})
}
