package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
	"github.com/amibump/amibump/lambda/conformance"
)

// TestCleanerGroups: Auto Scaling deletes a group asynchronously, so the
// cleaner counts a group as gone when it is not listed or is listed with
// Status "Delete in progress", never on a ValidationError alone, and its sweep
// leaves a group being deleted alone. The fake deletes a group within the
// call: the answers of a group being deleted are served with EditNext.
func TestCleanerGroups(t *testing.T) {
	deleting := func(out any) {
		for i := range out.(*autoscaling.DescribeAutoScalingGroupsOutput).AutoScalingGroups {
			out.(*autoscaling.DescribeAutoScalingGroupsOutput).AutoScalingGroups[i].Status = aws.String(conformance.DeleteInProgress)
		}
	}
	tests := []struct {
		name     string
		refusal  error
		describe func(any) // the answer to the cleaner's question, if it asks
		wantErr  bool
		wantLeft bool // the group is still in the fake afterwards
	}{
		{"deleted", nil, nil, false, false},
		{"being deleted already", &astypes.ScalingActivityInProgressFault{Message: aws.String("deletion in progress")}, deleting, false, true},
		{"a validation error for a group still listed", &smithy.GenericAPIError{Code: "ValidationError", Message: "bad request"}, nil, true, true},
		{"a validation error for a group being deleted", &smithy.GenericAPIError{Code: "ValidationError", Message: "bad request"}, deleting, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud, cleaner := cleanerWorld(t)
			if tt.refusal != nil {
				cloud.FailNext("DeleteAutoScalingGroup", tt.refusal)
			}
			if tt.describe != nil {
				cloud.EditNext("DescribeAutoScalingGroups", tt.describe)
			}
			err := cleaner.Remove(context.Background(), conformance.Resource{Kind: conformance.Group, ID: "amibump-conformance-r1-web", Run: "r1"})
			if (err != nil) != tt.wantErr {
				t.Errorf("remove: got %v, want an error: %v", err, tt.wantErr)
			}
			if left := len(groups(t, cloud)) == 1; left != tt.wantLeft {
				t.Errorf("group left in the fake: got %v, want %v", left, tt.wantLeft)
			}
		})
	}
	t.Run("a group not found", func(t *testing.T) {
		_, cleaner := cleanerWorld(t)
		if err := cleaner.Remove(context.Background(), conformance.Resource{Kind: conformance.Group, ID: "amibump-conformance-r1-gone", Run: "r1"}); err != nil {
			t.Errorf("remove a group that is not there: %v, want no error", err)
		}
	})
	t.Run("the sweep leaves a group being deleted alone", func(t *testing.T) {
		cloud, cleaner := cleanerWorld(t)
		cloud.EditNext("DescribeAutoScalingGroups", deleting)
		removed, err := cleaner.Sweep(context.Background(), "r1")
		for _, r := range removed {
			if r.Kind == conformance.Group {
				t.Errorf("swept %s, being deleted", r)
			}
		}
		if err != nil || len(groups(t, cloud)) != 1 {
			t.Errorf("sweep: got %v with groups %v, want the group left to Auto Scaling", err, groups(t, cloud))
		}
	})
}

// cleanerWorld is a fake account with one group of run r1, served by awssim,
// and a cleaner for it that tries a refused removal once.
func cleanerWorld(t *testing.T) (*awsfake.Cloud, *conformance.Cleaner) {
	t.Helper()
	cloud := awsfake.New()
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001")})
	cloud.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("amibump-conformance-r1-web"),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")},
		Tags:           []astypes.TagDescription{{Key: aws.String(conformance.TagKey), Value: aws.String("r1")}}})
	sim := awssim.New(cloud)
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return cloud, conformance.NewCleaner(simConfig(url), time.Duration(0))
}

func groups(t *testing.T, c *awsfake.Cloud) []string {
	t.Helper()
	out, err := c.AutoScaling().DescribeAutoScalingGroups(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.AutoScalingGroups {
		names = append(names, aws.ToString(g.AutoScalingGroupName))
	}
	return names
}
