package amibump

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/amibump/amibump/lambda/plan"
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
// AWS GovCloud (US), aws-eusc for the European Sovereign Cloud, the
// isolated partitions by their prefixes, else aws: the function's table
// (plan.PartitionOf), so the stacks and the function agree.
func PartitionOf(region string) string { return cmp.Or(plan.PartitionOf(region), "aws") }

// validateRegions checks the settings that name regions whatever the
// stack's own region: replicaRegions and copyKmsKeyArn.
func (p *Props) validateRegions() []error {
	var errs []error
	if key := p.CopyKmsKeyARN; key != "" {
		if !kmsKeyARNPattern.MatchString(key) {
			errs = append(errs, fmt.Errorf("copyKmsKeyArn: %q is not allowed; want a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>) "+
				"of the stack's region, not an alias ARN or a key id, which an IAM policy cannot grant a key's use by; or empty for none", key))
		} else if partition, region := arnPartitionRegion(key); PartitionOf(region) != partition {
			errs = append(errs, fmt.Errorf("copyKmsKeyArn: %q names region %s in partition %s, where it is not; want the ARN AWS shows for the key", key, region, partition))
		}
	}
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
// not itself, copyKmsKeyArn a key of that region. The app checks them for the CDK CLI's region, the
// organisation's settings for each of orgTargets' regions, New for a stack
// whose region is set. (A replica of another partition than aws is refused
// by Validate, so in aws "of its partition" is "in aws".)
func (p *Props) ValidateIn(region string) error {
	var errs []error
	if key := p.CopyKmsKeyARN; kmsKeyARNPattern.MatchString(key) {
		if _, keyRegion := arnPartitionRegion(key); keyRegion != region {
			errs = append(errs, fmt.Errorf("copyKmsKeyArn: %q is a key of %s, and the stack's region is %s; "+
				"want a key of %s: EC2 encrypts a copy with a key of the region it copies into", key, keyRegion, region, region))
		}
	}
	return errors.Join(append(errs, p.replicasIn(region))...)
}

// replicasIn checks replicaRegions for a stack in region.
func (p *Props) replicasIn(region string) error {
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

// arnPartitionRegion are the partition and region of an ARN.
func arnPartitionRegion(arn string) (partition, region string) {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return "", ""
	}
	return parts[1], parts[3]
}
