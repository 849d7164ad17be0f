package bump

import (
	"context"
	"testing"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// madeElsewhere is an image source other than an instance: an AMI that is
// already there (as a copy from another region would be).
type madeElsewhere struct{ id string }

func (m madeElsewhere) makeImage(_ context.Context, j *job) (image, error) {
	return image{Image: plan.Image{ID: m.id, Deploy: j.deploy, State: string(ec2types.ImageStateAvailable)},
		Tags: map[string]string{event.TagLaunchTemplate: j.t.ID}}, nil
}

// TestJobTakesItsImageFromItsSource: the job's steps around the image source
// (superseded, the wait, the promotion) hold whatever the source is: a job
// whose source hands it an existing AMI promotes that AMI and images no
// instance.
func TestJobTakesItsImageFromItsSource(t *testing.T) {
	c := awsfake.New()
	shop := awsfake.SeedShop(c, nil)
	now := c.Clock().Now().UTC().Truncate(time.Second)
	deploy := plan.Deploy{At: now, BuildID: "jenkins-shop-deploy-7"}
	copied := c.AddImage(awsfake.Image{Name: plan.AMIName("shop-web-prod-a", deploy), Tags: map[string]string{
		event.TagLaunchTemplate: shop.Template, event.TagBuildID: deploy.BuildID, event.TagDeployedAt: now.Format(time.RFC3339)}})
	before := len(c.Images())

	cfg := Defaults()
	r := New(c.EC2(), c.AutoScaling(), c.EventBridge(), cfg, nil).WithClock(c.Clock().Now).WithSSM(c.SSM()).
		newRun(context.Background(), &event.Envelope{ID: "e-1", DetailType: event.DeployFinished, Time: now})
	d := &event.Deploy{App: "shop", Env: "prod", Build: event.Build{ID: deploy.BuildID}}
	ctx := context.Background()
	targets, err := r.resolve(ctx, d)
	if err != nil || len(targets) != 1 {
		t.Fatalf("resolve: %d targets, %v", len(targets), err)
	}
	j := r.newJob(r.log, d, deploy, targets[0])
	j.source = madeElsewhere{copied}
	res, err := j.bumpTarget(ctx)
	if err != nil || res.Status != event.Promoted || res.ImageID != copied {
		t.Fatalf("result %+v, %v; want %s promoted", res, err, copied)
	}
	if got := len(c.Images()); got != before {
		t.Errorf("%d images after the job, want %d: no instance imaged", got, before)
	}
}
