package awsfake

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// CopyImage, in the client's region from SourceRegion (the behaviour ledger
// in doc.go names the pages). A copy within a region is the Cloud's own
// call; a copy from another region is World.CopyImage, which reads the
// source Cloud under its lock, lets go, and then writes the destination
// Cloud under its own: never both locks at once.

// CopySnapshotsPerDestination is EBS's quota "Concurrent snapshot copies per
// destination Region" (20, not adjustable): an AMI copy copies each of its
// snapshots, so a copy in flight holds one place per snapshot.
const CopySnapshotsPerDestination = 20

// WithCopyTime sets how long an AMI copy stays pending before it becomes
// available (or failed), on the World's clock (default: WithImageDelay's).
func WithCopyTime(d time.Duration) Option {
	return func(cl *Cloud) { cl.copyTime, cl.copyTimeSet = d, true }
}

// WithCopyQuota sets the snapshot copies in flight a destination region
// takes (default CopySnapshotsPerDestination).
func WithCopyQuota(snapshots int) Option {
	return func(cl *Cloud) { cl.copyQuota = snapshots }
}

// copySource is what a copy reads of its source AMI, under the source
// Cloud's lock: the facts, not a pointer into the source Cloud.
type copySource struct {
	region, id, arn string
	tags            map[string]string
	snapshots       []string
	snapshotRefs    []copyRef // each snapshot's ARN and tags, for authorization
	kmsKey          string    // the source's key ARN ("": unencrypted)
}

// copyRef is a source resource as CopyImage authorizes it.
type copyRef struct {
	arn  string
	tags map[string]string
}

// copyRecord is a ClientToken's first request and its answer.
type copyRecord struct {
	request, imageID string
}

// readCopySource reads the source AMI a copy names, with c.mu held: it must
// be available (usableImage: a pending, failed or disabled one is
// InvalidAMIID.Unavailable).
func (c *Cloud) readCopySource(id *string) (copySource, error) {
	img, err := c.usableImage(id, c.settleAll())
	if err != nil {
		return copySource{}, err
	}
	return copySource{region: c.scope.Region, id: img.id, arn: c.ec2ARN("image", img.id),
		tags: copyTags(img.tags), snapshots: clone(img.snapshots), snapshotRefs: c.snapshotRefs(img), kmsKey: img.kmsKey}, nil
}

// snapshotRefs are img's snapshots as CopyImage authorizes them, with c.mu held.
func (c *Cloud) snapshotRefs(img *image) []copyRef {
	var out []copyRef
	for _, id := range img.snapshots {
		if s, ok := c.snapshots[id]; ok {
			out = append(out, copyRef{arn: c.ec2ARN("snapshot", id), tags: copyTags(s.tags)})
		}
	}
	return out
}

// CopyImage copies an available AMI of the account within the cloud's region
// (SourceRegion the cloud's region): see World.CopyImage for what a copy
// does. The Cloud alone reaches no other region: a SourceRegion that is not
// its own is refused; the World serves those.
func (e *EC2) CopyImage(ctx context.Context, in *ec2.CopyImageInput, _ ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	return serve(ctx, e.c, svcEC2, "CopyImage", &imageCopy{in: in}, e.c.copyImage)
}

// imageCopy is a CopyImage request as the destination Cloud serves it: the
// input, and the source as read from its Cloud (nil: the destination's own
// region, read under its lock).
type imageCopy struct {
	in     *ec2.CopyImageInput
	src    *copySource
	srcErr error
}

func (c *Cloud) copyImage(req *imageCopy) (*ec2.CopyImageOutput, error) {
	in := req.in
	if in == nil || in.SourceImageId == nil || in.SourceRegion == nil || in.Name == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameters SourceImageId, SourceRegion and Name")
	}
	if req.src == nil && req.srcErr == nil {
		if *in.SourceRegion != c.scope.Region {
			return nil, errorf("InvalidParameterValue", "awsfake: a Cloud copies within %s only; copy from %s through its World", c.scope.Region, *in.SourceRegion)
		}
		src, err := c.readCopySource(in.SourceImageId)
		req.src, req.srcErr = &src, err
	}
	if req.srcErr != nil {
		return nil, req.srcErr
	}
	return c.copyFrom(in, *req.src)
}

// copyFrom makes the copy in c, with c.mu held, from a source read before.
func (c *Cloud) copyFrom(in *ec2.CopyImageInput, src copySource) (*ec2.CopyImageOutput, error) {
	now := c.settleAll()
	fingerprint := copyFingerprint(in)
	token := derefString(in.ClientToken)
	if r, ok := c.copyTokens[token]; ok && token != "" {
		if r.request != fingerprint {
			return nil, errorf("IdempotentParameterMismatch", "The client token %s was already used with another request", token)
		}
		return &ec2.CopyImageOutput{ImageId: ptr(r.imageID)}, nil
	}
	imageTags, snapshotTags, err := c.checkCopy(in, src, now)
	if err != nil {
		return nil, err
	}
	if derefBool(in.DryRun) {
		return nil, dryRunError()
	}
	if err := c.copyQuotaLeft(len(src.snapshots), now); err != nil {
		return nil, err
	}
	img := &image{id: c.newID("ami"), owner: c.scope.Account, name: *in.Name, description: derefString(in.Description),
		created: now, readyAt: now.Add(c.copyDelay()), visibleAt: now.Add(max(c.visibilityDelay, c.lag())),
		state: ec2types.ImageStatePending, tags: imageTags, copiedFrom: src.region + "/" + src.id}
	img.kmsKey, img.failCode, img.failReason = c.copyKey(in, src)
	for _, s := range src.snapshots {
		snap := &snapshot{id: c.newID("snap"), imageID: img.id, started: now, tags: copyTags(snapshotTags),
			description: fmt.Sprintf("Copied for DestinationAmi %s from SourceAmi %s for SourceSnapshot %s", img.id, src.id, s)}
		c.snapshots[snap.id] = snap
		img.snapshots = append(img.snapshots, snap.id)
	}
	c.images[img.id] = img
	if token != "" {
		c.copyTokens[token] = copyRecord{request: fingerprint, imageID: img.id}
	}
	return &ec2.CopyImageOutput{ImageId: ptr(img.id)}, nil
}

// copyFingerprint is what makes two requests with one ClientToken the same
// request: every parameter but the token and DryRun.
func copyFingerprint(in *ec2.CopyImageInput) string {
	cp := *in
	cp.ClientToken, cp.DryRun = nil, nil
	b, _ := json.Marshal(cp)
	return string(b)
}

// checkCopy validates a copy's name (CreateImage's rules), description,
// encryption and tags; it returns the tags of the new AMI (the source's
// with CopyImageTags, then the request's) and of its snapshots.
func (c *Cloud) checkCopy(in *ec2.CopyImageInput, src copySource, now time.Time) (map[string]string, map[string]string, error) {
	name := *in.Name
	if !imageNamePattern.MatchString(name) {
		return nil, nil, errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/', '[', ']', ' ', '@', ''' and '_': %q", name)
	}
	if len(derefString(in.Description)) > 255 {
		return nil, nil, errorf("InvalidParameterValue", "Value of parameter description is too long (maximum 255 characters)")
	}
	for _, img := range c.images {
		if img.name == name {
			return nil, nil, errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, img.id)
		}
	}
	if c.nameInRecycleBin(name, now) {
		return nil, nil, errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by an AMI in the Recycle Bin", name)
	}
	if in.KmsKeyId != nil && !derefBool(in.Encrypted) {
		return nil, nil, errorf("InvalidParameterCombination", "KmsKeyId requires Encrypted to be true")
	}
	imageTags, snapshotTags := map[string]string{}, map[string]string{}
	if derefBool(in.CopyImageTags) {
		for k, v := range src.tags {
			if !strings.HasPrefix(k, "aws:") {
				imageTags[k] = v
			}
		}
	}
	for _, spec := range in.TagSpecifications {
		dst := map[ec2types.ResourceType]map[string]string{ec2types.ResourceTypeImage: imageTags, ec2types.ResourceTypeSnapshot: snapshotTags}[spec.ResourceType]
		if dst == nil {
			return nil, nil, errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", spec.ResourceType)
		}
		for _, t := range spec.Tags {
			if err := checkTag(t); err != nil {
				return nil, nil, err
			}
			dst[derefString(t.Key)] = derefString(t.Value)
		}
	}
	return imageTags, snapshotTags, nil
}

// copyQuotaLeft refuses a copy whose snapshots do not fit beside the
// snapshot copies in flight into the region (those of pending copies from
// any source region): ResourceLimitExceeded.
func (c *Cloud) copyQuotaLeft(snapshots int, now time.Time) error {
	quota := cmp.Or(c.copyQuota, CopySnapshotsPerDestination)
	inFlight := 0
	for _, img := range c.images {
		if img.copiedFrom != "" && img.state == ec2types.ImageStatePending && now.Before(img.readyAt) {
			inFlight += len(img.snapshots)
		}
	}
	if inFlight+snapshots > quota {
		return errorf("ResourceLimitExceeded", "You have reached the limit of %d concurrent snapshot copies into %s (%d in flight; this AMI has %d snapshots)", quota, c.scope.Region, inFlight, snapshots)
	}
	return nil
}

func (c *Cloud) copyDelay() time.Duration {
	if c.copyTimeSet {
		return c.copyTime
	}
	return c.imageDelay
}

// kmsActions are what using a customer managed key for EBS encryption takes
// of the caller (Amazon EBS User Guide, "Requirements for Amazon EBS
// encryption", "Permissions for users"; kms:ReEncrypt is IAM's
// kms:ReEncryptFrom and kms:ReEncryptTo).
var kmsActions = []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:ReEncryptFrom", "kms:ReEncryptTo"}

// SetEBSEncryptionByDefault turns on EBS encryption by default in the
// cloud's region with key as the region's default KMS key for EBS (an ARN;
// "alias/aws/ebs" the AWS managed key), as EnableEbsEncryptionByDefault and
// ModifyEbsDefaultKmsKeyId do; "" turns it off.
func (c *Cloud) SetEBSEncryptionByDefault(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ebsDefaultKey = ""
	if key != "" {
		c.ebsDefaultKey = c.kmsKeyARN(key)
	}
}

// copyKey is the key ARN a copy is encrypted with ("": unencrypted), and
// why the copy fails when the caller may not use a customer managed key
// (StateReason code and message). With KmsKeyId, that key; else a source
// that is encrypted within its region keeps the source's key; else, when the
// source is encrypted (a copy of an encrypted snapshot is encrypted),
// Encrypted is asked, or EBS encryption by default is on in the destination,
// the destination's default KMS key for EBS (alias/aws/ebs unless set
// otherwise: a key is regional). The caller must be allowed to use a
// customer managed key on both sides: the source's, to read its snapshots,
// and the copy's. EC2 reads the keys asynchronously, so the call succeeds
// and the copy goes to failed.
func (c *Cloud) copyKey(in *ec2.CopyImageInput, src copySource) (key, failCode, failReason string) {
	switch {
	case in.KmsKeyId != nil:
		key = c.kmsKeyARN(*in.KmsKeyId)
	case src.kmsKey != "" && src.region == c.scope.Region:
		key = src.kmsKey
	case src.kmsKey != "" || derefBool(in.Encrypted) || c.ebsDefaultKey != "":
		key = cmp.Or(c.ebsDefaultKey, c.kmsKeyARN("alias/aws/ebs"))
	}
	for _, k := range []string{src.kmsKey, key} {
		if action := c.deniedKeyAction(k); action != "" {
			return key, "Client.InvalidKMSKey.InvalidState", fmt.Sprintf("The caller may not use KMS key %s: %s is not allowed", k, action)
		}
	}
	return key, "", ""
}

// deniedKeyAction is the first KMS action of EBS encryption the caller may
// not take on customer managed key k ("" when all are allowed, k is none
// or an AWS managed key, whose key policy lets the account's EBS use it).
func (c *Cloud) deniedKeyAction(k string) string {
	if k == "" || strings.HasSuffix(k, ":alias/aws/ebs") {
		return ""
	}
	for _, action := range kmsActions {
		r := request{action: action, resource: k}
		if action == "kms:CreateGrant" {
			// EC2 creates the grant for the copy on the caller's behalf.
			r.keys = map[string][]string{"kms:grantisforawsresource": {"true"}}
		}
		if !c.permits("CopyImage", r) {
			return action
		}
	}
	return ""
}

// kmsKeyARN is the ARN of a key named by id, alias/name or ARN, in the
// cloud's account and region.
func (c *Cloud) kmsKeyARN(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	if !strings.HasPrefix(ref, "alias/") {
		ref = "key/" + ref
	}
	return fmt.Sprintf("arn:%s:kms:%s:%s:%s", c.Partition(), c.scope.Region, c.scope.Account, ref)
}

// copyImageRequests: ec2:CopyImage on the source AMI and its snapshots (their
// tags, in the source's region: the harsher reading), and on the
// new AMI and its snapshots (the tags the request gives each); when the
// request tags them, ec2:CreateTags on each with ec2:CreateAction =
// CopyImage (EC2 User Guide, "Grant permissions to copy Amazon EC2 AMIs";
// Service Authorization Reference, CopyImage: image and snapshot).
func (c *Cloud) copyImageRequests(req *imageCopy) []request {
	if req.in == nil {
		return nil
	}
	src := req.src
	if src == nil && derefString(req.in.SourceRegion) == c.scope.Region {
		if img, ok := c.images[derefString(req.in.SourceImageId)]; ok {
			src = &copySource{arn: c.ec2ARN("image", img.id), tags: img.tags, snapshotRefs: c.snapshotRefs(img)}
		}
	}
	if src == nil {
		return nil // a source not found is not authorized: the call answers its not-found error
	}
	out := []request{{action: "ec2:CopyImage", resource: src.arn, keys: resourceTags("ec2", src.tags)}}
	for _, s := range src.snapshotRefs {
		out = append(out, request{action: "ec2:CopyImage", resource: s.arn, keys: resourceTags("ec2", s.tags)})
	}
	for _, kind := range []ec2types.ResourceType{ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot} {
		var tags []ec2types.Tag
		for _, spec := range req.in.TagSpecifications {
			if spec.ResourceType == kind {
				tags = append(tags, spec.Tags...)
			}
		}
		arn := c.ec2ARN(string(kind), newResource)
		out = append(out, request{action: "ec2:CopyImage", resource: arn, keys: requestTags(nil, tags)})
		if len(tags) > 0 {
			keys := requestTags(map[string][]string{"ec2:createaction": {"CopyImage"}}, tags)
			out = append(out, request{action: "ec2:CreateTags", resource: arn, keys: keys})
		}
	}
	return out
}

// ScopedEC2 is the EC2 client of one scope of a World: the scope's Cloud's,
// but for CopyImage, which the World serves (from any region it serves).
type ScopedEC2 struct {
	*EC2
	w     *World
	scope Scope
}

// EC2 returns the EC2 client of scope s (its Cloud made on demand).
func (w *World) EC2(s Scope) *ScopedEC2 { return &ScopedEC2{EC2: w.Cloud(s).EC2(), w: w, scope: s} }

// CopyImage is World.CopyImage into the client's scope.
func (e *ScopedEC2) CopyImage(ctx context.Context, in *ec2.CopyImageInput, _ ...func(*ec2.Options)) (*ec2.CopyImageOutput, error) {
	return e.w.CopyImage(ctx, e.scope, in)
}

// CopyImage is EC2 CopyImage as the destination scope's client serves it
// (awssim.NewWorld routes it here): the destination region is the client's,
// SourceRegion names the source, in the same account (the fake shares no
// AMIs: another account's AMI is not found). It reads the source Cloud under
// its lock, lets go, then makes the copy in the destination Cloud under its
// own lock. The copy is pending for WithCopyTime on the World's clock, then
// available, or failed when the caller may not use its KMS key.
func (w *World) CopyImage(ctx context.Context, dst Scope, in *ec2.CopyImageInput) (*ec2.CopyImageOutput, error) {
	d := w.Cloud(dst)
	if in == nil || in.SourceRegion == nil || *in.SourceRegion == dst.Region {
		return d.EC2().CopyImage(ctx, in)
	}
	req := &imageCopy{in: in}
	srcScope := Scope{Account: dst.Account, Region: *in.SourceRegion}
	if srcScope.Partition() != dst.Partition() {
		// "Cross-partition copies" are not supported (API reference,
		// CopyImage; CreateStoreImageTask is AWS's way).
		return nil, errorf("InvalidParameterValue", "Invalid value '%s' for SourceRegion: CopyImage does not copy across partitions (%s to %s)", *in.SourceRegion, srcScope.Partition(), dst.Partition())
	}
	if src, err := w.readSource(srcScope, in.SourceImageId); err != nil {
		req.srcErr = err
	} else {
		req.src = &src
	}
	return serve(ctx, d, svcEC2, "CopyImage", req, d.copyImage)
}

// readSource reads a copy's source AMI from the Cloud of s, under that
// Cloud's lock only. A region the World does not serve has no AMI to copy.
func (w *World) readSource(s Scope, id *string) (copySource, error) {
	w.mu.Lock()
	served := w.regions[s.Region]
	var c *Cloud
	if served {
		c = w.cloud(s)
	}
	w.mu.Unlock()
	if !served {
		return copySource{}, errorf("InvalidParameterValue", "Invalid value '%s' for SourceRegion: the region is not enabled", s.Region)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readCopySource(id)
}
