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

// copyToRegion copies the suite's AMI into the harness's second region with
// a client of that region (a copy is made in its destination, SourceRegion
// naming the source): the same ClientToken and request answers the same id,
// another request with it is IdempotentParameterMismatch; the copy becomes
// available (the ImageAvailable waiter), names its source, and its snapshots
// carry the request's snapshot tags. What it makes goes when t ends, and a
// sweep of the run in that region follows.
func (s *suite) copyToRegion(t *testing.T, src string) {
	region := s.h.CopyRegion()
	if region == "" {
		t.Skipf("no second region: set %s to copy the suite's AMI there", CopyRegionVariable)
	}
	from := s.h.Config().Region
	cfg := s.h.Config().Copy()
	cfg.Region = region
	dst := ec2.NewFromConfig(cfg)
	cleaner := NewCleaner(cfg, max(s.p.ReadLag, time.Second))
	sweepCtx := context.WithoutCancel(t.Context())
	t.Cleanup(func() { sweep(t, cleaner, sweepCtx, s.h.Run(), "what the copy left in "+region) })
	name := s.name("copy")
	in := &ec2.CopyImageInput{SourceImageId: aws.String(src), SourceRegion: aws.String(from), Name: aws.String(name),
		ClientToken: aws.String(name), TagSpecifications: s.tags(name, ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot)}
	out, err := dst.CopyImage(t.Context(), in)
	if err != nil {
		t.Fatalf("copy %s from %s to %s: %v", src, from, region, err)
	}
	id := aws.ToString(out.ImageId)
	cleaner.Track(t, Resource{Image, id, s.h.Run()})
	if again, err := dst.CopyImage(t.Context(), in); err != nil || aws.ToString(again.ImageId) != id {
		t.Errorf("the same copy with its ClientToken again: %+v (%v), want %s", again, err, id)
	}
	other := *in
	other.Name = aws.String(name + "-other")
	moved, err := dst.CopyImage(t.Context(), &other)
	if err == nil {
		cleaner.Track(t, Resource{Image, aws.ToString(moved.ImageId), s.h.Run()})
	}
	wantCode(t, err, "IdempotentParameterMismatch")
	img := s.copyAvailable(t, dst, id)
	if aws.ToString(img.SourceImageId) != src || aws.ToString(img.SourceImageRegion) != from {
		t.Errorf("copy %s: source %s in %s, want %s in %s", id, aws.ToString(img.SourceImageId), aws.ToString(img.SourceImageRegion), src, from)
	}
	snaps := snapshotsOf(img)
	got, err := dst.DescribeSnapshots(t.Context(), &ec2.DescribeSnapshotsInput{SnapshotIds: snaps})
	if err != nil || len(snaps) == 0 || len(got.Snapshots) != len(snaps) {
		t.Fatalf("the copy's snapshots %v: %+v (%v)", snaps, got, err)
	}
	for _, sn := range got.Snapshots {
		if ec2Run(sn.Tags) != s.h.Run() {
			t.Errorf("the copy's snapshot %s: tags %+v, want %s=%s", aws.ToString(sn.SnapshotId), sn.Tags, TagKey, s.h.Run())
		}
	}
}

// copyAvailable waits, in the destination, for a copy to be found and then
// available.
func (s *suite) copyAvailable(t *testing.T, dst *ec2.Client, id string) ec2types.Image {
	s.eventually(t, func(ctx context.Context) error {
		_, err := dst.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
		return err
	})
	s.h.Elapse(s.p.Image)
	w := ec2.NewImageAvailableWaiter(dst, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = s.p.Poll, max(s.p.Poll, 15*time.Second)
	})
	ctx, cancel := within(t, s.p, s.p.Image)
	defer cancel()
	out, err := w.WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, s.p.Image)
	if err != nil {
		t.Fatal(fmt.Errorf("wait for copy %s to be available within %s: %w", id, s.p.Image, err))
	}
	return out.Images[0]
}
