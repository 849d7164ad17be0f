package bump

import astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

// GroupUse is one place where an Auto Scaling group launches from a launch
// template: the group's own launch template (Where ""), its mixed instances
// policy, or one of the policy's overrides. Version is as the group names it
// ("$Latest", "$Default" or a number); an unset version is "$Default", as in
// Auto Scaling.
type GroupUse struct {
	Group, Where, Version string
}

// GroupUses lists where group g launches from the launch template with this id
// and name, as the function reads it when it warns about pinned groups: amibump
// status reports the same groups the function does.
func GroupUses(g astypes.AutoScalingGroup, templateID, templateName string) []GroupUse {
	var out []GroupUse
	for _, u := range uses(g, target{ID: templateID, Name: templateName}) {
		out = append(out, GroupUse(u))
	}
	return out
}
