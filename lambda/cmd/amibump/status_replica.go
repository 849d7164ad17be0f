package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
)

// drStatus is a disaster-recovery template's status (one tagged
// amibump:replicate-from), read from tags only: the region it follows, the
// source release its $Latest carries (the amibump:copy-of and release tags
// of $Latest's AMI, a copy; nil when that AMI is no copy), and its copies
// still pending (amibump AMIs of the template, state pending, with
// amibump:copy-of), oldest first.
type drStatus struct {
	ReplicateFrom string        `json:"replicateFrom"`
	Follows       *sourceStatus `json:"follows"`
	CopiesPending []copyStatus  `json:"copiesPending"`
}

// sourceStatus is a source release, as a copy's tags name it: the region and
// AMI it was copied from (amibump:copy-of), its build and when it was
// deployed (the source's tags, which the copy carries); BuildID is nil and
// DeployedAt null when the copy lacks them.
type sourceStatus struct {
	Region     string     `json:"region"`
	ImageID    string     `json:"imageId"`
	BuildID    *string    `json:"buildId"`
	DeployedAt *time.Time `json:"deployedAt"`
}

// copyStatus is a pending copy in this region and its source release.
type copyStatus struct {
	ImageID string       `json:"imageId"`
	Source  sourceStatus `json:"source"`
}

// replica is the replica part of a template's status, nil when the
// template does not follow another region.
func (inv *inventory) replica(templateID string, tags map[string]string, latestImage string) *drStatus {
	from, ok := tags[event.TagReplicateFrom]
	if !ok {
		return nil
	}
	r := &drStatus{ReplicateFrom: from, CopiesPending: []copyStatus{}}
	if img, ok := inv.images[latestImage]; ok {
		r.Follows = copySource(img)
	}
	var pending []ec2types.Image
	for _, img := range inv.images {
		if tagMap(img.Tags)[event.TagLaunchTemplate] == templateID && img.State == ec2types.ImageStatePending && copySource(img) != nil {
			pending = append(pending, img)
		}
	}
	slices.SortFunc(pending, func(a, b ec2types.Image) int {
		return cmp.Or(cmp.Compare(aws.ToString(a.CreationDate), aws.ToString(b.CreationDate)), cmp.Compare(aws.ToString(a.ImageId), aws.ToString(b.ImageId)))
	})
	for _, img := range pending {
		r.CopiesPending = append(r.CopiesPending, copyStatus{ImageID: aws.ToString(img.ImageId), Source: *copySource(img)})
	}
	return r
}

// copySource is the source release an AMI is a copy of, nil when its
// amibump:copy-of tag is absent or not <region>/<ami id>.
func copySource(img ec2types.Image) *sourceStatus {
	t := tagMap(img.Tags)
	region, image, ok := strings.Cut(t[event.TagCopyOf], "/")
	if !ok || region == "" || !strings.HasPrefix(image, "ami-") {
		return nil
	}
	s := &sourceStatus{Region: region, ImageID: image, BuildID: orNull(t[event.TagBuildID])}
	if at, err := time.Parse(time.RFC3339, t[event.TagDeployedAt]); err == nil {
		at = at.UTC()
		s.DeployedAt = &at
	}
	return s
}

// replicaRows writes a DR template's rows: the source release it follows,
// and each copy still pending.
func replicaRows(row func(cells ...string), t templateStatus, now time.Time) {
	r := t.Replica
	if r == nil {
		return
	}
	follows := "no copy yet"
	switch {
	case r.Follows != nil:
		follows = sourceRelease(*r.Follows, r.ReplicateFrom, now)
	case strings.HasPrefix(t.Latest.ImageID, ssmPrefix):
		follows = "the release its parameter holds (not read)"
	}
	row("  follows", r.ReplicateFrom+": "+follows)
	for _, c := range r.CopiesPending {
		row("  copying", c.ImageID+" from "+sourceRelease(c.Source, "", now))
	}
}

// sourceRelease describes a source release for a person: its AMI (with its
// region unless that is region), build and deploy time.
func sourceRelease(s sourceStatus, region string, now time.Time) string {
	out := s.ImageID
	if s.Region != region {
		out = s.Region + "/" + s.ImageID
	}
	if s.BuildID != nil {
		out += ", build " + *s.BuildID
	}
	if at := s.DeployedAt; at != nil {
		out += fmt.Sprintf(", deployed %s (%s ago)", at.Format(time.RFC3339), age(now.Sub(*at)))
	}
	return out
}

// replicaWarnings: a DR template whose $Latest carries no copy of its source
// region's release (yet, or any more), or a copy of another region's.
func replicaWarnings(t templateStatus) []string {
	r := t.Replica
	switch {
	case r == nil || strings.HasPrefix(t.Latest.ImageID, ssmPrefix):
		return nil
	case r.Follows == nil && len(r.CopiesPending) > 0:
		return nil // the first copy is on its way
	case r.Follows == nil:
		return []string{fmt.Sprintf("$Latest (v%d) carries no copy of a %s release; the function copies the newest at the next reconcile, "+
			"or check that %s has one template with the same app/env/layer/group tags", t.Latest.Version, r.ReplicateFrom, r.ReplicateFrom)}
	case r.Follows.Region != r.ReplicateFrom:
		return []string{fmt.Sprintf("$Latest (v%d) carries a copy of a %s release, and the template follows %s (amibump:replicate-from)",
			t.Latest.Version, r.Follows.Region, r.ReplicateFrom)}
	}
	return nil
}
