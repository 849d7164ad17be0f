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
//   - StartInstanceRefresh is authorized on the group, whose tags IAM reads as
//     autoscaling:ResourceTag/<key> (Service Authorization Reference, Amazon
//     EC2 Auto Scaling; "Tags for security" in the Auto Scaling user guide);
//     amibump's role allows it only on groups tagged
//     amibump:instance-refresh=true, compared exactly. Groups carry their
//     tags as DescribeAutoScalingGroups answers them (TagAutoScalingGroup
//     seeds them). TestInstanceRefresh (lambda/bump), TestRoleStatements (infra).
//   - Pagination: NextToken and MaxResults ranges per call; listings naming ids
//     are not paginated. (Each call's API reference.) TestDescribeImagesPagination,
//     TestDescribeLaunchTemplateVersionsPaginator, TestDescribeInstancesPaginator.
//   - Access denied and DryRun: UnauthorizedOperation (EC2), AccessDenied (Auto
//     Scaling), AccessDeniedException (EventBridge); an allowed DryRun answers
//     DryRunOperation. ("Error codes for the Amazon EC2 API".) TestDeny,
//     TestDryRun.
//   - PutEvents reports failed entries inside the output (FailedEntryCount).
//     (EventBridge API reference, PutEvents.) TestPutEvents.
//   - Recycle Bin: an AMI deregistered under a retention rule moves to the
//     Recycle Bin and leaves EC2's API as if deleted. Whether its name stays
//     taken is not documented: the fake keeps it taken until the retention
//     ends (CreateImage with it is InvalidAMIName.Duplicate while no image by
//     that name can be found). (API reference, DeregisterImage; "Recover
//     deleted Amazon EBS snapshots and EBS-backed AMIs with Recycle Bin".)
//     WithRecycleBin; TestRecycleBin.
//
// # What Lambda and EventBridge do that no fake models
//
// The stack (infra/amibump) relies on these; the function is tested with the
// events they produce, not through a fake of them.
//
//   - EventBridge invokes a function asynchronously, and Lambda queues the
//     event even when no concurrency is free: a throttled event is retried
//     from Lambda's queue for up to the function's maximum event age (6 hours
//     at most), then goes to the on-failure destination, as does one whose
//     attempts all failed (3 by default). ("How Lambda handles errors and
//     retries with asynchronous invocation", Lambda developer guide.) So a
//     reconcile tick can arrive hours late: the function skips one older than
//     AMIBUMP_RECONCILE_PERIOD. TestStaleReconcileTickIsSkipped (lambda/bump).
//   - A rule's dead-letter queue gets only what EventBridge could not deliver:
//     at once, without retries, when the target or the permission to invoke it
//     is missing; after the rule's retry policy for retriable errors. ("Event
//     retry policy and using dead-letter queues", EventBridge user guide.)
//     TestQueuesAndTheirAlarmsSayWhatAWSDoes (infra/amibump) pins the words.
package awsfake
