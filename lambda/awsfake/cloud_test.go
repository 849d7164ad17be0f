package awsfake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// mutation is one mutating EC2 call against a seeded cloud, with what it leaves
// behind, so DryRun and Deny can be checked against every one of them.
type mutation struct {
	op      string
	call    func(ctx context.Context, c *awsfake.Cloud, s seeded, dryRun bool, bad bool) error
	changed func(c *awsfake.Cloud, s seeded) bool
}

type seeded struct{ instance, image, lt string }

func seed(c *awsfake.Cloud) seeded {
	s := seeded{instance: c.AddInstance(awsfake.Instance{})}
	s.image = c.AddImage(awsfake.Image{Name: "base"})
	s.lt = c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(s.image)})
	if _, err := c.EC2().CreateLaunchTemplateVersion(context.Background(), &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(s.lt), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}); err != nil {
		panic(err)
	}
	return s
}

var mutations = []mutation{
	{"CreateImage", func(ctx context.Context, c *awsfake.Cloud, s seeded, dry, bad bool) error {
		in := s.instance
		if bad {
			in = "i-0123456789abcdef0"
		}
		_, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1"), DryRun: aws.Bool(dry)})
		return err
	}, func(c *awsfake.Cloud, _ seeded) bool { return len(c.Images()) != 1 }},
	{"DeregisterImage", func(ctx context.Context, c *awsfake.Cloud, s seeded, dry, bad bool) error {
		id := s.image
		if bad {
			id = "ami-0123456789abcdef0"
		}
		_, err := c.EC2().DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id), DryRun: aws.Bool(dry)})
		return err
	}, func(c *awsfake.Cloud, s seeded) bool { _, ok := c.Image(s.image); return !ok }},
	{"CreateLaunchTemplateVersion", func(ctx context.Context, c *awsfake.Cloud, s seeded, dry, bad bool) error {
		id := s.lt
		if bad {
			id = "lt-0123456789abcdef0"
		}
		_, err := c.EC2().CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}, DryRun: aws.Bool(dry)})
		return err
	}, func(c *awsfake.Cloud, s seeded) bool { return len(c.Versions(s.lt)) != 2 }},
	{"ModifyLaunchTemplate", func(ctx context.Context, c *awsfake.Cloud, s seeded, dry, bad bool) error {
		id := s.lt
		if bad {
			id = "lt-0123456789abcdef0"
		}
		_, err := c.EC2().ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2"), DryRun: aws.Bool(dry)})
		return err
	}, func(c *awsfake.Cloud, s seeded) bool {
		lt, _ := c.LaunchTemplate(s.lt)
		return aws.ToInt64(lt.DefaultVersionNumber) != 1
	}},
	{"DeleteLaunchTemplateVersions", func(ctx context.Context, c *awsfake.Cloud, s seeded, dry, bad bool) error {
		id := s.lt
		if bad {
			id = "lt-0123456789abcdef0"
		}
		_, err := c.EC2().DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"2"}, DryRun: aws.Bool(dry)})
		return err
	}, func(c *awsfake.Cloud, s seeded) bool { return len(c.Versions(s.lt)) != 2 }},
}

func TestDryRun(t *testing.T) {
	notFound := map[string]string{"CreateImage": "InvalidInstanceID.NotFound", "DeregisterImage": "InvalidAMIID.NotFound"}
	for _, m := range mutations {
		for _, tc := range []struct {
			name       string
			deny, bad  bool
			want       string
			wantStatus int
		}{
			{"allowed", false, false, "DryRunOperation", 412},
			{"denied", true, false, "UnauthorizedOperation", 403},
			{"bad id", false, true, "", 400},
		} {
			t.Run(m.op+" "+tc.name, func(t *testing.T) {
				c := awsfake.New()
				s := seed(c)
				if tc.deny {
					c.Deny(m.op)
				}
				want := tc.want
				if tc.bad {
					want = notFound[m.op]
					if want == "" {
						want = "InvalidLaunchTemplateId.NotFound"
					}
				}
				err := m.call(context.Background(), c, s, true, tc.bad)
				wantCode(t, err, want)
				var re *awshttp.ResponseError
				if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
					t.Errorf("HTTP status: got %v, want %d", err, tc.wantStatus)
				}
				if m.changed(c, s) {
					t.Errorf("%s with DryRun changed the cloud", m.op)
				}
			})
		}
		t.Run(m.op+" for real", func(t *testing.T) {
			c := awsfake.New()
			s := seed(c)
			if err := m.call(context.Background(), c, s, false, false); err != nil {
				t.Fatal(err)
			}
			if !m.changed(c, s) {
				t.Errorf("%s without DryRun changed nothing", m.op)
			}
		})
	}
}

func TestDeny(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		op   string
		call func(c *awsfake.Cloud) error
		want string
	}{
		{"DescribeImages", func(c *awsfake.Cloud) error {
			_, err := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{})
			return err
		}, "UnauthorizedOperation"},
		{"StartInstanceRefresh", func(c *awsfake.Cloud) error {
			_, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("g")})
			return err
		}, "AccessDenied"},
		{"DescribeAutoScalingGroups", func(c *awsfake.Cloud) error {
			_, err := c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err
		}, "AccessDenied"},
		{"PutEvents", func(c *awsfake.Cloud) error {
			_, err := c.EventBridge().PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{validEntry("")}})
			return err
		}, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			c := awsfake.New()
			c.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("g")})
			c.Deny(tt.op)
			for range 2 {
				wantCode(t, tt.call(c), tt.want)
			}
			if got := c.Calls(tt.op); got != 2 {
				t.Errorf("calls: got %d, want 2", got)
			}
			if len(c.Events()) != 0 || len(c.InstanceRefreshes("g")) != 0 {
				t.Errorf("a denied call changed the cloud")
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	c := awsfake.New()
	in := c.AddInstance(awsfake.Instance{})
	injected := awsfake.APIError("InternalError", "boom")
	c.FailNext("CreateImage", awsfake.Throttle())
	c.FailNext("CreateImage", injected)
	create := func() error {
		_, err := c.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
		return err
	}
	err := create()
	wantCode(t, err, "RequestLimitExceeded")
	err = create()
	wantCode(t, err, "InternalError")
	var apiErr smithy.APIError
	if errors.As(err, &apiErr); apiErr.ErrorFault() != smithy.FaultServer {
		t.Errorf("fault: got %v, want server", apiErr.ErrorFault())
	}
	if !errors.Is(err, injected) {
		t.Errorf("errors.Is(err, injected): got false, want true (err %v)", err)
	}
	if len(c.Images()) != 0 {
		t.Errorf("images after injected failures: got %d, want 0", len(c.Images()))
	}
	if err := create(); err != nil {
		t.Errorf("third call: got %v, want success", err)
	}
	if got := c.Calls("CreateImage"); got != 3 {
		t.Errorf("calls: got %d, want 3", got)
	}
	c.ResetCalls()
	if got := c.Calls("CreateImage"); got != 0 {
		t.Errorf("calls after reset: got %d, want 0", got)
	}
}

func TestCanceledContext(t *testing.T) {
	c := awsfake.New()
	in := c.AddInstance(awsfake.Instance{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error: got %v, want context.Canceled", err)
	}
	if len(c.Images()) != 0 {
		t.Errorf("images: got %d, want 0", len(c.Images()))
	}
}

func TestOutputsAreCopies(t *testing.T) {
	c := awsfake.New()
	s := seed(c)
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("g"),
		Tags: []astypes.TagDescription{{Key: aws.String("k"), Value: aws.String("v")}}})
	ctx := context.Background()

	imgs, _ := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{})
	*imgs.Images[0].Name = "changed"
	v, _ := c.EC2().DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(s.lt), Versions: []string{"1"}})
	*v.LaunchTemplateVersions[0].LaunchTemplateData.ImageId = "ami-00000000000000fff"
	g, _ := c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	*g.AutoScalingGroups[0].Tags[0].Value = "changed"

	if img, _ := c.Image(s.image); aws.ToString(img.Name) != "base" {
		t.Errorf("image name: got %s, want base", aws.ToString(img.Name))
	}
	if got := aws.ToString(c.Versions(s.lt)[0].LaunchTemplateData.ImageId); got != s.image {
		t.Errorf("version 1 image: got %s, want %s", got, s.image)
	}
	g, _ = c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if got := aws.ToString(g.AutoScalingGroups[0].Tags[0].Value); got != "v" {
		t.Errorf("group tag: got %s, want v", got)
	}
}

// TestConcurrentUse is meant for -race: many goroutines create images and versions
// at once; every call succeeds exactly once per name and version numbers stay unique.
func TestConcurrentUse(t *testing.T) {
	c := awsfake.New(awsfake.WithPageSize(5))
	in := c.AddInstance(awsfake.Instance{})
	lt := c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{})
	ctx := context.Background()
	var wg sync.WaitGroup
	versions := make(chan int64, 40)
	for i := range 40 {
		wg.Go(func() {
			name := fmt.Sprintf("web-%d", i%20) // every name twice: one wins, one is a duplicate
			out, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String(name)})
			if err != nil && code(err) != "InvalidAMIName.Duplicate" {
				t.Errorf("create image %s: %v", name, err)
				return
			}
			if err == nil {
				v, err := c.EC2().CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
					SourceVersion: aws.String("$Latest"), ClientToken: aws.String(*out.ImageId),
					LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: out.ImageId}})
				if err != nil {
					t.Errorf("create version: %v", err)
					return
				}
				versions <- *v.LaunchTemplateVersion.VersionNumber
			}
			p := ec2.NewDescribeImagesPaginator(c.EC2(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
			for p.HasMorePages() {
				if _, err := p.NextPage(ctx); err != nil {
					t.Errorf("describe images: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(versions)
	seen := map[int64]bool{}
	for v := range versions {
		if seen[v] {
			t.Errorf("version %d given twice", v)
		}
		seen[v] = true
	}
	if len(c.Images()) != 20 || len(seen) != 20 {
		t.Errorf("images/versions: got %d/%d, want 20/20", len(c.Images()), len(seen))
	}
}

func TestWithLatency(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	c := awsfake.New(awsfake.WithLatency(func(op string) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, op)
		return time.Hour
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A canceled call does not sit out its latency: it ends with the context's error.
	_, err := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("DescribeImages = %v, want context.Canceled", err)
	}
	if len(asked) != 1 || asked[0] != "DescribeImages" {
		t.Errorf("latency asked for %q, want [DescribeImages]", asked)
	}
}

func TestAllowUndoesDeny(t *testing.T) {
	c := awsfake.New()
	c.Deny("DescribeImages")
	if _, err := c.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{}); err == nil {
		t.Fatal("denied call succeeded")
	}
	c.Allow("DescribeImages")
	if _, err := c.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{}); err != nil {
		t.Errorf("allowed call failed: %v", err)
	}
}
