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

// replaceForRollback clears the way for a rollback's instance refresh of a
// group (which carries amibump:instance-refresh=true): a refresh still
// running that started before the rollback's version was created (rolledBack)
// is the release rolled back from's, or at least launches with the template as
// it was; amibump cancels it and waits, within the invocation's time, until it
// is Cancelled. A refresh that started since (this rollback's own, found again
// by a retry, or one a person started) launches the rollback's version at
// $Default or $Latest: it is left alone, and none is started. start tells
// whether the caller may start the rollback's refresh now; the warnings tell
// the operator what is left when the cancel does not settle in time or is
// refused; the error is a call a retry may fix.
func (r *run) replaceForRollback(ctx context.Context, log *slog.Logger, group string, rolledBack time.Time, prefs *astypes.RefreshPreferences) (warnings []string, start bool, _ error) {
	running, err := r.runningRefresh(ctx, group, nil)
	switch {
	case err != nil && IsPermanent(err):
		log.WarnContext(ctx, "instance refreshes not read: the running one is not cancelled", "group", group, "error", err)
		return nil, true, nil // StartInstanceRefresh says whether one runs (rollbackRefreshWarnings)
	case err != nil:
		return nil, false, err
	case running == nil:
		return nil, true, nil
	}
	id := aws.ToString(running.InstanceRefreshId)
	if !aws.ToTime(running.StartTime).Before(rolledBack) {
		log.InfoContext(ctx, "instance refresh started since the rollback's version: left running", "group", group, "instanceRefreshId", id, "status", running.Status)
		return nil, false, nil
	}
	if running.Status != astypes.InstanceRefreshStatusCancelling {
		_, err := r.asg.CancelInstanceRefresh(ctx, &autoscaling.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String(group)})
		var gone *astypes.ActiveInstanceRefreshNotFoundFault
		switch {
		case errors.As(err, &gone) || hasCode(err, "ActiveInstanceRefreshNotFound"):
			// It ended, or was cancelled, meanwhile: the wait below tells.
		case err != nil && IsPermanent(err):
			return []string{fmt.Sprintf("group %s: the instance refresh %s, started before the rollback, was not cancelled: %v; %s",
				group, id, err, replaceCommands(group, id, prefs))}, false, nil
		case err != nil:
			return nil, false, fmt.Errorf("cancel instance refresh %s: %w", id, err)
		default:
			log.InfoContext(ctx, "instance refresh cancelled for the rollback", "group", group, "instanceRefreshId", id, "startedAt", aws.ToTime(running.StartTime))
		}
	}
	return r.awaitCancelled(ctx, log, group, id, prefs)
}

// awaitCancelled polls the refresh id of group (one DescribeInstanceRefreshes
// a PollMin) until it no longer runs, for RefreshCancelWait at most and no
// later than the invocation's deadline minus PromoteMargin. Past that, the
// warning says what is left, with the commands.
func (r *run) awaitCancelled(ctx context.Context, log *slog.Logger, group, id string, prefs *astypes.RefreshPreferences) (warnings []string, start bool, _ error) {
	until := r.waitUntil(ctx, r.cfg.RefreshCancelWait)
	for {
		running, err := r.runningRefresh(ctx, group, []string{id})
		if err != nil {
			return nil, false, fmt.Errorf("read instance refresh %s being cancelled: %w", id, err)
		}
		if running == nil {
			log.InfoContext(ctx, "instance refresh cancelled: the rollback's starts", "group", group, "instanceRefreshId", id)
			return nil, true, nil
		}
		if !time.Now().Add(r.cfg.PollMin).Before(until) { //nolint:forbidigo // measured against the context's wall-clock deadline
			return []string{fmt.Sprintf("group %s: amibump cancelled the instance refresh %s, which started before the rollback, but it is still %s and Auto Scaling starts no other until it ends; "+
				"no refresh of the rollback was started: %s", group, id, running.Status, replaceCommands(group, id, prefs))}, false, nil
		}
		t := time.NewTimer(r.cfg.PollMin)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, ctx.Err()
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
		"aws autoscaling describe-instance-refreshes --auto-scaling-group-name %s --instance-refresh-ids %s shows it Cancelled, "+
		"then start the rollback's (aws autoscaling start-instance-refresh --auto-scaling-group-name %s --preferences %s)",
		group, group, id, group, strings.Join(p, ","))
}
