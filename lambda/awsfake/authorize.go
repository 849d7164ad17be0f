package awsfake

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// servicePrefix is each service's prefix in IAM actions.
var servicePrefix = map[service]string{svcEC2: "ec2", svcAutoScaling: "autoscaling", svcEventBridge: "events", svcSSM: "ssm"}

// WithPolicy makes the cloud run under a permission set: every call is
// authorized as IAM would authorize it for a caller holding p (see Policy and
// authorize), and a denied call answers the service's access-denied error
// and changes nothing. Default: no permission set, every call allowed.
func WithPolicy(p Policy) Option { return func(cl *Cloud) { cl.policy = &p } }

// SetPolicy sets the permission set the cloud runs under from now on (nil:
// every call allowed), e.g. after seeding an account with calls of its own.
func (c *Cloud) SetPolicy(p *Policy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p != nil {
		cp := *p
		p = &cp
	}
	c.policy = p
}

// Denials lists the authorizations the permission set refused, in order, as
// "<operation>: <action> on <resource>".
func (c *Cloud) Denials() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return clone(c.denials)
}

// authorize is the hook serve calls with c.mu held, after begin: nil when the
// permission set (if any) allows every request the call makes, else the
// service's access-denied error naming the first request refused.
func (c *Cloud) authorize(svc service, op string, in any) error {
	if c.policy == nil {
		return nil
	}
	reqs, modelled := c.requestsOf(in)
	if !modelled {
		// An operation without a model of its resources: its action on *, which
		// a grant scoped to resources does not cover (the harsher reading).
		reqs = []request{{action: servicePrefix[svc] + ":" + op, resource: "*"}}
	}
	for _, r := range reqs {
		if d := c.policy.decide(r); !d.allowed {
			c.denials = append(c.denials, fmt.Sprintf("%s: %s on %s", op, r.action, r.resource))
			return c.accessDenied(svc, r, d)
		}
	}
	return nil
}

// permits reports whether the permission set allows r (true without one);
// a refusal is recorded in Denials under op.
func (c *Cloud) permits(op string, r request) bool {
	if c.policy == nil {
		return true
	}
	if c.policy.decide(r).allowed {
		return true
	}
	c.denials = append(c.denials, fmt.Sprintf("%s: %s on %s", op, r.action, r.resource))
	return false
}

// accessDenied is the service's error for a refused request, worded as IAM
// words it ("User: … is not authorized to perform: … on resource: … because …").
func (c *Cloud) accessDenied(svc service, r request, d decision) error {
	msg := fmt.Sprintf("User: arn:%s:sts::%s:assumed-role/amibump/awsfake is not authorized to perform: %s on resource: %s %s",
		c.Partition(), c.scope.Account, r.action, r.resource, d.reason)
	if svc == svcEC2 {
		msg = "You are not authorized to perform this operation. " + msg
	}
	return APIError(svc.deniedCode, msg)
}

// ARNs of the fake's resources, in the partition, region and account of the
// cloud. AMIs and snapshots have no account in their ARN.
func (c *Cloud) ec2ARN(kind, id string) string {
	account := c.scope.Account
	if kind == "image" || kind == "snapshot" {
		account = ""
	}
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/%s", c.Partition(), c.scope.Region, account, kind, id)
}

func (c *Cloud) parameterARN(name string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", c.Partition(), c.scope.Region, c.scope.Account, strings.TrimPrefix(name, "/"))
}

func (c *Cloud) groupARN(name string) string {
	return fmt.Sprintf("arn:%s:autoscaling:%s:%s:autoScalingGroup:00000000-0000-4000-8000-000000000000:autoScalingGroupName/%s",
		c.Partition(), c.scope.Region, c.scope.Account, name)
}

func (c *Cloud) busARN(nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	if nameOrARN == "" {
		nameOrARN = "default"
	}
	return fmt.Sprintf("arn:%s:events:%s:%s:event-bus/%s", c.Partition(), c.scope.Region, c.scope.Account, nameOrARN)
}

// newResource is the id in the ARN of a resource a call creates: IAM
// authorizes it before it has an id.
const newResource = "*"

// resourceTags are the condition keys of an existing resource's tags:
// aws:ResourceTag/<key> and the service's own <service>:ResourceTag/<key>.
func resourceTags(service string, tags map[string]string) map[string][]string {
	keys := map[string][]string{}
	for k, v := range tags {
		keys["aws:resourcetag/"+k] = []string{v}
		keys[service+":resourcetag/"+k] = []string{v}
	}
	return keys
}

// requestTags adds the keys of tags a request applies: aws:RequestTag/<key>
// and aws:TagKeys.
func requestTags(keys map[string][]string, tags []ec2types.Tag) map[string][]string {
	if keys == nil {
		keys = map[string][]string{}
	}
	for _, t := range tags {
		k := derefString(t.Key)
		keys["aws:requesttag/"+k] = []string{derefString(t.Value)}
		keys["aws:tagkeys"] = append(keys["aws:tagkeys"], k)
	}
	return keys
}

// requestsOf lists the authorizations a call makes, per the Service
// Authorization Reference (each action's resource types and condition keys)
// and what AWS checks on the caller's behalf (see the package's ledger);
// modelled is false for an operation it does not know. A resource that does
// not exist is not authorized: the call answers its own not-found error,
// which amibump's code handles.
func (c *Cloud) requestsOf(in any) (reqs []request, modelled bool) {
	switch in := in.(type) {
	case *ec2.DescribeImageReferencesInput:
		return c.imageReferencesRequests(in), true
	case *ec2.DescribeLaunchTemplatesInput, *ec2.DescribeLaunchTemplateVersionsInput, *ec2.DescribeInstancesInput,
		*ec2.DescribeImagesInput:
		return []request{{action: "ec2:" + strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", in), "*ec2."), "Input"), resource: "*"}}, true
	case *autoscaling.DescribeAutoScalingGroupsInput:
		return []request{{action: "autoscaling:DescribeAutoScalingGroups", resource: "*"}}, true
	case *autoscaling.DescribeWarmPoolInput:
		return []request{{action: "autoscaling:DescribeWarmPool", resource: "*"}}, true
	case *ec2.CreateImageInput:
		return c.createImageRequests(in), true
	case *ec2.DeleteTagsInput:
		return c.deleteTagsRequests(in), true
	case *ec2.CreateTagsInput:
		return c.createTagsRequests(in), true
	case *ec2.CreateLaunchTemplateVersionInput:
		return c.templateVersionRequests(in), true
	case *ec2.ModifyLaunchTemplateInput:
		return c.templateRequests("ec2:ModifyLaunchTemplate", in.LaunchTemplateId, in.LaunchTemplateName), true
	case *ec2.DeleteLaunchTemplateVersionsInput:
		return c.templateRequests("ec2:DeleteLaunchTemplateVersions", in.LaunchTemplateId, in.LaunchTemplateName), true
	case *ec2.DeregisterImageInput:
		return c.imageRequests("ec2:DeregisterImage", in.ImageId), true
	case *ec2.RunInstancesInput:
		return c.runInstancesRequests(in), true
	case *imageCopy:
		return c.copyImageRequests(in), true
	case *ec2.EnableImageDeprecationInput:
		return c.imageRequests("ec2:EnableImageDeprecation", in.ImageId), true
	case *ec2.DisableImageDeprecationInput:
		return c.imageRequests("ec2:DisableImageDeprecation", in.ImageId), true
	case *ec2.DisableImageInput:
		return c.imageRequests("ec2:DisableImage", in.ImageId), true
	case *ec2.EnableImageInput:
		return c.imageRequests("ec2:EnableImage", in.ImageId), true
	case *ec2.EnableImageDeregistrationProtectionInput:
		return c.imageRequests("ec2:EnableImageDeregistrationProtection", in.ImageId), true
	case *ec2.DisableImageDeregistrationProtectionInput:
		return c.imageRequests("ec2:DisableImageDeregistrationProtection", in.ImageId), true
	case *autoscaling.StartInstanceRefreshInput:
		return c.groupRequests("autoscaling:StartInstanceRefresh", in.AutoScalingGroupName), true
	case *autoscaling.CancelInstanceRefreshInput:
		return c.groupRequests("autoscaling:CancelInstanceRefresh", in.AutoScalingGroupName), true
	case *autoscaling.DescribeInstanceRefreshesInput:
		return []request{{action: "autoscaling:DescribeInstanceRefreshes", resource: "*"}}, true
	case *ssm.GetParameterInput:
		return []request{c.parameterRequest("ssm:GetParameter", derefString(in.Name))}, true
	case *ssm.GetParametersInput:
		var out []request
		for _, name := range in.Names {
			out = append(out, c.parameterRequest("ssm:GetParameters", name))
		}
		return out, true
	case *ssm.GetParameterHistoryInput:
		return []request{c.parameterRequest("ssm:GetParameterHistory", derefString(in.Name))}, true
	case *ssm.PutParameterInput:
		return c.putParameterRequests(in), true
	case *eventbridge.PutEventsInput:
		return c.putEventsRequests(in), true
	}
	return nil, false
}

// ImageReferencesService is the service EC2 scans resources as for
// DescribeImageReferences: the aws:CalledVia of what it calls for the caller.
const ImageReferencesService = "ec2-images.amazonaws.com"

// imageScans are the actions EC2 calls, with the caller's permissions, to scan
// each resource type of DescribeImageReferences (Amazon EC2 User Guide,
// "Identify your resources referencing specified AMIs", "Required IAM
// permissions"; the page lists the actions without saying which type needs
// which: each goes with the type it reads).
var imageScans = map[ec2types.ImageReferenceResourceType][]string{
	ec2types.ImageReferenceResourceTypeEc2Instance:       {"ec2:DescribeInstances"},
	ec2types.ImageReferenceResourceTypeEc2LaunchTemplate: {"ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions"},
	ec2types.ImageReferenceResourceTypeSsmParameter:      {"ssm:DescribeParameters", "ssm:GetParameters"},
}

// imageReferencesRequests: ec2:DescribeImageReferences, and the scan of each
// resource type asked for (all, with IncludeAllResourceTypes), with
// aws:CalledVia ec2-images.amazonaws.com: on *, but ssm:GetParameters on each
// parameter (it authorizes on parameters). AWS does not say what a scan the
// caller may not make does to the answer; the harsher reading: the whole call
// is UnauthorizedOperation.
func (c *Cloud) imageReferencesRequests(in *ec2.DescribeImageReferencesInput) []request {
	out := []request{{action: "ec2:DescribeImageReferences", resource: "*"}}
	var types []ec2types.ImageReferenceResourceType
	if derefBool(in.IncludeAllResourceTypes) {
		types = ec2types.ImageReferenceResourceType("").Values()
	}
	for _, rt := range in.ResourceTypes {
		types = append(types, rt.ResourceType)
	}
	seen := map[string]bool{}
	for _, rt := range types {
		for _, action := range imageScans[rt] {
			if seen[action] {
				continue
			}
			seen[action] = true
			resources := []string{"*"}
			if action == "ssm:GetParameters" {
				resources = nil
				for _, name := range slices.Sorted(maps.Keys(c.parameterStore())) {
					resources = append(resources, c.parameterARN(name))
				}
			}
			for _, res := range resources {
				out = append(out, request{action: action, resource: res, keys: map[string][]string{"aws:calledvia": {ImageReferencesService}}})
			}
		}
	}
	return out
}

// parameterRequest is action on a parameter named by name, name:version,
// name:label, or its ARN (a parameter shared from another account).
func (c *Cloud) parameterRequest(action, ref string) request {
	if strings.HasPrefix(ref, "arn:") {
		return request{action: action, resource: ref}
	}
	name, _, _ := strings.Cut(ref, ":")
	return request{action: action, resource: c.parameterARN(name)}
}

// putParameterRequests: ssm:PutParameter on the parameter, and, for data type
// aws:ec2:image, ec2:DescribeImages (Systems Manager User Guide, "Native
// parameter support for Amazon Machine Image IDs": "the user must have both
// ssm:PutParameter and ec2:DescribeImages permissions").
func (c *Cloud) putParameterRequests(in *ssm.PutParameterInput) []request {
	out := []request{c.parameterRequest("ssm:PutParameter", derefString(in.Name))}
	if derefString(in.DataType) == "aws:ec2:image" {
		out = append(out, request{action: "ec2:DescribeImages", resource: "*"})
	}
	return out
}

func (c *Cloud) putEventsRequests(in *eventbridge.PutEventsInput) []request {
	var out []request
	seen := map[string]bool{}
	for _, e := range in.Entries {
		arn := c.busARN(derefString(e.EventBusName))
		if !seen[arn] {
			seen[arn] = true
			out = append(out, request{action: "events:PutEvents", resource: arn})
		}
	}
	return out
}

// createImageRequests: ec2:CreateImage on the source instance (its tags), the
// new image and its snapshots (the tags the request gives each); and, when
// the request tags them, ec2:CreateTags on each with ec2:CreateAction =
// CreateImage (Amazon EC2 User Guide, "Grant permission to tag Amazon EC2
// resources during creation").
func (c *Cloud) createImageRequests(in *ec2.CreateImageInput) []request {
	var out []request
	if inst, ok := c.instances[derefString(in.InstanceId)]; ok {
		out = append(out, request{action: "ec2:CreateImage", resource: c.ec2ARN("instance", inst.id), keys: resourceTags("ec2", inst.tags)})
	}
	for _, kind := range []ec2types.ResourceType{ec2types.ResourceTypeImage, ec2types.ResourceTypeSnapshot} {
		var tags []ec2types.Tag
		for _, spec := range in.TagSpecifications {
			if spec.ResourceType == kind {
				tags = append(tags, spec.Tags...)
			}
		}
		arn := c.ec2ARN(string(kind), newResource)
		out = append(out, request{action: "ec2:CreateImage", resource: arn, keys: requestTags(nil, tags)})
		if len(tags) > 0 {
			keys := requestTags(map[string][]string{"ec2:createaction": {"CreateImage"}}, tags)
			out = append(out, request{action: "ec2:CreateTags", resource: arn, keys: keys})
		}
	}
	return out
}

// createTagsRequests: ec2:CreateTags on each existing resource, with its tags
// and the request's.
func (c *Cloud) createTagsRequests(in *ec2.CreateTagsInput) []request {
	var out []request
	for _, id := range in.Resources {
		var kind string
		var tags map[string]string
		if lt, ok := c.templates[id]; ok {
			kind, tags = "launch-template", lt.tags
		} else if img, ok := c.images[id]; ok {
			kind, tags = "image", img.tags
		} else {
			continue
		}
		out = append(out, request{action: "ec2:CreateTags", resource: c.ec2ARN(kind, id), keys: requestTags(resourceTags("ec2", tags), in.Tags)})
	}
	return out
}

// deleteTagsRequests: ec2:DeleteTags on each existing launch template, with
// its tags and the keys the request removes (aws:TagKeys; the Service
// Authorization Reference lists aws:TagKeys and aws:ResourceTag for
// DeleteTags).
func (c *Cloud) deleteTagsRequests(in *ec2.DeleteTagsInput) []request {
	var out []request
	for _, id := range in.Resources {
		lt, ok := c.templates[id]
		if !ok {
			continue
		}
		out = append(out, request{action: "ec2:DeleteTags", resource: c.ec2ARN("launch-template", id), keys: requestTags(resourceTags("ec2", lt.tags), in.Tags)})
	}
	return out
}

func (c *Cloud) templateRequests(action string, id, name *string) []request {
	lt, err := c.lookupTemplate(id, name)
	if err != nil {
		return nil
	}
	return []request{{action: action, resource: c.ec2ARN("launch-template", lt.id), keys: resourceTags("ec2", lt.tags)}}
}

// templateVersionRequests: ec2:CreateLaunchTemplateVersion on the template,
// and, when the new version's ImageId (given, or inherited from
// SourceVersion) is resolve:ssm:<parameter>, ssm:GetParameters on that
// parameter: EC2 resolves it while it creates the version, with the caller's
// permissions (Amazon EC2 Auto Scaling User Guide, "Use AWS Systems Manager
// parameters instead of AMI IDs in launch templates": "you must have the
// ssm:GetParameters permission for the specified parameter").
func (c *Cloud) templateVersionRequests(in *ec2.CreateLaunchTemplateVersionInput) []request {
	out := c.templateRequests("ec2:CreateLaunchTemplateVersion", in.LaunchTemplateId, in.LaunchTemplateName)
	imageID := ""
	if in.LaunchTemplateData != nil {
		imageID = derefString(in.LaunchTemplateData.ImageId)
	}
	if lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName); err == nil && imageID == "" && in.SourceVersion != nil {
		if v, err := lt.seen(c.now()).resolveVersion(*in.SourceVersion); err == nil {
			imageID = derefString(v.data.ImageId)
		}
	}
	if ref, ok := strings.CutPrefix(imageID, "resolve:ssm:"); ok {
		out = append(out, c.parameterRequest("ssm:GetParameters", ref))
	}
	return out
}

// deleteSnapshotRequest: DeregisterImage with DeleteAssociatedSnapshots deletes
// each snapshot as ec2:DeleteSnapshot on the caller's permissions; a snapshot
// the caller may not delete stays, reported as missing-permissions, and the
// AMI is deregistered all the same (API reference, DeregisterImage and
// DeleteSnapshotReturnCode).
func (c *Cloud) deleteSnapshotRequest(id string) request {
	var tags map[string]string
	if s, ok := c.snapshots[id]; ok {
		tags = s.tags
	}
	return request{action: "ec2:DeleteSnapshot", resource: c.ec2ARN("snapshot", id), keys: resourceTags("ec2", tags)}
}

// imageRequests: action on an existing image, with its tags (the Service
// Authorization Reference lists resource type image, with
// aws:ResourceTag/${TagKey} and ec2:ResourceTag/${TagKey}, for
// DeregisterImage, Enable/DisableImageDeprecation, Enable/DisableImage and
// Enable/DisableImageDeregistrationProtection).
func (c *Cloud) imageRequests(action string, id *string) []request {
	img, ok := c.images[derefString(id)]
	if !ok {
		return nil
	}
	return []request{{action: action, resource: c.ec2ARN("image", img.id), keys: resourceTags("ec2", img.tags)}}
}

// runInstancesRequests: ec2:RunInstances on the AMI (its tags) and on the new
// instances (the tags the request gives them). The network resources the
// Service Authorization Reference also lists (subnet, security group, network
// interface, volume) the fake does not model.
func (c *Cloud) runInstancesRequests(in *ec2.RunInstancesInput) []request {
	out := c.imageRequests("ec2:RunInstances", in.ImageId)
	var tags []ec2types.Tag
	for _, spec := range in.TagSpecifications {
		if spec.ResourceType == ec2types.ResourceTypeInstance {
			tags = append(tags, spec.Tags...)
		}
	}
	return append(out, request{action: "ec2:RunInstances", resource: c.ec2ARN("instance", newResource), keys: requestTags(nil, tags)})
}

// groupRequests is action on the named group, whose tags IAM reads as
// autoscaling:ResourceTag/<key>; none for a group that does not exist (Auto
// Scaling's own error answers).
func (c *Cloud) groupRequests(action string, name *string) []request {
	g, ok := c.groups[derefString(name)]
	if !ok {
		return nil
	}
	tags := map[string]string{}
	for _, t := range g.Tags {
		tags[derefString(t.Key)] = derefString(t.Value)
	}
	return []request{{action: action, resource: derefString(g.AutoScalingGroupARN), keys: resourceTags("autoscaling", tags)}}
}
