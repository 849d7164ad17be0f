package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// lifecycle takes an available AMI through deprecation, disabling and
// deregistration protection, and leaves it as it found it: available, not
// deprecated, unprotected, for Deregister. Protection WithCooldown is left
// to awsfake's tests: once disabled it keeps a real account's AMI for 24
// hours, longer than any run, out of reach of the run's cleanup.
func (s *suite) lifecycle(t *testing.T, img ec2types.Image) {
	t.Run("Deprecation", func(t *testing.T) { s.deprecation(t, img) })
	t.Run("Disabled", func(t *testing.T) { s.disabled(t, aws.ToString(img.ImageId)) })
	t.Run("Protection", func(t *testing.T) { s.protection(t, aws.ToString(img.ImageId)) })
}

// describeImage reads one AMI by id, with or without IncludeDisabled; nil
// when the answer leaves it out.
func (s *suite) describeImage(ctx context.Context, id string, includeDisabled bool) (*ec2types.Image, error) {
	out, err := s.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDisabled: aws.Bool(includeDisabled)})
	if err != nil || len(out.Images) == 0 {
		return nil, err
	}
	return &out.Images[0], nil
}

// deprecation: DeprecateAt is rounded to the nearest minute, refused in the
// past and more than 10 years ahead; DisableImageDeprecation takes it away.
// The suite reads no clock: its times are the AMI's CreationDate's, a few
// minutes ago, so that a day later is in the future in every account. (That
// the owner still lists an AMI once deprecated needs a deprecation time that
// has passed, which needs the clock: awsfake's tests pin it.)
func (s *suite) deprecation(t *testing.T, img ec2types.Image) {
	id := aws.ToString(img.ImageId)
	created, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	if err != nil {
		t.Fatalf("AMI %s CreationDate %q: %v", id, aws.ToString(img.CreationDate), err)
	}
	base := created.Truncate(time.Minute)
	deprecate := func(at time.Time) error {
		_, err := s.ec2.EnableImageDeprecation(t.Context(), &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(at)})
		return err
	}
	t.Cleanup(func() {
		_, _ = s.ec2.DisableImageDeprecation(context.WithoutCancel(t.Context()), &ec2.DisableImageDeprecationInput{ImageId: aws.String(id)})
	})
	wantCode(t, deprecate(base.Add(-time.Hour)), "InvalidParameterValue")
	wantCode(t, deprecate(base.AddDate(11, 0, 0)), "InvalidParameterValue")
	if err := deprecate(base.Add(24*time.Hour + 29*time.Second)); err != nil {
		t.Fatalf("deprecate %s a day after its creation: %v", id, err)
	}
	want := base.Add(24 * time.Hour)
	s.eventually(t, func(ctx context.Context) error {
		got, err := s.describeImage(ctx, id, false)
		if err == nil && (got == nil || !sameTime(aws.ToString(got.DeprecationTime), want)) {
			err = fmt.Errorf("AMI %s: DeprecationTime %v, want %s (the seconds rounded to the minute)", id, got, want.Format(time.RFC3339))
		}
		return err
	})
	if _, err := s.ec2.DisableImageDeprecation(t.Context(), &ec2.DisableImageDeprecationInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	s.eventually(t, func(ctx context.Context) error {
		got, err := s.describeImage(ctx, id, false)
		if err == nil && (got == nil || got.DeprecationTime != nil) {
			err = fmt.Errorf("AMI %s after DisableImageDeprecation: %+v, want no DeprecationTime", id, got)
		}
		return err
	})
}

// sameTime reports whether an EC2 time field reads at.
func sameTime(field string, at time.Time) bool {
	got, err := time.Parse(time.RFC3339, field)
	return err == nil && got.Equal(at)
}

// disabled: DisableImage makes the AMI disabled; DescribeImages by id, or by
// filters as amibump lists (listedAsRetentionLists), leaves it out unless
// IncludeDisabled; it cannot be launched or copied; EnableImage
// makes it available again, and enabling an available AMI is IncorrectState.
func (s *suite) disabled(t *testing.T, id string) {
	enable := func(ctx context.Context) error {
		_, err := s.ec2.EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(id)})
		return err
	}
	if _, err := s.ec2.DisableImage(t.Context(), &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = enable(context.WithoutCancel(t.Context())) })
	s.eventually(t, func(ctx context.Context) error {
		hidden, err := s.describeImage(ctx, id, false)
		if err != nil {
			return err
		}
		shown, err := s.describeImage(ctx, id, true)
		if err == nil && (hidden != nil || shown == nil || shown.State != ec2types.ImageStateDisabled) {
			err = fmt.Errorf("disabled AMI %s: without IncludeDisabled %+v (want left out), with it %+v (want state disabled)", id, hidden, shown)
		}
		if err != nil {
			return err
		}
		return s.listedAsRetentionLists(ctx, id)
	})
	s.launchRefused(t, id)
	copied, err := s.ec2.CopyImage(t.Context(), &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(s.h.Config().Region),
		Name: aws.String(s.name("copy")), TagSpecifications: s.tags(s.name("copy"), ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot)})
	if err == nil {
		s.h.Cleaner().Track(t, Resource{Image, aws.ToString(copied.ImageId), s.h.Run()})
	}
	wantCode(t, err, "InvalidAMIID.Unavailable")
	if err := enable(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.eventually(t, func(ctx context.Context) error {
		got, err := s.describeImage(ctx, id, false)
		if err == nil && (got == nil || got.State != ec2types.ImageStateAvailable) {
			err = fmt.Errorf("AMI %s after EnableImage: %+v, want available", id, got)
		}
		return err
	})
	wantCode(t, enable(t.Context()), "IncorrectState")
}

// listedAsRetentionLists: amibump's listing (owner self, no state filter:
// the filter's documented values are available, pending and failed) shows the
// disabled AMI with IncludeDisabled, and leaves it out without.
func (s *suite) listedAsRetentionLists(ctx context.Context, id string) error {
	list := func(include bool) (int, error) {
		out, err := s.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDisabled: aws.Bool(include), Filters: []ec2types.Filter{
			{Name: aws.String("image-id"), Values: []string{id}},
		}})
		if err != nil {
			return 0, err
		}
		return len(out.Images), nil
	}
	without, err := list(false)
	if err != nil {
		return err
	}
	with, err := list(true)
	if err == nil && (without != 0 || with != 1) {
		err = fmt.Errorf("disabled AMI %s listed by id filter: %d without IncludeDisabled (want 0), %d with it (want 1)", id, without, with)
	}
	return err
}

// launchRefused: RunInstances of the disabled AMI is InvalidAMIID.Unavailable.
// An instance it launches all the same carries the run's tag and goes when t
// ends.
func (s *suite) launchRefused(t *testing.T, id string) {
	out, err := s.ec2.RunInstances(t.Context(), &ec2.RunInstancesInput{ImageId: aws.String(id), InstanceType: s.h.LaunchData(t).InstanceType,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceInitiatedShutdownBehavior: ec2types.ShutdownBehaviorTerminate,
		TagSpecifications: s.tags(s.name("disabled-launch"), ec2types.ResourceTypeInstance)})
	if err == nil {
		for _, in := range out.Instances {
			s.h.Cleaner().Track(t, Resource{Instance, aws.ToString(in.InstanceId), s.h.Run()})
		}
	}
	wantCode(t, err, "InvalidAMIID.Unavailable")
}

// protection: with deregistration protection (without cooldown) the field
// reads enabled-without-cooldown and DeregisterImage is OperationNotPermitted;
// disabled, it reads disabled at once.
func (s *suite) protection(t *testing.T, id string) {
	disable := func(ctx context.Context) error {
		_, err := s.ec2.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
		return err
	}
	field := func(want string) {
		t.Helper()
		s.eventually(t, func(ctx context.Context) error {
			got, err := s.describeImage(ctx, id, false)
			if err == nil && (got == nil || aws.ToString(got.DeregistrationProtection) != want) {
				err = fmt.Errorf("AMI %s: DeregistrationProtection of %+v, want %s", id, got, want)
			}
			return err
		})
	}
	if _, err := s.ec2.EnableImageDeregistrationProtection(t.Context(), &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = disable(context.WithoutCancel(t.Context())) })
	field("enabled-without-cooldown")
	_, err := s.ec2.DeregisterImage(t.Context(), &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "OperationNotPermitted")
	if err := disable(t.Context()); err != nil {
		t.Fatal(err)
	}
	field("disabled")
}
