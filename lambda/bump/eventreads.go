package bump

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
)

// eventReads are reads that serve every target of a deploy event, made once
// for the event instead of once per template: the targets' amibump AMIs (the
// check before imaging) and their tagged source instances. Each is listed by
// filter on the targets' ids or names, at most filterValues of them a call (AWS
// documents no limit for these filters; the harsher reading is the 200 values
// some EC2 Describe APIs allow). A failed listing is not kept: the next target
// asks again.
type eventReads struct {
	targets []target // nil: not a deploy event; every template is read on its own

	mu        sync.Mutex
	images    map[string]map[string]image    // by template id; nil until listed
	instances map[string][]ec2types.Instance // running, by amibump:source-for; nil until listed
}

const filterValues = 200

// templateImagesOnce returns the amibump AMIs of template t from the event's
// one listing: a copy the caller may change. nil when the event is not a deploy.
func (r *run) templateImagesOnce(ctx context.Context, t target) (map[string]image, error) {
	if r.reads.targets == nil {
		return nil, nil
	}
	r.reads.mu.Lock()
	defer r.reads.mu.Unlock()
	if r.reads.images == nil {
		ids := make([]string, len(r.reads.targets))
		for i, tg := range r.reads.targets {
			ids[i] = tg.ID
		}
		byTemplate := map[string]map[string]image{}
		for batch := range slices.Chunk(ids, filterValues) {
			images, err := r.listImages(ctx, []ec2types.Filter{{Name: aws.String("tag:" + event.TagLaunchTemplate), Values: batch}})
			if err != nil {
				return nil, err
			}
			for id, img := range images {
				lt := img.Tags[event.TagLaunchTemplate]
				if byTemplate[lt] == nil {
					byTemplate[lt] = map[string]image{}
				}
				byTemplate[lt][id] = img
			}
		}
		r.reads.images = byTemplate
	}
	mine := maps.Clone(r.reads.images[t.ID])
	if mine == nil {
		mine = map[string]image{}
	}
	return mine, nil
}

// taggedSources returns the running instances tagged amibump:source-for=<t's
// name>: from the event's one listing for a deploy, else by a call of their own.
func (r *run) taggedSources(ctx context.Context, t target) ([]ec2types.Instance, error) {
	if r.reads.targets == nil {
		return r.listSources(ctx, []string{t.Name})
	}
	r.reads.mu.Lock()
	defer r.reads.mu.Unlock()
	if r.reads.instances == nil {
		names := make([]string, len(r.reads.targets))
		for i, tg := range r.reads.targets {
			names[i] = tg.Name
		}
		all := []ec2types.Instance{}
		for batch := range slices.Chunk(names, filterValues) {
			found, err := r.listSources(ctx, batch)
			if err != nil {
				return nil, err
			}
			all = append(all, found...)
		}
		r.reads.instances = map[string][]ec2types.Instance{}
		for _, in := range all {
			for _, tag := range in.Tags {
				if k := aws.ToString(tag.Key); k == event.TagSourceFor {
					v := aws.ToString(tag.Value)
					r.reads.instances[v] = append(r.reads.instances[v], in)
				}
			}
		}
	}
	return r.reads.instances[t.Name], nil
}

// listSources lists the running instances tagged amibump:source-for with one of names.
func (r *run) listSources(ctx context.Context, names []string) ([]ec2types.Instance, error) {
	var out []ec2types.Instance
	p := ec2.NewDescribeInstancesPaginator(r.ec2, &ec2.DescribeInstancesInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + event.TagSourceFor), Values: names},
			{Name: aws.String("instance-state-name"), Values: []string{string(ec2types.InstanceStateNameRunning)}},
		},
		MaxResults: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("find instances tagged %s=%s: %w", event.TagSourceFor, summarize(names), err)
		}
		for _, res := range page.Reservations {
			out = append(out, res.Instances...)
		}
	}
	return out, nil
}
