package bump

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// promotion plans the promotion of img onto the template and checks the
// permissions of each change with EC2's DryRun; it changes nothing. Its steps
// follow the deploy's: the version, the parameters, $Default, the groups,
// retention.
func (dr *dryRunner) promotion(ctx context.Context, st templateState, img plan.Image) error {
	if err := dr.version(ctx, st); err != nil {
		return err
	}
	if err := dr.parameters(ctx, st); err != nil {
		return err
	}
	if err := dr.setDefault(ctx, st.Plan.Latest()); err != nil {
		return err
	}
	groups, err := dr.groups(ctx, st)
	if err != nil {
		return err
	}
	after := plan.AfterPromotion(st.Plan, img, dr.t.Settings.SetDefault)
	return dr.retention(ctx, plan.Retain(after, dr.t.Settings.Keep, pinnedVersions(groups, dr.t)), after.Images)
}

// deniedErr reports every change the dry run found it may not make.
func (dr *dryRunner) deniedErr() error {
	if len(dr.denied) == 0 {
		return nil
	}
	return rejectf("dry run: not allowed to %s; grant these to the role that runs amibump", strings.Join(dr.denied, ", "))
}

// dryRunner collects a dry run's plan (in its job's result) and the changes
// it may not make.
type dryRunner struct {
	*run
	t      target
	res    *event.Result
	denied []string
}

func (dr *dryRunner) say(format string, args ...any) {
	dr.res.Plan = append(dr.res.Plan, fmt.Sprintf(format, args...))
}

// check reads the answer to a DryRun call: DryRunOperation means allowed; an
// access-denied code is noted (the run reports all of them together).
func (dr *dryRunner) check(action string, err error) error {
	switch {
	case hasCode(err, "DryRunOperation"):
		return nil
	case err != nil && isAccessDenied(errorCode(err)):
		dr.denied = append(dr.denied, fmt.Sprintf("%s: %s", action, errorCode(err)))
		return nil
	case err == nil:
		return fmt.Errorf("%s: dry run was not honoured", action)
	}
	return fmt.Errorf("%s: %w", action, err)
}

// version plans the new launch template version.
func (dr *dryRunner) version(ctx context.Context, st templateState) error {
	latest := st.Plan.Latest()
	dr.say("wait until the AMI is available, then create version %d of %s from $Latest (version %d) with only the AMI replaced", latest+1, dr.t.Name, latest)
	latestImage := versionImage(st.Plan, latest)
	if latestImage == "" {
		return nil
	}
	_, err := dr.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(dr.t.ID), SourceVersion: aws.String("$Latest"), DryRun: aws.Bool(true),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(latestImage)},
	})
	return dr.check("ec2:CreateLaunchTemplateVersion", err)
}

// setDefault plans moving $Default, unless the template opts out.
func (dr *dryRunner) setDefault(ctx context.Context, latest int64) error {
	if !dr.t.Settings.SetDefault {
		dr.say("leave $Default of %s alone (%s=false)", dr.t.Name, event.TagSetDefault)
		return nil
	}
	dr.say("set $Default of %s to the new version", dr.t.Name)
	_, err := dr.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: aws.String(dr.t.ID), DefaultVersion: aws.String(strconv.FormatInt(latest, 10)), DryRun: aws.Bool(true),
	})
	return dr.check("ec2:ModifyLaunchTemplate", err)
}

// groups lists the groups launching from the template, with their warnings.
func (dr *dryRunner) groups(ctx context.Context, st templateState) ([]astypes.AutoScalingGroup, error) {
	groups, err := dr.autoScalingGroups(ctx)
	if err != nil {
		return nil, err
	}
	var using []string
	for _, g := range groups {
		for _, u := range uses(g, dr.t) {
			where := ""
			if u.Where != "" {
				where = ", " + u.Where
			}
			using = append(using, fmt.Sprintf("%s at %s%s", u.Group, u.Version, where))
		}
	}
	if len(using) > 0 {
		dr.say("groups launching from %s: %s", dr.t.Name, strings.Join(using, "; "))
	} else {
		dr.say("no Auto Scaling group launches from %s", dr.t.Name)
	}
	dr.res.Warnings = append(dr.res.Warnings, groupWarnings(groups, dr.t, st.Resolving)...)
	if dr.t.Settings.InstanceRefresh {
		if st.Alias != "" {
			dr.say("once the parameter holds the new AMI, start an instance refresh on the groups at $Latest or $Default that carry %s=true, without SkipMatching (Auto Scaling has none for a template that reads an SSM parameter): every instance is replaced", event.TagInstanceRefresh)
		} else {
			dr.say("start an instance refresh (SkipMatching) on the groups at $Latest or $Default that carry %s=true", event.TagInstanceRefresh)
		}
		for _, g := range groups {
			if followsTemplate(g, dr.t) && !refreshAllowed(g) {
				dr.res.Warnings = append(dr.res.Warnings, refreshNotAllowedWarning(aws.ToString(g.AutoScalingGroupName)))
			}
		}
	}
	return groups, nil
}

// retention plans what retention would delete after the promotion, checking
// one change of each kind.
func (dr *dryRunner) retention(ctx context.Context, p plan.Prune, images map[string]plan.Image) error {
	if len(p.Versions)+len(p.Images) == 0 {
		return nil
	}
	retire, del, guarded := dr.retireSteps(p.Images, images)
	dr.say("retention (keep %d, delete-after %d days): delete versions %v; retire AMIs %v (deprecate and disable now, deregister later); deregister AMIs %v; "+
		"none that an instance, a template version or an SSM parameter uses", dr.t.Settings.Keep, dr.t.Settings.DeleteAfter, p.Versions, retire, del)
	if len(p.Versions) > 0 {
		_, err := dr.ec2.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{
			LaunchTemplateId: aws.String(dr.t.ID), Versions: []string{strconv.FormatInt(p.Versions[0], 10)}, DryRun: aws.Bool(true),
		})
		if err := dr.check("ec2:DeleteLaunchTemplateVersions", err); err != nil {
			return err
		}
	}
	if guarded != "" {
		_, err := dr.ec2.DisableImageDeregistrationProtection(ctx, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(guarded), DryRun: aws.Bool(true)})
		if err := dr.check("ec2:DisableImageDeregistrationProtection", err); err != nil {
			return err
		}
	}
	if len(retire) > 0 {
		_, err := dr.ec2.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(retire[0]), DeprecateAt: aws.Time(plan.DeprecateAt(dr.now())), DryRun: aws.Bool(true)})
		if err := dr.check("ec2:EnableImageDeprecation", err); err != nil {
			return err
		}
	}
	for _, id := range del {
		if images[id].Life.Guarded() {
			continue // EC2 refuses the deletion itself until the protection is lifted
		}
		_, err := dr.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id), DeleteAssociatedSnapshots: aws.Bool(true), DryRun: aws.Bool(true)})
		return dr.check("ec2:DeregisterImage", err)
	}
	return nil
}

// retireSteps sorts the AMIs leaving the keep window by what retention does
// to them now (plan.RetireStage), and names one whose protection it lifts.
func (dr *dryRunner) retireSteps(ids []string, images map[string]plan.Image) (retire, del []string, guarded string) {
	now := dr.now()
	for _, id := range ids {
		img := images[id]
		step, _ := plan.RetireStage(img, now, dr.t.Settings.DeleteAfter)
		switch step {
		case plan.RetireNow:
			retire = append(retire, id)
		case plan.RetireDelete:
			del = append(del, id)
		}
		if step != plan.RetireWait && img.Life.Protected && guarded == "" {
			guarded = id
		}
	}
	return retire, del, guarded
}
