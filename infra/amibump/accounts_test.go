package amibump_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/infra/amibump"
)

// The settings of the custom stack (customStack) that reach other accounts.
const (
	ciOrg      = "o-a1b2c3d4e5"
	opsAccount = "111122223333"
	resultsBus = "arn:aws:events:eu-west-1:444455556666:event-bus/amibump-results"
)

// The stack with ciOrgId and nothing restricted: this file's one synth.
var orgOnly once

func orgOnlyStack(t *testing.T) *synthesized {
	return orgOnly.get(t, func(t testing.TB) amibump.Props {
		p := amibump.Defaults()
		p.CIOrgID, p.FunctionSource = ciOrg, functionSource(t)
		return p
	}, nil)
}

// readOnlyRole returns the custom stack's amibump-readonly role resource.
func readOnlyRole(t *testing.T, s *synthesized) map[string]any {
	t.Helper()
	for _, r := range s.resources("AWS::IAM::Role") {
		if r["RoleName"] == amibump.ReadOnlyRoleName {
			return r
		}
	}
	t.Fatalf("no role named %s", amibump.ReadOnlyRoleName)
	return nil
}

// amibump-readonly grants exactly the calls amibump status makes, on *, in
// one inline policy, and nothing else; it is trusted by the readOnlyTrust
// account and the organisation's principals.
func TestReadOnlyRole(t *testing.T) {
	s := customStack(t)
	role := readOnlyRole(t, s)
	var got []map[string]any
	for _, p := range role["Policies"].([]any) {
		for _, st := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			got = append(got, st.(map[string]any))
		}
	}
	want := normalize([]map[string]any{{"Sid": "StatusReads", "Effect": "Allow", "Resource": "*", "Action": []string{
		"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeWarmPool", "ec2:DescribeImages",
		"ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates",
	}}})
	if diff := cmp.Diff(want, normalize(got)); diff != "" {
		t.Errorf("amibump-readonly's statements (-want +got):\n%s", diff)
	}
	for _, st := range got {
		for _, a := range actions(st) {
			if !strings.Contains(a, ":Describe") && !strings.Contains(a, ":Get") && !strings.Contains(a, ":List") {
				t.Errorf("amibump-readonly may %s, which is not a read", a)
			}
		}
	}
	trust := normalize(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
	wantTrust := normalize([]any{
		map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"AWS": "*"},
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": ciOrg}}},
		map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"AWS": map[string]any{
			"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::" + opsAccount + ":root"}}}}},
	})
	if diff := cmp.Diff(wantTrust, trust); diff != "" {
		t.Errorf("amibump-readonly's trust (-want +got):\n%s", diff)
	}
}

// The role's actions are all status needs: each is one the service
// authorization reference knows, with no resource types (so * is right).
func TestReadOnlyRoleMatchesTheServiceAuthorizationReference(t *testing.T) {
	var sar serviceAuthorization
	readJSON(t, "testdata/iam/service-authorization.json", &sar)
	for _, action := range amibump.ReadOnlyActions {
		service, name, _ := strings.Cut(action, ":")
		act, ok := sar.Services[service].Actions[strings.ToLower(name)]
		if !ok {
			t.Errorf("%s is not an action of %s in the reference", action, service)
			continue
		}
		if len(act.Resources) != 0 {
			t.Errorf("%s is authorized on %v: grant it on those, not *", action, act.Resources)
		}
	}
}

// No readOnlyTrust (the default): no role nobody could assume.
func TestNoReadOnlyRoleByDefault(t *testing.T) {
	s := defaultStack(t)
	if s.construct.ReadOnlyRole != nil {
		t.Error("the default stack has a read-only role")
	}
	for _, r := range s.resources("AWS::IAM::Role") {
		if r["RoleName"] == amibump.ReadOnlyRoleName {
			t.Errorf("the default stack creates %s", amibump.ReadOnlyRoleName)
		}
	}
}

// resultsBusArn: one rule on the bus forwards the function's bump-finished
// events (its own: a result another region forwarded here is not sent on) to
// that bus, with a role that may put events there only.
func TestResultsAreForwardedToTheResultsBus(t *testing.T) {
	s := customStack(t)
	rule := s.id(s.construct.ResultsRule)
	props := s.resources("AWS::Events::Rule")[rule]
	targets := props["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("the results rule has %d targets, want 1", len(targets))
	}
	target := targets[0].(map[string]any)
	if diff := cmp.Diff(normalize(map[string]any{
		"EventBusName": map[string]any{"Ref": s.id(s.construct.Bus)},
		"EventPattern": map[string]any{"source": []string{"amibump"}, "detail-type": []string{"bump-finished"}, "detail": map[string]any{
			"account": []any{map[string]any{"Ref": "AWS::AccountId"}},
			"region":  []any{map[string]any{"Ref": "AWS::Region"}},
		}},
		"Arn": resultsBus,
	}), normalize(map[string]any{"EventBusName": props["EventBusName"], "EventPattern": props["EventPattern"], "Arn": target["Arn"]})); diff != "" {
		t.Errorf("results rule (-want +got):\n%s", diff)
	}
	roleRef := target["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0]
	var puts []any
	for _, p := range s.resources("AWS::IAM::Policy") {
		if slices.ContainsFunc(p["Roles"].([]any), func(r any) bool { return cmp.Equal(r, map[string]any{"Ref": roleRef}) }) {
			puts = append(puts, p["PolicyDocument"].(map[string]any)["Statement"].([]any)...)
		}
	}
	want := normalize([]any{map[string]any{"Action": "events:PutEvents", "Effect": "Allow", "Resource": resultsBus}})
	if diff := cmp.Diff(want, normalize(puts)); diff != "" {
		t.Errorf("the forwarding role's statements (-want +got):\n%s", diff)
	}
	if defaultStack(t).construct.ResultsRule != nil {
		t.Error("the default stack forwards results")
	}
}

// request is one PutEvents entry as the bus policy sees it.
type request struct {
	principalArn, orgID, source, detailType string
}

// allowed evaluates the bus policy of s for a principal of another account
// (the identity policy allows; the bus policy must too): an explicit Deny
// wins, else an Allow is needed. It knows the condition operators amibump's
// bus policy uses, and fails the test on any other.
func allowed(t *testing.T, s *synthesized, r request) bool {
	t.Helper()
	keys := map[string]string{"aws:PrincipalArn": r.principalArn, "aws:PrincipalOrgID": r.orgID,
		"events:source": r.source, "events:detail-type": r.detailType}
	allow := false
	for _, p := range s.resources("AWS::Events::EventBusPolicy") {
		st := p["Statement"].(map[string]any)
		if !principalMatches(t, st["Principal"], r.principalArn) || !conditionsHold(t, st["Condition"], keys) {
			continue
		}
		if st["Effect"] == "Deny" {
			return false
		}
		allow = true
	}
	return allow
}

func principalMatches(t *testing.T, principal any, arn string) bool {
	t.Helper()
	var all []any
	switch p := principal.(map[string]any)["AWS"].(type) {
	case []any:
		all = p
	default:
		all = []any{p}
	}
	for _, p := range all {
		s := renderPartition(t, p)
		account := strings.Split(arn, ":")[4]
		if s == "*" || s == arn || s == "arn:aws:iam::"+account+":root" {
			return true
		}
	}
	return false
}

func conditionsHold(t *testing.T, conditions any, keys map[string]string) bool {
	t.Helper()
	cond, _ := conditions.(map[string]any)
	for op, kv := range cond {
		for key, want := range kv.(map[string]any) {
			var values []string
			switch w := want.(type) {
			case []any:
				for _, v := range w {
					values = append(values, renderPartition(t, v))
				}
			default:
				values = []string{renderPartition(t, w)}
			}
			got := keys[key]
			match := slices.ContainsFunc(values, func(v string) bool { return arnLike(v, got) })
			switch op {
			case "StringEquals":
				if !slices.Contains(values, got) {
					return false
				}
			case "ArnNotLike":
				if match {
					return false
				}
			default:
				t.Fatalf("condition operator %s: teach allowed about it", op)
			}
		}
	}
	return true
}

// renderPartition renders a string or an Fn::Join of strings and
// AWS::Partition, in the aws partition.
func renderPartition(t *testing.T, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		var b strings.Builder
		for _, part := range v["Fn::Join"].([]any)[1].([]any) {
			if s, ok := part.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("aws")
			}
		}
		return b.String()
	}
	t.Fatalf("cannot render %v", v)
	return ""
}

// ciOrgId lets the organisation's principals put deploy-finished events of
// the CI source, and nothing else; restrictDeployEvents still denies those of
// them that are not ciPrincipals: its Deny wins over the organisation's Allow.
func TestCIOrgIdAndRestrictDeployEvents(t *testing.T) {
	custom, open := customStack(t), orgOnlyStack(t)
	orgRole := "arn:aws:iam::777788889999:role/jenkins"
	tests := []struct {
		name string
		s    *synthesized
		r    request
		want bool
	}{
		{"an organisation's role, not restricted", open, request{orgRole, ciOrg, "ci.jenkins", "deploy-finished"}, true},
		{"an organisation's role, another source", open, request{orgRole, ciOrg, "ci.other", "deploy-finished"}, false},
		{"an organisation's role, another detail type", open, request{orgRole, ciOrg, "ci.jenkins", "bump-finished"}, false},
		{"another organisation's role", open, request{orgRole, "o-zzzzzzzzzz", "ci.jenkins", "deploy-finished"}, false},
		{"an organisation's role, restricted, not a ciPrincipal", custom, request{orgRole, ciOrg, "ci.buildkite", "deploy-finished"}, false},
		{"a ciPrincipal role of the organisation, restricted", custom, request{ciRole, ciOrg, "ci.buildkite", "deploy-finished"}, true},
		{"a ciPrincipal account outside the organisation, restricted", custom,
			request{"arn:aws:iam::" + ciAccount + ":role/x", "o-zzzzzzzzzz", "ci.buildkite", "deploy-finished"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allowed(t, tt.s, tt.r); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

// arnLike is IAM's ArnLike: * and ? match any characters, / included.
func arnLike(pattern, arn string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(re)
	return regexp.MustCompile("^" + re + "$").MatchString(arn)
}
