package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// regionName is what a region name looks like: us-east-1, cn-north-1,
// us-gov-west-1, ap-southeast-5, us-isob-east-1, eusc-de-east-1.
var regionName = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// IsRegionName tells whether s looks like a region name (of any partition).
func IsRegionName(s string) bool { return regionName.MatchString(s) }

// partitions are the partitions other than aws by their regions' name
// prefix, as the AWS SDKs' partition metadata (partitions.json) matches
// them: aws-cn (China), aws-us-gov (GovCloud (US)), the isolated
// partitions, and aws-eusc (the AWS European Sovereign Cloud,
// eusc-de-east-1). The longer prefix first: us-isob- before us-iso-.
var partitions = []struct{ prefix, partition string }{
	{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
	{"eu-isoe-", "aws-iso-e"}, {"us-iso-", "aws-iso"}, {"eusc-", "aws-eusc"},
}

// PartitionOf is the partition of a region: aws-cn for the China regions,
// aws-us-gov for GovCloud, aws-eusc for the European Sovereign Cloud, the
// isolated partitions by their prefixes, aws for the others ("" for no
// region). The stacks (infra) use the same table.
func PartitionOf(region string) string {
	if region == "" {
		return ""
	}
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// CheckReplicateFrom validates the value of amibump:replicate-from on a
// template in region own: a region name of the same partition (CopyImage
// copies within a partition only), not own.
func CheckReplicateFrom(value, own string) error {
	const allowed = "a region name such as us-east-1, of the template's own partition, other than its own region"
	switch {
	case !regionName.MatchString(value):
		return fmt.Errorf("tag amibump:replicate-from=%q is not a region name; want %s", value, allowed)
	case value == own:
		return fmt.Errorf("tag amibump:replicate-from=%q names the template's own region; want %s", value, allowed)
	case own != "" && PartitionOf(value) != PartitionOf(own):
		return fmt.Errorf("tag amibump:replicate-from=%q is in partition %s, the template in %s (%s): EC2 copies AMIs within a partition only; want %s",
			value, PartitionOf(value), own, PartitionOf(own), allowed)
	}
	return nil
}

// CopyToken is the ClientToken of the copy of a source AMI (region/id) for a
// template, asked for by one event: a retry of that event (Lambda's) makes
// one copy, however many requests it sends (56 characters, within EC2's 64).
// EC2 answers a ClientToken with its first copy, even after that copy failed
// and was removed: another event (the next reconcile, a forward) asks with a
// token of its own, so that a copy that failed on its key is made afresh
// once the key can be used. Two events never make two copies: a copy that
// exists is found (CopyDue), and the copy's name is the deploy's (AMIName),
// which EC2 refuses twice. key is the KMS key of the copy ("": none).
func CopyToken(source, templateID, key, eventID string) string {
	sum := sha256.Sum256([]byte("copy/" + source + "/" + templateID + "/" + key + "/" + eventID))
	return "amibump-" + hex.EncodeToString(sum[:24])
}

// Candidate is a template that may be the source of a replicating one: its
// name and its amibump tags.
type Candidate struct {
	ID, Name string
	Tags     map[string]string
}

// SourceTemplate picks the template a replicating template follows among
// the templates of the source region: the one whose app, env, layer and
// group tags are the same as want's (a tag absent on one is absent on the
// other). Exactly one must match; the error says why not, naming them.
func SourceTemplate(want map[string]string, keys []string, region string, candidates []Candidate) (Candidate, error) {
	var found []Candidate
	for _, c := range candidates {
		same := true
		for _, k := range keys {
			if c.Tags[k] != want[k] {
				same = false
			}
		}
		if same {
			found = append(found, c)
		}
	}
	var sel []string
	for _, k := range keys {
		if v, ok := want[k]; ok {
			sel = append(sel, k+"="+v)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Candidate{}, fmt.Errorf("no launch template in %s is tagged %s (and no other amibump:layer or amibump:group); tag the source template there, or fix amibump:replicate-from",
			region, strings.Join(sel, ", "))
	}
	names := make([]string, len(found))
	for i, c := range found {
		names[i] = c.Name
	}
	return Candidate{}, fmt.Errorf("%d launch templates in %s are tagged %s (%s); a replicating template follows exactly one: tell them apart with amibump:layer or amibump:group, on both sides",
		len(found), region, strings.Join(sel, ", "), strings.Join(names, ", "))
}

// NewestRelease is the source's AMI to copy: the newest available one by
// deploy, among the amibump AMIs of the source template.
func NewestRelease(images []Image) (Image, bool) {
	var best Image
	var ok bool
	for _, img := range images {
		if img.State != "available" {
			continue
		}
		if !ok || img.Deploy.Compare(best.Deploy) > 0 {
			best, ok = img, true
		}
	}
	return best, ok
}

// CopyDue tells whether a source's newest release is still to be copied to
// a template whose amibump AMIs are have: not when one of them is of that
// deploy or a newer one, in whatever state (a pending or available copy is
// the ordinary pipeline's to promote, a failed one its to report).
func CopyDue(have []Image, newest Image) bool {
	for _, img := range have {
		if img.Deploy.Compare(newest.Deploy) >= 0 {
			return false
		}
	}
	return true
}

// CopySnapshotsPerRegion is EBS's quota "Concurrent snapshot copies per
// destination Region" (20, not adjustable): the snapshot copies in flight
// into one region, whatever their source. A copy of an AMI copies each of
// its snapshots.
const CopySnapshotsPerRegion = 20

// CopiesThatFit tells, in order, which of the copies wanted (their snapshot
// counts) start now beside inFlight snapshot copies: each that fits in the
// room left takes it; one that does not waits for a later run, and a smaller
// one after it may still fit. An AMI with no snapshot counts as one.
func CopiesThatFit(inFlight int, wanted []int) []bool {
	room := CopySnapshotsPerRegion - inFlight
	fit := make([]bool, len(wanted))
	for i, n := range wanted {
		n = max(n, 1)
		if n <= room {
			fit[i], room = true, room-n
		}
	}
	return fit
}
