package awssim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

// roundTrip is one request: it returns the input it sent and what came back.
type roundTrip func(ctx context.Context, c clients) (in, out any, err error)

// TestRoundTrip sends every operation amibump calls through the real SDK
// clients and the simulator to one cloud, and the same calls straight to an
// identical twin cloud. The input the simulator hands its fake must be the
// input given to the SDK; what the SDK hands back must be what the twin
// returns, errors included.
func TestRoundTrip(t *testing.T) {
	clock := func() awsfake.Option { return awsfake.WithClock(awsfake.NewManualClock(start)) }
	served, twin := awsfake.New(clock()), awsfake.New(clock())
	seed(served)
	seed(twin)
	sim, sdk := startSim(t, served)
	direct := fakeClients(twin)
	var mu sync.Mutex
	var last awssim.Call
	sim.Observe(func(c awssim.Call) {
		mu.Lock()
		defer mu.Unlock()
		last = c
	})

	lt := func(c clients, name string) string {
		out, err := c.ec2.DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{name}})
		if err != nil || len(out.LaunchTemplates) != 1 {
			t.Fatalf("find %s: %v", name, err)
		}
		return aws.ToString(out.LaunchTemplates[0].LaunchTemplateId)
	}
	newImage := func(c clients) string {
		out, err := c.ec2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"shop-web-prod-a-1"}}}})
		if err != nil || len(out.Images) != 1 {
			t.Fatalf("find the new image: %v", err)
		}
		return aws.ToString(out.Images[0].ImageId)
	}

	tests := []struct {
		name string
		call roundTrip
	}{
		{"DescribeLaunchTemplates by tag filters", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(200), Filters: []ec2types.Filter{
				{Name: aws.String("tag:amibump:app"), Values: []string{"shop"}},
				{Name: aws.String("tag:amibump:layer"), Values: []string{"web", "api"}},
			}}
			out, err := c.ec2.DescribeLaunchTemplates(ctx, in)
			return in, out, err
		}},
		{"DescribeLaunchTemplates by id", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{lt(c, "shop-api-prod-a")}}
			out, err := c.ec2.DescribeLaunchTemplates(ctx, in)
			return in, out, err
		}},
		{"DescribeLaunchTemplates of a missing template", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}}
			out, err := c.ec2.DescribeLaunchTemplates(ctx, in)
			return in, out, err
		}},
		{"DescribeLaunchTemplateVersions of one template", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt(c, "shop-web-prod-a")), MaxResults: aws.Int32(200)}
			out, err := c.ec2.DescribeLaunchTemplateVersions(ctx, in)
			return in, out, err
		}},
		{"DescribeLaunchTemplateVersions account-wide", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}, MaxResults: aws.Int32(200)}
			out, err := c.ec2.DescribeLaunchTemplateVersions(ctx, in)
			return in, out, err
		}},
		{"DescribeInstances by filters", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
				{Name: aws.String("tag:amibump:source-for"), Values: []string{"shop-web-prod-a"}},
				{Name: aws.String("instance-state-name"), Values: []string{"running"}},
			}}
			out, err := c.ec2.DescribeInstances(ctx, in)
			return in, out, err
		}},
		{"DescribeInstances by id", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}
			out, err := c.ec2.DescribeInstances(ctx, in)
			return in, out, err
		}},
		{"DescribeInstances of a malformed id", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeInstancesInput{InstanceIds: []string{"instance-1"}}
			out, err := c.ec2.DescribeInstances(ctx, in)
			return in, out, err
		}},
		{"CreateImage with tags on image and snapshots", func(ctx context.Context, c clients) (any, any, error) {
			tags := []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("shop-web-prod-a-1")}, {Key: aws.String("amibump:build-id"), Value: aws.String("jenkins & <co>")}}
			in := &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("shop-web-prod-a-1"),
				NoReboot: aws.Bool(true), Description: aws.String("amibump: build 142"), DryRun: aws.Bool(false),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: tags}, {ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}}
			out, err := c.ec2.CreateImage(ctx, in)
			return in, out, err
		}},
		{"CreateImage with a name in use", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("shop-web-prod-a-1")}
			out, err := c.ec2.CreateImage(ctx, in)
			return in, out, err
		}},
		{"CreateImage dry run", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("shop-web-prod-a-2"), DryRun: aws.Bool(true)}
			out, err := c.ec2.CreateImage(ctx, in)
			return in, out, err
		}},
		{"DescribeImages by owner and filters", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000), Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"plat*"}}}}
			out, err := c.ec2.DescribeImages(ctx, in)
			return in, out, err
		}},
		{"DescribeImages by id", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DescribeImagesInput{ImageIds: []string{newImage(c)}}
			out, err := c.ec2.DescribeImages(ctx, in)
			return in, out, err
		}},
		{"DescribeImageReferences", func(ctx context.Context, c clients) (any, any, error) {
			all, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
			if err != nil {
				return nil, nil, err
			}
			in := &ec2.DescribeImageReferencesInput{MaxResults: aws.Int32(5), ResourceTypes: []ec2types.ResourceTypeRequest{
				{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameStateName, OptionValues: []string{"running", "stopped"}}}},
				{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate, ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{"100"}}}},
			}}
			for _, img := range all.Images {
				in.ImageIds = append(in.ImageIds, aws.ToString(img.ImageId))
			}
			out, err := c.ec2.DescribeImageReferences(ctx, in)
			return in, out, err
		}},
		{"CreateLaunchTemplateVersion from $Latest", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt(c, "shop-web-prod-a")), SourceVersion: aws.String("$Latest"),
				ClientToken: aws.String("amibump-token-1"), VersionDescription: aws.String("amibump: build 142, commit 9f1c2e7d"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(newImage(c))}}
			out, err := c.ec2.CreateLaunchTemplateVersion(ctx, in)
			return in, out, err
		}},
		{"CreateLaunchTemplateVersion dry run", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("shop-api-prod-a"), SourceVersion: aws.String("$Latest"),
				ClientToken: aws.String("amibump-token-2"), DryRun: aws.Bool(true), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(newImage(c))}}
			out, err := c.ec2.CreateLaunchTemplateVersion(ctx, in)
			return in, out, err
		}},
		{"ModifyLaunchTemplate default version", func(ctx context.Context, c clients) (any, any, error) {
			// The SDK fills in a ClientToken when none is given; amibump gives none.
			in := &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt(c, "shop-web-prod-a")), DefaultVersion: aws.String("4"), ClientToken: aws.String("token-3")}
			out, err := c.ec2.ModifyLaunchTemplate(ctx, in)
			return in, out, err
		}},
		{"DeleteLaunchTemplateVersions, partly failing", func(ctx context.Context, c clients) (any, any, error) {
			in := &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt(c, "shop-web-prod-a")), Versions: []string{"1", "4", "99"}}
			out, err := c.ec2.DeleteLaunchTemplateVersions(ctx, in)
			return in, out, err
		}},
		{"DeregisterImage with its snapshots", func(ctx context.Context, c clients) (any, any, error) {
			all, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"base-2025-12"}}}})
			if err != nil || len(all.Images) != 1 {
				return nil, nil, errors.New("no image base-2025-12")
			}
			in := &ec2.DeregisterImageInput{ImageId: all.Images[0].ImageId, DeleteAssociatedSnapshots: aws.Bool(true)}
			out, err := c.ec2.DeregisterImage(ctx, in)
			return in, out, err
		}},
		{"DescribeAutoScalingGroups", func(ctx context.Context, c clients) (any, any, error) {
			in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)}
			out, err := c.asg.DescribeAutoScalingGroups(ctx, in)
			return in, out, err
		}},
		{"DescribeAutoScalingGroups by name and filter", func(ctx context.Context, c clients) (any, any, error) {
			in := &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"shop-web-prod-a", "shop-api-prod-a"},
				Filters: []astypes.Filter{{Name: aws.String("tag:team"), Values: []string{"shop"}}}}
			out, err := c.asg.DescribeAutoScalingGroups(ctx, in)
			return in, out, err
		}},
		{"DescribeAutoScalingGroups with a bad page size", func(ctx context.Context, c clients) (any, any, error) {
			in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(500)}
			out, err := c.asg.DescribeAutoScalingGroups(ctx, in)
			return in, out, err
		}},
		{"StartInstanceRefresh", func(ctx context.Context, c clients) (any, any, error) {
			in := &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-a"),
				Preferences: &astypes.RefreshPreferences{SkipMatching: aws.Bool(true), MinHealthyPercentage: aws.Int32(90)}}
			out, err := c.asg.StartInstanceRefresh(ctx, in)
			return in, out, err
		}},
		{"StartInstanceRefresh while one runs", func(ctx context.Context, c clients) (any, any, error) {
			in := &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-a")}
			out, err := c.asg.StartInstanceRefresh(ctx, in)
			return in, out, err
		}},
		{"PutEvents, one entry to a missing bus", func(ctx context.Context, c clients) (any, any, error) {
			in := &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
				{Source: aws.String("amibump"), DetailType: aws.String("bump-finished"), EventBusName: aws.String("amibump"),
					Detail: aws.String(`{"status":"promoted","reason":"ünïcode & <xml>"}`), Resources: []string{"arn:aws:ec2:us-east-1::image/ami-1"}, Time: aws.Time(start)},
				{Source: aws.String("amibump"), DetailType: aws.String("bump-finished"), EventBusName: aws.String("nope"), Detail: aws.String(`{}`)},
			}}
			out, err := c.eb.PutEvents(ctx, in)
			return in, out, err
		}},
		{"PutEvents of nothing", func(ctx context.Context, c clients) (any, any, error) {
			in := &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{}}
			out, err := c.eb.PutEvents(ctx, in)
			return in, out, err
		}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantIn, wantOut, wantErr := tt.call(ctx, direct)
			mu.Lock()
			last = awssim.Call{}
			mu.Unlock()
			_, gotOut, gotErr := tt.call(ctx, sdk)
			mu.Lock()
			gotIn := last.Input
			mu.Unlock()
			if diff := cmp.Diff(wantIn, gotIn, sdkEqual); diff != "" {
				t.Errorf("input the fake received (-sent +received):\n%s", diff)
			}
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("error: got %v, want %v", gotErr, wantErr)
			}
			if wantErr != nil {
				if got, want := code(gotErr), code(wantErr); got != want {
					t.Errorf("error code: got %s, want %s (%v)", got, want, gotErr)
				}
				if got, want := message(gotErr), message(wantErr); got != want {
					t.Errorf("error message: got %q, want %q", got, want)
				}
				return
			}
			if diff := cmp.Diff(wantOut, gotOut, sdkEqual); diff != "" {
				t.Errorf("output (-fake +SDK):\n%s", diff)
			}
		})
	}
}

func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func message(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestErrors checks that AWS's errors reach the SDK with AWS's codes, HTTP
// statuses and types.
func TestErrors(t *testing.T) {
	cloud := awsfake.New()
	seed(cloud)
	cloud.Deny("DeregisterImage")
	cloud.Deny("DescribeAutoScalingGroups")
	cloud.Deny("PutEvents")
	_, c := startSim(t, cloud)
	ctx := context.Background()
	_, denyEC2 := c.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String("ami-0123456789abcdef0")})
	_, denyASG := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	_, denyEB := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String("x")}}})
	_, dry := c.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("dry-run"), DryRun: aws.Bool(true)})
	_, notFound := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	_, err := c.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-a")})
	if err != nil {
		t.Fatal(err)
	}
	_, inProgress := c.asg.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("shop-web-prod-a")})
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"EC2 access denied", denyEC2, "UnauthorizedOperation", 403},
		{"Auto Scaling access denied", denyASG, "AccessDenied", 403},
		{"EventBridge access denied", denyEB, "AccessDeniedException", 400},
		{"EC2 dry run", dry, "DryRunOperation", 412},
		{"EC2 not found", notFound, "InvalidAMIID.NotFound", 400},
		{"Auto Scaling typed fault", inProgress, "InstanceRefreshInProgress", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.err); got != tt.code {
				t.Errorf("code: got %q, want %q (%v)", got, tt.code, tt.err)
			}
			if got := status(tt.err); got != tt.status {
				t.Errorf("HTTP status: got %d, want %d", got, tt.status)
			}
		})
	}
	var typed *astypes.InstanceRefreshInProgressFault
	if !errors.As(inProgress, &typed) {
		t.Errorf("got %T, want the SDK's typed *types.InstanceRefreshInProgressFault", errors.Unwrap(inProgress))
	}
}

// TestUnknownRequests checks what the simulator answers to calls amibump does
// not make: AWS's InvalidAction, UnknownParameter and UnknownOperationException.
func TestUnknownRequests(t *testing.T) {
	sim := awssim.New(awsfake.New())
	u, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sim.Close() }()
	post := func(body url.Values, header http.Header) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name   string
		body   url.Values
		header http.Header
		want   string
	}{
		{"EC2 action not served", url.Values{"Action": {"StopInstances"}, "Version": {"2016-11-15"}}, nil, "<Code>InvalidAction</Code>"},
		{"EC2 parameter not in the model", url.Values{"Action": {"DescribeImages"}, "Version": {"2016-11-15"}, "Bogus": {"1"}}, nil, "<Code>UnknownParameter</Code>"},
		{"Auto Scaling action not served", url.Values{"Action": {"CreateAutoScalingGroup"}, "Version": {"2011-01-01"}}, nil, "<Code>InvalidAction</Code>"},
		{"EventBridge action not served", nil, http.Header{"X-Amz-Target": {"AWSEvents.CreateEventBus"}}, `"__type":"UnknownOperationException"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := post(tt.body, tt.header)
			if st != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s, want 400 with %s", st, body, tt.want)
			}
		})
	}
}
