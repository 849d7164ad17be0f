package bump_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/amibump/amibump/lambda/event"
)

// vanishingEC2 terminates the instance of the first CreateImage just before
// EC2 sees the call: a scale-in between resolving the source and imaging it.
type vanishingEC2 struct {
	*awsfake.EC2
	cloud *awsfake.Cloud
	done  bool
}

func (v *vanishingEC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, opts ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	if !v.done {
		v.done = true
		v.cloud.TerminateInstance(aws.ToString(in.InstanceId))
	}
	return v.EC2.CreateImage(ctx, in, opts...)
}

func TestSourceThatVanishesIsRetriedWithAnother(t *testing.T) {
	w := newWorld(t)
	// The group has a second instance; the tagged source goes away.
	other := w.cloud.AddInstance(awsfake.Instance{ImageID: w.baseAMI})
	w.cloud.AddGroup("shop-web-prod-a-2", w.lt, "$Latest", other)
	ec2c := &vanishingEC2{EC2: w.cloud.EC2(), cloud: w.cloud}
	b := bump.New(ec2c, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	raw := deployEvent(t, "e1", "build-1", w.cloud.Clock().Now())
	ctx, cancel := context.WithTimeout(context.Background(), w.deadline)
	defer cancel()
	resp, err := b.Handle(ctx, raw)
	if err == nil || bump.IsPermanent(err) {
		t.Fatalf("got %+v, %v; want a transient error for Lambda to retry", resp.Results, err)
	}
	for _, r := range resp.Results {
		if r.Status == event.Rejected {
			t.Fatalf("result %+v: a source that went away must not be rejected", r)
		}
	}
	res := one(t, must(w.handle(raw)))
	if res.Status != event.Promoted || res.SourceInstance != other {
		t.Errorf("retry: %+v, want promoted from %s", res, other)
	}
}

// badParameterEC2 answers CreateImage with InvalidParameterValue while the
// instance is running: a parameter EC2 refuses, which no retry fixes.
type badParameterEC2 struct{ *awsfake.EC2 }

func (badParameterEC2) CreateImage(context.Context, *ec2.CreateImageInput, ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	return nil, awsfake.APIError("InvalidParameterValue", "Value (x) for parameter name is invalid.")
}

// lateEC2 answers the first CreateImage with InvalidParameterValue though the
// instance reads running: EC2's view of the instance lags (eventual
// consistency), and the next call is accepted.
type lateEC2 struct {
	*awsfake.EC2
	refused int
}

func (l *lateEC2) CreateImage(ctx context.Context, in *ec2.CreateImageInput, opts ...func(*ec2.Options)) (*ec2.CreateImageOutput, error) {
	if l.refused == 0 {
		l.refused++
		return nil, awsfake.APIError("InvalidParameterValue", "Invalid value '"+aws.ToString(in.InstanceId)+"' for instanceId. Instance is not in a valid state for this operation.")
	}
	return l.EC2.CreateImage(ctx, in, opts...)
}

// TestCreateImageRefusedOnceIsTriedAgain: a refusal while the instance reads
// imageable may be EC2's lag; it is tried again before anything is rejected.
func TestCreateImageRefusedOnceIsTriedAgain(t *testing.T) {
	w := newWorld(t)
	ec2c := &lateEC2{EC2: w.cloud.EC2()}
	b := bump.New(ec2c, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := context.WithTimeout(context.Background(), w.deadline)
	defer cancel()
	resp, err := b.Handle(ctx, deployEvent(t, "e1", "build-1", w.cloud.Clock().Now()))
	if err != nil || ec2c.refused != 1 {
		t.Fatalf("got %+v, %v after %d refusals", resp.Results, err, ec2c.refused)
	}
	if res := one(t, resp); res.Status != event.Promoted || res.SourceInstance != w.source {
		t.Errorf("got %+v, want promoted from %s", res, w.source)
	}
}

func TestBadCreateImageParameterStaysPermanent(t *testing.T) {
	w := newWorld(t)
	b := bump.New(badParameterEC2{w.cloud.EC2()}, w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, nil).WithClock(w.cloud.Clock().Now).WithSSM(w.cloud.SSM())
	ctx, cancel := context.WithTimeout(context.Background(), w.deadline)
	defer cancel()
	resp, err := b.Handle(ctx, deployEvent(t, "e1", "build-1", w.cloud.Clock().Now()))
	if err != nil {
		t.Fatalf("got error %v, want a rejected result", err)
	}
	if res := one(t, resp); res.Status != event.Rejected || !strings.Contains(res.Reason, "InvalidParameterValue") {
		t.Errorf("got %+v, want rejected with EC2's answer", res)
	}
}

func TestNamedSourceThatIsStopping(t *testing.T) {
	w := newWorld(t)
	id := w.cloud.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameStopping, ImageID: w.baseAMI,
		Tags: map[string]string{event.TagSourceFor: "shop-web-prod-a"}})
	raw := edit(t, deployEvent(t, "e1", "build-1", w.cloud.Clock().Now().Add(-time.Second)), map[string]any{"detail.instanceId": id})
	if res := one(t, must(w.handle(raw))); res.Status != event.Promoted || res.SourceInstance != id {
		t.Errorf("got %+v, want promoted from the stopping instance %s", res, id)
	}
}
