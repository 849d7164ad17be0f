package awsfake

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// An AMI's life after it is available: deprecation, disabling and
// deregistration protection (the behaviour ledger in doc.go names the pages).

// ProtectionCooldown is how long deregistration protection enabled
// WithCooldown stays in force after it is disabled.
const ProtectionCooldown = 24 * time.Hour

// The values of an image's DeregistrationProtection: disabled, or one of the
// two enabled ones, or, during the cooldown, "disabled-until-" and the time.
const (
	protectionDisabled     = "disabled"
	protectionWithCooldown = "enabled-with-cooldown"
	protectionNoCooldown   = "enabled-without-cooldown"
	protectionUntil        = "disabled-until-"
)

// lifecycle is the part of an image's state the calls of this file change.
type lifecycle struct {
	deprecateAt    time.Time // zero: no deprecation time
	protected      bool
	cooldown       bool      // protection was enabled WithCooldown
	protectedUntil time.Time // protection disabled with cooldown: in force until then
}

// protection is the image's DeregistrationProtection at now.
func (l lifecycle) protection(now time.Time) string {
	switch {
	case l.protected && l.cooldown:
		return protectionWithCooldown
	case l.protected:
		return protectionNoCooldown
	case now.Before(l.protectedUntil):
		return protectionUntil + rfc3339(l.protectedUntil)
	}
	return protectionDisabled
}

// guarded reports whether DeregisterImage is refused at now.
func (l lifecycle) guarded(now time.Time) bool { return l.protected || now.Before(l.protectedUntil) }

// describeLifecycle adds the lifecycle's fields to an image's description.
func (l lifecycle) describeLifecycle(out *ec2types.Image, now time.Time) {
	if !l.deprecateAt.IsZero() {
		out.DeprecationTime = ptr(rfc3339(l.deprecateAt))
	}
	out.DeregistrationProtection = ptr(l.protection(now))
}

// imageForLifecycle finds the image a lifecycle call names.
func (c *Cloud) imageForLifecycle(id *string) (*image, time.Time, error) {
	if id == nil {
		return nil, time.Time{}, errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	now := c.settleAll()
	img, err := c.lookupImage(*id, now)
	return img, now, err
}

// EnableImageDeprecation sets when an AMI is deprecated: DeprecateAt rounded
// to the nearest minute, not in the past, at most 10 years from now.
func (e *EC2) EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, _ ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error) {
	return serve(ctx, e.c, svcEC2, "EnableImageDeprecation", in, e.c.enableImageDeprecation)
}

func (c *Cloud) enableImageDeprecation(in *ec2.EnableImageDeprecationInput) (*ec2.EnableImageDeprecationOutput, error) {
	if in == nil {
		in = &ec2.EnableImageDeprecationInput{}
	}
	img, now, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if in.DeprecateAt == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter DeprecateAt")
	}
	at := *in.DeprecateAt
	switch {
	case at.Round(time.Minute).Before(now):
		return nil, errorf("InvalidParameterValue", "DeprecateAt %s is in the past", rfc3339(at))
	case at.After(now.AddDate(10, 0, 0)):
		// "10 years from now" for a private AMI; the fake's AMIs are never
		// public, whose limit is 2 years from their creation.
		return nil, errorf("InvalidParameterValue", "DeprecateAt %s is more than 10 years from now", rfc3339(at))
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img.deprecateAt = at.UTC().Round(time.Minute)
	return &ec2.EnableImageDeprecationOutput{Return: ptr(true)}, nil
}

// DisableImageDeprecation cancels an AMI's deprecation.
func (e *EC2) DisableImageDeprecation(ctx context.Context, in *ec2.DisableImageDeprecationInput, _ ...func(*ec2.Options)) (*ec2.DisableImageDeprecationOutput, error) {
	return serve(ctx, e.c, svcEC2, "DisableImageDeprecation", in, e.c.disableImageDeprecation)
}

func (c *Cloud) disableImageDeprecation(in *ec2.DisableImageDeprecationInput) (*ec2.DisableImageDeprecationOutput, error) {
	if in == nil {
		in = &ec2.DisableImageDeprecationInput{}
	}
	img, _, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img.deprecateAt = time.Time{}
	return &ec2.DisableImageDeprecationOutput{Return: ptr(true)}, nil
}

// DisableImage takes an available AMI to state disabled: it cannot be
// launched or copied, and DescribeImages leaves it out unless
// IncludeDisabled. Any other state is IncorrectState.
func (e *EC2) DisableImage(ctx context.Context, in *ec2.DisableImageInput, _ ...func(*ec2.Options)) (*ec2.DisableImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "DisableImage", in, e.c.disableImage)
}

func (c *Cloud) disableImage(in *ec2.DisableImageInput) (*ec2.DisableImageOutput, error) {
	if in == nil {
		in = &ec2.DisableImageInput{}
	}
	img, _, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if img.state != ec2types.ImageStateAvailable {
		return nil, errorf("IncorrectState", "The image '%s' is in state %s; only an available image can be disabled", img.id, img.state)
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img.state = ec2types.ImageStateDisabled
	return &ec2.DisableImageOutput{Return: ptr(true)}, nil
}

// EnableImage takes a disabled AMI back to available. Any other state is
// IncorrectState.
func (e *EC2) EnableImage(ctx context.Context, in *ec2.EnableImageInput, _ ...func(*ec2.Options)) (*ec2.EnableImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "EnableImage", in, e.c.enableImage)
}

func (c *Cloud) enableImage(in *ec2.EnableImageInput) (*ec2.EnableImageOutput, error) {
	if in == nil {
		in = &ec2.EnableImageInput{}
	}
	img, _, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if img.state != ec2types.ImageStateDisabled {
		return nil, errorf("IncorrectState", "The image '%s' is in state %s; only a disabled image can be enabled", img.id, img.state)
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img.state = ec2types.ImageStateAvailable
	return &ec2.EnableImageOutput{Return: ptr(true)}, nil
}

// EnableImageDeregistrationProtection protects an AMI from DeregisterImage;
// WithCooldown keeps it protected for ProtectionCooldown after protection is
// disabled. It answers Return with the new setting, as the CLI's example
// shows ("enabled-without-cooldown"); the API reference says "Returns true"
// (a String). amibump reads neither: the image's DeregistrationProtection
// tells the setting.
func (e *EC2) EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, _ ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error) {
	return serve(ctx, e.c, svcEC2, "EnableImageDeregistrationProtection", in, e.c.enableImageDeregistrationProtection)
}

func (c *Cloud) enableImageDeregistrationProtection(in *ec2.EnableImageDeregistrationProtectionInput) (*ec2.EnableImageDeregistrationProtectionOutput, error) {
	if in == nil {
		in = &ec2.EnableImageDeregistrationProtectionInput{}
	}
	img, now, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	img.protected, img.cooldown, img.protectedUntil = true, derefBool(in.WithCooldown), time.Time{}
	return &ec2.EnableImageDeregistrationProtectionOutput{Return: ptr(img.protection(now))}, nil
}

// DisableImageDeregistrationProtection lifts an AMI's protection: at once, or,
// when it was enabled WithCooldown, ProtectionCooldown later on the cloud's
// clock (DeregistrationProtection reads disabled-until-<time> meanwhile). It
// answers Return with the new setting, as the CLI's example shows
// ("disabled"; during a cooldown the fake's disabled-until-<time>).
func (e *EC2) DisableImageDeregistrationProtection(ctx context.Context, in *ec2.DisableImageDeregistrationProtectionInput, _ ...func(*ec2.Options)) (*ec2.DisableImageDeregistrationProtectionOutput, error) {
	return serve(ctx, e.c, svcEC2, "DisableImageDeregistrationProtection", in, e.c.disableImageDeregistrationProtection)
}

func (c *Cloud) disableImageDeregistrationProtection(in *ec2.DisableImageDeregistrationProtectionInput) (*ec2.DisableImageDeregistrationProtectionOutput, error) {
	if in == nil {
		in = &ec2.DisableImageDeregistrationProtectionInput{}
	}
	img, now, err := c.imageForLifecycle(in.ImageId)
	if err != nil {
		return nil, err
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	if img.protected && img.cooldown {
		img.protectedUntil = now.Add(ProtectionCooldown)
	}
	img.protected, img.cooldown = false, false
	return &ec2.DisableImageDeregistrationProtectionOutput{Return: ptr(img.protection(now))}, nil
}

// deregistrationRefused is DeregisterImage's error for a protected image.
// AWS documents the refusal, not its code: OperationNotPermitted, EC2's code
// for the like refusal of an instance's termination protection.
func deregistrationRefused(img *image, now time.Time) error {
	return errorf("OperationNotPermitted", "The image '%s' has deregistration protection (%s); disable it before deregistering the image", img.id, img.protection(now))
}

// describeAt is describe with the lifecycle's fields as they read at now.
func (img *image) describeAt(now time.Time) ec2types.Image {
	out := img.describe()
	img.describeLifecycle(&out, now)
	return out
}

// AgeLifecycles moves every AMI's deprecation time and the end of every
// protection's cooldown d earlier, as if d had passed for them. It is for a
// test whose code under test reads the wall clock (the bootstrap under the
// Lambda emulator), which the test cannot move: the AMIs' records age
// instead. Nothing else moves (creation dates, pending AMIs).
func (c *Cloud) AgeLifecycles(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, img := range c.images {
		if !img.deprecateAt.IsZero() {
			img.deprecateAt = img.deprecateAt.Add(-d)
		}
		if !img.protectedUntil.IsZero() {
			img.protectedUntil = img.protectedUntil.Add(-d)
		}
	}
}
