package awsfake

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// DefaultRefreshCancelDelay is how long a cancelled instance refresh stays
// Cancelling before it is Cancelled, unless WithRefreshCancelDelay says
// otherwise. AWS documents no duration (it waits for the launches and
// terminations in flight by default); the fake never skips the Cancelling
// state, so that a caller must wait for it.
const DefaultRefreshCancelDelay = 200 * time.Millisecond

// RefreshTransitioningDelay is how much longer a cancelled refresh stays
// Cancelling when the cancel waits for transitioning instances
// (WaitForTransitioningInstances true, AWS's default): the launches and
// terminations in flight, and the new instances' warm-up, end first. AWS
// documents no duration; the fake's reading is that of a replacement in
// flight, which lasts minutes.
const RefreshTransitioningDelay = 10 * time.Minute

// WithRefreshCancelDelay sets how long a cancelled instance refresh stays
// Cancelling (DefaultRefreshCancelDelay when not given).
func WithRefreshCancelDelay(d time.Duration) Option {
	return func(cl *Cloud) { cl.refreshCancelDelay = &d }
}

// SetRefreshCancelDelay sets how long the refreshes cancelled from now on stay
// Cancelling; refreshes already cancelled keep theirs.
func (c *Cloud) SetRefreshCancelDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshCancelDelay = &d
}

// RefreshActive tells whether a refresh in status s still blocks another on
// its group: Pending, InProgress, Baking (the bake time after the last
// replacement), Cancelling and RollbackInProgress. StartInstanceRefresh says
// only that "an active instance refresh already exists"; the harsher reading
// counts every status that has not ended, Cancelling among them.
func RefreshActive(s astypes.InstanceRefreshStatus) bool {
	switch s {
	case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusBaking,
		astypes.InstanceRefreshStatusCancelling, astypes.InstanceRefreshStatusRollbackInProgress:
		return true
	}
	return false
}

// settleRefreshes turns the group's Cancelling refreshes whose delay has
// passed on the clock into Cancelled, ended when the delay ran out.
func (c *Cloud) settleRefreshes(group string) {
	now := c.now()
	for i := range c.refreshes[group] {
		r := &c.refreshes[group][i]
		at, ok := c.refreshCancelledAt[derefString(r.InstanceRefreshId)]
		if r.Status != astypes.InstanceRefreshStatusCancelling || !ok || now.Before(at) {
			continue
		}
		r.Status, r.EndTime = astypes.InstanceRefreshStatusCancelled, ptr(at)
		r.StatusReason = ptr("Instance refresh was cancelled.")
	}
}

// SetInstanceRefreshStatus puts the group's newest refresh in status s (Baking,
// RollbackInProgress, ...), as Auto Scaling would in time; Pending clears its
// StartTime (a Pending refresh "has not started"). It panics when the group
// has no refresh.
func (c *Cloud) SetInstanceRefreshStatus(group string, s astypes.InstanceRefreshStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rs := c.refreshes[group]
	if len(rs) == 0 {
		panic("awsfake: set instance refresh status: no refresh of group " + group)
	}
	rs[len(rs)-1].Status = s
	if s == astypes.InstanceRefreshStatusPending {
		rs[len(rs)-1].StartTime = nil
	}
}

// BackdateInstanceRefreshes moves the StartTime of the group's refreshes d
// earlier, as if they had started that long before, for a world whose clock is
// the wall clock.
func (c *Cloud) BackdateInstanceRefreshes(group string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.refreshes[group] {
		if r := &c.refreshes[group][i]; r.StartTime != nil {
			r.StartTime = ptr(r.StartTime.Add(-d))
		}
	}
}

// CancelInstanceRefresh cancels the group's active refresh: it turns
// Cancelling, and Cancelled once the cancel delay has passed on the clock,
// plus RefreshTransitioningDelay unless WaitForTransitioningInstances is false
// (Auto Scaling User Guide, "Cancel an instance refresh"; API reference,
// CancelInstanceRefresh: the default is true). A group without a refresh to
// cancel gives ActiveInstanceRefreshNotFoundFault, as does a refresh already
// Cancelling or Baking (AWS documents neither way; the harsher reading: "You
// can't cancel it after it's finished", and Baking comes after the last
// replacement).
func (a *AutoScaling) CancelInstanceRefresh(ctx context.Context, in *autoscaling.CancelInstanceRefreshInput, _ ...func(*autoscaling.Options)) (*autoscaling.CancelInstanceRefreshOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "CancelInstanceRefresh", in, a.c.cancelInstanceRefresh)
}

func (c *Cloud) cancelInstanceRefresh(in *autoscaling.CancelInstanceRefreshInput) (*autoscaling.CancelInstanceRefreshOutput, error) {
	if in == nil || in.AutoScalingGroupName == nil {
		return nil, validationError("1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	name := *in.AutoScalingGroupName
	if _, ok := c.groups[name]; !ok {
		return nil, validationError("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	c.settleRefreshes(name)
	for i := range c.refreshes[name] {
		r := &c.refreshes[name][i]
		if !RefreshActive(r.Status) || r.Status == astypes.InstanceRefreshStatusCancelling || r.Status == astypes.InstanceRefreshStatusBaking {
			continue
		}
		delay := DefaultRefreshCancelDelay
		if c.refreshCancelDelay != nil {
			delay = *c.refreshCancelDelay
		}
		if in.WaitForTransitioningInstances == nil || *in.WaitForTransitioningInstances {
			delay += RefreshTransitioningDelay
		}
		if c.refreshCancelledAt == nil {
			c.refreshCancelledAt = map[string]time.Time{}
		}
		c.refreshCancelledAt[derefString(r.InstanceRefreshId)] = c.now().Add(delay)
		r.Status, r.StatusReason = astypes.InstanceRefreshStatusCancelling, ptr("Instance refresh is being cancelled.")
		return &autoscaling.CancelInstanceRefreshOutput{InstanceRefreshId: r.InstanceRefreshId}, nil
	}
	return nil, &astypes.ActiveInstanceRefreshNotFoundFault{
		Message: ptr(fmt.Sprintf("No in progress or pending Instance Refresh found for Auto Scaling group %s", name))}
}

// DescribeInstanceRefreshes lists the group's refreshes, newest first ("sorted
// by creation timestamp in descending order"), those of InstanceRefreshIds
// only when given, paginated with MaxRecords 1..100 (default 50). An unknown
// group gives ValidationError (AWS documents none; the harsher reading).
func (a *AutoScaling) DescribeInstanceRefreshes(ctx context.Context, in *autoscaling.DescribeInstanceRefreshesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	return serve(ctx, a.c, svcAutoScaling, "DescribeInstanceRefreshes", in, a.c.describeInstanceRefreshes)
}

func (c *Cloud) describeInstanceRefreshes(in *autoscaling.DescribeInstanceRefreshesInput) (*autoscaling.DescribeInstanceRefreshesOutput, error) {
	if in == nil || in.AutoScalingGroupName == nil {
		return nil, validationError("1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	if in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > 100) {
		return nil, validationError("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxRecords)
	}
	name := *in.AutoScalingGroupName
	if _, ok := c.groups[name]; !ok {
		return nil, validationError("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	c.settleRefreshes(name)
	type entry struct {
		key string // position, newest first: the pagination key
		r   astypes.InstanceRefresh
	}
	var list []entry
	rs := c.refreshes[name]
	for i := len(rs) - 1; i >= 0; i-- {
		if len(in.InstanceRefreshIds) > 0 && !slices.Contains(in.InstanceRefreshIds, derefString(rs[i].InstanceRefreshId)) {
			continue
		}
		list = append(list, entry{key: fmt.Sprintf("%010d", len(list)), r: clone(rs[i])})
	}
	page, next, err := paginate(list, func(e entry) string { return e.key }, in.NextToken, c.pageSizeFor(in.MaxRecords, 50))
	if err != nil {
		return nil, err
	}
	out := &autoscaling.DescribeInstanceRefreshesOutput{NextToken: next, InstanceRefreshes: []astypes.InstanceRefresh{}}
	for _, e := range page {
		out.InstanceRefreshes = append(out.InstanceRefreshes, e.r)
	}
	return out, nil
}
