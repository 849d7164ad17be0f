package bump

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// poller shares DescribeImages among the ImageAvailable waiters of one event.
// Each AMI is still waited for by the SDK's waiter, with its acceptors and
// amibump's Retryable; the waiter's client is the poller, which holds each call
// (one image id) until the next tick and then answers every waiting id from one
// DescribeImages: Owners self (an unscoped call searches every public AMI),
// filter image-id on the ids. An id the answer lacks (not visible yet, right
// after CreateImage) gets InvalidAMIID.NotFound, as a call by id would, so the
// waiter's grace for a new image applies unchanged; a filter never fails the
// whole call for one such id, as ImageIds would.
//
// Ticks: the first poll goes at once; the next starts a tick after the one
// before was answered, with the ids asked for meanwhile. The waiters' own delay is a
// tenth of the tick, so each is back before the next tick: the poller sets the
// pace, one DescribeImages a tick for the whole event (one per 200 pending ids)
// and an AMI is seen within a tick of turning available. While EC2 throttles the
// poll (after the SDK's retries), the tick doubles, up to the longest; the
// first answer that is not throttled brings it back.
type poller struct {
	api      EC2
	ctx      context.Context // the event's: a poll serves every waiter
	min, max time.Duration

	mu    sync.Mutex
	tick  time.Duration
	next  *poll         // the poll that new calls join; nil when none is due
	ready chan struct{} // closed once a tick has passed since the last poll was answered
}

// poll is one shared DescribeImages and its answer.
type poll struct {
	ids    map[string]bool
	done   chan struct{} // closed when images and err are set
	images map[string]ec2types.Image
	// anonymous: images the answer gave without an id (a malformed answer).
	anonymous []ec2types.Image
	err       error
}

// pollFilterValues caps the image ids of one call. AWS documents no limit on a
// DescribeImages filter's values; the harsher reading is the 200 values some
// other EC2 Describe APIs allow, so a fan-out beyond 200 pending AMIs polls
// with one call per 200.
const pollFilterValues = 200

func newPoller(ctx context.Context, api EC2, minTick, maxTick time.Duration) *poller {
	ready := make(chan struct{})
	close(ready)
	return &poller{api: api, ctx: ctx, min: minTick, max: max(minTick, maxTick), tick: minTick, ready: ready}
}

// waiterDelay is the delay between a waiter's attempts when its polls are shared.
func waiterDelay(tick time.Duration) time.Duration { return max(tick/10, time.Millisecond) }

// DescribeImages answers a waiter's call for one image id at the next tick.
// Any other input goes to EC2 as it is.
func (p *poller) DescribeImages(ctx context.Context, in *ec2.DescribeImagesInput, opts ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	if len(in.ImageIds) != 1 || len(in.Filters) > 0 || len(in.Owners) > 0 || in.NextToken != nil {
		return p.api.DescribeImages(ctx, in, opts...)
	}
	id := in.ImageIds[0]
	pl := p.join(id)
	select {
	case <-pl.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if pl.err != nil {
		return nil, pl.err
	}
	img, ok := pl.images[id]
	switch {
	case ok:
	case len(pl.anonymous) == 1 && len(pl.ids) == len(pl.images)+1:
		// One image came back without its id, and one id went unanswered: it is
		// that id's, as a call by id would have said; the waiter judges its state.
		img = pl.anonymous[0]
	case len(pl.anonymous) > 0:
		return nil, fmt.Errorf("poll images: EC2 answered %d images without an id; image %s cannot be told apart", len(pl.anonymous), id)
	default:
		return nil, &smithy.GenericAPIError{Code: "InvalidAMIID.NotFound", Message: fmt.Sprintf("The image id '[%s]' does not exist", id), Fault: smithy.FaultClient}
	}
	return &ec2.DescribeImagesOutput{Images: []ec2types.Image{img}}, nil
}

// join adds id to the poll that is due next, scheduling one if none is.
func (p *poller) join(id string) *poll {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		p.next = &poll{ids: map[string]bool{}, done: make(chan struct{})}
		go p.run(p.next, p.ready)
	}
	p.next.ids[id] = true
	return p.next
}

// run makes the poll once ready is closed (a tick after the previous answer).
func (p *poller) run(pl *poll, ready <-chan struct{}) {
	select {
	case <-ready:
	case <-p.ctx.Done():
		pl.err = p.ctx.Err()
		p.mu.Lock()
		if p.next == pl {
			p.next = nil
		}
		p.mu.Unlock()
		close(pl.done)
		return
	}
	p.mu.Lock()
	if p.next == pl {
		p.next = nil // calls from now on join the next poll
	}
	ids := slices.Sorted(maps.Keys(pl.ids))
	next := make(chan struct{})
	p.ready = next
	p.mu.Unlock()

	pl.images, pl.anonymous, pl.err = p.describe(ids)
	p.mu.Lock()
	if isThrottle(pl.err) {
		p.tick = min(2*p.tick, p.max)
	} else {
		p.tick = p.min
	}
	// The next tick counts from this poll's answer: a poll held up by the
	// budget or the gate never bunches with the next one.
	time.AfterFunc(p.tick, func() { close(next) })
	p.mu.Unlock()
	close(pl.done)
}

// describe reads the images of ids, owned by this account, and any the answer
// gave without an id.
func (p *poller) describe(ids []string) (map[string]ec2types.Image, []ec2types.Image, error) {
	images := map[string]ec2types.Image{}
	var anonymous []ec2types.Image
	for batch := range slices.Chunk(ids, pollFilterValues) {
		pg := ec2.NewDescribeImagesPaginator(p.api, &ec2.DescribeImagesInput{
			Owners:  []string{"self"},
			Filters: []ec2types.Filter{{Name: aws.String("image-id"), Values: batch}},
			// A disabled image is told as disabled (the waiter stops), not
			// left out as if it had not appeared yet.
			IncludeDisabled: aws.Bool(true),
			MaxResults:      aws.Int32(1000),
		})
		for pg.HasMorePages() {
			page, err := pg.NextPage(p.ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("poll images %s: %w", summarize(batch), err)
			}
			for _, img := range page.Images {
				if img.ImageId == nil {
					anonymous = append(anonymous, img)
					continue
				}
				images[aws.ToString(img.ImageId)] = img
			}
		}
	}
	return images, anonymous, nil
}

// summarize names a few ids and how many more there are.
func summarize(ids []string) string {
	if len(ids) <= 3 {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:3], ", "), len(ids)-3)
}
