package awsfake_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

// twoRegions is a World of one account in us-east-1 (the source) and
// us-west-2 (the destination), copies taking copyTime on its manual clock.
func twoRegions(t *testing.T, opts ...awsfake.Option) (w *awsfake.World, clock *awsfake.ManualClock, east, west *awsfake.Cloud) {
	t.Helper()
	clock = awsfake.NewManualClock(t0)
	w = awsfake.NewWorld(append([]awsfake.Option{awsfake.WithClock(clock), awsfake.WithCopyTime(10 * time.Minute)}, opts...)...)
	east = w.Cloud(awsfake.Scope{Account: awsfake.Account, Region: "us-east-1"})
	west = w.Cloud(awsfake.Scope{Account: awsfake.Account, Region: "us-west-2"})
	return w, clock, east, west
}

func copyInput(src, name string) *ec2.CopyImageInput {
	return &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String("us-east-1"), Name: aws.String(name)}
}

// TestCopyImageAcrossRegions: the copy lands in the client's region, pending
// with pending snapshots for the copy time, then available; it carries the
// request's tags on the AMI and its snapshots, the source's with
// CopyImageTags, and names its source; the source region holds no copy.
func TestCopyImageAcrossRegions(t *testing.T) {
	w, clock, east, west := twoRegions(t)
	src := east.AddImage(awsfake.Image{Name: "web-1", Tags: map[string]string{"amibump:build-id": "42", "team": "web"}})
	in := copyInput(src, "web-1-dr")
	in.CopyImageTags = aws.Bool(true)
	in.TagSpecifications = []ec2types.TagSpecification{
		{ResourceType: ec2types.ResourceTypeImage, Tags: []ec2types.Tag{{Key: aws.String("team"), Value: aws.String("dr")}}},
		{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String("amibump:copy-of"), Value: aws.String("us-east-1/" + src)}}},
	}
	out, err := w.CopyImage(context.Background(), west.Scope(), in)
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.ImageId)
	img, ok := west.Image(id)
	if !ok || img.State != ec2types.ImageStatePending {
		t.Fatalf("the copy at once: %+v, want pending in us-west-2", img)
	}
	if aws.ToString(img.SourceImageId) != src || aws.ToString(img.SourceImageRegion) != "us-east-1" {
		t.Errorf("the copy's source: %s in %s, want %s in us-east-1", aws.ToString(img.SourceImageId), aws.ToString(img.SourceImageRegion), src)
	}
	if got := tagMap(img.Tags); got["amibump:build-id"] != "42" || got["team"] != "dr" || len(got) != 2 {
		t.Errorf("the copy's tags: %v, want the source's with the request's over them", got)
	}
	snaps := west.Snapshots()
	if len(snaps) != 1 || snaps[0].State != ec2types.SnapshotStatePending || tagMap(snaps[0].Tags)["amibump:copy-of"] != "us-east-1/"+src {
		t.Errorf("the copy's snapshots: %+v, want one pending, tagged per the request", snaps)
	}
	if n := len(east.Images()); n != 1 {
		t.Errorf("the source region holds %d images, want its own 1", n)
	}
	clock.Advance(10*time.Minute - time.Second)
	if img, _ := west.Image(id); img.State != ec2types.ImageStatePending {
		t.Errorf("before the copy time: %s, want pending", img.State)
	}
	clock.Advance(time.Second)
	if img, _ := west.Image(id); img.State != ec2types.ImageStateAvailable {
		t.Errorf("after the copy time: %s, want available", img.State)
	}
}

// TestCopyImageClientToken: the same token with the same request answers
// the first copy's id and makes no other; with another request it is
// IdempotentParameterMismatch.
func TestCopyImageClientToken(t *testing.T) {
	w, _, east, west := twoRegions(t)
	src := east.AddImage(awsfake.Image{Name: "web-1"})
	other := east.AddImage(awsfake.Image{Name: "web-2"})
	ctx := context.Background()
	in := copyInput(src, "web-1-dr")
	in.ClientToken = aws.String("web-1/dr-template")
	first, err := w.CopyImage(ctx, west.Scope(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.CopyImage(ctx, west.Scope(), in)
	if err != nil || aws.ToString(again.ImageId) != aws.ToString(first.ImageId) {
		t.Errorf("replay: %+v (%v), want %s", again, err, aws.ToString(first.ImageId))
	}
	if n := len(west.Images()); n != 1 {
		t.Errorf("after a replay: %d copies, want 1", n)
	}
	changed := copyInput(other, "web-1-dr")
	changed.ClientToken = in.ClientToken
	_, err = w.CopyImage(ctx, west.Scope(), changed)
	wantCode(t, err, "IdempotentParameterMismatch")
}

// TestCopyImageRefusals: the source must be available (pending, failed,
// disabled: InvalidAMIID.Unavailable) and exist in SourceRegion in the
// caller's account (InvalidAMIID.NotFound: another account's AMI is not
// shared, the fake shares none); the name follows CreateImage's rules; a
// refused copy makes nothing.
func TestCopyImageRefusals(t *testing.T) {
	w, _, east, west := twoRegions(t, awsfake.WithImageDelay(time.Hour))
	ctx := context.Background()
	pending := east.AddImage(awsfake.Image{Name: "pending", State: ec2types.ImageStatePending})
	failed := east.AddImage(awsfake.Image{Name: "failed", State: ec2types.ImageStateFailed})
	disabled := east.AddImage(awsfake.Image{Name: "disabled", State: ec2types.ImageStateDisabled})
	available := east.AddImage(awsfake.Image{Name: "available"})
	elsewhere := w.Cloud(awsfake.Scope{Account: "210987654321", Region: "us-east-1"}).AddImage(awsfake.Image{Name: "theirs"})
	west.AddImage(awsfake.Image{Name: "taken"})
	// An available AMI of the same account in a region the World serves, in
	// another partition: only the partition stops the copy.
	china := w.Cloud(awsfake.Scope{Account: east.Scope().Account, Region: "cn-north-1"}).AddImage(awsfake.Image{Name: "china"})
	for _, tc := range []struct {
		name string
		in   *ec2.CopyImageInput
		want string
	}{
		{"pending source", copyInput(pending, "copy-1"), "InvalidAMIID.Unavailable"},
		{"failed source", copyInput(failed, "copy-1"), "InvalidAMIID.Unavailable"},
		{"disabled source", copyInput(disabled, "copy-1"), "InvalidAMIID.Unavailable"},
		{"another account's AMI", copyInput(elsewhere, "copy-1"), "InvalidAMIID.NotFound"},
		{"not in the source region", &ec2.CopyImageInput{SourceImageId: aws.String(available), SourceRegion: aws.String("eu-west-1"), Name: aws.String("copy-1")}, "InvalidParameterValue"},
		{"malformed name", copyInput(available, "x"), "InvalidAMIName.Malformed"},
		{"name taken in the destination", copyInput(available, "taken"), "InvalidAMIName.Duplicate"},
		{"key without Encrypted", func() *ec2.CopyImageInput {
			in := copyInput(available, "copy-1")
			in.KmsKeyId = aws.String("alias/dr")
			return in
		}(), "InvalidParameterCombination"},
		{"missing name", &ec2.CopyImageInput{SourceImageId: aws.String(available), SourceRegion: aws.String("us-east-1")}, "MissingParameter"},
		{"from another partition", &ec2.CopyImageInput{SourceImageId: aws.String(china), SourceRegion: aws.String("cn-north-1"), Name: aws.String("copy-1")}, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.CopyImage(ctx, west.Scope(), tc.in)
			wantCode(t, err, tc.want)
			if n := len(west.Images()); n != 1 {
				t.Errorf("%d images in the destination, want only its own 1", n)
			}
		})
	}
}

// TestCopyImageQuota: snapshot copies in flight into a region are capped
// (EBS's "Concurrent snapshot copies per destination Region", 20), whatever
// the source region: a copy whose snapshots do not fit is
// ResourceLimitExceeded; a copy that completes frees its places.
func TestCopyImageQuota(t *testing.T) {
	if awsfake.CopySnapshotsPerDestination != 20 {
		t.Errorf("CopySnapshotsPerDestination = %d, want EBS's 20", awsfake.CopySnapshotsPerDestination)
	}
	w, clock, east, west := twoRegions(t, awsfake.WithCopyQuota(3))
	ctx := context.Background()
	west.AddImage(awsfake.Image{Name: "local"})
	var srcs []string
	for i := range 4 {
		srcs = append(srcs, east.AddImage(awsfake.Image{Name: "web-" + itoa(i)})) // one snapshot each
	}
	for i := range 2 {
		if _, err := w.CopyImage(ctx, west.Scope(), copyInput(srcs[i], "dr-"+itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	local := &ec2.CopyImageInput{SourceImageId: west.Images()[0].ImageId,
		SourceRegion: aws.String("us-west-2"), Name: aws.String("local-copy")}
	if _, err := w.CopyImage(ctx, west.Scope(), local); err != nil {
		t.Fatalf("the third snapshot copy, from another source region: %v", err)
	}
	_, err := w.CopyImage(ctx, west.Scope(), copyInput(srcs[2], "dr-2"))
	wantCode(t, err, "ResourceLimitExceeded")
	if len(west.Images()) != 4 {
		t.Errorf("%d images in the destination, want 4 (the refused copy makes none)", len(west.Images()))
	}
	clock.Advance(10 * time.Minute)
	if _, err := w.CopyImage(ctx, west.Scope(), copyInput(srcs[2], "dr-2")); err != nil {
		t.Errorf("after the copies completed: %v", err)
	}
}

// TestCopyImageAuthorization: ec2:CopyImage on the source AMI and its
// snapshots (their tags, in their region) and on the new AMI and snapshots (the request's tags), and
// ec2:CreateTags with ec2:CreateAction = CopyImage for the tags; a copy
// encrypted with a customer managed key the caller may not use is accepted
// and fails, its StateReason naming the key.
func TestCopyImageAuthorization(t *testing.T) {
	doc := `{"Statement":[
	{"Effect":"Allow","Action":"ec2:CopyImage","Resource":["arn:aws:ec2:us-east-1::image/*","arn:aws:ec2:us-east-1::snapshot/*"],"Condition":{"StringEquals":{"aws:ResourceTag/amibump:app":"shop"}}},
	{"Effect":"Allow","Action":"ec2:CopyImage","Resource":["arn:aws:ec2:us-west-2::image/*","arn:aws:ec2:us-west-2::snapshot/*"],"Condition":{"StringEquals":{"aws:RequestTag/amibump:app":"shop"}}}
	TAGS]}`
	allow := func(extra string) *awsfake.Policy {
		p, err := awsfake.ParsePolicy([]byte(strings.Replace(doc, "TAGS", extra, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return &p
	}
	w, clock, east, west := twoRegions(t)
	ctx := context.Background()
	shop, blog := map[string]string{"amibump:app": "shop"}, map[string]string{"amibump:app": "blog"}
	ours := east.AddImage(awsfake.Image{Name: "shop-1", Tags: shop, SnapshotTags: shop})
	theirs := east.AddImage(awsfake.Image{Name: "blog-1", Tags: blog, SnapshotTags: blog})
	bareSnapshot := east.AddImage(awsfake.Image{Name: "shop-2", Tags: shop})
	tagged := func(src, name string) *ec2.CopyImageInput {
		in := copyInput(src, name)
		tags := []ec2types.Tag{{Key: aws.String("amibump:app"), Value: aws.String("shop")}}
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeImage, Tags: tags}, {ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}}
		return in
	}
	west.SetPolicy(allow(""))
	_, err := w.CopyImage(ctx, west.Scope(), tagged(ours, "shop-1-dr"))
	wantCode(t, err, "UnauthorizedOperation") // no ec2:CreateTags
	west.SetPolicy(allow(`,{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CopyImage"}}}`))
	_, err = w.CopyImage(ctx, west.Scope(), tagged(theirs, "blog-1-dr"))
	wantCode(t, err, "UnauthorizedOperation") // the source's tags
	_, err = w.CopyImage(ctx, west.Scope(), copyInput(ours, "shop-1-untagged"))
	wantCode(t, err, "UnauthorizedOperation") // the request's tags
	_, err = w.CopyImage(ctx, west.Scope(), tagged(bareSnapshot, "shop-2-dr"))
	wantCode(t, err, "UnauthorizedOperation") // the source snapshot's tags
	if n := len(west.Images()); n != 0 {
		t.Fatalf("refused copies made %d images", n)
	}
	ok, err := w.CopyImage(ctx, west.Scope(), tagged(ours, "shop-1-dr"))
	if err != nil {
		t.Fatal(err)
	}
	encrypted := tagged(ours, "shop-1-dr-encrypted")
	encrypted.Encrypted, encrypted.KmsKeyId = aws.Bool(true), aws.String("arn:aws:kms:us-west-2:123456789012:key/dr")
	bad, err := w.CopyImage(ctx, west.Scope(), encrypted)
	if err != nil {
		t.Fatalf("a copy with a key the caller may not use is accepted, then fails: %v", err)
	}
	clock.Advance(10 * time.Minute)
	if img, _ := west.Image(aws.ToString(ok.ImageId)); img.State != ec2types.ImageStateAvailable {
		t.Errorf("the allowed copy: %s, want available", img.State)
	}
	img, _ := west.Image(aws.ToString(bad.ImageId))
	if img.State != ec2types.ImageStateFailed || img.StateReason == nil || aws.ToString(img.StateReason.Code) != "Client.InvalidKMSKey.InvalidState" ||
		!strings.Contains(aws.ToString(img.StateReason.Message), "key/dr") {
		t.Errorf("the copy with the unusable key: %s %+v, want failed naming the key", img.State, img.StateReason)
	}
	if ebs := img.BlockDeviceMappings[0].Ebs; !aws.ToBool(ebs.Encrypted) || aws.ToString(ebs.KmsKeyId) != "arn:aws:kms:us-west-2:123456789012:key/dr" {
		t.Errorf("the encrypted copy's snapshot: %+v, want encrypted with key/dr", ebs)
	}
	// The key's use granted as the EBS pages ask: CreateGrant only for the
	// grant EC2 creates for the copy (kms:GrantIsForAWSResource).
	west.SetPolicy(allow(`,{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CopyImage"}}},
	{"Effect":"Allow","Action":["kms:Decrypt","kms:DescribeKey","kms:GenerateDataKeyWithoutPlaintext","kms:ReEncryptFrom","kms:ReEncryptTo"],"Resource":"arn:aws:kms:us-west-2:123456789012:key/dr"},
	{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"arn:aws:kms:us-west-2:123456789012:key/dr","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}`))
	encrypted.Name = aws.String("shop-1-dr-granted")
	granted, err := w.CopyImage(ctx, west.Scope(), encrypted)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	if img, _ := west.Image(aws.ToString(granted.ImageId)); img.State != ec2types.ImageStateAvailable {
		t.Errorf("the copy with the key granted: %s %+v, want available", img.State, img.StateReason)
	}
}

// InRegion: the golden role, resolved for the default region, as the stack
// deployed in another region has it.
func TestPolicyInRegion(t *testing.T) {
	p, err := awsfake.ParsePolicy([]byte(`{"Statement":[{"Effect":"Allow","Action":"ec2:CopyImage","Resource":["arn:aws:ec2:us-east-1::image/*","arn:aws:ec2:*::image/*"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := p.InRegion("us-west-2").Statement[0].Resource
	if want := []string{"arn:aws:ec2:us-west-2::image/*", "arn:aws:ec2:*::image/*"}; !slices.Equal(got, want) {
		t.Errorf("InRegion: %v, want %v", got, want)
	}
	if p.Statement[0].Resource[0] != "arn:aws:ec2:us-east-1::image/*" {
		t.Error("InRegion changed the policy it was called on")
	}
}

func tagMap(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestCopyImageEncryption: Encrypted alone uses the destination's AWS
// managed key; KmsKeyId names the key; a copy of an encrypted AMI is
// encrypted, with the same key within its region and the destination's AWS
// managed key across regions; the snapshots say the same. ScopedEC2, the
// World's client of a scope, serves the copies.
func TestCopyImageEncryption(t *testing.T) {
	w, clock, east, west := twoRegions(t)
	ctx := context.Background()
	src := east.AddImage(awsfake.Image{Name: "web-1"})
	westEC2, eastEC2 := w.EC2(west.Scope()), w.EC2(east.Scope())
	key := func(c *awsfake.Cloud, id string) string {
		img, ok := c.Image(id)
		if !ok {
			t.Fatalf("no image %s in %s", id, c.Scope())
		}
		ebs := img.BlockDeviceMappings[0].Ebs
		if aws.ToBool(ebs.Encrypted) != (ebs.KmsKeyId != nil) {
			t.Errorf("%s: Encrypted %v with key %v", id, aws.ToBool(ebs.Encrypted), aws.ToString(ebs.KmsKeyId))
		}
		return aws.ToString(ebs.KmsKeyId)
	}
	copyOf := func(c *awsfake.ScopedEC2, in *ec2.CopyImageInput) string {
		out, err := c.CopyImage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ImageId)
	}
	plain := copyOf(westEC2, copyInput(src, "plain"))
	byDefault := copyInput(src, "by-default")
	byDefault.Encrypted = aws.Bool(true)
	defaulted := copyOf(westEC2, byDefault)
	named := copyInput(src, "named")
	named.Encrypted, named.KmsKeyId = aws.Bool(true), aws.String("alias/dr")
	keyed := copyOf(westEC2, named)
	clock.Advance(10 * time.Minute)
	back := &ec2.CopyImageInput{SourceImageId: aws.String(keyed), SourceRegion: aws.String("us-west-2"), Name: aws.String("back")}
	across := copyOf(eastEC2, back)
	back.Name = aws.String("within")
	within := copyOf(westEC2, back)
	for _, tc := range []struct {
		c        *awsfake.Cloud
		id, want string
	}{
		{west, plain, ""},
		{west, defaulted, "arn:aws:kms:us-west-2:123456789012:alias/aws/ebs"},
		{west, keyed, "arn:aws:kms:us-west-2:123456789012:alias/dr"},
		{east, across, "arn:aws:kms:us-east-1:123456789012:alias/aws/ebs"},
		{west, within, "arn:aws:kms:us-west-2:123456789012:alias/dr"},
	} {
		if got := key(tc.c, tc.id); got != tc.want {
			t.Errorf("%s in %s: key %q, want %q", tc.id, tc.c.Scope().Region, got, tc.want)
		}
	}
	for _, s := range west.Snapshots() {
		if aws.ToBool(s.Encrypted) != (s.KmsKeyId != nil) {
			t.Errorf("snapshot %s: Encrypted %v with key %v", aws.ToString(s.SnapshotId), aws.ToBool(s.Encrypted), aws.ToString(s.KmsKeyId))
		}
	}
}

// TestCopyImageBothWaysAtOnce: copies east to west and west to east at the
// same time finish (the World takes one Cloud's lock at a time: two Clouds
// each waiting for the other would hang here), each in its destination.
func TestCopyImageBothWaysAtOnce(t *testing.T) {
	w, _, east, west := twoRegions(t, awsfake.WithCopyQuota(1000))
	srcs := map[*awsfake.Cloud]string{east: east.AddImage(awsfake.Image{Name: "east-1"}), west: west.AddImage(awsfake.Image{Name: "west-1"})}
	const n = 40
	errs := make(chan error, 2*n)
	for i := range n {
		for dst, src := range map[*awsfake.Cloud]*awsfake.Cloud{west: east, east: west} {
			go func() {
				_, err := w.EC2(dst.Scope()).CopyImage(context.Background(), &ec2.CopyImageInput{SourceImageId: aws.String(srcs[src]),
					SourceRegion: aws.String(src.Scope().Region), Name: aws.String("copy-" + itoa(i))})
				errs <- err
			}()
		}
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, c := range []*awsfake.Cloud{east, west} {
		if got := len(c.Images()); got != n+1 {
			t.Errorf("%s: %d images, want its own and %d copies", c.Scope().Region, got, n)
		}
	}
}

// TestCopyImageKeysOnBothSides: with EBS encryption by default on in the
// destination, a copy given no key is encrypted with the region's default
// KMS key for EBS, which may be a customer managed key; the caller must be
// allowed to use a customer managed key on both sides (the source's and
// the copy's), else the copy fails naming the key. The AWS managed key
// needs no grant.
func TestCopyImageKeysOnBothSides(t *testing.T) {
	const (
		drDefault = "arn:aws:kms:us-west-2:123456789012:key/dr-default"
		srcKey    = "arn:aws:kms:us-east-1:123456789012:key/source"
	)
	copyAll := `{"Effect":"Allow","Action":"ec2:CopyImage","Resource":"*"}`
	useKey := func(k string) string {
		return `,{"Effect":"Allow","Action":["kms:CreateGrant","kms:Decrypt","kms:DescribeKey","kms:GenerateDataKeyWithoutPlaintext","kms:ReEncrypt*"],"Resource":"` + k + `"}`
	}
	for _, tc := range []struct {
		name, srcKMS, dstDefault, grants string
		wantKey, wantFailNaming          string
	}{
		{"default on, AWS managed key", "", "alias/aws/ebs", "", "arn:aws:kms:us-west-2:123456789012:alias/aws/ebs", ""},
		{"default on, a CMK the caller may not use", "", drDefault, "", drDefault, drDefault},
		{"default on, a CMK the caller may use", "", drDefault, useKey(drDefault), drDefault, ""},
		{"source CMK the caller may not use", srcKey, "", "", "arn:aws:kms:us-west-2:123456789012:alias/aws/ebs", srcKey},
		{"source CMK the caller may use", srcKey, "", useKey(srcKey), "arn:aws:kms:us-west-2:123456789012:alias/aws/ebs", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, clock, east, west := twoRegions(t)
			src := east.AddImage(awsfake.Image{Name: "web-1", KMSKey: tc.srcKMS})
			west.SetEBSEncryptionByDefault(tc.dstDefault)
			p, err := awsfake.ParsePolicy([]byte(`{"Statement":[` + copyAll + tc.grants + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			west.SetPolicy(&p)
			out, err := w.CopyImage(context.Background(), west.Scope(), copyInput(src, "dr-1"))
			if err != nil {
				t.Fatalf("CopyImage: %v (EC2 reads keys after it answers)", err)
			}
			clock.Advance(10 * time.Minute)
			img, _ := west.Image(aws.ToString(out.ImageId))
			if got := aws.ToString(img.BlockDeviceMappings[0].Ebs.KmsKeyId); got != tc.wantKey {
				t.Errorf("copy encrypted with %q, want %q", got, tc.wantKey)
			}
			switch {
			case tc.wantFailNaming == "" && img.State != ec2types.ImageStateAvailable:
				t.Errorf("copy %s (%v), want available", img.State, img.StateReason)
			case tc.wantFailNaming != "" && (img.State != ec2types.ImageStateFailed || !strings.Contains(aws.ToString(img.StateReason.Message), tc.wantFailNaming)):
				t.Errorf("copy %s (%v), want failed naming %s", img.State, img.StateReason, tc.wantFailNaming)
			}
		})
	}
}

// TestCopyImageNotAcrossPartitions: the European Sovereign Cloud and the
// isolated regions are partitions of their own: no copy from or into them
// from aws.
func TestCopyImageNotAcrossPartitions(t *testing.T) {
	w, _, east, west := twoRegions(t)
	src := east.AddImage(awsfake.Image{Name: "web-1"})
	for _, region := range []string{"eusc-de-east-1", "us-isob-east-1"} {
		in := &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(region), Name: aws.String("web-1-" + region)}
		_, err := w.CopyImage(context.Background(), west.Scope(), in)
		wantCode(t, err, "InvalidParameterValue")
		if err != nil && !strings.Contains(err.Error(), "partition") {
			t.Errorf("from %s: %v, want the partitions named", region, err)
		}
	}
}
