package awsfake

import (
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// maxVersionsPerTemplate is EC2's quota ("Restrictions for Amazon EC2 launch
// templates": "up to 10,000 versions per launch template").
const maxVersionsPerTemplate = 10000

// checkVersionQuota refuses a new version of a template at the quota. AWS
// documents the quota but no error code for it: VersionLimitExceeded, a client
// error the SDK does not retry (the harsher reading: nothing clears it by waiting).
func checkVersionQuota(lt *template) error {
	if len(lt.versions) >= maxVersionsPerTemplate {
		return errorf("VersionLimitExceeded", "The launch template %s has reached the limit of %d versions; delete versions to create more", lt.id, maxVersionsPerTemplate)
	}
	return nil
}

// inherit is the data a new version takes from its SourceVersion, before the
// request's own fields override it. CreateLaunchTemplateVersion, SourceVersion:
// "Snapshots applied to the block device mapping are ignored when creating a
// new version unless they are explicitly included": the source's block device
// mappings come without their SnapshotId.
func inherit(source ec2types.RequestLaunchTemplateData) ec2types.RequestLaunchTemplateData {
	out := clone(source)
	for i := range out.BlockDeviceMappings {
		if ebs := out.BlockDeviceMappings[i].Ebs; ebs != nil {
			ebs.SnapshotId = nil
		}
	}
	return out
}

// responseMappings converts stored block device mappings into what Describe calls return.
func responseMappings(in []ec2types.LaunchTemplateBlockDeviceMappingRequest) []ec2types.LaunchTemplateBlockDeviceMapping {
	var out []ec2types.LaunchTemplateBlockDeviceMapping
	for _, m := range in {
		r := ec2types.LaunchTemplateBlockDeviceMapping{DeviceName: m.DeviceName, NoDevice: m.NoDevice, VirtualName: m.VirtualName}
		if e := m.Ebs; e != nil {
			r.Ebs = &ec2types.LaunchTemplateEbsBlockDevice{DeleteOnTermination: e.DeleteOnTermination, Encrypted: e.Encrypted,
				Iops: e.Iops, KmsKeyId: e.KmsKeyId, SnapshotId: e.SnapshotId, Throughput: e.Throughput,
				VolumeSize: e.VolumeSize, VolumeType: e.VolumeType}
		}
		out = append(out, r)
	}
	return out
}
