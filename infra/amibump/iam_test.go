package amibump_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// serviceAuthorization is the Service Authorization Reference data in
// testdata/iam (see update.sh there for its source): per service, each
// action's resource types, and each resource type's ARN formats and condition keys.
type serviceAuthorization struct {
	Services map[string]struct {
		Actions map[string]struct {
			Resources []string
		}
		Resources map[string]struct {
			ARNFormats    []string
			ConditionKeys []string
		}
	}
}

// actionConditionKeys are the keys the reference lists on an action rather
// than on its resource types (testdata/iam/action-condition-keys.json).
type actionConditionKeys struct {
	Actions map[string]struct{ Keys []string }
}

// globalConditionKeys are AWS's global keys that do not depend on the
// resource (tags are not among them: those are the resource type's keys).
var globalConditionKeys = []string{
	"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SecureTransport", "aws:CalledVia",
	"aws:ViaAWSService", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID",
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Every statement of the role names, for each action, only resources of a
// type that action is authorized on (or * for an action that has none), and
// only condition keys that the reference lists for that action and type.
// A wrong ARN shape or a misspelled key is silently ignored by IAM: the grant
// is then either nothing or everything.
func TestRoleMatchesTheServiceAuthorizationReference(t *testing.T) {
	checkServiceAuthorization(t, defaultStack(t))
}

func checkServiceAuthorization(t *testing.T, s *synthesized) {
	t.Helper()
	var sar serviceAuthorization
	readJSON(t, "testdata/iam/service-authorization.json", &sar)
	var extra actionConditionKeys
	readJSON(t, "testdata/iam/action-condition-keys.json", &extra)
	for _, st := range s.roleStatements(t) {
		sid, _ := st["Sid"].(string)
		resources := renderResources(t, s, st["Resource"])
		for _, action := range actions(st) {
			t.Run(sid+"/"+action, func(t *testing.T) {
				service, name, _ := strings.Cut(action, ":")
				svc, ok := sar.Services[service]
				if !ok {
					t.Fatalf("service %s is not in testdata/iam/service-authorization.json; add it to update.sh", service)
				}
				act, ok := svc.Actions[strings.ToLower(name)]
				if !ok {
					t.Fatalf("%s is not an action of %s in the reference", action, service)
				}
				var types [][]string // condition keys of the type each resource matched
				for _, r := range resources {
					keys, err := resourceTypeKeys(r, act.Resources, svc.Resources)
					if err != nil {
						t.Errorf("%s on %s: %v", action, r, err)
						continue
					}
					types = append(types, keys)
				}
				for _, key := range conditionKeys(st) {
					if !conditionKeyAllowed(key, extra.Actions[action].Keys, types) {
						t.Errorf("%s: condition key %s is not one the reference lists for the action or its resource types", action, key)
					}
				}
			})
		}
	}
}

// resourceTypeKeys returns the condition keys of the action's resource type
// that resource is an ARN of; an error when it is none of them.
func resourceTypeKeys(resource string, actionTypes []string, types map[string]struct {
	ARNFormats    []string
	ConditionKeys []string
}) ([]string, error) {
	if len(actionTypes) == 0 {
		if resource != "*" {
			return nil, fmt.Errorf("the action has no resource types, so only * applies")
		}
		return nil, nil
	}
	if resource == "*" {
		return nil, fmt.Errorf("the action is authorized on %v; name them instead of *", actionTypes)
	}
	sample := strings.ReplaceAll(resource, "*", "x") // a resource the pattern covers
	for _, name := range actionTypes {
		typ := types[strings.ToLower(name)]
		for _, format := range typ.ARNFormats {
			if arnFormat(format).MatchString(sample) {
				return typ.ConditionKeys, nil
			}
		}
	}
	return nil, fmt.Errorf("not an ARN of the action's resource types %v", actionTypes)
}

var arnVariable = regexp.MustCompile(`\\\$\\\{(Partition|Region|Account)\\\}`)

// arnFormat turns the reference's format (a regular expression with
// ${Partition}, ${Region}, ${Account}) into an anchored regexp.
func arnFormat(format string) *regexp.Regexp {
	quoted := strings.ReplaceAll(regexp.QuoteMeta(format), `\.\*`, `.*`)
	return regexp.MustCompile("^" + arnVariable.ReplaceAllString(quoted, `[^:]*`) + "$")
}

// conditionKeyAllowed: key is global, on the action, or on the resource type
// of every resource of the statement.
func conditionKeyAllowed(key string, onAction []string, types [][]string) bool {
	if slices.Contains(globalConditionKeys, key) || keyIn(key, onAction) {
		return true
	}
	if len(types) == 0 {
		return false
	}
	for _, keys := range types {
		if !keyIn(key, keys) {
			return false
		}
	}
	return true
}

// keyIn matches key against the reference's keys, where ${TagKey} and
// ${AttributeName} stand for any name.
func keyIn(key string, keys []string) bool {
	for _, k := range keys {
		if prefix, ok := strings.CutSuffix(k, "${TagKey}"); ok && strings.HasPrefix(key, prefix) && len(key) > len(prefix) {
			return true
		}
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// conditionKeys of a statement, over every operator.
func conditionKeys(st map[string]any) []string {
	var out []string
	cond, _ := st["Condition"].(map[string]any)
	for _, byKey := range cond {
		for key := range byKey.(map[string]any) {
			out = append(out, key)
		}
	}
	return out
}

// renderResources turns a statement's Resource (a string, a list, or
// CloudFormation functions) into ARN strings, with the pseudo parameters of a
// deployment in us-east-1 and the ARNs of the stack's resources by type.
func renderResources(t *testing.T, s *synthesized, v any) []string {
	t.Helper()
	if list, ok := v.([]any); ok {
		var out []string
		for _, x := range list {
			out = append(out, render(t, s, x))
		}
		return out
	}
	return []string{render(t, s, v)}
}

var pseudo = map[string]string{"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::URLSuffix": "amazonaws.com"}

// arnOfType is the shape of Fn::GetAtt <resource>.Arn per resource type.
var arnOfType = map[string]string{
	"AWS::Events::EventBus": "arn:aws:events:us-east-1:123456789012:event-bus/%s",
	"AWS::Logs::LogGroup":   "arn:aws:logs:us-east-1:123456789012:log-group:%s:*",
	"AWS::SQS::Queue":       "arn:aws:sqs:us-east-1:123456789012:%s",
}

func render(t *testing.T, s *synthesized, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			if p, ok := pseudo[ref]; ok {
				return p
			}
			return ref
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && att[1] == "Arn" {
			typ := s.json["Resources"].(map[string]any)[att[0].(string)].(map[string]any)["Type"].(string)
			if f, ok := arnOfType[typ]; ok {
				return fmt.Sprintf(f, att[0])
			}
			t.Fatalf("no ARN shape for %s (%s); add it to arnOfType", att[0], typ)
		}
		if join, ok := v["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, render(t, s, p))
			}
			return strings.Join(parts, join[0].(string))
		}
	}
	t.Fatalf("cannot render %v as an ARN", v)
	return ""
}
