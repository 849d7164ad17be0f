package amibump

import (
	"fmt"
	"slices"
	"strings"
)

// PushPartition is the one partition where a stack may forward its promoted
// results to other regions (replicaRegions). EventBridge routes events
// between Regions "except AWS GovCloud (US) and China" (AWS Compute Blog,
// "Expanding cross-Region event routing with Amazon EventBridge",
// https://aws.amazon.com/blogs/compute/expanding-cross-region-event-routing-with-amazon-eventbridge/);
// the China Regions' EventBridge guide (docs.amazonaws.cn, "Sending and
// receiving events between Amazon Regions") repeats the global page under a
// notice that features vary by Region, and names no Region pair of aws-cn.
// The other partitions document nothing: the harsher reading, pull only.
// There a DR region follows by pull alone: its reconcile copies the source's
// newest release (amibump:replicate-from).
const PushPartition = "aws"

// PartitionOf is the partition of a region name: aws-cn for the China
// Regions (cn-north-1 Beijing, cn-northwest-1 Ningxia), aws-us-gov for
// AWS GovCloud (US), the isolated partitions by their prefixes, else aws.
func PartitionOf(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
		{"eu-isoe-", "aws-iso-e"}, {"us-iso-", "aws-iso"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// validateRegions checks the settings that name regions whatever the
// stack's own region: replicaRegions.
func (p *Props) validateRegions() []error {
	var errs []error
	for i, region := range p.ReplicaRegions {
		switch {
		case !regionPattern.MatchString(region):
			errs = append(errs, fmt.Errorf("replicaRegions: %q is not allowed; want region names such as us-west-2, or none", region))
		case slices.Contains(p.ReplicaRegions[:i], region):
			errs = append(errs, fmt.Errorf("replicaRegions: %q is listed twice; want each disaster-recovery region once", region))
		case PartitionOf(region) != PushPartition:
			errs = append(errs, fmt.Errorf("replicaRegions: %q is in the %s partition, where EventBridge routes no events between regions; "+
				"leave replicaRegions empty there and use pull only: the disaster-recovery region's stack copies the release at each reconcile "+
				"(its templates tagged amibump:replicate-from=<this region>)", region, PartitionOf(region)))
		}
	}
	return errs
}

// ValidateIn checks the settings that depend on the region the stack is
// deployed in, region (a region name): replicaRegions of its partition and
// not itself. The app checks them for the CDK CLI's region, the
// organisation's settings for each of orgTargets' regions, New for a stack
// whose region is set. (A replica of another partition than aws is refused
// by Validate, so in aws "of its partition" is "in aws".)
func (p *Props) ValidateIn(region string) error {
	if len(p.ReplicaRegions) == 0 {
		return nil
	}
	if partition := PartitionOf(region); partition != PushPartition {
		return fmt.Errorf("replicaRegions: not allowed in %s (the %s partition), where EventBridge routes no events between regions; "+
			"leave it empty and use pull only: the disaster-recovery region's stack copies the release at each reconcile "+
			"(its templates tagged amibump:replicate-from=%s)", region, partition, region)
	}
	if slices.Contains(p.ReplicaRegions, region) {
		return fmt.Errorf("replicaRegions: %q is the stack's own region; want the other regions that follow this one's release", region)
	}
	return nil
}
