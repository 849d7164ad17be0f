// Package awsfake is a stateful, in-memory fake of the parts of EC2, Auto Scaling,
// EventBridge and SSM Parameter Store that amibump uses. It keeps AWS's semantics (error codes,
// pagination, DryRun, ClientToken idempotency, AMI states on a controllable clock,
// partial failures reported inside outputs) so that tests can check the state a
// run leaves behind rather than the calls it made.
//
// One Cloud holds the state of one account in one region; its EC2, AutoScaling and
// EventBridge clients are safe for concurrent use (one mutex guards everything).
// Every output is a deep copy: callers can never change the fake's state through it.
//
// # What AWS does that amibump relies on
//
// Each rule below is what the fake implements, the AWS documentation page it
// comes from, and the test of the fake that pins it. Where AWS documents
// nothing, the fake takes the harsher reading and says so.
//
//   - Eventual consistency. A write may not be visible to the reads that follow
//     it: new AMIs and launch template versions are not found, deletions are
//     still listed, a moved $Default and changed tags read as before. AWS gives
//     no bound. (Amazon EC2 Developer Guide, "Eventual consistency in the Amazon
//     EC2 API".) WithEventualConsistency, WithVisibilityDelay,
//     WithDeregisteredLinger; TestEventualConsistency, TestVisibilityDelay,
//     TestDeregisteredLinger.
//   - CreateImage names: 3–128 characters of letters, digits and ( ) [ ] space
//     . / - ' @ _, else InvalidAMIName.Malformed; a name in use, even by an AMI
//     not visible yet, is InvalidAMIName.Duplicate. (API reference, CreateImage,
//     Name; "Error codes for the Amazon EC2 API".) TestCreateImageValidation,
//     TestVisibilityDelay.
//   - CreateImage images EBS-backed instances that are running or stopped
//     (IncorrectInstanceState otherwise). For an instance-store root AWS
//     documents no error code: the fake answers UnsupportedOperation. (API
//     reference, CreateImage.) TestCreateImageValidation.
//   - AMI states: pending, then available or failed with a StateReason.
//     (API reference, Image; "AMI state changes" in the EC2 User Guide.)
//     TestImageStates, TestImageAvailableWaiter.
//   - DeregisterImage with DeleteAssociatedSnapshots deletes the snapshots and
//     reports each in DeleteSnapshotResults with its own return code; the AMI
//     is deregistered even when a snapshot is not deleted. (API reference,
//     DeregisterImage, DeleteSnapshotReturnCode.) FailSnapshotDeletion;
//     TestDeregisterImage.
//   - DescribeImageReferences: at most 10 image ids; for instances, state-name
//     defaults to every state, terminated included; for launch templates,
//     version-depth defaults to the newest 10 versions (1–10000 allowed).
//     (API reference, DescribeImageReferences and ResourceTypeOption.)
//     TestDescribeImageReferences.
//   - CreateLaunchTemplateVersion with SourceVersion inherits the source's
//     parameters, the request's fields overriding them; the snapshots of the
//     source's block device mappings are not inherited unless given again.
//     Parameters are not validated (an ImageId that does not exist is accepted).
//     (API reference, CreateLaunchTemplateVersion, SourceVersion; "Restrictions
//     for Amazon EC2 launch templates".) TestCreateLaunchTemplateVersion,
//     TestSourceVersionDropsSnapshots.
//   - ClientToken (at most 128 characters): the same token with the same request
//     returns the first response, even when that version has been deleted since;
//     with another request, IdempotentParameterMismatch. (API reference,
//     CreateLaunchTemplateVersion; "Ensuring idempotency".) TestClientToken,
//     TestCreateLaunchTemplateVersion.
//   - At most 10,000 versions per launch template. AWS documents no error code:
//     VersionLimitExceeded, a client error. ("Restrictions for Amazon EC2 launch
//     templates".) TestVersionQuota.
//   - ModifyLaunchTemplate takes a version number for DefaultVersion; an unknown
//     one is InvalidLaunchTemplateId.VersionNotFound. (API reference,
//     ModifyLaunchTemplate.) TestModifyLaunchTemplate.
//   - DeleteLaunchTemplateVersions takes at most 200 versions; the default
//     version cannot be deleted, and per-version failures are reported inside
//     the output (EC2 has no dedicated code for the default: unexpectedError).
//     (API reference, DeleteLaunchTemplateVersions, ResponseError.)
//     TestDeleteLaunchTemplateVersions.
//   - Version numbers are never reused, and versions are listed newest first.
//     ("Modify a launch template (manage launch template versions)".)
//     TestClientToken, TestDescribeLaunchTemplateVersions.
//   - StartInstanceRefresh: one refresh at a time per group
//     (InstanceRefreshInProgress); ScaleInProtectedInstances defaults to Wait,
//     which waits an hour for protected instances and then fails the refresh.
//     Skip matching needs a launch template: for a group with a launch
//     configuration AWS documents no error, the fake refuses it (ValidationError).
//     (Auto Scaling API reference, StartInstanceRefresh and RefreshPreferences.)
//     TestStartInstanceRefresh, TestInstanceRefreshPreferences.
//   - Pagination: NextToken and MaxResults ranges per call; listings naming ids
//     are not paginated. (Each call's API reference.) TestDescribeImagesPagination,
//     TestDescribeLaunchTemplateVersionsPaginator, TestDescribeInstancesPaginator.
//   - Access denied and DryRun: UnauthorizedOperation (EC2), AccessDenied (Auto
//     Scaling), AccessDeniedException (EventBridge); an allowed DryRun answers
//     DryRunOperation. ("Error codes for the Amazon EC2 API".) TestDeny,
//     TestDryRun.
//   - Permission sets (WithPolicy, SetPolicy; off by default: every call
//     allowed). Every call is authorized as IAM authorizes it: its action on
//     the resources the Service Authorization Reference lists for it, with
//     the resource's tags (aws:ResourceTag/…, ec2:ResourceTag/…,
//     autoscaling:ResourceTag/…) and the request's (aws:RequestTag/…,
//     aws:TagKeys); Describe calls on *. A denied call answers
//     UnauthorizedOperation (EC2), AccessDeniedException (SSM, EventBridge)
//     or AccessDenied (Auto Scaling), and changes nothing. A condition
//     operator or key the evaluator does not model is read the harsher way:
//     an Allow does not apply, a Deny does; an operation whose resources the
//     fake does not model is authorized on *. A resource that does not exist is
//     not authorized (the call answers its not-found error): AWS documents
//     no order between the two. ("Policy evaluation logic" and "Condition
//     operators" in the IAM User Guide; "Error codes for the Amazon EC2
//     API".) TestPolicyDecide, TestParsePolicy, TestDeniedByPolicy,
//     TestUnmodelledOperationAuthorizedOnAnyResource,
//     TestPermissionSetOverTheWire (awssim).
//   - What AWS checks on the caller's behalf, inside another call, with the
//     caller's permissions, is authorized too: the next four rules.
//   - CreateLaunchTemplateVersion whose ImageId (given or inherited from
//     SourceVersion) is resolve:ssm:<parameter> needs ssm:GetParameters on
//     the parameter: EC2 resolves it while it creates the version. AWS
//     documents the permission, not the error: the fake answers
//     UnauthorizedOperation and makes no version. (Amazon EC2 Auto Scaling
//     User Guide, "Use AWS Systems Manager parameters instead of AMI IDs in
//     launch templates".) TestImplicitGetParametersOnResolveSSM.
//   - PutParameter with data type aws:ec2:image needs ec2:DescribeImages.
//     AWS documents the permission, not the error: the fake answers
//     AccessDeniedException and writes nothing. (AWS Systems Manager User
//     Guide, "Native parameter support for Amazon Machine Image IDs": "the
//     user must have both ssm:PutParameter and ec2:DescribeImages
//     permissions".) TestImplicitDescribeImagesOnImageParameter.
//   - DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot as
//     ec2:DeleteSnapshot: a snapshot the caller may not delete is kept and
//     reported in DeleteSnapshotResults as missing-permissions; the AMI is
//     deregistered all the same. (API reference, DeregisterImage and
//     DeleteSnapshotReturnCode.) TestImplicitDeleteSnapshotOnDeregister.
//   - CreateImage with TagSpecifications needs ec2:CreateTags on the new AMI
//     and snapshots, with ec2:CreateAction = CreateImage. (Amazon EC2 User
//     Guide, "Grant permission to tag Amazon EC2 resources during
//     creation".) TestImplicitCreateTagsOnCreateImage.
//   - Auto Scaling tags the instances it launches aws:autoscaling:groupName
//     = the group; the fake's groups tag their seeded members so. (Amazon
//     EC2 Auto Scaling User Guide, "Tag Auto Scaling groups and instances".)
//     TestGroupMembersTaggedWithGroupName.
//   - PutEvents reports failed entries inside the output (FailedEntryCount).
//     (EventBridge API reference, PutEvents.) TestPutEvents.
//   - Recycle Bin: an AMI deregistered under a retention rule moves to the
//     Recycle Bin and leaves EC2's API as if deleted. Whether its name stays
//     taken is not documented: the fake keeps it taken until the retention
//     ends (CreateImage with it is InvalidAMIName.Duplicate while no image by
//     that name can be found). (API reference, DeregisterImage; "Recover
//     deleted Amazon EBS snapshots and EBS-backed AMIs with Recycle Bin".)
//     WithRecycleBin; TestRecycleBin.
package awsfake
