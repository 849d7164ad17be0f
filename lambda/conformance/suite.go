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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

// suite is one run of the behaviours against one harness.
type suite struct {
	h   Harness
	ec2 *ec2.Client
	asg *autoscaling.Client
	eb  *eventbridge.Client
	ssm *ssm.Client
	p   Patience

	run   *testing.T      // the whole run's test
	image *ec2types.Image // Images' AMI, once available: Teardown removes it
	gone  string          // GoneInstance's instance, terminated
}

// Run runs every behaviour of the contract against h, one subtest each, in
// order (they share the harness's instance). The subtests' names are the ones
// the behaviour ledger of package awsfake gives.
func Run(t *testing.T, h Harness) {
	cfg := h.Config()
	s := &suite{h: h, ec2: ec2.NewFromConfig(cfg), asg: autoscaling.NewFromConfig(cfg), eb: eventbridge.NewFromConfig(cfg),
		ssm: ssm.NewFromConfig(cfg), p: h.Patience(), run: t}
	t.Run("ImageNames", s.imageNames)
	t.Run("Images", s.images)
	t.Run("GoneInstance", s.goneInstance)
	t.Run("Teardown", s.teardown)
	t.Run("SourceVersion", s.sourceVersion)
	t.Run("ClientToken", s.clientToken)
	t.Run("VersionNumbers", s.versionNumbers)
	t.Run("DefaultVersion", s.defaultVersion)
	t.Run("DeleteVersions", s.deleteVersions)
	t.Run("InstanceRefresh", s.instanceRefresh)
	t.Run("WarmPool", s.warmPool)
	t.Run("Pagination", s.pagination)
	t.Run("DryRun", s.dryRun)
	t.Run("PutEvents", s.putEvents)
	t.Run("Parameters", s.parameters)
	t.Run("ParameterTiers", s.parameterTiers)
}

// name makes a name unique to the run.
func (s *suite) name(what string) string { return "amibump-conformance-" + s.h.Run() + "-" + what }

// tags are the run's tags on resources of type rt, with a Name.
func (s *suite) tags(name string, rts ...ec2types.ResourceType) []ec2types.TagSpecification {
	var out []ec2types.TagSpecification
	for _, rt := range rts {
		out = append(out, ec2types.TagSpecification{ResourceType: rt, Tags: []ec2types.Tag{
			{Key: aws.String(TagKey), Value: aws.String(s.h.Run())}, {Key: aws.String("Name"), Value: aws.String(name)}}})
	}
	return out
}

// createImage is CreateImage whose AMI, if one is made, the cleaner removes
// when t ends.
func (s *suite) createImage(t *testing.T, instance, name string, dryRun bool) (string, error) {
	t.Helper()
	return s.createImageFor(t, t, instance, name, dryRun)
}

// createImageFor is createImage whose AMI the cleaner removes when owner ends.
func (s *suite) createImageFor(t *testing.T, owner testing.TB, instance, name string, dryRun bool) (string, error) {
	t.Helper()
	out, err := s.ec2.CreateImage(t.Context(), &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String(name),
		NoReboot: aws.Bool(true), DryRun: aws.Bool(dryRun),
		TagSpecifications: s.tags(name, ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot)})
	if err != nil {
		return "", err
	}
	s.h.Cleaner().Track(owner, Resource{Image, aws.ToString(out.ImageId), s.h.Run()})
	return aws.ToString(out.ImageId), nil
}

// code is err's AWS error code, "" for nil.
func code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	if err != nil {
		return "<not an AWS error: " + err.Error() + ">"
	}
	return ""
}

// wantCode fails t unless err carries one of the codes.
func wantCode(t *testing.T, err error, codes ...string) {
	t.Helper()
	if got := code(err); !slices.Contains(codes, got) {
		t.Errorf("error code: got %q (%v), want %s", got, err, strings.Join(codes, " or "))
	}
}

// eventually retries read until it returns nil, for as long as the account's
// reads may lag its writes (at once on the fake), and fails t with its last error.
func (s *suite) eventually(t *testing.T, read func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := within(t, s.p, s.p.ReadLag)
	defer cancel()
	delay := s.p.Poll
	for {
		err := read(t.Context())
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// imageNames: CreateImage names are 3–128 characters of letters, digits and
// ( ) [ ] space . / - ' @ _ (else InvalidAMIName.Malformed).
func (s *suite) imageNames(t *testing.T) {
	in := s.h.Instance(t)
	for _, name := range []string{"ab", strings.Repeat("a", 129), "web:1", "web*1"} {
		_, err := s.createImage(t, in, name, false)
		wantCode(t, err, "InvalidAMIName.Malformed")
	}
}

// images follows one AMI through its life: pending, a second CreateImage with
// its name, available (the ImageAvailable waiter), its tagged snapshots, the
// launch template versions DescribeImageReferences searches, an SSM parameter
// of data type aws:ec2:image that holds it, and its deprecation, disabling
// and deregistration protection; Teardown removes it (the AMI is the run's
// until then).
func (s *suite) images(t *testing.T) {
	name := s.name("image")
	id, err := s.createImageFor(t, s.run, s.h.Instance(t), name, false)
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	t.Run("Pending", func(t *testing.T) {
		out, err := s.ec2.DescribeImages(t.Context(), &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if code(err) == "InvalidAMIID.NotFound" && s.p.ReadLag > 0 {
			return // not visible yet: EC2 is eventually consistent
		}
		if err != nil || len(out.Images) != 1 || out.Images[0].State != ec2types.ImageStatePending {
			t.Errorf("a new AMI: got %+v (%v), want state pending", out, err)
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		_, err := s.createImage(t, s.h.Instance(t), name, false)
		wantCode(t, err, "InvalidAMIName.Duplicate")
	})
	var img ec2types.Image
	if !t.Run("Available", func(t *testing.T) { img = s.waitAvailable(t, id) }) {
		return
	}
	t.Run("Snapshots", func(t *testing.T) { s.imageSnapshots(t, img) })
	t.Run("References", func(t *testing.T) { s.imageReferences(t, id) })
	t.Run("Parameter", func(t *testing.T) { s.imageParameter(t, id) })
	t.Run("Lifecycle", func(t *testing.T) { s.lifecycle(t, img) })
	t.Run("Copy", func(t *testing.T) { s.copyToRegion(t, id) })
	s.image = &img
}

// waitAvailable lets the AMI's time pass and waits with the SDK's ImageAvailable waiter.
func (s *suite) waitAvailable(t *testing.T, id string) ec2types.Image {
	s.eventually(t, func(ctx context.Context) error {
		_, err := s.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err
	})
	s.h.Elapse(s.p.Image)
	w := ec2.NewImageAvailableWaiter(s.ec2, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = s.p.Poll, max(s.p.Poll, 15*time.Second)
	})
	ctx, cancel := within(t, s.p, s.p.Image)
	defer cancel()
	out, err := w.WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, s.p.Image)
	if err != nil {
		t.Fatalf("wait for %s to be available within %s: %v", id, s.p.Image, err)
	}
	return out.Images[0]
}

// imageSnapshots: CreateImage's snapshot tags are on every snapshot of the AMI.
func (s *suite) imageSnapshots(t *testing.T, img ec2types.Image) {
	ids := snapshotsOf(img)
	if len(ids) == 0 {
		t.Fatalf("AMI %s: no EBS snapshot in %+v", aws.ToString(img.ImageId), img.BlockDeviceMappings)
	}
	s.eventually(t, func(ctx context.Context) error {
		out, err := s.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
		if err != nil {
			return err
		}
		for _, snap := range out.Snapshots {
			if ec2Run(snap.Tags) != s.h.Run() {
				return fmt.Errorf("snapshot %s tags %v: want %s=%s", aws.ToString(snap.SnapshotId), snap.Tags, TagKey, s.h.Run())
			}
		}
		return nil
	})
}

func snapshotsOf(img ec2types.Image) []string {
	var ids []string
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			ids = append(ids, *m.Ebs.SnapshotId)
		}
	}
	return ids
}

// imageReferences: DescribeImageReferences searches a template's newest 10
// versions unless version-depth (1–10000) says otherwise.
func (s *suite) imageReferences(t *testing.T, id string) {
	lt := s.h.Template(t, "refs", ec2types.RequestLaunchTemplateData{ImageId: aws.String(id)})
	for range 10 {
		s.newVersion(t, lt, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateData: &ec2types.RequestLaunchTemplateData{InstanceType: ec2types.InstanceTypeT3Nano}})
	}
	s.eventually(t, func(ctx context.Context) error { return s.latestIs(ctx, lt, 11) })
	refs := func(depth string) ([]ec2types.ImageReference, error) {
		rt := ec2types.ResourceTypeRequest{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate}
		if depth != "" {
			rt.ResourceTypeOptions = []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{depth}}}
		}
		var out []ec2types.ImageReference
		p := ec2.NewDescribeImageReferencesPaginator(s.ec2, &ec2.DescribeImageReferencesInput{ImageIds: []string{id}, ResourceTypes: []ec2types.ResourceTypeRequest{rt}})
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			if err != nil {
				return nil, err
			}
			out = append(out, page.ImageReferences...)
		}
		return out, nil
	}
	if got, err := refs(""); err != nil || len(got) != 0 {
		t.Errorf("references at the default depth to an AMI only version 1 of 11 carries: got %+v (%v), want none", got, err)
	}
	s.eventually(t, func(context.Context) error {
		got, err := refs("11")
		if err == nil && (len(got) != 1 || !strings.Contains(aws.ToString(got[0].Arn), lt)) {
			err = fmt.Errorf("references at version-depth 11: got %+v, want template %s", got, lt)
		}
		return err
	})
	_, err := refs("10001")
	wantCode(t, err, "InvalidParameterValue")
}

// deregister: DeregisterImage with DeleteAssociatedSnapshots reports each
// snapshot with its return code, and the AMI and its snapshots are gone.
func (s *suite) deregister(t *testing.T, img ec2types.Image) {
	id, snaps := aws.ToString(img.ImageId), snapshotsOf(img)
	out, err := s.ec2.DeregisterImage(t.Context(), &ec2.DeregisterImageInput{ImageId: img.ImageId, DeleteAssociatedSnapshots: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, r := range out.DeleteSnapshotResults {
		if r.ReturnCode == ec2types.SnapshotReturnCodesSuccess {
			deleted = append(deleted, aws.ToString(r.SnapshotId))
		}
	}
	slices.Sort(deleted)
	slices.Sort(snaps)
	if !slices.Equal(deleted, snaps) {
		t.Errorf("snapshots reported deleted: got %v (%+v), want %v", deleted, out.DeleteSnapshotResults, snaps)
	}
	s.eventually(t, func(ctx context.Context) error {
		d, err := s.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		if code(err) == "InvalidAMIID.NotFound" || (err == nil && (len(d.Images) == 0 || d.Images[0].State == ec2types.ImageStateDeregistered)) {
			return nil
		}
		return fmt.Errorf("AMI %s after DeregisterImage: got %+v (%v), want gone", id, d, err)
	})
	s.eventually(t, func(ctx context.Context) error {
		_, err := s.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
		if code(err) == "InvalidSnapshot.NotFound" {
			return nil
		}
		return fmt.Errorf("snapshots %v after DeregisterImage: got %v, want InvalidSnapshot.NotFound", snaps, err)
	})
}

// goneInstance: CreateImage of an instance that is neither running, stopping
// nor stopped (here: terminated) is InvalidParameterValue ("Instance is not in
// state 'running' or 'stopping' or 'stopped'"), the code EC2 also gives a bad
// parameter. The other states (pending, shutting-down, and stopping, which is
// imaged) last seconds in a real account: they stay in awsfake's tests.
func (s *suite) goneInstance(t *testing.T) {
	s.gone = s.h.GoneInstance(t)
	_, err := s.createImage(t, s.gone, s.name("gone"), false)
	wantCode(t, err, "InvalidParameterValue")
}

// newVersion creates a launch template version of lt and fails t if it cannot.
func (s *suite) newVersion(t *testing.T, lt string, in *ec2.CreateLaunchTemplateVersionInput) *ec2types.LaunchTemplateVersion {
	t.Helper()
	in.LaunchTemplateId = aws.String(lt)
	out, err := s.ec2.CreateLaunchTemplateVersion(t.Context(), in)
	if err != nil {
		t.Fatalf("create a version of %s: %v", lt, err)
	}
	return out.LaunchTemplateVersion
}

// latestIs checks that the template's latest version number reads n.
func (s *suite) latestIs(ctx context.Context, lt string, n int64) error {
	out, err := s.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{lt}})
	if err != nil {
		return err
	}
	if got := aws.ToInt64(out.LaunchTemplates[0].LatestVersionNumber); got != n {
		return fmt.Errorf("template %s: latest version %d, want %d", lt, got, n)
	}
	return nil
}

// listVersions lists the template's version numbers as DescribeLaunchTemplateVersions does.
func (s *suite) listVersions(ctx context.Context, lt string) ([]int64, error) {
	var got []int64
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(s.ec2, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range page.LaunchTemplateVersions {
			got = append(got, aws.ToInt64(v.VersionNumber))
		}
	}
	return got, nil
}

// versions checks that the template lists exactly want, in that order.
func (s *suite) versions(t *testing.T, lt string, want ...int64) {
	t.Helper()
	s.eventually(t, func(ctx context.Context) error {
		got, err := s.listVersions(ctx, lt)
		if err == nil && !slices.Equal(got, want) {
			err = fmt.Errorf("versions of %s: got %v, want %v", lt, got, want)
		}
		return err
	})
}

// deleteVersion deletes one version of lt and fails t unless it went.
func (s *suite) deleteVersion(t *testing.T, lt string, n int64) {
	t.Helper()
	out, err := s.ec2.DeleteLaunchTemplateVersions(t.Context(), &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{fmt.Sprint(n)}})
	if err != nil || len(out.SuccessfullyDeletedLaunchTemplateVersions) != 1 {
		t.Fatalf("delete version %d of %s: got %+v (%v), want it deleted", n, lt, out, err)
	}
}
