package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// sourceVersion: a version made from SourceVersion inherits the source's
// parameters, the request's replacing them, but not the snapshots of its block
// device mappings unless given again; parameters are not validated (an AMI that does not exist is
// accepted).
func (s *suite) sourceVersion(t *testing.T) {
	lt := s.h.Template(t, "source", ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000001"),
		InstanceType: ec2types.InstanceTypeT3Nano,
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String("snap-00000000000000001"), VolumeSize: aws.Int32(20)}}}})
	check := func(v *ec2types.LaunchTemplateVersion) error {
		d := v.LaunchTemplateData
		bdm := d.BlockDeviceMappings
		if aws.ToString(d.ImageId) != "ami-00000000000000002" || d.InstanceType != ec2types.InstanceTypeT3Nano ||
			len(bdm) != 1 || bdm[0].Ebs == nil || aws.ToInt32(bdm[0].Ebs.VolumeSize) != 20 || bdm[0].Ebs.SnapshotId != nil {
			return fmt.Errorf("version 2 from version 1: got %+v with mappings %+v, want ImageId ami-00000000000000002, "+
				"t3.nano inherited, the 20 GiB volume without its snapshot", d, bdm)
		}
		return nil
	}
	v := s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000002")}})
	if err := check(v); err != nil {
		t.Errorf("response: %v", err)
	}
	s.eventually(t, func(ctx context.Context) error {
		out, err := s.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"2"}})
		if err != nil {
			return err
		}
		return check(&out.LaunchTemplateVersions[0])
	})
	given := s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{SnapshotId: aws.String("snap-00000000000000002")}}}}})
	if bdm := given.LaunchTemplateData.BlockDeviceMappings; len(bdm) != 1 || bdm[0].Ebs == nil || aws.ToString(bdm[0].Ebs.SnapshotId) != "snap-00000000000000002" {
		t.Errorf("a version from version 1 given a snapshot again: got mappings %+v, want snap-00000000000000002 kept", bdm)
	}
}

// clientToken: CreateLaunchTemplateVersion with a ClientToken used before and
// the same request returns the first response, even once that version is
// deleted; with another request it is IdempotentParameterMismatch; a token is
// at most 128 characters.
func (s *suite) clientToken(t *testing.T) {
	lt := s.h.Template(t, "token", s.h.LaunchData(t))
	token := s.name("token")
	in := func(description string) *ec2.CreateLaunchTemplateVersionInput {
		return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), ClientToken: aws.String(token), SourceVersion: aws.String("1"),
			VersionDescription: aws.String(description), LaunchTemplateData: s.same(t)}
	}
	first := s.newVersion(t, lt, in("first"))
	if again := s.newVersion(t, lt, in("first")); aws.ToInt64(again.VersionNumber) != aws.ToInt64(first.VersionNumber) {
		t.Errorf("the same token and request again: got version %d, want %d", aws.ToInt64(again.VersionNumber), aws.ToInt64(first.VersionNumber))
	}
	s.eventually(t, func(ctx context.Context) error { return s.latestIs(ctx, lt, 2) })
	s.deleteVersion(t, lt, 2)
	if again := s.newVersion(t, lt, in("first")); aws.ToInt64(again.VersionNumber) != 2 {
		t.Errorf("the same token and request after the version was deleted: got version %d, want 2", aws.ToInt64(again.VersionNumber))
	}
	_, err := s.ec2.CreateLaunchTemplateVersion(t.Context(), in("second"))
	wantCode(t, err, "IdempotentParameterMismatch")
	long := in("long")
	long.ClientToken = aws.String(strings.Repeat("t", 129))
	_, err = s.ec2.CreateLaunchTemplateVersion(t.Context(), long)
	wantCode(t, err, "InvalidParameterValue")
}

// same is launch template data that changes nothing in a version made from
// one with LaunchData (EC2 requires some).
func (s *suite) same(t *testing.T) *ec2types.RequestLaunchTemplateData {
	return &ec2types.RequestLaunchTemplateData{InstanceType: s.h.LaunchData(t).InstanceType}
}

// versionNumbers: version numbers are never reused, and versions are listed
// newest first.
func (s *suite) versionNumbers(t *testing.T) {
	lt := s.h.Template(t, "numbers", s.h.LaunchData(t))
	more := func() int64 {
		return aws.ToInt64(s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"),
			LaunchTemplateData: s.same(t)}).VersionNumber)
	}
	more()
	more()
	s.eventually(t, func(ctx context.Context) error { return s.latestIs(ctx, lt, 3) })
	s.deleteVersion(t, lt, 3)
	if n := more(); n != 4 {
		t.Errorf("the version after version 3 was deleted: got %d, want 4", n)
	}
	s.versions(t, lt, 4, 2, 1)
}

// defaultVersion: ModifyLaunchTemplate takes a version number for
// DefaultVersion; one that does not exist is InvalidLaunchTemplateId.VersionNotFound.
func (s *suite) defaultVersion(t *testing.T) {
	lt := s.h.Template(t, "default", s.h.LaunchData(t))
	s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"), LaunchTemplateData: s.same(t)})
	s.eventually(t, func(ctx context.Context) error { return s.latestIs(ctx, lt, 2) })
	out, err := s.ec2.ModifyLaunchTemplate(t.Context(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("2")})
	if err != nil || aws.ToInt64(out.LaunchTemplate.DefaultVersionNumber) != 2 {
		t.Errorf("default version 2: got %+v (%v), want default version 2", out, err)
	}
	_, err = s.ec2.ModifyLaunchTemplate(t.Context(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String("99")})
	wantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
}

// deleteVersions: DeleteLaunchTemplateVersions reports each version that
// cannot go inside its output (the default version: unexpectedError), and
// takes at most 200 versions.
func (s *suite) deleteVersions(t *testing.T) {
	lt := s.h.Template(t, "delete", s.h.LaunchData(t))
	s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"), LaunchTemplateData: s.same(t)})
	s.eventually(t, func(ctx context.Context) error { return s.latestIs(ctx, lt, 2) })
	out, err := s.ec2.DeleteLaunchTemplateVersions(t.Context(), &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"1", "2"}})
	if err != nil {
		t.Fatal(err)
	}
	ok, failed := out.SuccessfullyDeletedLaunchTemplateVersions, out.UnsuccessfullyDeletedLaunchTemplateVersions
	if len(ok) != 1 || aws.ToInt64(ok[0].VersionNumber) != 2 || len(failed) != 1 || aws.ToInt64(failed[0].VersionNumber) != 1 ||
		failed[0].ResponseError == nil || failed[0].ResponseError.Code != ec2types.LaunchTemplateErrorCodeUnexpectedError {
		t.Errorf("delete versions 1 (the default) and 2: got deleted %+v, not deleted %+v; want 2 deleted, 1 not (unexpectedError)", ok, failed)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = fmt.Sprint(i + 2)
	}
	_, err = s.ec2.DeleteLaunchTemplateVersions(t.Context(), &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: many})
	wantCode(t, err, "InvalidParameterValue")
}

// instanceRefresh: one instance refresh at a time per group (InstanceRefreshInProgress).
func (s *suite) instanceRefresh(t *testing.T) {
	lt := s.h.Template(t, "refresh", s.h.LaunchData(t))
	group := s.h.Group(t, "refresh", lt, "$Latest")
	start := func() error {
		_, err := s.asg.StartInstanceRefresh(t.Context(), &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(group),
			Preferences: &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}})
		return err
	}
	if err := start(); err != nil {
		t.Fatalf("start a refresh of %s: %v", group, err)
	}
	var inProgress *astypes.InstanceRefreshInProgressFault
	if err := start(); !errors.As(err, &inProgress) {
		t.Errorf("a second refresh while the first runs: got %v, want InstanceRefreshInProgress", err)
	}
	t.Run("Cancel", func(t *testing.T) { s.cancelRefresh(t, group) })
}

// cancelRefresh: CancelInstanceRefresh, as amibump's rollback calls it (not
// waiting for transitioning instances), answers the running refresh's id; the
// refresh is Cancelling, then Cancelled (the harness's clock let pass where
// it holds it); then nothing is left to cancel (ActiveInstanceRefreshNotFound).
func (s *suite) cancelRefresh(t *testing.T, group string) {
	out, err := s.asg.CancelInstanceRefresh(t.Context(), &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(group), WaitForTransitioningInstances: aws.Bool(false)})
	if err != nil {
		t.Fatalf("cancel the refresh of %s: %v", group, err)
	}
	id := aws.ToString(out.InstanceRefreshId)
	ctx, cancel := within(t, s.p, 30*time.Minute)
	defer cancel()
	delay := s.p.Poll
	for seen := []astypes.InstanceRefreshStatus{}; ; {
		d, err := s.asg.DescribeInstanceRefreshes(ctx, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group), InstanceRefreshIds: []string{id}})
		if err != nil || len(d.InstanceRefreshes) != 1 {
			t.Fatalf("describe refresh %s of %s: %v, %v", id, group, d, err)
		}
		status := d.InstanceRefreshes[0].Status
		seen = append(seen, status)
		if status == astypes.InstanceRefreshStatusCancelled {
			break
		}
		if status != astypes.InstanceRefreshStatusCancelling {
			t.Fatalf("refresh %s after cancel: statuses %v, want Cancelling until Cancelled", id, seen)
		}
		s.h.Elapse(delay)
		select {
		case <-ctx.Done():
			t.Fatalf("refresh %s: still Cancelling (%v)", id, seen)
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
	_, err = s.asg.CancelInstanceRefresh(t.Context(), &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(group)})
	var notFound *astypes.ActiveInstanceRefreshNotFoundFault
	if !errors.As(err, &notFound) {
		t.Errorf("cancel with none running: got %v, want ActiveInstanceRefreshNotFound", err)
	}
}

// warmPool: DescribeWarmPool lists the instances of a group's warm pool, which
// the group's Instances in DescribeAutoScalingGroups do not; it takes
// MaxRecords up to 50 (else ValidationError).
func (s *suite) warmPool(t *testing.T) {
	lt := s.h.Template(t, "warm", s.h.LaunchData(t))
	group := s.h.Group(t, "warm", lt, "$Latest")
	warm := s.h.WarmPool(t, group)
	s.eventually(t, func(ctx context.Context) error {
		out, err := s.asg.DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String(group), MaxRecords: aws.Int32(50)})
		if err == nil && !slices.ContainsFunc(out.Instances, func(i astypes.Instance) bool { return aws.ToString(i.InstanceId) == warm }) {
			err = fmt.Errorf("warm pool of %s: got %+v, want instance %s", group, out.Instances, warm)
		}
		return err
	})
	out, err := s.asg.DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("describe group %s: got %+v (%v)", group, out, err)
	}
	if in := out.AutoScalingGroups[0].Instances; slices.ContainsFunc(in, func(i astypes.Instance) bool { return aws.ToString(i.InstanceId) == warm }) {
		t.Errorf("the instances of group %s: got %+v, want its warm pool's %s not among them", group, in, warm)
	}
	_, err = s.asg.DescribeWarmPool(t.Context(), &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String(group), MaxRecords: aws.Int32(51)})
	wantCode(t, err, "ValidationError")
}

// pagination: MaxResults within each call's range pages with NextToken (the
// SDK's paginators); out of range it is InvalidParameterValue; a listing that
// names ids takes no MaxResults (InvalidParameterCombination).
func (s *suite) pagination(t *testing.T) {
	lt := s.h.Template(t, "pages", s.h.LaunchData(t))
	for range 2 {
		s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{SourceVersion: aws.String("1"), LaunchTemplateData: s.same(t)})
	}
	s.eventually(t, func(ctx context.Context) error {
		p := ec2.NewDescribeLaunchTemplateVersionsPaginator(s.ec2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), MaxResults: aws.Int32(1)})
		var pages, versions int
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			pages++
			versions += len(page.LaunchTemplateVersions)
		}
		if pages < 3 || versions != 3 {
			return fmt.Errorf("3 versions a page at a time: got %d versions on %d pages, want 3 on 3 or more", versions, pages)
		}
		return nil
	})
	_, err := s.ec2.DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = s.ec2.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{InstanceIds: []string{s.h.Instance(t)}, MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination")
}

// dryRun: an allowed call with DryRun answers DryRunOperation and changes nothing.
func (s *suite) dryRun(t *testing.T) {
	lt := s.h.Template(t, "dryrun", s.h.LaunchData(t))
	_, err := s.createImage(t, s.h.Instance(t), s.name("dryrun"), true)
	wantCode(t, err, "DryRunOperation")
	_, err = s.ec2.CreateLaunchTemplateVersion(t.Context(), &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), DryRun: aws.Bool(true),
		SourceVersion: aws.String("1"), LaunchTemplateData: s.same(t)})
	wantCode(t, err, "DryRunOperation")
	_, err = s.ec2.ModifyLaunchTemplate(t.Context(), &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DryRun: aws.Bool(true), DefaultVersion: aws.String("1")})
	wantCode(t, err, "DryRunOperation")
	s.versions(t, lt, 1)
	out, err := s.ec2.DescribeImages(t.Context(), &ec2.DescribeImagesInput{Owners: []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{s.name("dryrun")}}}})
	if err != nil || len(out.Images) != 0 {
		t.Errorf("AMIs after a CreateImage with DryRun: got %+v (%v), want none", out, err)
	}
}

// putEvents: PutEvents reports an entry that fails inside its output
// (FailedEntryCount, the entry's ErrorCode) and puts the others.
func (s *suite) putEvents(t *testing.T) {
	entry := func(detail string) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{EventBusName: aws.String("default"), Source: aws.String("amibump.conformance"),
			DetailType: aws.String("conformance-check"), Detail: aws.String(detail)}
	}
	out, err := s.eb.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		entry(`{"run":"` + s.h.Run() + `"}`), entry(`{"run":`)}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || len(out.Entries) != 2 || out.Entries[0].EventId == nil || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" {
		t.Errorf("a good entry and one with malformed detail: got %d failed, entries %+v; want 1 failed, the first put, the second MalformedDetail",
			out.FailedEntryCount, out.Entries)
	}
}
