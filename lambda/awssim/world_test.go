package awssim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

// worldConfig is an SDK configuration signing with key for region, against
// a simulator at url, without retries (an auth error is final anyway).
func worldConfig(url, key, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// TestWorldServesScopesBySignature: one simulator serves two accounts in two
// regions, each request from the Cloud its signature names (the access key
// the account, the credential scope the region), with one clock and one id
// space, through real SDK clients.
func TestWorldServesScopesBySignature(t *testing.T) {
	clock := awsfake.NewManualClock(start)
	w := awsfake.NewWorld(awsfake.WithClock(clock), awsfake.WithImageDelay(10*time.Minute))
	w.AddAccessKey("AKIDSHOP", "111111111111", "ci")
	w.AddAccessKey("AKIDBLOG", "222222222222", "ci")
	scopes := []awsfake.Scope{
		{Account: "111111111111", Region: "us-east-1"},
		{Account: "111111111111", Region: "eu-west-1"},
		{Account: "222222222222", Region: "us-east-1"},
	}
	keys := map[string]string{"111111111111": "AKIDSHOP", "222222222222": "AKIDBLOG"}
	w.EnableRegion("eu-west-1")
	sources := map[awsfake.Scope]string{}
	for _, s := range scopes {
		sources[s] = w.Cloud(s).AddInstance(awsfake.Instance{})
	}
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	ctx := context.Background()

	images := map[awsfake.Scope]string{}
	seen := map[string]bool{}
	for _, s := range scopes {
		cfg := worldConfig(url, keys[s.Account], s.Region)
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Account) != s.Account || aws.ToString(id.Arn) != "arn:aws:iam::"+s.Account+":user/ci" {
			t.Fatalf("%s: GetCallerIdentity = %+v, %v; want account %s", s, id, err, s.Account)
		}
		out, err := ec2.NewFromConfig(cfg).CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(sources[s]), Name: aws.String("release-1")})
		if err != nil {
			t.Fatalf("%s: CreateImage of its own instance: %v", s, err)
		}
		img := aws.ToString(out.ImageId)
		if seen[img] || seen[sources[s]] {
			t.Errorf("%s: id %s or %s is used in another scope", s, img, sources[s])
		}
		seen[img], seen[sources[s]] = true, true
		images[s] = img
	}
	for _, s := range scopes {
		client := ec2.NewFromConfig(worldConfig(url, keys[s.Account], s.Region))
		out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != images[s] || aws.ToString(out.Images[0].OwnerId) != s.Account ||
			out.Images[0].State != ec2types.ImageStatePending {
			t.Errorf("%s: DescribeImages = %+v, want only its pending %s owned by %s", s, out.Images, images[s], s.Account)
		}
	}

	clock.Advance(10 * time.Minute)
	for _, s := range scopes {
		out, err := ec2.NewFromConfig(worldConfig(url, keys[s.Account], s.Region)).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{images[s]}})
		if err != nil || len(out.Images) != 1 || out.Images[0].State != ec2types.ImageStateAvailable {
			t.Errorf("%s: after the World's clock passed the delay: %+v, %v; want available", s, out, err)
		}
	}
	if got := w.Scopes(); len(got) != len(scopes) {
		t.Errorf("the World holds %v, want the %d scopes called", got, len(scopes))
	}
}

// TestWorldRefusesUnknownKeysAndRegions: a key no account holds, and a
// region the World does not serve, get each service's invalid-credentials
// error (behaviour ledger: "Credentials and regions").
func TestWorldRefusesUnknownKeysAndRegions(t *testing.T) {
	w := awsfake.NewWorld()
	w.AddAccessKey("AKIDSHOP", "111111111111", "ci")
	w.Cloud(awsfake.Scope{Account: "111111111111", Region: "us-east-1"})
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	ctx := context.Background()

	calls := []struct {
		name   string
		call   func(aws.Config) error
		code   string
		status int
	}{
		{"EC2", func(c aws.Config) error {
			_, err := ec2.NewFromConfig(c).DescribeImages(ctx, &ec2.DescribeImagesInput{})
			return err
		},
			"AuthFailure", http.StatusUnauthorized},
		{"Auto Scaling", func(c aws.Config) error {
			_, err := autoscaling.NewFromConfig(c).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		}, "InvalidClientTokenId", http.StatusForbidden},
		{"STS", func(c aws.Config) error {
			_, err := sts.NewFromConfig(c).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		},
			"InvalidClientTokenId", http.StatusForbidden},
		{"EventBridge", func(c aws.Config) error {
			_, err := eventbridge.NewFromConfig(c).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
				{Source: aws.String("ci.jenkins"), DetailType: aws.String("deploy-finished"), Detail: aws.String("{}")}}})
			return err
		}, "UnrecognizedClientException", http.StatusBadRequest},
		{"SSM", func(c aws.Config) error {
			_, err := ssm.NewFromConfig(c).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/x")})
			return err
		}, "UnrecognizedClientException", http.StatusBadRequest},
	}
	for _, tc := range calls {
		for _, bad := range []struct{ what, key, region string }{
			{"unknown key", "AKIDNOBODY", "us-east-1"},
			{"unknown region", "AKIDSHOP", "ap-southeast-7"},
		} {
			err := tc.call(worldConfig(url, bad.key, bad.region))
			var apiErr smithy.APIError
			var respErr *awshttp.ResponseError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code || !errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.status {
				t.Errorf("%s, %s: %v; want %s (%d)", tc.name, bad.what, err, tc.code, tc.status)
			}
		}
		// A known key in a served region gets past authentication (SSM's
		// parameter does not exist: ParameterNotFound is the service's answer).
		var apiErr smithy.APIError
		if err := tc.call(worldConfig(url, "AKIDSHOP", "us-east-1")); errors.As(err, &apiErr) && apiErr.ErrorCode() == tc.code {
			t.Errorf("%s with a known key and region: %v", tc.name, err)
		}
	}
	if got := w.Scopes(); len(got) != 1 {
		t.Errorf("refused requests made Clouds: %v", got)
	}
}

// TestGetCallerIdentityNeedsNoPermission: STS answers who the caller is even
// under a permission set that denies everything (STS API reference,
// GetCallerIdentity); the single-Cloud server answers with its Cloud's account.
func TestGetCallerIdentityNeedsNoPermission(t *testing.T) {
	deny, err := awsfake.ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := awsfake.New(awsfake.WithPolicy(deny))
	_, url := serve(t, c)
	cfg := sdkConfig(url, time.Millisecond)
	ctx := context.Background()
	if _, err := ec2.NewFromConfig(cfg).DescribeImages(ctx, &ec2.DescribeImagesInput{}); err == nil {
		t.Fatal("DescribeImages under a deny-all permission set: allowed")
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != awsfake.Account || aws.ToString(id.Arn) != "arn:aws:iam::"+awsfake.Account+":user/awssim" {
		t.Errorf("GetCallerIdentity = %+v, %v; want the cloud's account %s", id, err, awsfake.Account)
	}
}
