package awssim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// sendFailed stands for the error of a request that got no answer.
const sendFailed = "(send failed)"

// TestFaults checks each kind of fault against the SDK's standard retryer
// (3 attempts): a burst of two is absorbed, a persistent fault surfaces with
// AWS's code after the third attempt.
func TestFaults(t *testing.T) {
	ops := map[string]func(context.Context, clients) error{
		"DescribeImages": func(ctx context.Context, c clients) error {
			_, err := c.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
			return err
		},
		"DescribeAutoScalingGroups": func(ctx context.Context, c clients) error {
			_, err := c.asg.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		},
		"PutEvents": func(ctx context.Context, c clients) error {
			_, err := c.eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
				{Source: aws.String("amibump"), DetailType: aws.String("bump-finished"), EventBusName: aws.String("amibump"), Detail: aws.String("{}")}}})
			return err
		},
	}
	tests := []struct {
		name     string
		op       string
		fault    awssim.Fault
		wantCode string // "" = the call succeeds
		requests int
	}{
		{"EC2 throttled twice", "DescribeImages", awssim.Throttled(2), "", 3},
		{"EC2 throttled throughout", "DescribeImages", awssim.Persistent(awssim.Throttled(1)), "RequestLimitExceeded", 3},
		{"EC2 500 twice", "DescribeImages", awssim.ServerError(500, 2), "", 3},
		{"EC2 503 throughout", "DescribeImages", awssim.Persistent(awssim.ServerError(503, 1)), "Unavailable", 3},
		{"EC2 connection dropped once", "DescribeImages", awssim.Dropped(1), "", 2},
		{"EC2 connection dropped throughout", "DescribeImages", awssim.Persistent(awssim.Dropped(1)), sendFailed, 3},
		{"EC2 slow once", "DescribeImages", awssim.Slow(300*time.Millisecond, 1), "", 1},
		{"Auto Scaling throttled twice", "DescribeAutoScalingGroups", awssim.Throttled(2), "", 3},
		{"Auto Scaling throttled throughout", "DescribeAutoScalingGroups", awssim.Persistent(awssim.Throttled(1)), "Throttling", 3},
		{"Auto Scaling 500 throughout", "DescribeAutoScalingGroups", awssim.Persistent(awssim.ServerError(500, 1)), "InternalFailure", 3},
		{"EventBridge throttled twice", "PutEvents", awssim.Throttled(2), "", 3},
		{"EventBridge 500 throughout", "PutEvents", awssim.Persistent(awssim.ServerError(500, 1)), "InternalException", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			seed(cloud)
			sim, c := startSim(t, cloud)
			sim.Inject(tt.op, tt.fault)
			err := ops[tt.op](context.Background(), c)
			switch {
			case tt.wantCode == sendFailed:
				if err == nil || code(err) != "" {
					t.Fatalf("got %v, want the dropped connection to surface", err)
				}
			case tt.wantCode == "" && err != nil:
				t.Fatalf("got %v, want the retryer to absorb the fault", err)
			case tt.wantCode != "" && code(err) != tt.wantCode:
				t.Fatalf("got %v, want error code %s", err, tt.wantCode)
			}
			if got := sim.Requests(tt.op); got != tt.requests {
				t.Errorf("requests: got %d, want %d", got, tt.requests)
			}
			if tt.fault.Delay > 0 {
				// The fault holds the request: a caller that gives up sooner
				// than the delay gets no answer (no clock read by the test).
				sim.Inject(tt.op, tt.fault)
				ctx, cancel := context.WithTimeout(context.Background(), tt.fault.Delay/3)
				defer cancel()
				if err := ops[tt.op](ctx, c); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("a caller waiting %s got %v, want its deadline to pass first", tt.fault.Delay/3, err)
				}
			}
		})
	}
}

// TestFaultsChangeNothing checks that a faulted request never reaches the
// fake: a throttled CreateImage makes no AMI, and the retry makes exactly one.
func TestFaultsChangeNothing(t *testing.T) {
	cloud := awsfake.New()
	seed(cloud)
	sim, c := startSim(t, cloud)
	before := len(cloud.Images())
	sim.Inject("CreateImage", awssim.Throttled(2))
	sim.Inject(awssim.AnyOperation, awssim.Slow(10*time.Millisecond, 1))
	if _, err := c.ec2.CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("after-faults")}); err != nil {
		t.Fatal(err)
	}
	if got, want := len(cloud.Images()), before+1; got != want {
		t.Errorf("images: got %d, want %d", got, want)
	}
	if got := cloud.Calls("CreateImage"); got != 1 {
		t.Errorf("CreateImage calls reaching the fake: got %d, want 1", got)
	}
}

// TestLostResponses: the request is served but its answer is lost, so the SDK's
// retryer sends it again and meets what the first attempt did. A whole bump
// through the real SDK clients then still makes one AMI and one version: the
// retried CreateImage gets InvalidAMIName.Duplicate and bump resumes on that
// image; the retried CreateLaunchTemplateVersion carries the same ClientToken.
func TestLostResponses(t *testing.T) {
	cloud := awsfake.New()
	seed(cloud)
	sim, c := startSim(t, cloud)
	for _, op := range []string{"CreateImage", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "PutEvents"} {
		sim.Inject(op, awssim.LostResponses(1))
	}
	cfg := bump.Defaults()
	cfg.EventBus, cfg.PollMin, cfg.PollMax = "amibump", time.Millisecond, 5*time.Millisecond
	b := bump.New(c.ec2, c.asg, c.eb, cfg, nil).WithClock(cloud.Clock().Now)
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", "deploy-finished-web.json"))
	if err != nil {
		t.Fatal(err)
	}
	raw = awsfake.ShiftEvent(raw) // on the cloud's clock, as the Bumper's
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := b.Handle(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Status != event.Promoted {
		t.Fatalf("results %+v, want one promoted", resp.Results)
	}
	for _, op := range []string{"CreateImage", "CreateLaunchTemplateVersion"} {
		if got := sim.Requests(op); got != 2 {
			t.Errorf("%s requests: got %d, want 2 (the first answer lost, the retry)", op, got)
		}
	}
	made := 0
	for _, img := range cloud.Images() {
		for _, tag := range img.Tags {
			if aws.ToString(tag.Key) == "amibump:build-id" {
				made++
			}
		}
	}
	if made != 1 {
		t.Errorf("AMIs made: got %d, want 1", made)
	}
	lt := resp.Results[0].LaunchTemplateID
	carrying := 0
	for _, v := range cloud.Versions(lt) {
		if aws.ToString(v.LaunchTemplateData.ImageId) == resp.Results[0].ImageID {
			carrying++
		}
	}
	if carrying != 1 {
		t.Errorf("versions carrying %s: got %d, want 1", resp.Results[0].ImageID, carrying)
	}
}
