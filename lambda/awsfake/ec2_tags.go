package awsfake

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// maxTagsPerResource is EC2's limit ("Tag restrictions", Amazon EC2 User Guide).
const maxTagsPerResource = 50

// CreateTags adds or overwrites tags on launch templates (the only resource
// type amibump tags after creation; other ids are refused with
// InvalidParameterValue rather than silently ignored). As in EC2, the call is
// all or nothing: every resource must exist and every tag be valid, else
// nothing changes; a resource would exceed 50 tags: TagLimitExceeded.
func (e *EC2) CreateTags(ctx context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	return serve(ctx, e.c, svcEC2, "CreateTags", in, e.c.createTags)
}

func (c *Cloud) createTags(in *ec2.CreateTagsInput) (*ec2.CreateTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	if len(in.Tags) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter tagSet")
	}
	for _, t := range in.Tags {
		if err := checkTag(t); err != nil {
			return nil, err
		}
	}
	var templates []*template
	for _, id := range in.Resources {
		if !strings.HasPrefix(id, "lt-") {
			return nil, errorf("InvalidParameterValue", "awsfake models CreateTags on launch templates only, not %s", id)
		}
		lt, err := c.lookupTemplateID(id)
		if err != nil {
			return nil, err
		}
		n := len(lt.tags)
		for _, t := range in.Tags {
			if _, ok := lt.tags[derefString(t.Key)]; !ok {
				n++
			}
		}
		if n > maxTagsPerResource {
			return nil, errorf("TagLimitExceeded", "The maximum number of tags (%d) for resource %s has been exceeded", maxTagsPerResource, id)
		}
		templates = append(templates, lt)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	for _, lt := range templates {
		for _, t := range in.Tags {
			lt.tags[derefString(t.Key)] = derefString(t.Value)
		}
	}
	return &ec2.CreateTagsOutput{}, nil
}

// DeleteTags removes tags from launch templates (the only resource type
// amibump untags; other ids are refused with InvalidParameterValue). A tag
// given with a value is removed only when the value matches; a tag given
// without one is removed whatever its value; no tags at all removes every
// tag but the aws: ones. Like CreateTags, all or nothing: every resource
// must exist.
func (e *EC2) DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	return serve(ctx, e.c, svcEC2, "DeleteTags", in, e.c.deleteTags)
}

func (c *Cloud) deleteTags(in *ec2.DeleteTagsInput) (*ec2.DeleteTagsOutput, error) {
	if len(in.Resources) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	var templates []*template
	for _, id := range in.Resources {
		if !strings.HasPrefix(id, "lt-") {
			return nil, errorf("InvalidParameterValue", "awsfake models DeleteTags on launch templates only, not %s", id)
		}
		lt, err := c.lookupTemplateID(id)
		if err != nil {
			return nil, err
		}
		templates = append(templates, lt)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	for _, lt := range templates {
		if len(in.Tags) == 0 {
			for k := range lt.tags {
				if !strings.HasPrefix(k, "aws:") {
					delete(lt.tags, k)
				}
			}
			continue
		}
		for _, t := range in.Tags {
			k := derefString(t.Key)
			if v, ok := lt.tags[k]; ok && (t.Value == nil || *t.Value == v) {
				delete(lt.tags, k)
			}
		}
	}
	return &ec2.DeleteTagsOutput{}, nil
}
