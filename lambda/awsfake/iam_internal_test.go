package awsfake

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The evaluator against requests built by hand: IAM's evaluation logic for
// the elements amibump's role uses.
func TestPolicyDecide(t *testing.T) {
	image := "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0"
	tags := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	tests := []struct {
		name   string
		policy string
		req    request
		want   bool
	}{
		{"no statement: implicit deny",
			`{"Statement":[]}`, request{action: "ec2:DescribeImages", resource: "*"}, false},
		{"action wildcard, any case",
			`{"Statement":[{"Effect":"Allow","Action":"EC2:describe*","Resource":"*"}]}`,
			request{action: "ec2:DescribeImages", resource: "*"}, true},
		{"another service's action",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`,
			request{action: "ssm:GetParameters", resource: "*"}, false},
		{"resource wildcard",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"arn:aws:ec2:us-east-1::image/*"}]}`,
			request{action: "ec2:DeregisterImage", resource: image}, true},
		{"resource of another region",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"arn:aws:ec2:eu-west-1::image/*"}]}`,
			request{action: "ec2:DeregisterImage", resource: image}, false},
		{"a resource ARN does not match * as a Describe's resource",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DescribeImages","Resource":"arn:aws:ec2:us-east-1::image/*"}]}`,
			request{action: "ec2:DescribeImages", resource: "*"}, false},
		{"explicit deny wins",
			`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"No","Effect":"Deny","Action":"ec2:DeregisterImage","Resource":"*"}]}`,
			request{action: "ec2:DeregisterImage", resource: image}, false},
		{"Null false: the tag is there",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"*","Condition":{"Null":{"aws:ResourceTag/amibump:launch-template":"false"}}}]}`,
			request{action: "ec2:DeregisterImage", resource: image, keys: tags("aws:resourcetag/amibump:launch-template", "lt-1")}, true},
		{"Null false: the tag is not there",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"*","Condition":{"Null":{"aws:ResourceTag/amibump:launch-template":"false"}}}]}`,
			request{action: "ec2:DeregisterImage", resource: image, keys: tags("aws:resourcetag/team", "platform")}, false},
		{"Null true: the tag is not there",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"*","Condition":{"Null":{"aws:ResourceTag/keep":"true"}}}]}`,
			request{action: "ec2:DeregisterImage", resource: image}, true},
		{"condition key names in any case, tag keys as written",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"*","Condition":{"StringEquals":{"AWS:RESOURCETAG/Team":"platform"}}}]}`,
			request{action: "ec2:DeregisterImage", resource: image, keys: tags("aws:resourcetag/Team", "platform")}, true},
		{"tag keys are case-sensitive",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:DeregisterImage","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"platform"}}}]}`,
			request{action: "ec2:DeregisterImage", resource: image, keys: tags("aws:resourcetag/Team", "platform")}, false},
		{"StringEquals: any of the values",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":["RunInstances","CreateImage"]}}}]}`,
			request{action: "ec2:CreateTags", resource: image, keys: tags("ec2:createaction", "CreateImage")}, true},
		{"StringEquals on a key the request lacks",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateImage"}}}]}`,
			request{action: "ec2:CreateTags", resource: image}, false},
		{"StringEqualsIfExists on a key the request lacks",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEqualsIfExists":{"ec2:CreateAction":"CreateImage"}}}]}`,
			request{action: "ec2:CreateTags", resource: image}, true},
		{"StringNotEquals on a key the request lacks",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/env":"prod"}}}]}`,
			request{action: "ec2:CreateTags", resource: image}, true},
		{"StringNotEquals on a matching value",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceTag/env":"prod"}}}]}`,
			request{action: "ec2:CreateTags", resource: image, keys: tags("aws:resourcetag/env", "prod")}, false},
		{"StringLike",
			`{"Statement":[{"Effect":"Allow","Action":"autoscaling:StartInstanceRefresh","Resource":"*","Condition":{"StringLike":{"autoscaling:ResourceTag/amibump:app":"sh?p*"}}}]}`,
			request{action: "autoscaling:StartInstanceRefresh", resource: "*", keys: tags("autoscaling:resourcetag/amibump:app", "shop")}, true},
		{"ArnLike",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ArnLike":{"aws:ResourceTag/src":"arn:aws:ec2:*:*:instance/*"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:resourcetag/src", "arn:aws:ec2:us-east-1:123456789012:instance/i-1")}, true},
		{"ForAllValues: every key among the allowed",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:tagkeys", "a", "aws:tagkeys", "b")}, true},
		{"ForAllValues: one key outside",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:tagkeys", "a", "aws:tagkeys", "b")}, false},
		{"ForAllValues: no keys in the request (IAM: true)",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, true},
		{"ForAnyValue: one key among",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["b"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:tagkeys", "a", "aws:tagkeys", "b")}, true},
		{"ForAnyValue: no keys in the request",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["b"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, false},
		{"every operator and key must hold",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"Null":{"aws:ResourceTag/amibump:app":"false"},"ForAllValues:StringEquals":{"aws:TagKeys":["amibump:drift-reported"]}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:tagkeys", "amibump:drift-reported")}, false},
		{"Bool",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"Bool":{"aws:ResourceTag/x":true}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:resourcetag/x", "true")}, true},
		{"an unknown operator: the Allow does not apply",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"NumericLessThan":{"aws:ResourceTag/n":"3"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*", keys: tags("aws:resourcetag/n", "1")}, false},
		{"an unknown key: the Allow does not apply",
			`{"Statement":[{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringEquals":{"aws:SourceIp":"10.0.0.1"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, false},
		{"an unknown key: the Deny applies",
			`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, false},
		{"an unknown operator: the Deny applies",
			`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"DateGreaterThan":{"aws:ResourceTag/t":"2026-01-01"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, false},
		{"a Deny whose condition fails does not apply",
			`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"Null":{"aws:ResourceTag/locked":"false"}}}]}`,
			request{action: "ec2:CreateTags", resource: "*"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.policy)
			if d := p.decide(tt.req); d.allowed != tt.want {
				t.Errorf("allowed = %v (%s), want %v", d.allowed, d.reason, tt.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["ec2:CreateTags","ec2:DeleteSnapshot"],"Resource":"*","Condition":{"StringEquals":{"ec2:CreateAction":"CreateImage"}}}]}`)
	if s := p.Statement[0]; s.Sid != "A" || len(s.Action) != 2 || s.Resource[0] != "*" || s.Condition["StringEquals"]["ec2:CreateAction"][0] != "CreateImage" {
		t.Errorf("parsed %+v", p)
	}
	for _, bad := range []struct{ name, doc, want string }{
		{"NotAction", `{"Statement":[{"Effect":"Allow","NotAction":"ec2:*","Resource":"*"}]}`, "NotAction"},
		{"NotResource", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","NotResource":"*"}]}`, "NotResource"},
		{"Principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:*","Resource":"*"}]}`, "Principal"},
		{"Effect", `{"Statement":[{"Effect":"allow","Action":"ec2:*","Resource":"*"}]}`, "Allow or Deny"},
		{"no Resource", `{"Statement":[{"Effect":"Allow","Action":"ec2:*"}]}`, "required"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if _, err := ParsePolicy([]byte(bad.doc)); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("got %v, want an error naming %s", err, bad.want)
			}
		})
	}
}

func TestPolicyWithout(t *testing.T) {
	p := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParameters"],"Resource":"*"},{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"}]}`)
	q := p.Without("ssm:GetParameters")
	if len(q.Statement) != 1 || len(q.Statement[0].Action) != 1 || q.Statement[0].Action[0] != "ssm:GetParameter" {
		t.Errorf("without ssm:GetParameters: %+v", q)
	}
	if len(p.Statement[0].Action) != 2 {
		t.Errorf("Without changed the policy it was called on: %+v", p)
	}
	if q.decide(request{action: "ssm:GetParameters", resource: "*"}).allowed {
		t.Error("ssm:GetParameters is still allowed")
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"a*c", "abbbc", true}, {"a*c", "abd", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*:parameter/amibump/*", "arn:aws:ssm:r:1:parameter/amibump/x", true},
		{"arn:aws:ec2:*::image/*", "arn:aws:ec2:us-east-1::snapshot/snap-1", false}, {"ab", "abc", false},
	} {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// An operation whose resources the fake does not model is authorized as its
// action on *: a grant scoped to resources does not cover it.
func TestUnmodelledOperationAuthorizedOnAnyResource(t *testing.T) {
	type unmodelledInput struct{}
	c := New()
	scoped := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/amibump/*"}]}`)
	c.SetPolicy(&scoped)
	if err := c.authorize(svcSSM, "GetParametersByPath", &unmodelledInput{}); err == nil || !strings.Contains(err.Error(), "ssm:GetParametersByPath on resource: *") {
		t.Errorf("scoped grant: got %v, want AccessDeniedException for ssm:GetParametersByPath on *", err)
	}
	onAny := mustParse(t, `{"Statement":[{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"*"}]}`)
	c.SetPolicy(&onAny)
	if err := c.authorize(svcSSM, "GetParametersByPath", &unmodelledInput{}); err != nil {
		t.Errorf("a grant on *: %v", err)
	}
}
