package conformance

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// teardown: the calls the Cleaner makes, as AWS answers them. A snapshot of a
// registered AMI is not deleted (InvalidSnapshot.InUse); DeregisterImage with
// DeleteAssociatedSnapshots removes the AMI and its snapshots (Deregister); a
// launch template is deleted while a group launches from it; and removing
// each thing a second time answers the code gone counts as removed, a group
// is not listed or is being deleted, and a terminated instance terminates
// again (TerminateInstances is idempotent).
func (s *suite) teardown(t *testing.T) {
	if s.image != nil {
		t.Run("SnapshotInUse", func(t *testing.T) { s.snapshotInUse(t, *s.image) })
		t.Run("Deregister", func(t *testing.T) { s.deregister(t, *s.image) })
	}
	t.Run("Twice", s.removedTwice)
}

// snapshotInUse: DeleteSnapshot of a registered AMI's snapshot is InvalidSnapshot.InUse.
func (s *suite) snapshotInUse(t *testing.T, img ec2types.Image) {
	for _, id := range snapshotsOf(img) {
		_, err := s.ec2.DeleteSnapshot(t.Context(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
		wantCode(t, err, "InvalidSnapshot.InUse")
	}
}

// removedTwice removes a template (while a group launches from it), the group
// and a parameter, then every one of them again, with the AMI and snapshots
// Deregister removed and the instance GoneInstance terminated.
func (s *suite) removedTwice(t *testing.T) {
	run, c := s.h.Run(), s.h.Cleaner()
	lt := s.h.Template(t, "teardown", s.h.LaunchData(t))
	group := s.h.Group(t, "teardown", lt, "$Latest")
	param := ParameterPrefix(run) + "teardown"
	if _, err := s.ssm.PutParameter(t.Context(), &ssm.PutParameterInput{Name: aws.String(param), Value: aws.String("v1"),
		Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatalf("put %s: %v", param, err)
	}
	c.Track(t, Resource{Parameter, param, run})

	if _, err := s.ec2.DeleteLaunchTemplate(t.Context(), &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(lt)}); err != nil {
		t.Errorf("delete template %s, which group %s launches from: %v, want it deleted", lt, group, err)
	}
	for _, r := range []Resource{{Group, group, run}, {Parameter, param, run}} {
		if err := c.Remove(t.Context(), r); err != nil {
			t.Errorf("remove %s: %v", r, err)
		}
	}

	again := func(k Kind, id string, remove func(ctx context.Context) error) {
		t.Helper()
		s.eventually(t, func(ctx context.Context) error {
			if err := remove(ctx); !gone(k, err) {
				return fmt.Errorf("%s %s removed again: got %q (%v), want a code that says it is gone", k, id, code(err), err)
			}
			return nil
		})
	}
	again(Template, lt, func(ctx context.Context) error {
		_, err := s.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(lt)})
		return err
	})
	again(Parameter, param, func(ctx context.Context) error {
		_, err := s.ssm.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(param)})
		return err
	})
	if s.image != nil {
		again(Image, aws.ToString(s.image.ImageId), func(ctx context.Context) error {
			_, err := s.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: s.image.ImageId})
			return err
		})
		for _, id := range snapshotsOf(*s.image) {
			again(Snapshot, id, func(ctx context.Context) error {
				_, err := s.ec2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
				return err
			})
		}
	}
	if err := c.Remove(t.Context(), Resource{Group, group, run}); err != nil {
		t.Errorf("remove group %s again: %v, want none (not listed, or %q)", group, err, DeleteInProgress)
	}
	if d, err := s.asg.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}}); err != nil ||
		(len(d.AutoScalingGroups) > 0 && aws.ToString(d.AutoScalingGroups[0].Status) != DeleteInProgress) {
		t.Errorf("group %s after its removal: got %+v (%v), want it not listed, or %q", group, d, err, DeleteInProgress)
	}
	if s.gone != "" {
		out, err := s.ec2.TerminateInstances(t.Context(), &ec2.TerminateInstancesInput{InstanceIds: []string{s.gone}})
		if err != nil || len(out.TerminatingInstances) != 1 || out.TerminatingInstances[0].CurrentState.Name != ec2types.InstanceStateNameTerminated {
			t.Errorf("terminate %s, terminated already: got %+v (%v), want it terminated (the call is idempotent)", s.gone, out, err)
		}
	}
}
