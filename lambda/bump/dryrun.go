package bump

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
	"github.com/amibump/amibump/lambda/plan"
)

// dryRun resolves what a deploy would do to one template and checks the
// permissions of each change with EC2's DryRun; it changes nothing.
func (r *run) dryRun(ctx context.Context, d *event.Deploy, deploy plan.Deploy, t target, st templateState, mine *image) (event.Result, error) {
	res := event.Result{Status: event.DryRun}
	say := func(format string, args ...any) { res.Plan = append(res.Plan, fmt.Sprintf(format, args...)) }
	var denied []string
	check := func(action string, err error) error {
		switch {
		case hasCode(err, "DryRunOperation"):
			return nil
		case err != nil && isAccessDenied(errorCode(err)):
			denied = append(denied, fmt.Sprintf("%s: %s", action, errorCode(err)))
			return nil
		case err == nil:
			return fmt.Errorf("%s: dry run was not honoured", action)
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	latest := st.Plan.Latest()
	latestImage := versionImage(st.Plan, latest)
	if standing, v := plan.Check(st.Plan, deploy); standing == plan.Current {
		res.Version, res.ImageID = v.Number, v.ImageID
		say("nothing to do: version %d of %s already carries this build's AMI %s", v.Number, t.Name, v.ImageID)
		return res, nil
	}
	var img plan.Image
	if mine != nil && mine.State == "failed" {
		say("remove the failed image %s of an earlier attempt (%s), then make a fresh one", mine.ID, mine.Reason)
		mine = nil
	}
	if mine != nil {
		img = mine.Image
		say("resume on image %s (%s), made by an earlier attempt", mine.ID, mine.State)
	} else {
		src, err := r.pickSource(ctx, t, d.InstanceID)
		if err != nil {
			return res, err
		}
		res.SourceInstance = src.InstanceID
		name := plan.AMIName(t.Name, deploy)
		say("image instance %s (%s) without reboot as AMI %s", src.InstanceID, src.Why, name)
		_, err = r.createImage(ctx, r.log, d, deploy, t, src.InstanceID, true)
		if err := check("ec2:CreateImage", err); err != nil {
			return res, err
		}
		img = plan.Image{ID: "(new AMI)", Deploy: deploy, State: "available"}
	}
	say("wait until the AMI is available, then create version %d of %s from $Latest (version %d) with only the AMI replaced", latest+1, t.Name, latest)
	if latestImage != "" {
		_, err := r.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
			LaunchTemplateId: aws.String(t.ID), SourceVersion: aws.String("$Latest"), DryRun: aws.Bool(true),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(latestImage)},
		})
		if err := check("ec2:CreateLaunchTemplateVersion", err); err != nil {
			return res, err
		}
	}
	res.Plan = append(res.Plan, r.parameterPlan(t, st)...)
	if t.Settings.SetDefault {
		say("set $Default of %s to the new version", t.Name)
		_, err := r.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
			LaunchTemplateId: aws.String(t.ID), DefaultVersion: aws.String(strconv.FormatInt(latest, 10)), DryRun: aws.Bool(true),
		})
		if err := check("ec2:ModifyLaunchTemplate", err); err != nil {
			return res, err
		}
	} else {
		say("leave $Default of %s alone (%s=false)", t.Name, event.TagSetDefault)
	}
	groups, err := r.autoScalingGroups(ctx)
	if err != nil {
		return res, err
	}
	var using []string
	for _, g := range groups {
		for _, u := range uses(g, t) {
			where := ""
			if u.Where != "" {
				where = ", " + u.Where
			}
			using = append(using, fmt.Sprintf("%s at %s%s", u.Group, u.Version, where))
		}
	}
	if len(using) > 0 {
		say("groups launching from %s: %s", t.Name, strings.Join(using, "; "))
	} else {
		say("no Auto Scaling group launches from %s", t.Name)
	}
	res.Warnings = groupWarnings(groups, t, st.Resolving)
	if t.Settings.InstanceRefresh {
		say("start an instance refresh (SkipMatching) on the groups at $Latest or $Default")
	}
	// Retention as it would stand after the promotion.
	after := plan.Template{Images: map[string]plan.Image{img.ID: img}}
	for id, im := range st.Plan.Images {
		after.Images[id] = im
	}
	for _, v := range st.Plan.Versions {
		v.Default = v.Default && !t.Settings.SetDefault
		after.Versions = append(after.Versions, v)
	}
	after.Versions = append(after.Versions, plan.Version{Number: latest + 1, ImageID: img.ID, Marked: true, Default: t.Settings.SetDefault})
	if p := plan.Retain(after, t.Settings.Keep, pinnedVersions(groups, t)); len(p.Versions)+len(p.Images) > 0 {
		say("retention (keep %d): delete versions %v; deregister AMIs %v unless an instance or another template uses them", t.Settings.Keep, p.Versions, p.Images)
		if len(p.Versions) > 0 {
			_, err := r.ec2.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{
				LaunchTemplateId: aws.String(t.ID), Versions: []string{strconv.FormatInt(p.Versions[0], 10)}, DryRun: aws.Bool(true),
			})
			if err := check("ec2:DeleteLaunchTemplateVersions", err); err != nil {
				return res, err
			}
		}
		if len(p.Images) > 0 {
			_, err := r.ec2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(p.Images[0]), DeleteAssociatedSnapshots: aws.Bool(true), DryRun: aws.Bool(true)})
			if err := check("ec2:DeregisterImage", err); err != nil {
				return res, err
			}
		}
	}
	if len(denied) > 0 {
		return res, rejectf("dry run: not allowed to %s; grant these to the role that runs amibump", strings.Join(denied, ", "))
	}
	return res, nil
}
