// Package awsfake is a stateful, in-memory fake of the parts of EC2, Auto Scaling,
// EventBridge and SSM Parameter Store that amibump uses. It keeps AWS's semantics (error codes,
// pagination, DryRun, ClientToken idempotency, AMI states on a controllable clock,
// partial failures reported inside outputs) so that tests can check the state a
// run leaves behind rather than the calls it made.
//
// A World is every account and region a test talks to: one clock, one id
// space (ids never collide across accounts and regions, as in AWS), the
// accounts by access key (each key signs as an IAM user of one account, as
// STS GetCallerIdentity answers) and one Cloud per Scope{Account, Region},
// declared (World.Cloud) or made on demand when a request is signed for it
// (World.Resolve, which awssim.NewWorld calls). New returns the one Cloud of a
// World of its own, in DefaultScope (123456789012, us-east-1), as most tests
// need.
//
// One Cloud holds the state of one account in one region and knows its scope:
// every ARN it builds names its partition (aws, aws-cn, aws-us-gov, from the
// region), region and account. Its EC2, AutoScaling, EventBridge and SSM
// clients are safe for concurrent use (one mutex per Cloud guards everything,
// for a whole operation). An operation that spans two Clouds (CopyImage from
// another region, PutEvents to another account's bus, AssumeRole) is a World
// method that locks one Cloud at a time: a Cloud holds no pointer to another
// Cloud, nor to its World, so no Cloud operation can take a second lock
// (TestCloudReachesNoOtherCloud; TestCopyImageBothWaysAtOnce). The
// World is where STS (AssumeRole, beside GetCallerIdentity) and EventBridge
// bus policies live (world_accounts.go).
// Every output is a deep copy: callers can never change the fake's state through it.
//
// # What AWS does that amibump relies on
//
// Each rule below is what the fake implements, the AWS documentation page it
// comes from, and the tests that pin it. Where AWS documents nothing, the fake
// takes the harsher reading and says so.
//
// A name such as "conformance Images/Available" is a subtest of the
// conformance suite (package lambda/conformance): the same test runs against
// this fake over HTTP in go test and, opt-in, against a real account, so a
// rule it pins is checked against AWS itself. A name such as TestImageStates
// is a test of this package: it pins what a real account cannot be made to do
// on demand (a lag, a failure, a fault, an hour's wait), or the fake's own
// mechanics.
//
//   - Eventual consistency. A write may not be visible to the reads that follow
//     it: new AMIs and launch template versions are not found, deletions are
//     still listed, a moved $Default and changed tags read as before. AWS gives
//     no bound. (Amazon EC2 Developer Guide, "Eventual consistency in the Amazon
//     EC2 API".) WithEventualConsistency (StartEventualConsistency, for a
//     cloud seeded first), WithVisibilityDelay,
//     WithDeregisteredLinger; TestEventualConsistency, TestStartEventualConsistency, TestVisibilityDelay,
//     TestDeregisteredLinger (fake only: a real account lags when it will,
//     and the conformance suite's reads retry for as long as it may).
//   - CreateImage names: 3–128 characters of letters, digits and ( ) [ ] space
//     . / - ' @ _, else InvalidAMIName.Malformed; a name in use, even by an AMI
//     not visible yet, is InvalidAMIName.Duplicate. (API reference, CreateImage,
//     Name; "Error codes for the Amazon EC2 API".) conformance ImageNames,
//     conformance Images/Duplicate; TestCreateImageValidation,
//     TestVisibilityDelay (the name of an AMI not visible yet).
//   - CreateImage images EBS-backed instances that are running, stopping or
//     stopped. Any other instance (pending, shutting down, terminated) is
//     InvalidParameterValue, "Invalid value 'i-…' for instanceId. Instance is not
//     in state 'running' or 'stopping' or 'stopped'", the code EC2 also gives a
//     bad parameter: the API reference says only "running or stopped"; the code
//     and the state list are what EC2 answers (as reported in
//     aws-samples/aws-systemsmanagerautomation-with-asglifecyclehooks#2 and
//     hashicorp/packer#9579). For an instance-store root AWS documents no error
//     code: the fake answers UnsupportedOperation. (API reference, CreateImage.)
//     conformance GoneInstance (a terminated instance: InvalidParameterValue);
//     TestCreateImageValidation (a stopping instance is imaged, and the
//     instance-store root: fake only, a real instance is stopping, pending or
//     shutting down for seconds, not on demand, and Amazon Linux has no
//     instance-store root); bump's TestSourceThatVanishesIsRetriedWithAnother.
//     EC2 is eventually consistent, and AWS does not say that CreateImage sees
//     an instance's state as soon as DescribeInstances does: amibump takes the
//     harsher reading, that a refusal may come while a read shows the
//     instance imageable, and tries it again a few times before rejecting
//     (bump's TestCreateImageRefusedOnceIsTriedAgain, with a wrapped EC2: the
//     fake's CreateImage and DescribeInstances agree).
//   - AMI states: pending, then available or failed with a StateReason.
//     (API reference, Image; "AMI state changes" in the EC2 User Guide.)
//     conformance Images/Pending, Images/Available (the ImageAvailable
//     waiter); TestImageStates, TestImageAvailableWaiter (failed: fake only).
//   - DeregisterImage with DeleteAssociatedSnapshots deletes the snapshots and
//     reports each in DeleteSnapshotResults with its own return code; the AMI
//     is deregistered even when a snapshot is not deleted. (API reference,
//     DeregisterImage, DeleteSnapshotReturnCode.) FailSnapshotDeletion;
//     conformance Teardown/Deregister; TestDeregisterImage (a snapshot not
//     deleted: fake only).
//   - EnableImageDeprecation: DeprecateAt's seconds are rounded to the nearest
//     minute; a time in the past, or more than 10 years from now (2 years from
//     creation for a public AMI: the fake has none), is refused, with a code
//     AWS does not document (InvalidParameterValue): the fake checks the
//     rounded time against its clock as the request arrives; amibump asks for
//     a whole minute one to two minutes ahead, so that neither the rounding
//     nor the request's travel puts it in the past (plan's
//     TestDeprecateAtIsAhead). DescribeImages tells
//     DeprecationTime; the owner goes on seeing a deprecated AMI whatever
//     IncludeDeprecated says (only other accounts' listings hide it);
//     DisableImageDeprecation takes the time away. (API reference,
//     EnableImageDeprecation, DescribeImages IncludeDeprecated; EC2 User Guide,
//     "Deprecate an AMI".) conformance Images/Lifecycle/Deprecation (rounding,
//     both refusals, DisableImageDeprecation); TestImageDeprecation (an AMI
//     listed once its deprecation time has passed: fake only, the suite reads
//     no clock to set a time that has just passed).
//   - DisableImage: the AMI's state becomes disabled; DescribeImages leaves it
//     out unless IncludeDisabled ("does not appear in DescribeImages API calls
//     by default"): also when named by id, where AWS says nothing more, the
//     harsher reading, and without an error; it "can't be used for instance
//     launches" and cannot be copied: RunInstances and CopyImage answer
//     InvalidAMIID.Unavailable (AWS documents no code; EC2's for an AMI "in
//     an unavailable state"); it can be deregistered (the considerations of
//     "Deregister an AMI" name none for it; DeleteSnapshot of its snapshots is
//     refused, InvalidSnapshot.InUse, as for any registered AMI); EnableImage
//     makes it available again. Disabling an AMI that is not available, or
//     enabling one that is not disabled, is IncorrectState: AWS documents
//     neither, the harsher reading for a caller that retries. A disabled AMI
//     "is made private": the fake's AMIs are never shared or public. The fake
//     emits no AMI state-change events, for disabled as for the other states.
//     (API reference, DisableImage, EnableImage, DescribeImages
//     IncludeDisabled; EC2 User Guide, "Disable an AMI"; "Error codes for the
//     Amazon EC2 API".) RunInstances exists for this refusal (amibump
//     launches nothing). conformance Images/Lifecycle/Disabled;
//     TestDisabledImage (deregistering a disabled AMI, and IncorrectState of
//     DisableImage twice: fake only, the suite's one AMI goes on to
//     Teardown/Deregister). A rollback finds the disabled AMIs of a template
//     by its tag with IncludeDisabled (the state filter's documented values
//     are available, pending and failed: amibump filters by state itself)
//     and enables the one it puts back before a version carries it (bump's
//     TestRollbackToANamedDisabledBuild; local's TestRollbackAndHold, under
//     the role's EnableOwnImages). EnableImage marks it available ("can be
//     used for instance launches, appears in describe operations"); accounts
//     that lost access when it was disabled do not regain it (API reference,
//     EnableImage): amibump's AMIs are not shared.
//   - Deregistration protection: while enabled, DeregisterImage is refused
//     with a code AWS does not document: OperationNotPermitted, EC2's code for
//     the like refusal of an instance's termination protection. Enabled
//     WithCooldown, it stays in force for 24 hours after
//     DisableImageDeregistrationProtection, on the cloud's clock. The Image's
//     DeregistrationProtection reads disabled, enabled-without-cooldown,
//     enabled-with-cooldown, or disabled-until-<time> during the cooldown
//     (AWS documents the field only as a string: the values are the fake's
//     reading of the three settings AWS names, enabled-without-cooldown
//     checked against a real account by the conformance suite). AWS's pages
//     disagree on what the calls answer: the API reference says "Returns
//     true if the request succeeds" (Type: String), the CLI's examples show
//     the new setting ("Return": "enabled-without-cooldown" for
//     enable-image-deregistration-protection, "disabled" for
//     disable-image-deregistration-protection: AWS CLI Command Reference,
//     ec2 enable-/disable-image-deregistration-protection, Examples). The
//     fake answers the setting, as the examples' captured output does, and
//     amibump reads neither (it reads DeregistrationProtection). During a
//     cooldown AWS documents no value: the fake's disabled-until-<time> is
//     its own, and amibump reads any value it does not know as a cooldown
//     (LifecycleOf), the harsher reading. Enabling the protection of an AMI
//     already protected is not refused, and takes the WithCooldown asked for:
//     AWS documents nothing either way; a rollback enables it with cooldown
//     on an AMI that may be protected without. (API reference, EnableImageDeregistrationProtection
//     WithCooldown, DisableImageDeregistrationProtection; EC2 User Guide,
//     "Protect an AMI from deregistration".) conformance
//     Images/Lifecycle/Protection (without cooldown: the field, the refusal,
//     and disabled at once); TestDeregistrationProtection (the cooldown and its
//     field: fake only, an AMI disabled with cooldown stays 24 hours beyond
//     any run's cleanup).
//   - What staged retirement relies on. A disabled AMI is listed only with
//     IncludeDisabled. DescribeImages documents the state filter's values as
//     available, pending and failed: the fake's state filter matches no
//     disabled AMI, the harsher reading, and amibump lists its AMIs with
//     IncludeDisabled and no state filter, picking the states itself (its
//     shared poll asks with IncludeDisabled too), so a retired AMI is seen
//     until it is deregistered (API reference, DescribeImages, Filter.N
//     state, IncludeDisabled). Launch templates "can
//     continue to reference disabled AMIs", and launches from them fail: so
//     nothing a version of any template refers to is disabled, and
//     DescribeImageReferences still reports such a version. A deprecated AMI
//     can still be launched by id ("launch services, such as launch templates
//     and Auto Scaling groups, can continue to use a deprecated AMI"). AWS
//     documents nothing on deprecating a disabled AMI: the fake allows it, and
//     amibump does it only for a disabled AMI that carries no deprecation time
//     (a person disabled it), a refusal being a retention warning. Lifting
//     protection enabled WithCooldown leaves DeregisterImage refused for 24
//     hours ("you won't immediately be able to deregister the AMI"): amibump
//     retires the AMI meanwhile and deregisters it on a later run. (EC2 User
//     Guide, "Disable an AMI", "Deprecate an AMI", "Protect an AMI from
//     deregistration"; API reference, DisableImage, DescribeImages
//     IncludeDisabled, DisableImageDeregistrationProtection.)
//     conformance Images/Lifecycle/Disabled (amibump's listing, with and
//     without IncludeDisabled); TestDisabledImageAsRetentionSeesIt; bump's
//     TestStagedRetirement,
//     TestRetirementExclusions, TestDisabledImageIsNeverPromoted,
//     TestLiveReleaseIsProtected.
//     A rollback and retention may run at once (two invocations). AWS's reads
//     lag its writes ("eventual consistency model", DescribeImages), and
//     DescribeImageReferences may not show the version a rollback just made,
//     whose AMI it just enabled. So a rollback protects the AMI it puts back
//     (WithCooldown) before EnableImage, and retention, just before it
//     disables or deregisters an AMI, reads the template's $Latest and
//     $Default and the AMI again, and leaves one they carry or whose state or
//     protection changed since its read. bump's
//     TestRetentionLeavesWhatARollbackPutBack (a rollback while retention
//     prunes, its references read stale).
//     CreateLaunchTemplateVersion answers a Warning (ValidationWarning, its
//     Errors: "parameters or parameter combinations that are not valid")
//     beside the version it made; the fake answers none (AWS documents no
//     case amibump's versions meet), and a version may carry a disabled AMI,
//     from which launches fail ("Disable an AMI"). So a rollback reports the
//     warning's errors in its result, and reads the AMI put back again once
//     its version exists: unless it is available, the rollback fails, to be
//     retried (API reference, CreateLaunchTemplateVersion, ValidationWarning).
//     bump's TestRollbackChecksTheAMIAfterItsVersion,
//     TestRollbackReportsEC2sWarning.
//   - The lifecycle calls (Enable/DisableImageDeprecation, Enable/DisableImage,
//     Enable/DisableImageDeregistrationProtection) are authorized on the AMI,
//     with its tags (Service Authorization Reference, Amazon EC2: resource type
//     image for each); RunInstances on the AMI and the new instance (the
//     network resources it also names are not modelled); CopyImage: see its
//     rule. TestLifecycleAuthorizedOnTheImage.
//   - CopyImage is served in the destination region: the client's region
//     ("The copy operation must be initiated in the destination Region");
//     SourceRegion names the source, in the same partition. World.CopyImage
//     (awssim.NewWorld routes it there) reads the source region's Cloud,
//     lets go of it, then writes the destination's. The copy is a new AMI
//     with its own id and one new snapshot per source snapshot ("each of its
//     backing snapshots is copied to an identical but distinct target
//     snapshot"), pending (its snapshots too) for WithCopyTime on the
//     World's clock (AWS: "best-effort"), then available; it tells its
//     SourceImageId and SourceImageRegion. TagSpecifications tag the AMI
//     ("image") and its snapshots ("snapshot"); CopyImageTags copies the
//     source AMI's user tags (not aws: ones) to the AMI, the request's
//     tags winning a clash (AWS does not say: the fake's reading). The
//     source must be available: a pending, failed or disabled one is
//     InvalidAMIID.Unavailable (AWS documents neither: DisableImage
//     says a disabled AMI "can't be used for instance launches" and "can't
//     be shared", nothing of copying; "Disable an AMI" lists no copy
//     restriction either: the harsher reading, refused), a deregistered one
//     InvalidAMIID.NotFound (amibump: superseded when the source template
//     has a newer release, else failed; bump TestDRSourceGone). Cross-account copies need the AMI shared;
//     the fake shares none, so another account's AMI is not found. Names:
//     CreateImage's rules, unique in the destination. ClientToken: the
//     same token and request answers the first copy's id and makes no
//     other; another request with it is IdempotentParameterMismatch.
//     KmsKeyId needs Encrypted (AWS: "you must also set the encrypted state
//     to true"; the code is undocumented: InvalidParameterCombination).
//     Encryption: KmsKeyId's key; else "the default KMS key for Amazon EBS"
//     of the destination (API reference, CopyImage, Encrypted), which is
//     alias/aws/ebs unless the account made a customer managed key the
//     region's default (ModifyEbsDefaultKmsKeyId), for Encrypted, for a copy
//     of an encrypted AMI ("you cannot create an unencrypted copy of an
//     encrypted snapshot"; within its region the source's key), and for any
//     copy when EBS encryption by default is on in the destination ("the
//     encryption outcome ... depends on the Amazon EBS encryption by default
//     setting for the destination Region": API reference, CopySnapshot);
//     Cloud.SetEBSEncryptionByDefault sets both. The AMI's block devices and
//     the snapshots tell Encrypted and KmsKeyId. TestCopyImageEncryption,
//     TestCopyImageKeysOnBothSides.
//     Snapshot copies in
//     flight into a region are capped: EBS's quota "Concurrent snapshot
//     copies per destination Region" is 20, not adjustable, whatever the
//     source region (Amazon EBS User Guide, "Quotas for Amazon EBS",
//     https://docs.aws.amazon.com/ebs/latest/userguide/ebs-resource-quotas.html;
//     an AMI copy copies each of its snapshots, so it holds one place per
//     snapshot; the former "Copying an AMI" numbers, 50 AMIs and 25 from
//     one source, are gone from AWS's pages). A copy whose snapshots do not
//     fit is refused whole with ResourceLimitExceeded (AWS names no code and
//     does not say whether it queues the rest: the harsher reading, EC2's
//     code for a resource limit and nothing started); WithCopyQuota sets
//     the number. TestCopyImageQuota. Authorization: ec2:CopyImage on the source
//     AMI (its tags, its region's ARN), on the new AMI and on its snapshots
//     (the request's tags), and ec2:CreateTags with ec2:CreateAction =
//     CopyImage when tagged. With a customer managed key the caller needs
//     kms:CreateGrant, kms:Decrypt, kms:DescribeKey,
//     kms:GenerateDataKeyWithoutPlaintext and kms:ReEncrypt* on it, on
//     both sides: the copy's key and the source snapshots' key (AWS: "You
//     must in all cases have permission to use the selected key"; of the
//     source's key across regions it says nothing for the same account: the
//     harsher reading, the caller must be allowed it too; the AWS managed
//     key needs no IAM grant, its key policy lets the account's EBS use it); AWS
//     parses the key asynchronously ("the action ... may appear to complete
//     even though you provided an invalid identifier. This action will
//     eventually report failure"), so a key the caller may not use makes
//     the call succeed and the copy failed, its StateReason naming the key
//     (AWS documents no reason for an AMI: the code is the instance
//     StateReason's for a key it cannot use, Client.InvalidKMSKey.InvalidState,
//     the wording the fake's). World.EC2(scope) is a scope's EC2 client
//     whose CopyImage the World serves. EC2 sends an EC2 AMI State
//     Change event when a copy becomes available or failed, as for
//     CreateImage ("CopyImage | Yes | Yes", best effort: EC2 User Guide,
//     "Monitor AMI events using Amazon EventBridge",
//     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-ami-events.html);
//     the fake sends no events for any AMI, the tests deliver them
//     (TestDRCopyStateEventDuringTheWait: the event during the forward's
//     wait; TestDRCopyPromotedByItsStateChange: after it). (API reference, CopyImage; EC2
//     User Guide, "Copy an Amazon EC2 AMI", "How Amazon EC2 AMI copy
//     works", "Grant permissions to copy Amazon EC2 AMIs"; EBS User Guide,
//     "Requirements for Amazon EBS encryption"; "Ensuring idempotency".)
//     WithCopyTime, WithCopyQuota; TestCopyImageAcrossRegions,
//     TestCopyImageClientToken, TestCopyImageRefusals, TestCopyImageQuota,
//     TestCopyImageAuthorization, TestCopyImageEncryption;
//     TestCopyImageBetweenRegions (awssim, SDK
//     clients in two regions); conformance Images/Copy (a real account, with
//     AMIBUMP_CONFORMANCE_COPY_REGION).
//   - What amibump's copies rely on besides: EC2 creates the key's grant for
//     the copy on the caller's behalf, so the caller's kms:CreateGrant is
//     asked with kms:GrantIsForAWSResource true (EBS User Guide,
//     "Requirements for Amazon EBS encryption"; the role grants CreateGrant
//     only so). A ClientToken stays answered with its first copy after that
//     copy failed and was deregistered (AWS does not say how long a token
//     lives for CopyImage after its AMI is gone: the harsher reading, the
//     token never expires), so a copy asked for again with the same token
//     gets the removed AMI back: amibump's token names the event that asks
//     (plan.CopyToken), and the deploy's AMI name keeps two events from
//     making two copies. Copying needs ec2:CopyImage on the source AMI in
//     its own region, which IAM names by arn:<partition>:ec2:<region>::image/
//     (resource-level permissions on the source AMI since October 28, 2024:
//     "Grant permissions to copy Amazon EC2 AMIs"). That page's example also
//     grants arn:aws:ec2:*::snapshot/* and does not say whether EC2 asks
//     for the source's snapshots: the harsher reading, it does, so the fake
//     authorizes ec2:CopyImage on each source snapshot (its ARN in the
//     source's region, its tags) and the role grants it on snapshots tagged
//     amibump:launch-template in any region of the partition; to confirm on
//     a real deploy (conformance Images/Copy). TestCopyImageAuthorization
//     (the key granted with the condition), TestPolicyInRegion; bump
//     TestDRCopyKMSKey, TestDRCopyUnderTheRole (the stack's role in the DR
//     region: Policy.InRegion).
//   - EventBridge routes a rule's events to a bus of another Region of the
//     account (a target of type event bus, with a role allowed
//     events:PutEvents on it: EventBridge User Guide, "Sending and receiving
//     events between AWS Regions"). The pages do not say what the delivered
//     event's region and account fields become; amibump reads neither: the
//     DR stack's rule and the function match the forwarded result's own
//     detail.region and detail.account (harsher reading). The fake does not
//     forward between buses; the tests deliver the forwarded event as the
//     DR bus would (testdata/events/bump-finished-forwarded.json, whose
//     envelope names the source region). bump TestDRForwardOutOfOrder;
//     infra TestEventPatterns.
//   - DescribeImageReferences: at most 10 image ids; for instances, state-name
//     defaults to every state, terminated included; for launch templates,
//     version-depth defaults to the newest 10 versions (1–10000 allowed).
//     Resource type ssm:Parameter reports the parameters of data type
//     aws:ec2:image whose current value is the AMI; whether a text parameter
//     or an older version counts is not documented: the fake reports neither.
//     (API reference, DescribeImageReferences, ResourceTypeRequest (valid
//     values ec2:Instance | ec2:LaunchTemplate | ssm:Parameter |
//     imagebuilder:ImageRecipe | imagebuilder:ContainerRecipe) and
//     ResourceTypeOption.) conformance Images/References (version-depth),
//     Images/Parameter/References (a parameter that holds the AMI);
//     TestDescribeImageReferences (instance states, the 10 ids, parameters);
//     bump's TestRetentionKeepsAMIsAParameterHolds.
//   - CreateLaunchTemplateVersion with SourceVersion inherits the source's
//     parameters, the request's fields overriding them; the snapshots of the
//     source's block device mappings are not inherited unless given again.
//     Parameters are not validated (an ImageId that does not exist is accepted).
//     (API reference, CreateLaunchTemplateVersion, SourceVersion; "Restrictions
//     for Amazon EC2 launch templates".) conformance SourceVersion;
//     TestCreateLaunchTemplateVersion.
//   - ClientToken (at most 128 characters): the same token with the same request
//     returns the first response, even when that version has been deleted since;
//     with another request, IdempotentParameterMismatch. (API reference,
//     CreateLaunchTemplateVersion; "Ensuring idempotency".) conformance
//     ClientToken; TestCreateLaunchTemplateVersion.
//   - A rollback makes a version from an older one (SourceVersion = its
//     number) with a ClientToken of its own, from the template, the AMI and
//     the rollback's event id: the token of the AMI's first promotion would
//     answer that first version (deleted or not) or, with another
//     SourceVersion, IdempotentParameterMismatch (the rule above, "Ensuring
//     idempotency"). plan's TestRollbackToken; bump's
//     TestRollbackReplayMakesOneVersion.
//   - DeleteTags: a tag given with a value is removed only when the value
//     matches, one given without a value whatever its value, and a request
//     that names no tags removes every user tag (not aws: ones); authorized
//     as ec2:DeleteTags on the resource, with its tags and aws:TagKeys of the
//     request (API reference, DeleteTags, Tag.N; Service Authorization
//     Reference, Amazon EC2, DeleteTags). The fake models it on launch
//     templates only (amibump removes amibump:hold). As for CreateTags, AWS
//     says nothing of a call naming a missing resource beside existing ones:
//     the fake, the harsher reading, fails the whole call and changes
//     nothing. TestDeleteTagsOnLaunchTemplates, TestDeleteTagsOverTheWire.
//     A request naming no tags carries no aws:TagKeys, and ForAllValues is
//     true of a request without the key ("The ForAllValues set operator also
//     returns true if there are no context keys in the request"; IAM User
//     Guide, "Multivalued context key examples", which names the fix: a Null
//     condition with false): the role's hold grant requires the key, so the
//     function may remove amibump:hold and nothing else. bump's
//     TestHoldGrantRemovesOnlyTheHold, under the synthesized role.
//     (awssim).
//   - At most 10,000 versions per launch template. AWS documents no error code:
//     VersionLimitExceeded, a client error. ("Restrictions for Amazon EC2 launch
//     templates".) TestVersionQuota (fake only: 10,000 versions).
//   - ModifyLaunchTemplate takes a version number for DefaultVersion; an unknown
//     one is InvalidLaunchTemplateId.VersionNotFound. (API reference,
//     ModifyLaunchTemplate.) conformance DefaultVersion;
//     TestModifyLaunchTemplate.
//   - DeleteLaunchTemplateVersions takes at most 200 versions; the default
//     version cannot be deleted, and per-version failures are reported inside
//     the output (EC2 has no dedicated code for the default: unexpectedError).
//     (API reference, DeleteLaunchTemplateVersions, ResponseError.)
//     conformance DeleteVersions; TestDeleteLaunchTemplateVersions.
//   - Version numbers are never reused, and versions are listed newest first.
//     ("Modify a launch template (manage launch template versions)".)
//     conformance VersionNumbers; TestDescribeLaunchTemplateVersions.
//   - StartInstanceRefresh: one refresh at a time per group
//     (InstanceRefreshInProgress); ScaleInProtectedInstances defaults to Wait,
//     which waits an hour for protected instances and then fails the refresh.
//     Skip matching needs a launch template: for a group with a launch
//     configuration AWS documents no error, the fake refuses it (ValidationError).
//     (Auto Scaling API reference, StartInstanceRefresh and RefreshPreferences.)
//     conformance InstanceRefresh (one at a time); TestStartInstanceRefresh,
//     TestInstanceRefreshPreferences (the hour's wait, and launch
//     configurations, which new accounts cannot create: fake only).
//     A refresh blocks another while its status has not ended: Pending,
//     InProgress, Baking, Cancelling, RollbackInProgress (InstanceRefresh,
//     Status, lists them; StartInstanceRefresh says only "an active instance
//     refresh already exists": the harsher reading counts Cancelling and
//     Baking too). RefreshActive; TestRefreshActiveStates.
//     A rollback usually meets the bad release's refresh still running: AWS
//     refuses another (above), and RollbackInstanceRefresh is "not supported"
//     when "the Auto Scaling group uses the launch template's $Latest or
//     $Default version" (Auto Scaling API reference, RollbackInstanceRefresh),
//     the only groups amibump refreshes. So a rollback cancels it.
//   - CancelInstanceRefresh cancels the group's active refresh "or rollback";
//     with none, ActiveInstanceRefreshNotFound (Auto Scaling API reference,
//     CancelInstanceRefresh). The refresh is "Cancelling", then "Cancelled"
//     (Auto Scaling User Guide, "Cancel an instance refresh").
//     WaitForTransitioningInstances "indicates whether to wait for in-flight
//     launches and terminations to complete. The default is true" (API
//     reference, CancelInstanceRefresh): in the fake, Cancelling for
//     WithRefreshCancelDelay (DefaultRefreshCancelDelay) on the fake's clock,
//     never skipped, plus RefreshTransitioningDelay (ten minutes: a
//     replacement in flight) unless the call says false; AWS documents no
//     duration either way. amibump's rollback says false: its own refresh
//     replaces those instances anyway. A second cancel while Cancelling: AWS
//     documents nothing; the fake answers ActiveInstanceRefreshNotFound (the
//     harsher reading: the caller must read the status, not count on the
//     call). A cancel while Baking (the bake time after the last
//     replacement): "You can't cancel it after it's finished" (User Guide,
//     "Cancel an instance refresh"), and AWS says nothing of Baking; the fake
//     answers ActiveInstanceRefreshNotFound and the refresh goes on Baking,
//     blocking another until it ends (the harsher reading: the caller must
//     wait it out). TestCancelInstanceRefresh,
//     TestCancelInstanceRefreshWithoutWaiting, TestRefreshActiveStates;
//     conformance InstanceRefresh/Cancel; bump's
//     TestRollbackReplacesARunningRefresh,
//     TestRollbackLeavesWhatIsLeftWhenTheCancelDoesNotSettle,
//     TestRollbackWaitsOutABakingRefresh.
//   - InstanceRefresh.StartTime is "Required: No", and a Pending refresh "has
//     not started" (API reference, InstanceRefresh): amibump counts a refresh
//     without a StartTime as started since the rollback's version, never
//     before it (it may be the rollback's own, found again by a retry). The
//     fake stamps StartTime when the refresh starts, and clears it for
//     Pending (SetInstanceRefreshStatus). EC2 stamps the version's CreateTime
//     and Auto Scaling the refresh's StartTime, and AWS documents no bound on
//     how far their clocks differ: amibump allows 2 s (refreshClockMargin),
//     the harsher reading, since taking the bad release's refresh for the
//     rollback's own would leave it running, while the reverse costs one more
//     refresh. A refresh started since that has a DesiredConfiguration or
//     other preferences than amibump's is a person's: left running, named in
//     a warning. bump's TestRollbackLeavesItsOwnPendingRefresh,
//     TestRollbackLeavesAPersonsRefresh.
//   - DescribeInstanceRefreshes lists a group's refreshes of the last six
//     weeks "sorted by creation timestamp in descending order", those of
//     InstanceRefreshIds when given, MaxRecords 1..100 (default 50), NextToken
//     (Auto Scaling API reference, DescribeInstanceRefreshes). An unknown
//     group: AWS documents no error; the fake gives ValidationError.
//     TestDescribeInstanceRefreshes; conformance InstanceRefresh/Cancel.
//   - A group whose launch template reads an SSM parameter (ImageId
//     resolve:ssm:, in the version the group launches): AutoRollback is "not
//     supported" (RefreshPreferences, AutoRollback; RollbackInstanceRefresh);
//     and "you cannot start an instance refresh that specifies a desired
//     configuration or uses skip matching" (Auto Scaling User Guide, "Use AWS
//     Systems Manager parameters instead of AMI IDs in launch templates",
//     Limitations): the fake refuses all three (ValidationError; AWS gives no
//     error code there, ValidationError is Auto Scaling's for a bad request).
//     conformance Images/Parameter/Refresh (AutoRollback, with the desired
//     configuration and numbered version a rollback otherwise needs, against
//     the same request for a group whose template names its AMI);
//     TestInstanceRefreshOfGroupThatResolvesAParameter (skip matching and a
//     desired configuration alone: fake only).
//   - Warm pools: DescribeWarmPool lists a group's warm pool instances (at most
//     50 a page); the group's Instances in DescribeAutoScalingGroups do not
//     (AWS lists them apart and does not say the group's list has them: the
//     harsher reading for a caller that counts). (Auto Scaling API reference,
//     DescribeWarmPool.) AddWarmPool; conformance WarmPool (one stopped
//     instance, and MaxRecords 51: ValidationError); TestDescribeWarmPool,
//     amibump's TestStatusWarmPoolsAndResolvingPins.
//   - StartInstanceRefresh and CancelInstanceRefresh are authorized on the
//     group, whose tags IAM reads as autoscaling:ResourceTag/<key> (Service
//     Authorization Reference, Amazon EC2 Auto Scaling; "Tags for security" in
//     the Auto Scaling user guide); amibump's role allows them only on groups
//     tagged amibump:instance-refresh=true, compared exactly.
//     DescribeInstanceRefreshes, like every Describe call, takes no resource
//     ("*"). Groups carry their tags as DescribeAutoScalingGroups answers them
//     (TagAutoScalingGroup seeds them). TestInstanceRefresh (lambda/bump),
//     TestRoleStatements (infra), TestRollbackCancelsUnderTheRole (lambda/bump).
//   - Pagination: NextToken and MaxResults ranges per call; listings naming ids
//     are not paginated. (Each call's API reference.) conformance Pagination;
//     TestDescribeImagesPagination, TestDescribeLaunchTemplateVersionsPaginator,
//     TestDescribeInstancesPaginator.
//   - Access denied and DryRun: UnauthorizedOperation (EC2), AccessDenied (Auto
//     Scaling), AccessDeniedException (EventBridge); an allowed DryRun answers
//     DryRunOperation. ("Error codes for the Amazon EC2 API".) conformance
//     DryRun; TestDryRun, TestDeny (access denied: fake only, it needs a
//     principal without the permission).
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
//     caller's permissions, is authorized too: the next five rules.
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
//   - DescribeImageReferences scans each resource type asked for (all, with
//     IncludeAllResourceTypes) with the caller's permissions, as
//     ec2-images.amazonaws.com (aws:CalledVia, a key the evaluator models):
//     ec2:Instance needs ec2:DescribeInstances, ec2:LaunchTemplate
//     ec2:DescribeLaunchTemplates and ec2:DescribeLaunchTemplateVersions,
//     ssm:Parameter ssm:DescribeParameters (on *) and ssm:GetParameters (on
//     each parameter: the resource type it authorizes on).
//     AWS lists the actions, not which type needs which, nor what a scan the
//     caller may not make does to the answer: the fake pairs each with the
//     type it reads and, the harsher reading, answers the whole call
//     UnauthorizedOperation. (Amazon EC2 User Guide, "Identify your resources
//     referencing specified AMIs", "Required IAM permissions", whose example
//     policy conditions them on aws:CalledVia = ec2-images.amazonaws.com; AWS
//     Managed Policy Reference, AmazonEC2ImageReferencesAccessPolicy.)
//     TestImplicitScansOfDescribeImageReferences; bump's
//     TestRetentionUnderTheRole.
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
//   - Credentials and regions (awssim.NewWorld): a request's SigV4 credential
//     scope names its access key and region. A key no account holds is
//     refused: EC2 AuthFailure, "AWS was not able to validate the provided
//     access credentials" (HTTP 401) ("Error codes for the Amazon EC2 API",
//     common client errors); Auto Scaling and STS InvalidClientTokenId, "The
//     security token included in the request is invalid." (403) (each API
//     reference's "Common Errors": "The X.509 certificate or AWS access key ID
//     provided does not exist in our records"); EventBridge and SSM
//     UnrecognizedClientException, the same message (400; AWS lists it among
//     JSON services' errors, "the most likely cause is an AWS access key ID or
//     secret key that's not valid"). A region the account cannot use: EC2
//     answers AuthFailure to credentials sent to a Region that is not enabled
//     (AWS re:Post knowledge center, "iam-validate-access-credentials");
//     for the other services AWS documents nothing, and a region that does
//     not exist has no endpoint at all: the fake gives every service the
//     unknown key's answer, the harsher reading (a call that cannot reach the
//     region fails, never lands in another). An unsigned request is
//     MissingAuthenticationToken (403, "Common Errors"). STS
//     GetCallerIdentity answers the key's account and user ARN and needs no
//     permission, even under an explicit deny (STS API reference,
//     GetCallerIdentity). TestWorldServesScopesBySignature,
//     TestWorldRefusesUnknownKeysAndRegions,
//     TestGetCallerIdentityNeedsNoPermission (awssim; fake only: a real
//     account has one key per test run); TestWorldResolve, TestWorldScopes.
//   - Accounts: STS AssumeRole (World.AssumeRole; awssim.NewWorld serves it)
//     lets a caller assume a role only when the role's trust policy allows
//     it: an account named as principal, or an organisation by
//     aws:PrincipalOrgID (World.AddRole, World.SetOrganization). A role that
//     does not exist and a trust that does not allow the caller both answer
//     AccessDenied (403) "User: <caller ARN> is not authorized to perform:
//     sts:AssumeRole on resource: <role ARN>" (STS API reference,
//     AssumeRole, Errors; "IAM roles: troubleshooting", AWS re:Post
//     "iam-assume-role-error"; AWS answers the same whether the role exists
//     or not). The temporary keys sign as
//     arn:<partition>:sts::<account>:assumed-role/<role>/<session> in the
//     role's account, for one hour, so the next calls are that account's.
//     The fake models the role's trust only (the caller's own
//     sts:AssumeRole permission is taken as granted). TestAssumeRole (awssim).
//   - Accounts: a PutEvents entry naming another account's bus by ARN is
//     authorized by that bus's resource policy (World.PutBusPolicy;
//     PutPermission, AWS::Events::EventBusPolicy): a principal naming the
//     caller's account (id or root ARN), its role or user ARN, or "*" with
//     aws:PrincipalOrgID; events:source and events:detail-type conditions
//     hold for the entry. ("Permissions for event buses in Amazon
//     EventBridge"; "Example policy: Send events to a custom bus in a
//     different account".) A refused entry fails alone inside the output
//     (ErrorCode, ErrorMessage, counted in FailedEntryCount), the batch's
//     other entries are put: PutEventsResultEntry (EventBridge API
//     reference) lists the non-retryable entry codes AccessDeniedException,
//     NotAuthorizedForSourceException ("You do not have permissions to
//     publish events with this source onto this event bus") and
//     NotAuthorizedForDetailTypeException. Which code a refusal gets is not
//     documented; the fake checks from the principal to the narrowest
//     condition: no statement naming the caller (and its organisation) is
//     AccessDeniedException, worded as EventBridge words it ("... is not
//     authorized to perform: events:PutEvents on resource: <bus ARN>
//     because no resource-based policy allows the events:PutEvents
//     action"); statements naming it but none with the entry's source,
//     NotAuthorizedForSourceException; one with the source but none with
//     its detail-type, NotAuthorizedForDetailTypeException. The caller's
//     own permission set (Cloud.SetPolicy, WithPolicy) must allow
//     events:PutEvents on the bus ARN too (IAM User Guide, "Cross-account
//     policy evaluation logic": the identity-based policy and the
//     resource-based policy must both allow); a denial there fails the
//     whole call with AccessDeniedException and puts nothing, as the
//     fake's identity check does for the caller's own buses (the harsher
//     reading: AWS does not say whether an identity denial is per entry). A
//     bus in another region is not reachable from the caller's regional
//     endpoint (ResourceNotFound entry, as below).
//     TestCrossAccountPutEvents (awssim), TestWorldPutEventsSplitsByBus,
//     TestWorldPutEventsRefusals, TestWorldPutEventsIdentityPolicy,
//     TestEmitToAnotherAccountsBus (amibump).
//   - PutEvents reports failed entries inside the output (FailedEntryCount).
//     (EventBridge API reference, PutEvents.) conformance PutEvents;
//     TestPutEvents (a bus that does not exist: the fake is stricter than AWS).
//   - Recycle Bin: an AMI deregistered under a retention rule moves to the
//     Recycle Bin and leaves EC2's API as if deleted. Whether its name stays
//     taken is not documented: the fake keeps it taken until the retention
//     ends (CreateImage with it is InvalidAMIName.Duplicate while no image by
//     that name can be found). (API reference, DeregisterImage; "Recover
//     deleted Amazon EBS snapshots and EBS-backed AMIs with Recycle Bin".)
//     WithRecycleBin; TestRecycleBin (fake only: a retention rule covers
//     every AMI of the account and region).
//   - Parameter Store (the rules are listed on type SSM, with their pages): a
//     new parameter needs a Type; an existing one is overwritten only with
//     Overwrite and keeps its type; every write makes a version; name:version
//     reads; GetParameters lists the names it did not find; reserved names.
//     conformance Parameters; TestPutParameter, TestPutParameterValidation,
//     TestGetParameters.
//   - PutParameter of data type aws:ec2:image is validated asynchronously: the
//     call answers with the new version at once; the value is stored only when
//     EC2 has validated it (an available AMI of the account), else it is
//     dropped (reported through EventBridge; the fake lists it in
//     ParameterFailures). Until then reads return the version before, or
//     ParameterNotFound for a new parameter, and launches resolve the same.
//     Validation "can take up to a few minutes". A write meanwhile is refused:
//     "If you attempt to create or update the parameter again before the
//     validation process completes, the system reports that validation is
//     still in process ... you can try again after five minutes". The error
//     code is not documented: the fake answers TooManyUpdates (PutParameter's
//     "concurrent updates for a resource that supports one update at a
//     time"), and amibump takes any refusal but a denial, while a write of
//     its own may be validating, for "not yet" (bump's
//     TestWriteDuringOurValidationIsBusy, with a code that otherwise reads as
//     permanent). (SSM API reference, PutParameter, DataType and Errors; SSM
//     User Guide, "Native parameter support for Amazon Machine Image IDs",
//     "How AMI format validation works".) WithParameterValidation (default 0: validated within
//     the call); conformance Images/Parameter (the new version answered at
//     once; reads show the version before, or ParameterNotFound, until EC2
//     has validated it: on the fake with validation taking 30 s on its clock,
//     in a real account polled until readable, at most 5 minutes);
//     TestImageParameterValidatedAsynchronously,
//     TestImageParameterValidationTakesTime (TooManyUpdates and a value that
//     fails validation: fake only, a real account's validation may end before
//     a second write reaches it, and AWS reports a failure only through
//     EventBridge); bump's TestRefreshWaitsForTheParameter,
//     TestPromotionWaitsMinutesForTheParameter,
//     TestCloseDeploysLeaveTheNewestInTheParameter.
//   - Parameter tiers: a PutParameter that names no tier gets the account's
//     default tier (Standard unless set otherwise), on an update too; Advanced
//     never goes back to Standard (AWS gives no error code: ValidationException,
//     a failed call); GetParameterHistory tells each version's tier
//     (GetParameter does not). Intelligent-Tiering makes a parameter Standard
//     unless it needs Advanced, as a new one does once the Region's 10,000
//     standard parameters are reached, where a new one named Standard is
//     refused (ParameterLimitExceeded). (SSM API reference, PutParameter, Tier; SSM User
//     Guide, "Managing parameter tiers", "Specifying a default parameter
//     tier".) SetDefaultParameterTier; conformance ParameterTiers (no tier:
//     the account's default, Standard; Advanced, then Standard asked for
//     refused, and no tier refused or kept Advanced; the history's tiers; the
//     Advanced parameter lives seconds); TestParameterTier (a default of
//     Advanced or Intelligent-Tiering: fake only, the default is a setting of
//     the whole account and region that a run must not change; and the
//     standard quota, SetStandardParameterQuotaReached: fake only); bump's
//     TestParameterTierNeverChanges.
//   - Removing what a test made: amibump makes none of these calls but
//     DeleteSnapshot; the conformance suite's Cleaner makes them all, and its
//     gone() counts a removal answered with the resource's not-found code as
//     done. conformance Teardown removes each thing, then each again;
//     TestTeardown, TestTeardownWarmPool, TestTeardownParameters,
//     TestDescribeSnapshotsOwners; conformance's TestCleanerGroups.
//   - TerminateInstances: one unknown id fails the call
//     (InvalidInstanceID.NotFound) and terminates nothing; it is idempotent
//     ("if you terminate an instance more than once, each call succeeds"):
//     a terminated instance answers terminated again, and stays listed for
//     about an hour. An instance not terminated answers CurrentState
//     shutting-down ("When you terminate an instance, it enters the
//     shutting-down state and then the terminated state"); the fake's is
//     terminated at once (shutting-down lasts seconds: fake only). (API
//     reference, TerminateInstances; EC2 User Guide, "State change events
//     for Amazon EC2 instances".) conformance Teardown/Twice (terminated
//     again); TestTeardown.
//   - DeleteSnapshot of a snapshot a registered AMI uses is
//     InvalidSnapshot.InUse ("You cannot delete a snapshot of the root
//     device of an EBS volume used by a registered AMI. You must first
//     deregister the AMI"); a snapshot not found is InvalidSnapshot.NotFound.
//     (API reference, DeleteSnapshot; "Error codes for the Amazon EC2 API".)
//     conformance Teardown/SnapshotInUse, Teardown/Twice; TestTeardown.
//   - DeleteAutoScalingGroup of a group with instances is ResourceInUse
//     without ForceDelete ("If the group has instances or scaling activities
//     in progress, you must specify the option to force the deletion");
//     ForceDelete terminates them and deletes the warm pool with its
//     instances ("If the group has a warm pool, the force delete option also
//     deletes the warm pool"). A group whose only instances are in its warm
//     pool: AWS does not say; the fake refuses it without ForceDelete, the
//     harsher reading. The deletion is asynchronous: the group stays listed
//     with Status "Delete in progress" ("the current state of the group when
//     the DeleteAutoScalingGroup operation is in progress") while Auto
//     Scaling terminates its instances; the fake deletes the group within
//     the call (fake only: TestCleanerGroups serves that Status with
//     EditNext). A group not found is ValidationError, the code of any bad
//     request too: the Cleaner counts a group gone only when it is not
//     listed or is being deleted. (Auto Scaling API reference,
//     DeleteAutoScalingGroup, AutoScalingGroup.) conformance WarmPool (its
//     group's ForceDelete removes the warm pool's instance, which nothing
//     else tracks: TestFake's leftovers check), Teardown/Twice;
//     TestTeardown, TestTeardownWarmPool (warm pool instances alone: fake
//     only, the harsher reading).
//   - DeleteLaunchTemplate deletes a template while a group launches from it:
//     the API reference lists no error for a template in use (unlike
//     DeleteLaunchConfiguration's ResourceInUse); a template not found is
//     InvalidLaunchTemplateId.NotFound. (API reference, DeleteLaunchTemplate;
//     Auto Scaling API reference, DeleteLaunchConfiguration.) conformance
//     Teardown/Twice; TestTeardown.
//   - DeleteParameter of a parameter that does not exist is
//     ParameterNotFound. (SSM API reference, DeleteParameter.) conformance
//     Teardown/Twice; TestTeardownParameters.
//   - DescribeParameters lists parameters' metadata, each with its tier now,
//     filtered by name (Name with Equals or BeginsWith; the fake models no
//     other filter), MaxResults 1–50. (SSM API reference,
//     DescribeParameters, ParameterMetadata, ParameterStringFilter.)
//     conformance ParameterTiers (an Advanced parameter's tier);
//     TestTeardownParameters.
//   - DescribeSnapshots with OwnerIds self lists the account's own
//     snapshots; without OwnerIds AWS also lists public snapshots and those
//     shared with the account. The fake holds none of those: another owner
//     (amazon, another account) lists nothing, and no OwnerIds lists the
//     account's own. (API reference, DescribeSnapshots.)
//     TestDescribeSnapshotsOwners.
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
//   - A rule may target an event bus in another Region, "except AWS
//     GovCloud (US) and China" (AWS Compute Blog, "Expanding cross-Region
//     event routing with Amazon EventBridge"; the China Regions' guide names
//     no pair of China Regions, and the isolated partitions document
//     nothing: the harsher reading, aws only). replicaRegions is refused
//     elsewhere, pull only there: TestValidateIn, TestChinaRefusesReplicaRegions
//     (infra/amibump), TestBadContextValues (infra).
//   - A rule that puts events on a bus of another Region of the same
//     account has a role on the sender allowed events:PutEvents on the
//     receiver (EventBridge User Guide, "Sending and receiving events between
//     AWS Regions", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html;
//     AWS re:Post Knowledge Center, "eventbridge-centralized-bus-to-bus":
//     the role's PutEvents on the destination bus ARN, and the destination
//     "configured to receive"). That the destination bus needs no policy of
//     its own for a sender in the same account is inferred, not documented
//     for Regions: the same-Region page ("Sending and receiving Amazon
//     EventBridge events between event buses in the same account and
//     Region") takes either the sender's role or the receiver's policy. The
//     harsher reading is that the DR bus may need a policy: to confirm on a
//     real deploy (an event refused lands in the dead-letter queue with
//     ERROR_CODE CROSS_REGION_INGESTION_FAILED or NO_PERMISSIONS, and its
//     alarm fires). One hop: that EventBridge does not route an event it
//     received from another bus on to a third Region is inferred too (the DLQ
//     error codes include THIRD_REGION_HOP_DETECTED: "Using dead-letter
//     queues", EventBridge User Guide, rule-dlq.html); amibump does not rely
//     on it, since the rule forwards only results naming its own region. The
//     replica rule's role may put events on the DR buses only, and the DR bus
//     has no policy for it: TestReplicaForwardingRole (infra/amibump).
package awsfake
