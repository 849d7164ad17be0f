package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// refreshActive tells whether a refresh in status s still runs, and so blocks
// another on its group: Pending, InProgress, Baking (the bake time after the
// last replacement), Cancelling, RollbackInProgress (Auto Scaling API
// reference, InstanceRefresh: Status). Any other status has ended.
func refreshActive(s astypes.InstanceRefreshStatus) bool {
	switch s {
	case astypes.InstanceRefreshStatusPending, astypes.InstanceRefreshStatusInProgress, astypes.InstanceRefreshStatusBaking,
		astypes.InstanceRefreshStatusCancelling, astypes.InstanceRefreshStatusRollbackInProgress:
		return true
	}
	return false
}

// refreshClockMargin is how far before the rollback's version a refresh may
// have started and still be taken for one started since: EC2 stamps the
// version's CreateTime and Auto Scaling the refresh's StartTime, each on its
// own clock. AWS documents no bound on their difference; the margin is small
// (its services keep time with the Amazon Time Sync Service) on purpose, the
// harsher reading: taking the bad release's refresh for the rollback's own
// would leave it launching the release rolled back from, whereas taking the
// rollback's own for an older one costs one cancel and one more refresh (skip
// matching makes it cheap).
const refreshClockMargin = 2 * time.Second

// cancelled is a group's refresh that runs from before the rollback, which the
// rollback waits for before it starts its own.
type cancelled struct {
	group, id string
	// what amibump did: "amibump cancelled the instance refresh <id>", or
	// why it did not.
	did string
}

// replaceForRollback clears the way for a rollback's instance refresh of a
// group (which carries amibump:instance-refresh=true). A refresh still running
// that started before the rollback's version was created (rolledBack, less
// refreshClockMargin) is the release rolled back from's, or at least launches
// with the template as it was: amibump cancels it, without waiting for the
// instances in flight (the rollback's refresh replaces them anyway), and
// returns it in wait. A refresh that has not started (Pending: no StartTime)
// or started since is amibump's own when it looks like one (no desired
// configuration, amibump's preferences: this rollback's, found again by a
// retry) and is left alone; any other is a person's: left running too, and
// named in a warning. start tells whether the caller may start the rollback's
// refresh now; the error is a call a retry may fix.
func (r *run) replaceForRollback(ctx context.Context, log *slog.Logger, group string, rolledBack time.Time, prefs *astypes.RefreshPreferences) (warnings []string, start bool, wait *cancelled, _ error) {
	running, err := r.runningRefresh(ctx, group, nil)
	switch {
	case err != nil && IsPermanent(err):
		log.WarnContext(ctx, "instance refreshes not read: the running one is not cancelled", "group", group, "error", err)
		return nil, true, nil, nil // StartInstanceRefresh says whether one runs (rollbackRefreshWarnings)
	case err != nil:
		return nil, false, nil, err
	case running == nil:
		return nil, true, nil, nil
	}
	id := aws.ToString(running.InstanceRefreshId)
	if running.StartTime == nil || !running.StartTime.Before(rolledBack.Add(-refreshClockMargin)) {
		if amibumpRefresh(running, prefs) {
			log.InfoContext(ctx, "instance refresh of the rollback already running: left running", "group", group, "instanceRefreshId", id, "status", running.Status)
			return nil, false, nil, nil
		}
		return []string{personsRefreshWarning(group, running)}, false, nil, nil
	}
	if running.Status == astypes.InstanceRefreshStatusCancelling {
		return nil, false, &cancelled{group: group, id: id, did: fmt.Sprintf("the instance refresh %s, which started before the rollback, was found Cancelling (cancelled earlier)", id)}, nil
	}
	_, err = r.asg.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(group), WaitForTransitioningInstances: aws.Bool(false)})
	var gone *astypes.ActiveInstanceRefreshNotFoundFault
	switch {
	case errors.As(err, &gone) || hasCode(err, "ActiveInstanceRefreshNotFound"):
		// It ended meanwhile, or Auto Scaling would not cancel it (Baking): the wait tells.
		return nil, false, &cancelled{group: group, id: id, did: fmt.Sprintf("Auto Scaling refused to cancel the instance refresh %s, which started before the rollback and was %s (no refresh in progress, it answered)", id, running.Status)}, nil
	case err != nil && IsPermanent(err):
		return []string{fmt.Sprintf("group %s: the instance refresh %s, started before the rollback, was not cancelled: %v; %s",
			group, id, err, replaceCommands(group, id, prefs))}, false, nil, nil
	case err != nil:
		return nil, false, nil, fmt.Errorf("cancel instance refresh %s: %w", id, err)
	}
	log.InfoContext(ctx, "instance refresh cancelled for the rollback", "group", group, "instanceRefreshId", id, "startedAt", aws.ToTime(running.StartTime))
	return nil, false, &cancelled{group: group, id: id, did: "amibump cancelled the instance refresh " + id + ", which started before the rollback"}, nil
}

// amibumpRefresh tells whether ir looks like a refresh amibump starts with
// prefs: no desired configuration, amibump's skip matching and protected
// instances.
func amibumpRefresh(ir *astypes.InstanceRefresh, prefs *astypes.RefreshPreferences) bool {
	return ir.DesiredConfiguration == nil && ir.Preferences != nil &&
		aws.ToBool(ir.Preferences.SkipMatching) == aws.ToBool(prefs.SkipMatching) &&
		ir.Preferences.ScaleInProtectedInstances == prefs.ScaleInProtectedInstances
}

// personsRefreshWarning names a refresh started since the rollback's version
// that amibump did not start.
func personsRefreshWarning(group string, ir *astypes.InstanceRefresh) string {
	what := "it launches the group's launch template as it is now, the rollback's version"
	if ir.DesiredConfiguration != nil {
		what = "it has a desired configuration, which may launch another AMI than the rollback's"
	}
	return fmt.Sprintf("group %s: the instance refresh %s (%s), started since the rollback's version, is not amibump's: left running, and no refresh of the rollback was started; %s. "+
		"Check it (aws autoscaling describe-instance-refreshes --auto-scaling-group-name %s --instance-refresh-ids %s)",
		group, aws.ToString(ir.InstanceRefreshId), ir.Status, what, group, aws.ToString(ir.InstanceRefreshId))
}

// awaitCancelled polls the refreshes of waits together (one
// DescribeInstanceRefreshes per group a PollMin) until they no longer run, in
// one window of RefreshCancelWait at most and no later than the invocation's
// deadline minus PromoteMargin. ended are those that ended; past the window,
// the warnings say what is left, with the commands.
func (r *run) awaitCancelled(ctx context.Context, log *slog.Logger, waits []cancelled, prefs *astypes.RefreshPreferences) (ended []cancelled, warnings []string, _ error) {
	until := r.waitUntil(ctx, r.cfg.RefreshCancelWait)
	for {
		var left []cancelled
		var status []astypes.InstanceRefreshStatus
		for _, c := range waits {
			running, err := r.runningRefresh(ctx, c.group, []string{c.id})
			if err != nil {
				return ended, nil, fmt.Errorf("group %s: read instance refresh %s being cancelled: %w", c.group, c.id, err)
			}
			if running == nil {
				log.InfoContext(ctx, "instance refresh ended: the rollback's starts", "group", c.group, "instanceRefreshId", c.id)
				ended = append(ended, c)
				continue
			}
			left, status = append(left, c), append(status, running.Status)
		}
		waits = left
		if len(waits) == 0 {
			return ended, nil, nil
		}
		if !time.Now().Add(r.cfg.PollMin).Before(until) { //nolint:forbidigo // measured against the context's wall-clock deadline
			for i, c := range waits {
				warnings = append(warnings, fmt.Sprintf("group %s: %s, but it is still %s and Auto Scaling starts no other until it ends; "+
					"no refresh of the rollback was started: %s", c.group, c.did, status[i], replaceCommands(c.group, c.id, prefs)))
			}
			return ended, warnings, nil
		}
		t := time.NewTimer(r.cfg.PollMin)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ended, nil, ctx.Err()
		}
	}
}

// waitUntil is when a wait of at most d from now ends: no later than the
// invocation's deadline minus PromoteMargin (a context's deadline is
// wall-clock time).
func (r *run) waitUntil(ctx context.Context, d time.Duration) time.Time {
	until := time.Now().Add(d) //nolint:forbidigo // measured against the context's wall-clock deadline
	if deadline, ok := ctx.Deadline(); ok && deadline.Add(-r.cfg.PromoteMargin).Before(until) {
		until = deadline.Add(-r.cfg.PromoteMargin)
	}
	return until
}

// runningRefresh is the group's refresh that still runs (refreshActive), of
// ids when given; nil when none does. Auto Scaling runs one at a time.
func (r *run) runningRefresh(ctx context.Context, group string, ids []string) (*astypes.InstanceRefresh, error) {
	p := autoscaling.NewDescribeInstanceRefreshesPaginator(r.asg, &autoscaling.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String(group), InstanceRefreshIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe instance refreshes of %s: %w", group, err)
		}
		for _, ir := range page.InstanceRefreshes {
			if refreshActive(ir.Status) {
				return &ir, nil
			}
		}
	}
	return nil, nil
}

// replaceCommands tells an operator how to finish replacing a running refresh
// with the rollback's, with the preferences amibump would have used.
func replaceCommands(group, id string, prefs *astypes.RefreshPreferences) string {
	p := []string{"ScaleInProtectedInstances=" + string(prefs.ScaleInProtectedInstances)}
	if aws.ToBool(prefs.SkipMatching) {
		p = append([]string{"SkipMatching=true"}, p...)
	}
	return fmt.Sprintf("cancel it if it still runs (aws autoscaling cancel-instance-refresh --auto-scaling-group-name %s), wait until "+
		"aws autoscaling describe-instance-refreshes --auto-scaling-group-name %s --instance-refresh-ids %s shows it ended (Cancelled, Successful or Failed), "+
		"then start the rollback's (aws autoscaling start-instance-refresh --auto-scaling-group-name %s --preferences %s)",
		group, group, id, group, strings.Join(p, ","))
}
