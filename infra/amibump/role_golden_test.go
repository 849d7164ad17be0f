package amibump_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
)

var update = flag.Bool("update", false, "rewrite "+functionRoleGolden)

// functionRoleGolden is the function's role as synthesized with every default
// setting, as one policy document whose ARNs are resolved for the fake
// account (awsfake's partition, region and account): the permission set the
// end-to-end tests (lambda/local) run the function under, so that a grant the
// role lacks fails them as it would fail in AWS.
const functionRoleGolden = "../../testdata/iam/function-role.json"

// The committed permission set of the end-to-end tests is the role the stack
// synthesizes: a changed role must be written there (go test ./infra/amibump
// -run TestFunctionRoleGolden -update) for the end-to-end tests to run under it.
func TestFunctionRoleGolden(t *testing.T) {
	s := defaultStack(t)
	got, err := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": resolvedRoleStatements(t, s)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if _, err := awsfake.ParsePolicy(got); err != nil {
		t.Fatalf("the role cannot be read as the fake's permission set: %v", err)
	}
	if *update {
		if err := os.WriteFile(functionRoleGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(functionRoleGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./infra/amibump -run TestFunctionRoleGolden -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the synthesized role differs from %s, the permission set of the end-to-end tests; "+
			"run go test ./infra/amibump -run TestFunctionRoleGolden -update and check the diff (-golden +synthesized):\n%s",
			functionRoleGolden, cmp.Diff(string(want), string(got)))
	}
}

// resolvedRoleStatements are the statements of the role's policies, in the
// order of the policies' logical ids, with every CloudFormation function
// resolved for the fake account.
func resolvedRoleStatements(t *testing.T, s *synthesized) []any {
	t.Helper()
	role := map[string]any{"Ref": s.id(s.construct.Role)}
	policies := s.resources("AWS::IAM::Policy")
	var ids []string
	for id, p := range policies {
		if slices.ContainsFunc(p["Roles"].([]any), func(r any) bool { return reflect.DeepEqual(r, role) }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []any
	for _, id := range ids {
		for _, st := range policies[id]["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, resolveForFake(t, s, st))
		}
	}
	return out
}

// fakePseudo are the pseudo parameters of the fake account.
var fakePseudo = map[string]string{
	"AWS::Partition": awsfake.Partition, "AWS::Region": awsfake.Region,
	"AWS::AccountId": awsfake.Account, "AWS::URLSuffix": "amazonaws.com",
}

// resolveForFake replaces Ref, Fn::Join and Fn::GetAtt ….Arn by the strings
// they are in the fake account: a resource's ARN from its name property
// (Name, QueueName, LogGroupName), or its logical id when it has none.
func resolveForFake(t *testing.T, s *synthesized, v any) any {
	t.Helper()
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveForFake(t, s, x)
		}
		return out
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok && len(v) == 1 {
			if p, ok := fakePseudo[ref]; ok {
				return p
			}
			t.Fatalf("cannot resolve Ref %s for the fake account", ref)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(v) == 1 {
			return fakeARN(t, s, att)
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(v) == 1 {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, resolveForFake(t, s, p).(string))
			}
			return strings.Join(parts, join[0].(string))
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolveForFake(t, s, x)
		}
		return out
	}
	return v
}

func fakeARN(t *testing.T, s *synthesized, att []any) string {
	t.Helper()
	id := att[0].(string)
	r := s.json["Resources"].(map[string]any)[id].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	name := func(key string) string {
		if n, ok := props[key].(string); ok {
			return n
		}
		return id
	}
	prefix := fmt.Sprintf("arn:%s:%%s:%s:%s:", awsfake.Partition, awsfake.Region, awsfake.Account)
	switch {
	case att[1] != "Arn":
	case r["Type"] == "AWS::Events::EventBus":
		return fmt.Sprintf(prefix, "events") + "event-bus/" + name("Name")
	case r["Type"] == "AWS::SQS::Queue":
		return fmt.Sprintf(prefix, "sqs") + name("QueueName")
	case r["Type"] == "AWS::Logs::LogGroup":
		return fmt.Sprintf(prefix, "logs") + "log-group:" + name("LogGroupName") + ":*"
	}
	t.Fatalf("cannot resolve Fn::GetAtt %v (%s) for the fake account; add it to fakeARN", att, r["Type"])
	return ""
}
