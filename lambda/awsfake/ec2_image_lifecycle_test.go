package awsfake_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// lifecycleCloud is a cloud on a manual clock with one available AMI.
func lifecycleCloud() (*awsfake.Cloud, *awsfake.ManualClock, string) {
	clock := awsfake.NewManualClock(t0)
	c := awsfake.New(awsfake.WithClock(clock))
	return c, clock, c.AddImage(awsfake.Image{Name: "web-1", Tags: map[string]string{"amibump:app": "shop"}})
}

// describe is DescribeImages of the account's own AMIs, by id or (ids empty)
// all of them, with or without IncludeDisabled.
func describe(t *testing.T, c *awsfake.Cloud, includeDisabled bool, ids ...string) []ec2types.Image {
	t.Helper()
	in := &ec2.DescribeImagesInput{Owners: []string{"self"}, ImageIds: ids}
	if includeDisabled {
		in.IncludeDisabled = aws.Bool(true)
	}
	out, err := c.EC2().DescribeImages(context.Background(), in)
	if err != nil {
		t.Fatalf("describe images %v: %v", ids, err)
	}
	return out.Images
}

// An AMI's deprecation time is DeprecateAt rounded to the nearest minute; not
// in the past, at most 10 years from now; the owner goes on seeing it
// whatever IncludeDeprecated says; DisableImageDeprecation takes it away.
func TestImageDeprecation(t *testing.T) {
	ctx := context.Background()
	c, clock, id := lifecycleCloud()
	deprecate := func(at time.Time) error {
		_, err := c.EC2().EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(at)})
		return err
	}
	tests := []struct {
		name string
		at   time.Time
		code string
		want string // DeprecationTime afterwards
	}{
		{"seconds round down", t0.Add(time.Hour + 29*time.Second), "", t0.Add(time.Hour).Format("2006-01-02T15:04:05.000Z")},
		{"seconds round up", t0.Add(time.Hour + 30*time.Second), "", t0.Add(time.Hour + time.Minute).Format("2006-01-02T15:04:05.000Z")},
		{"now deprecates at once", t0, "", t0.Format("2006-01-02T15:04:05.000Z")},
		{"the past is refused", t0.Add(-time.Hour), "InvalidParameterValue", t0.Format("2006-01-02T15:04:05.000Z")},
		{"more than 10 years is refused", t0.AddDate(10, 0, 7), "InvalidParameterValue", t0.Format("2006-01-02T15:04:05.000Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, deprecate(tt.at), tt.code)
			imgs := describe(t, c, false)
			if len(imgs) != 1 || aws.ToString(imgs[0].DeprecationTime) != tt.want {
				t.Errorf("owner's listing: got %+v, want the AMI with DeprecationTime %s", imgs, tt.want)
			}
		})
	}
	clock.Advance(time.Hour)
	out, err := c.EC2().DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, IncludeDeprecated: aws.Bool(false)})
	if err != nil || len(out.Images) != 1 {
		t.Errorf("a deprecated AMI with IncludeDeprecated false: got %+v (%v), want it listed for its owner", out, err)
	}
	if _, err := c.EC2().DisableImageDeprecation(ctx, &ec2.DisableImageDeprecationInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if imgs := describe(t, c, false, id); imgs[0].DeprecationTime != nil {
		t.Errorf("after DisableImageDeprecation: DeprecationTime %s, want none", aws.ToString(imgs[0].DeprecationTime))
	}
	_, err = c.EC2().EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String("ami-0123456789abcdef0"), DeprecateAt: aws.Time(t0.Add(2 * time.Hour))})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = c.EC2().EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id)})
	wantCode(t, err, "MissingParameter")
}

// A disabled AMI reads disabled; DescribeImages leaves it out unless
// IncludeDisabled, by filter and by id; it cannot be launched or copied, can
// be deregistered, and EnableImage makes it available again. Disabling
// anything but an available AMI, or enabling anything but a disabled one, is
// IncorrectState.
func TestDisabledImage(t *testing.T) {
	ctx := context.Background()
	c, _, id := lifecycleCloud()
	ec := c.EC2()
	if _, err := ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id), DryRun: aws.Bool(true)}); code(err) != "DryRunOperation" {
		t.Fatalf("DryRun: got %v, want DryRunOperation", err)
	}
	_, err := ec.EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "IncorrectState")
	if _, err := ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "IncorrectState")
	if imgs := describe(t, c, false); len(imgs) != 0 {
		t.Errorf("listing without IncludeDisabled: got %d images, want none", len(imgs))
	}
	if imgs := describe(t, c, false, id); len(imgs) != 0 {
		t.Errorf("by id without IncludeDisabled: got %d images, want none", len(imgs))
	}
	if imgs := describe(t, c, true, id); len(imgs) != 1 || imgs[0].State != ec2types.ImageStateDisabled {
		t.Errorf("by id with IncludeDisabled: got %+v, want the AMI in state disabled", imgs)
	}
	_, err = ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "InvalidAMIID.Unavailable")
	_, err = ec.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(awsfake.Region), Name: aws.String("web-1-copy")})
	wantCode(t, err, "InvalidAMIID.Unavailable")
	if _, err := ec.EnableImage(ctx, &ec2.EnableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if imgs := describe(t, c, false, id); len(imgs) != 1 || imgs[0].State != ec2types.ImageStateAvailable {
		t.Errorf("after EnableImage: got %+v, want the AMI available", imgs)
	}
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil || len(run.Instances) != 1 || aws.ToString(run.Instances[0].ImageId) != id {
		t.Errorf("launch of the enabled AMI: got %+v (%v), want one instance of %s", run, err, id)
	}
	cp, err := ec.CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(awsfake.Region), Name: aws.String("web-1-copy")})
	if err != nil {
		t.Fatalf("copy of the enabled AMI: %v", err)
	}
	if img, ok := c.Image(aws.ToString(cp.ImageId)); !ok || aws.ToString(img.Name) != "web-1-copy" || aws.ToString(img.OwnerId) != awsfake.Account {
		t.Errorf("the copy: got %+v, want an AMI of %s named web-1-copy", img, awsfake.Account)
	}
	if imgs := describe(t, c, false, aws.ToString(cp.ImageId)); len(imgs) != 1 {
		t.Errorf("the copy among the account's own AMIs: got %+v, want it", imgs)
	}
	if _, err := ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	snap := aws.ToString(describe(t, c, true, id)[0].BlockDeviceMappings[0].Ebs.SnapshotId)
	_, err = ec.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	wantCode(t, err, "InvalidSnapshot.InUse")
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		t.Errorf("deregister a disabled AMI: %v", err)
	}
	if _, ok := c.Image(id); ok {
		t.Errorf("a disabled AMI deregistered is still there")
	}
}

// An AMI seeded disabled reads as one disabled by DisableImage; one seeded
// deprecated tells its DeprecationTime, rounded to the minute as EC2 rounds.
func TestSeededDisabledImage(t *testing.T) {
	c := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(t0)))
	id := c.AddImage(awsfake.Image{Name: "web-0", State: ec2types.ImageStateDisabled, DeprecationTime: t0.Add(-72*time.Hour + 20*time.Second)})
	if imgs := describe(t, c, false); len(imgs) != 0 {
		t.Errorf("listing without IncludeDisabled: got %d images, want none", len(imgs))
	}
	if imgs := describe(t, c, true, id); len(imgs) != 1 || aws.ToString(imgs[0].DeprecationTime) != t0.Add(-72*time.Hour).Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("seeded deprecation: got %+v, want %s", imgs, t0.Add(-72*time.Hour))
	}
	if _, err := c.EC2().EnableImage(context.Background(), &ec2.EnableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Errorf("enable the seeded AMI: %v", err)
	}
}

// A copy is made in the Cloud's own account and region: a source named in
// another region is not found there.
func TestCopyImageInAnotherScope(t *testing.T) {
	ctx := context.Background()
	scope := awsfake.Scope{Account: "210987654321", Region: "cn-north-1"}
	w := awsfake.NewWorld()
	c := w.Cloud(scope)
	id := c.AddImage(awsfake.Image{Name: "web-1"})
	// The AMI is this scope's: copied from another region of the account
	// (through the World, which serves copies across regions), it is not
	// found there.
	other := w.Cloud(awsfake.Scope{Account: scope.Account, Region: "cn-northwest-1"})
	_, err := w.EC2(scope).CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(other.Scope().Region), Name: aws.String("web-1-copy")})
	wantCode(t, err, "InvalidAMIID.NotFound")
	cp, err := c.EC2().CopyImage(ctx, &ec2.CopyImageInput{SourceImageId: aws.String(id), SourceRegion: aws.String(scope.Region), Name: aws.String("web-1-copy")})
	if err != nil {
		t.Fatal(err)
	}
	if img, _ := c.Image(aws.ToString(cp.ImageId)); aws.ToString(img.OwnerId) != scope.Account {
		t.Errorf("the copy's owner: got %s, want %s", aws.ToString(img.OwnerId), scope.Account)
	}
	run, err := c.EC2().RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil || aws.ToString(run.OwnerId) != scope.Account {
		t.Errorf("launch: got %+v (%v), want a reservation of %s", run, err, scope.Account)
	}
}

// Deregistration protection refuses DeregisterImage (OperationNotPermitted)
// while enabled; without cooldown, disabling it lifts it at once; with
// cooldown, it stays in force for 24 hours on the cloud's clock, the field
// reading disabled-until-<time>.
func TestDeregistrationProtection(t *testing.T) {
	ctx := context.Background()
	c, clock, id := lifecycleCloud()
	ec := c.EC2()
	protection := func() string {
		t.Helper()
		return aws.ToString(describe(t, c, false, id)[0].DeregistrationProtection)
	}
	deregister := func() error {
		_, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		return err
	}
	if got := protection(); got != "disabled" {
		t.Errorf("a new AMI: DeregistrationProtection %q, want disabled", got)
	}
	out, err := ec.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	if err != nil || aws.ToString(out.Return) != "enabled-without-cooldown" || protection() != "enabled-without-cooldown" {
		t.Fatalf("enable without cooldown: got %+v (%v), field %q, want enabled-without-cooldown in both", out, err, protection())
	}
	wantCode(t, deregister(), "OperationNotPermitted")
	if _, err := ec.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if got := protection(); got != "disabled" {
		t.Errorf("disabled without cooldown: field %q, want disabled", got)
	}

	if _, err := ec.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if got := protection(); got != "enabled-with-cooldown" {
		t.Errorf("enabled with cooldown: field %q, want enabled-with-cooldown", got)
	}
	clock.Advance(time.Hour)
	off, err := ec.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
	until := "disabled-until-" + t0.Add(25*time.Hour).Format("2006-01-02T15:04:05.000Z")
	if err != nil || aws.ToString(off.Return) != until || protection() != until {
		t.Fatalf("disabled with cooldown: got %+v (%v), field %q, want %s in both", off, err, protection(), until)
	}
	clock.Advance(awsfake.ProtectionCooldown - time.Second)
	wantCode(t, deregister(), "OperationNotPermitted")
	clock.Advance(time.Second)
	if got := protection(); got != "disabled" {
		t.Errorf("after the cooldown: field %q, want disabled", got)
	}
	if err := deregister(); err != nil {
		t.Errorf("deregister after the cooldown: %v", err)
	}
}

// Each lifecycle call is authorized on the AMI, with its tags.
func TestLifecycleAuthorizedOnTheImage(t *testing.T) {
	ctx := context.Background()
	c, _, id := lifecycleCloud()
	other := c.AddImage(awsfake.Image{Name: "other-1"})
	p, err := awsfake.ParsePolicy([]byte(`{"Statement":[{"Effect":"Allow","Action":["ec2:DisableImage","ec2:EnableImage","ec2:EnableImageDeprecation",
		"ec2:DisableImageDeprecation","ec2:EnableImageDeregistrationProtection","ec2:DisableImageDeregistrationProtection"],
		"Resource":"arn:aws:ec2:*::image/*","Condition":{"StringEquals":{"ec2:ResourceTag/amibump:app":"shop"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c.SetPolicy(&p)
	ec := c.EC2()
	calls := map[string]func(string) error{
		"DisableImage": func(id string) error {
			_, err := ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)})
			return err
		},
		"EnableImageDeprecation": func(id string) error {
			_, err := ec.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(t0.Add(time.Hour))})
			return err
		},
		"EnableImageDeregistrationProtection": func(id string) error {
			_, err := ec.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id)})
			return err
		},
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) {
			wantCode(t, call(other), "UnauthorizedOperation")
			if err := call(id); err != nil {
				t.Errorf("the tagged AMI: %v", err)
			}
		})
	}
	if img, _ := c.Image(other); img.State != ec2types.ImageStateAvailable || img.DeprecationTime != nil || aws.ToString(img.DeregistrationProtection) != "disabled" {
		t.Errorf("denied calls changed the untagged AMI: %+v", img)
	}
}

// What staged retirement reads of a disabled AMI: it is listed with
// IncludeDisabled and no state filter (as amibump lists; a state filter naming
// disabled matches nothing, the harsher reading of a value DescribeImages
// does not document), it can still be deprecated, and
// DescribeImageReferences still finds a launch template version that carries
// it (launch templates "can continue to reference disabled AMIs").
func TestDisabledImageAsRetentionSeesIt(t *testing.T) {
	ctx := context.Background()
	c, clock, id := lifecycleCloud()
	ec := c.EC2()
	lt := c.AddLaunchTemplate("batch-jobs", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(id)})
	if _, err := ec.DisableImage(ctx, &ec2.DisableImageInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	in := &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available", "disabled"}}}}
	if out, err := ec.DescribeImages(ctx, in); err != nil || len(out.Images) != 0 {
		t.Errorf("state filter without IncludeDisabled: got %v (%v), want none", out, err)
	}
	in.IncludeDisabled = aws.Bool(true)
	if out, err := ec.DescribeImages(ctx, in); err != nil || len(out.Images) != 0 {
		t.Errorf("state filter naming disabled, with IncludeDisabled: got %v (%v), want none (the filter's documented values are available, pending and failed)", out, err)
	}
	in.Filters = nil
	if out, err := ec.DescribeImages(ctx, in); err != nil || len(out.Images) != 1 || out.Images[0].State != ec2types.ImageStateDisabled {
		t.Errorf("no state filter, IncludeDisabled: got %v (%v), want the disabled AMI", out, err)
	}
	if _, err := ec.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(clock.Now().Add(time.Minute))}); err != nil {
		t.Errorf("deprecate a disabled AMI: %v", err)
	}
	refs, err := ec.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{ImageIds: []string{id}, IncludeAllResourceTypes: aws.Bool(true)})
	if err != nil || len(refs.ImageReferences) != 1 || aws.ToString(refs.ImageReferences[0].Arn) == "" {
		t.Fatalf("references to the disabled AMI: got %+v (%v), want the version of %s", refs, err, lt)
	}
}

// AgeLifecycles ages deprecation times and cooldowns, nothing else.
func TestAgeLifecycles(t *testing.T) {
	ctx := context.Background()
	c, clock, id := lifecycleCloud()
	ec := c.EC2()
	if _, err := ec.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(clock.Now().Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(id), WithCooldown: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	c.AgeLifecycles(25 * time.Hour)
	img := describe(t, c, true, id)[0]
	if want := clock.Now().Add(-24 * time.Hour).Format("2006-01-02T15:04:05.000Z"); aws.ToString(img.DeprecationTime) != want || aws.ToString(img.DeregistrationProtection) != "disabled" {
		t.Errorf("after 25 hours: deprecated %s, protection %s; want %s, disabled", aws.ToString(img.DeprecationTime), aws.ToString(img.DeregistrationProtection), want)
	}
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil {
		t.Errorf("deregister after the cooldown has aged away: %v", err)
	}
}
