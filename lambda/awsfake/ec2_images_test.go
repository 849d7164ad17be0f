package awsfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
)

// storeInstance is an instance whose root volume is instance store.
const storeInstance = "i-00000000000000fff"

// stoppingInstance is an instance on its way to stopped.
const stoppingInstance = "i-00000000000000ffe"

func TestCreateImageValidation(t *testing.T) {
	tests := []struct {
		name string
		in   func(running, stopped, terminated string) *ec2.CreateImageInput
		want string
	}{
		{"running instance is imaged", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("web-1"), NoReboot: aws.Bool(true)}
		}, ""},
		{"stopped instance is imaged", func(_, s, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(s), Name: aws.String("web-1")}
		}, ""},
		{"terminated instance is an invalid parameter value", func(_, _, x string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(x), Name: aws.String("web-1")}
		}, "InvalidParameterValue"},
		{"stopping instance is imaged", func(_, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(stoppingInstance), Name: aws.String("web-1")}
		}, ""},
		{"instance-store root is refused", func(_, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(storeInstance), Name: aws.String("web-1")}
		}, "UnsupportedOperation"},
		{"unknown instance is not found", func(_, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("web-1")}
		}, "InvalidInstanceID.NotFound"},
		{"malformed instance id", func(_, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String("instance-1"), Name: aws.String("web-1")}
		}, "InvalidInstanceID.Malformed"},
		{"missing instance id", func(_, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{Name: aws.String("web-1")}
		}, "MissingParameter"},
		{"name too short", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("ab")}
		}, "InvalidAMIName.Malformed"},
		{"name too long", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String(strings.Repeat("a", 129))}
		}, "InvalidAMIName.Malformed"},
		{"name with a colon", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("web:1")}
		}, "InvalidAMIName.Malformed"},
		{"name with every allowed character", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("aZ09()[] ./-'@_")}
		}, ""},
		{"name already in use", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("base")}
		}, "InvalidAMIName.Duplicate"},
		{"tags on an unsupported resource type", func(r, _, _ string) *ec2.CreateImageInput {
			return &ec2.CreateImageInput{InstanceId: aws.String(r), Name: aws.String("web-1"),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance}}}
		}, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			running := cloud.AddInstance(awsfake.Instance{})
			stopped := cloud.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameStopped})
			terminated := cloud.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameTerminated})
			cloud.AddInstance(awsfake.Instance{ID: storeInstance, InstanceStore: true})
			cloud.AddInstance(awsfake.Instance{ID: stoppingInstance, State: ec2types.InstanceStateNameStopping})
			cloud.AddImage(awsfake.Image{Name: "base"})
			before := len(cloud.Images())
			out, err := cloud.EC2().CreateImage(context.Background(), tt.in(running, stopped, terminated))
			wantCode(t, err, tt.want)
			if tt.want != "" {
				if got := len(cloud.Images()); got != before {
					t.Errorf("images after a failed CreateImage: got %d, want %d", got, before)
				}
				return
			}
			if _, ok := cloud.Image(aws.ToString(out.ImageId)); !ok {
				t.Errorf("image %s: got none, want it to exist", aws.ToString(out.ImageId))
			}
		})
	}
}

func TestCreateImageTagsAndSnapshots(t *testing.T) {
	cloud := awsfake.New(awsfake.WithClock(awsfake.NewManualClock(t0)))
	id := cloud.AddInstance(awsfake.Instance{Volumes: 2})
	out, err := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{
		InstanceId: aws.String(id), Name: aws.String("web-1"), NoReboot: aws.Bool(true),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web-1")}}},
			{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("amibump:build-id"), Value: aws.String("b1")}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := cloud.Image(aws.ToString(out.ImageId))
	if diff := cmp.Diff([]ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web-1")}}, img.Tags, sdk); diff != "" {
		t.Errorf("image tags (-want +got):\n%s", diff)
	}
	if got, want := aws.ToString(img.CreationDate), t0.Format("2006-01-02T15:04:05.000Z"); got != want {
		t.Errorf("CreationDate: got %s, want %s", got, want)
	}
	snaps := cloud.Snapshots()
	if len(snaps) != 2 || len(img.BlockDeviceMappings) != 2 {
		t.Fatalf("snapshots: got %d (mappings %d), want 2 (one per volume)", len(snaps), len(img.BlockDeviceMappings))
	}
	for i, s := range snaps {
		if diff := cmp.Diff([]ec2types.Tag{{Key: aws.String("amibump:build-id"), Value: aws.String("b1")}}, s.Tags, sdk); diff != "" {
			t.Errorf("snapshot %d tags (-want +got):\n%s", i, diff)
		}
		if got, want := aws.ToString(img.BlockDeviceMappings[i].Ebs.SnapshotId), aws.ToString(s.SnapshotId); got != want {
			t.Errorf("mapping %d snapshot: got %s, want %s", i, got, want)
		}
	}
}

func TestImageStates(t *testing.T) {
	tests := []struct {
		name       string
		arrange    func(c *awsfake.Cloud, instance string)
		advance    time.Duration
		want       ec2types.ImageState
		wantReason string
	}{
		{"pending before the delay", nil, 9 * time.Minute, ec2types.ImageStatePending, ""},
		{"available after the delay", nil, 10 * time.Minute, ec2types.ImageStateAvailable, ""},
		{"failed when told to fail", func(c *awsfake.Cloud, in string) { c.FailImagesOf(in, "disk error") },
			10 * time.Minute, ec2types.ImageStateFailed, "disk error"},
		{"still pending when told to fail", func(c *awsfake.Cloud, in string) { c.FailImagesOf(in, "disk error") },
			time.Minute, ec2types.ImageStatePending, ""},
		{"failed at once when the instance is terminated", func(c *awsfake.Cloud, in string) { c.TerminateInstance(in) },
			0, ec2types.ImageStateFailed, "instance terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := awsfake.NewManualClock(t0)
			cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithImageDelay(10*time.Minute))
			in := cloud.AddInstance(awsfake.Instance{})
			out, err := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
			if err != nil {
				t.Fatal(err)
			}
			if tt.arrange != nil {
				tt.arrange(cloud, in)
			}
			clock.Advance(tt.advance)
			d, err := cloud.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
			if err != nil {
				t.Fatal(err)
			}
			img := d.Images[0]
			if img.State != tt.want {
				t.Errorf("state: got %s, want %s", img.State, tt.want)
			}
			var reason string
			if img.StateReason != nil {
				reason = aws.ToString(img.StateReason.Message)
			}
			if reason != tt.wantReason {
				t.Errorf("state reason: got %q, want %q", reason, tt.wantReason)
			}
		})
	}
}

// SetImageDelay changes the delay of the images created after it only.
func TestSetImageDelay(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithImageDelay(time.Minute))
	in := cloud.AddInstance(awsfake.Instance{})
	create := func(name string) string {
		out, err := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ImageId)
	}
	before := create("web-1")
	cloud.SetImageDelay(time.Hour)
	after := create("web-2")
	clock.Advance(time.Minute)
	if a, _ := cloud.Image(before); a.State != ec2types.ImageStateAvailable {
		t.Errorf("the image created before: %s after its minute, want available", a.State)
	}
	if b, _ := cloud.Image(after); b.State != ec2types.ImageStatePending {
		t.Errorf("the image created after: %s after a minute, want pending (an hour's delay)", b.State)
	}
	clock.Advance(time.Hour)
	if b, _ := cloud.Image(after); b.State != ec2types.ImageStateAvailable {
		t.Errorf("the image created after: %s after its hour, want available", b.State)
	}
}

func TestAvailableImageStaysAvailable(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock))
	in := cloud.AddInstance(awsfake.Instance{})
	out, _ := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	img, _ := cloud.Image(*out.ImageId)
	if img.State != ec2types.ImageStateAvailable {
		t.Fatalf("state with no delay: got %s, want available", img.State)
	}
	cloud.FailImagesOf(in, "too late")
	cloud.TerminateInstance(in)
	if img, _ := cloud.Image(*out.ImageId); img.State != ec2types.ImageStateAvailable {
		t.Errorf("state after the instance failed and terminated: got %s, want available", img.State)
	}
}

func TestVisibilityDelay(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithVisibilityDelay(30*time.Second))
	ec := cloud.EC2()
	ctx := context.Background()
	in := cloud.AddInstance(awsfake.Instance{})
	out, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	byName := &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"web-1"}}}}

	_, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	d, err := ec.DescribeImages(ctx, byName)
	if err != nil || len(d.Images) != 0 {
		t.Errorf("by name while invisible: got %d images (%v), want 0", len(d.Images), err)
	}
	_, err = ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	wantCode(t, err, "InvalidAMIName.Duplicate")

	clock.Advance(30 * time.Second)
	if _, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}}); err != nil {
		t.Errorf("by id once visible: got %v, want no error", err)
	}
	if d, _ := ec.DescribeImages(ctx, byName); len(d.Images) != 1 {
		t.Errorf("by name once visible: got %d images, want 1", len(d.Images))
	}
}

func seedImages(t *testing.T, cloud *awsfake.Cloud) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, img := range []awsfake.Image{
		{Name: "shop-web-1", Tags: map[string]string{"amibump:app": "shop", "amibump:layer": "web"}},
		{Name: "shop-api-1", Tags: map[string]string{"amibump:app": "shop", "amibump:layer": "api"}},
		{Name: "blog-web-1", Tags: map[string]string{"amibump:app": "blog"}, State: ec2types.ImageStateFailed},
		{Name: "base", State: ec2types.ImageStateDeregistered},
	} {
		ids[img.Name] = cloud.AddImage(img)
	}
	return ids
}

func TestDescribeImagesFilters(t *testing.T) {
	tests := []struct {
		name     string
		in       *ec2.DescribeImagesInput
		want     []string // names, sorted by image id (= creation order here)
		wantCode string
	}{
		{"everything", &ec2.DescribeImagesInput{}, []string{"shop-web-1", "shop-api-1", "blog-web-1", "base"}, ""},
		{"owner self", &ec2.DescribeImagesInput{Owners: []string{"self"}}, []string{"shop-web-1", "shop-api-1", "blog-web-1", "base"}, ""},
		{"owner is the account", &ec2.DescribeImagesInput{Owners: []string{awsfake.Account}}, []string{"shop-web-1", "shop-api-1", "blog-web-1", "base"}, ""},
		{"owner amazon has none of ours", &ec2.DescribeImagesInput{Owners: []string{"amazon"}}, []string{}, ""},
		{"name with a star", &ec2.DescribeImagesInput{Filters: filters("name", "shop-*")}, []string{"shop-web-1", "shop-api-1"}, ""},
		{"name with a question mark", &ec2.DescribeImagesInput{Filters: filters("name", "shop-?pi-1")}, []string{"shop-api-1"}, ""},
		{"values are OR'ed", &ec2.DescribeImagesInput{Filters: filters("name", "base", "blog-*")}, []string{"blog-web-1", "base"}, ""},
		{"filters are AND'ed", &ec2.DescribeImagesInput{Filters: append(filters("tag:amibump:app", "shop"), filters("tag:amibump:layer", "api")...)}, []string{"shop-api-1"}, ""},
		{"state", &ec2.DescribeImagesInput{Filters: filters("state", "failed")}, []string{"blog-web-1"}, ""},
		{"tag-key", &ec2.DescribeImagesInput{Filters: filters("tag-key", "amibump:layer")}, []string{"shop-web-1", "shop-api-1"}, ""},
		{"tag-value", &ec2.DescribeImagesInput{Filters: filters("tag-value", "blo?")}, []string{"blog-web-1"}, ""},
		{"missing tag does not match a star", &ec2.DescribeImagesInput{Filters: filters("tag:amibump:layer", "*")}, []string{"shop-web-1", "shop-api-1"}, ""},
		{"unknown filter", &ec2.DescribeImagesInput{Filters: filters("colour", "red")}, nil, "InvalidParameterValue"},
		{"filter without values", &ec2.DescribeImagesInput{Filters: filters("name")}, nil, "InvalidParameterValue"},
		{"MaxResults too small", &ec2.DescribeImagesInput{MaxResults: aws.Int32(4)}, nil, "InvalidParameterValue"},
		{"unknown id", &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}}, nil, "InvalidAMIID.NotFound"},
		{"malformed id", &ec2.DescribeImagesInput{ImageIds: []string{"image-1"}}, nil, "InvalidAMIID.Malformed"},
		{"ids with MaxResults", &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}, MaxResults: aws.Int32(5)}, nil, "InvalidParameterCombination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			seedImages(t, cloud)
			out, err := cloud.EC2().DescribeImages(context.Background(), tt.in)
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			got := []string{}
			for _, img := range out.Images {
				got = append(got, aws.ToString(img.Name))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func filters(name string, values ...string) []ec2types.Filter {
	return []ec2types.Filter{{Name: aws.String(name), Values: values}}
}

func TestDescribeImagesByID(t *testing.T) {
	cloud := awsfake.New()
	ids := seedImages(t, cloud)
	out, err := cloud.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{ids["base"], ids["shop-web-1"]}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 2 || out.NextToken != nil {
		t.Errorf("images: got %d (next %v), want 2 and no next token", len(out.Images), out.NextToken)
	}
	_, err = cloud.EC2().DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{ids["base"], "ami-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
}

func TestDescribeImagesPagination(t *testing.T) {
	tests := []struct {
		name      string
		opts      []awsfake.Option
		limit     int32
		wantPages int
	}{
		{"no MaxResults returns everything at once", nil, 0, 1},
		{"MaxResults 5", nil, 5, 3},
		{"page size caps even without MaxResults", []awsfake.Option{awsfake.WithPageSize(4)}, 0, 3},
		{"page size caps MaxResults", []awsfake.Option{awsfake.WithPageSize(2)}, 10, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New(tt.opts...)
			want := map[string]bool{}
			for i := range 12 {
				want[cloud.AddImage(awsfake.Image{Name: "img-" + string(rune('a'+i))})] = true
			}
			in := &ec2.DescribeImagesInput{Owners: []string{"self"}}
			if tt.limit > 0 {
				in.MaxResults = aws.Int32(tt.limit)
			}
			p := ec2.NewDescribeImagesPaginator(cloud.EC2(), in)
			got, pages := map[string]bool{}, 0
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, img := range out.Images {
					if got[*img.ImageId] {
						t.Errorf("image %s on two pages", *img.ImageId)
					}
					got[*img.ImageId] = true
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("images (-want +got):\n%s", diff)
			}
			if pages != tt.wantPages {
				t.Errorf("pages: got %d, want %d", pages, tt.wantPages)
			}
		})
	}
}

func TestImageAvailableWaiter(t *testing.T) {
	tests := []struct {
		name    string
		arrange func(c *awsfake.Cloud, instance string)
		wantErr bool
	}{
		{"reaches available", nil, false},
		{"fails on a failed image", func(c *awsfake.Cloud, in string) { c.FailImagesOf(in, "boom") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := awsfake.NewManualClock(t0)
			cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithImageDelay(10*time.Minute))
			in := cloud.AddInstance(awsfake.Instance{})
			if tt.arrange != nil {
				tt.arrange(cloud, in)
			}
			out, err := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			defer close(done)
			go func() { // the clock moves on while the waiter polls
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
						clock.Advance(time.Minute)
					}
				}
			}()
			w := ec2.NewImageAvailableWaiter(cloud.EC2(), func(o *ec2.ImageAvailableWaiterOptions) {
				o.MinDelay, o.MaxDelay = time.Millisecond, 5*time.Millisecond
			})
			err = w.Wait(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}}, 10*time.Second)
			if (err != nil) != tt.wantErr {
				t.Fatalf("wait: got %v, want error %v", err, tt.wantErr)
			}
			if cloud.Calls("DescribeImages") < 2 {
				t.Errorf("DescribeImages calls: got %d, want the waiter to have polled more than once", cloud.Calls("DescribeImages"))
			}
		})
	}
}

func TestImageAvailableWaiterRealTime(t *testing.T) {
	cloud := awsfake.New(awsfake.WithImageDelay(20 * time.Millisecond))
	in := cloud.AddInstance(awsfake.Instance{})
	out, err := cloud.EC2().CreateImage(context.Background(), &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	w := ec2.NewImageAvailableWaiter(cloud.EC2(), func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 10*time.Millisecond
	})
	if err := w.Wait(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}}, 5*time.Second); err != nil {
		t.Fatalf("wait: got %v, want available", err)
	}
}

func TestDeregisterImage(t *testing.T) {
	tests := []struct {
		name            string
		deleteSnapshots bool
		failSnapshots   int
		wantSnapshots   int
	}{
		{"keeps snapshots by default", false, 0, 2},
		{"deletes associated snapshots", true, 0, 0},
		{"a snapshot that cannot be deleted stays, reported in the output", true, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			in := cloud.AddInstance(awsfake.Instance{Volumes: 2})
			ec := cloud.EC2()
			ctx := context.Background()
			out, _ := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
			cloud.FailSnapshotDeletion(tt.failSnapshots, ec2types.SnapshotReturnCodesErrorMissingPermissions)
			d, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: out.ImageId, DeleteAssociatedSnapshots: aws.Bool(tt.deleteSnapshots)})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(cloud.Snapshots()); got != tt.wantSnapshots {
				t.Errorf("snapshots: got %d, want %d", got, tt.wantSnapshots)
			}
			if tt.deleteSnapshots && len(d.DeleteSnapshotResults) != 2 {
				t.Errorf("DeleteSnapshotResults: got %d, want 2", len(d.DeleteSnapshotResults))
			}
			failed := 0
			for _, r := range d.DeleteSnapshotResults {
				if r.ReturnCode != ec2types.SnapshotReturnCodesSuccess {
					failed++
				}
			}
			if failed != tt.failSnapshots {
				t.Errorf("failed snapshot deletions reported: got %d, want %d", failed, tt.failSnapshots)
			}
			if _, ok := cloud.Image(*out.ImageId); ok {
				t.Errorf("image after deregistering: got it, want none")
			}
			_, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
			wantCode(t, err, "InvalidAMIID.NotFound")
			_, err = ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: out.ImageId})
			wantCode(t, err, "InvalidAMIID.NotFound")
			// The name is free again.
			if _, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")}); err != nil {
				t.Errorf("CreateImage with the freed name: got %v, want no error", err)
			}
		})
	}
}

func TestDescribeImageReferences(t *testing.T) {
	cloud := awsfake.New()
	ami := cloud.AddImage(awsfake.Image{Name: "web-1"})
	other := cloud.AddImage(awsfake.Image{Name: "web-0"})
	running := cloud.AddInstance(awsfake.Instance{ImageID: ami})
	terminated := cloud.AddInstance(awsfake.Instance{ImageID: ami, State: ec2types.InstanceStateNameTerminated})
	cloud.AddInstance(awsfake.Instance{ImageID: other})
	lt := cloud.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami)})
	cloud.AddParameter("/amibump/web", ami, "aws:ec2:image")
	cloud.AddParameter("/notes/web", ami, "text") // not an AMI parameter: not a reference
	cloud.AddParameter("/amibump/other", other, "aws:ec2:image")
	ec := cloud.EC2()
	ctx := context.Background()
	// Version 2 uses another AMI, then 12 more versions push version 1 out of the default depth of 10.
	for i := range 13 {
		img := other
		if i == 12 {
			img = ami
		}
		if _, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(img)}}); err != nil {
			t.Fatal(err)
		}
	}
	instanceArn := "arn:aws:ec2:us-east-1:123456789012:instance/" + running
	terminatedArn := "arn:aws:ec2:us-east-1:123456789012:instance/" + terminated
	states := func(names ...string) []ec2types.ResourceTypeRequest {
		return []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance,
			ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameStateName, OptionValues: names}}}}
	}
	paramArn := "arn:aws:ssm:us-east-1:123456789012:parameter/amibump/web"
	ltArn := func(v int) string { return "arn:aws:ec2:us-east-1:123456789012:launch-template/" + lt + "/" + itoa(v) }
	tests := []struct {
		name     string
		in       *ec2.DescribeImageReferencesInput
		want     []string
		wantCode string
	}{
		// AWS's defaults: state-name every state (terminated included), version-depth 10.
		{"all resource types", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami}, IncludeAllResourceTypes: aws.Bool(true)},
			[]string{instanceArn, terminatedArn, ltArn(14), paramArn}, ""},
		{"parameters only", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter}}},
			[]string{paramArn}, ""},
		{"state-name narrows the instances", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami}, ResourceTypes: states("pending", "running", "stopped")},
			[]string{instanceArn}, ""},
		{"unknown state-name", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami}, ResourceTypes: states("sleeping")}, nil, "InvalidParameterValue"},
		{"version-depth above 10000", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate,
				ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{"10001"}}}}}},
			nil, "InvalidParameterValue"},
		{"version depth reaches version 1", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2LaunchTemplate,
				ResourceTypeOptions: []ec2types.ResourceTypeOption{{OptionName: ec2types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{"14"}}}}}},
			[]string{ltArn(1), ltArn(14)}, ""},
		{"instances only", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeEc2Instance}}},
			[]string{instanceArn, terminatedArn}, ""},
		{"no resource types", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami}}, nil, "MissingParameter"},
		{"no image ids", &ec2.DescribeImageReferencesInput{IncludeAllResourceTypes: aws.Bool(true)}, nil, "MissingParameter"},
		{"more than 10 image ids", &ec2.DescribeImageReferencesInput{ImageIds: []string{ami, ami, ami, ami, ami, ami, ami, ami, ami, ami, ami}, IncludeAllResourceTypes: aws.Bool(true)}, nil, "InvalidParameterValue"},
		{"unknown image", &ec2.DescribeImageReferencesInput{ImageIds: []string{"ami-0123456789abcdef0"}, IncludeAllResourceTypes: aws.Bool(true)}, nil, "InvalidAMIID.NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ec.DescribeImageReferences(ctx, tt.in)
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			got := []string{}
			for _, r := range out.ImageReferences {
				got = append(got, aws.ToString(r.Arn))
			}
			if diff := cmp.Diff(tt.want, got, sortStrings); diff != "" {
				t.Errorf("references (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeregisteredLinger(t *testing.T) {
	clock := awsfake.NewManualClock(t0)
	cloud := awsfake.New(awsfake.WithClock(clock), awsfake.WithDeregisteredLinger(time.Minute))
	in := cloud.AddInstance(awsfake.Instance{})
	ec := cloud.EC2()
	ctx := context.Background()
	out, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: out.ImageId}); err != nil {
		t.Fatal(err)
	}
	byID, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
	if err != nil || len(byID.Images) != 1 || byID.Images[0].State != ec2types.ImageStateDeregistered {
		t.Fatalf("by id right after deregistering: %+v, %v; want it listed as deregistered", byID, err)
	}
	listed, _ := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"web-1"}}}})
	if len(listed.Images) != 1 {
		t.Errorf("by name: %d images, want the deregistered one listed", len(listed.Images))
	}
	if _, ok := cloud.Image(*out.ImageId); ok {
		t.Error("Images() still has the deregistered image")
	}
	if _, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in), Name: aws.String("web-1")}); err != nil {
		t.Errorf("the name is not free: %v", err)
	}
	clock.Advance(time.Minute)
	_, err = ec.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{*out.ImageId}})
	wantCode(t, err, "InvalidAMIID.NotFound")
}
