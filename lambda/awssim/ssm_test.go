package awssim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/bump"
)

// startSSM serves a cloud and returns the SDK's own SSM client pointed at it.
func startSSM(t *testing.T, c *awsfake.Cloud) (*awssim.Server, *ssm.Client) {
	t.Helper()
	sim, url := serve(t, c)
	return sim, ssm.NewFromConfig(sdkConfig(url, 20*time.Millisecond))
}

// TestSSMRoundTrip: the SDK's client gets over the wire what the fake answers directly.
func TestSSMRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(start)))
	ami := c.AddImage(awsfake.Image{Name: "base"})
	_, client := startSSM(t, c)
	var _ bump.SSM = client
	put, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/amibump/web"), Value: aws.String(ami),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
	if err != nil || put.Version != 1 {
		t.Fatalf("put: %+v, %v", put, err)
	}
	got, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web")})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := c.SSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web")})
	if diff := cmp.Diff(want.Parameter, got.Parameter, sdkEqual); diff != "" {
		t.Errorf("parameter over the wire (-fake +sdk):\n%s", diff)
	}
	history, err := client.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/amibump/web")})
	if err != nil {
		t.Fatal(err)
	}
	wantHistory, _ := c.SSM().GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/amibump/web")})
	if diff := cmp.Diff(wantHistory.Parameters, history.Parameters, sdkEqual); diff != "" || history.Parameters[0].Tier != ssmtypes.ParameterTierStandard {
		t.Errorf("history over the wire (-fake +sdk):\n%s", diff)
	}
	many, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/amibump/web", "/amibump/none"}})
	if err != nil || len(many.Parameters) != 1 || len(many.InvalidParameters) != 1 {
		t.Errorf("get parameters: %+v, %v", many, err)
	}
	_, err = client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/none")})
	var notFound *ssmtypes.ParameterNotFound
	if !errors.As(err, &notFound) {
		t.Errorf("missing parameter: %v, want the SDK's ParameterNotFound", err)
	}
	_, err = client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/amibump/web"), Value: aws.String(ami), Type: ssmtypes.ParameterTypeString})
	var exists *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("second create: %v, want the SDK's ParameterAlreadyExists", err)
	}
}

func TestSSMThrottledThenServed(t *testing.T) {
	c := awsfake.New()
	c.AddParameter("/amibump/web", "ami-12345678", "aws:ec2:image")
	sim, client := startSSM(t, c)
	sim.Inject("GetParameter", awssim.Throttled(2))
	got, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/amibump/web")})
	if err != nil || aws.ToString(got.Parameter.Value) != "ami-12345678" || sim.Requests("GetParameter") != 3 {
		t.Errorf("got %+v, %v after %d requests; want the SDK's retryer to get through on the third", got, err, sim.Requests("GetParameter"))
	}
}

func TestCreateTagsOverTheWire(t *testing.T) {
	c := awsfake.New()
	lt := c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12345678")})
	_, cl := startSim(t, c)
	_, err := cl.ec2.CreateTags(context.Background(), &ec2.CreateTagsInput{Resources: []string{lt},
		Tags: []ec2types.Tag{{Key: aws.String("amibump:drift-reported"), Value: aws.String("3")}}})
	got, _ := c.LaunchTemplate(lt)
	if err != nil || len(got.Tags) != 1 || aws.ToString(got.Tags[0].Value) != "3" {
		t.Errorf("tags %+v, %v", got.Tags, err)
	}
}

func TestDeleteTagsOverTheWire(t *testing.T) {
	c := awsfake.New()
	lt := c.AddLaunchTemplate("web", map[string]string{"amibump:hold": "b-1", "keep": "x"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12345678")})
	_, cl := startSim(t, c)
	_, err := cl.ec2.DeleteTags(context.Background(), &ec2.DeleteTagsInput{Resources: []string{lt},
		Tags: []ec2types.Tag{{Key: aws.String("amibump:hold"), Value: aws.String("b-1")}}})
	got, _ := c.LaunchTemplate(lt)
	if err != nil || len(got.Tags) != 1 || aws.ToString(got.Tags[0].Key) != "keep" {
		t.Errorf("tags %+v, %v; want only keep", got.Tags, err)
	}
}
