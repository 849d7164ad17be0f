package amibump_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/infra/amibump"
)

// A stack in us-east-1 that forwards its releases to two replica regions
// (beside a results bus) and copies another region's release with its own
// key (a region may be both, active/active): this file's one synth.
var replicas once

var replicaRegions = []string{"us-west-2", "eu-west-1"}

const copyKey = "arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"

func replicaStack(t *testing.T) *synthesized {
	return replicas.get(t, func(t testing.TB) amibump.Props {
		p := amibump.Defaults()
		p.FunctionSource = functionSource(t)
		p.ReplicaRegions = replicaRegions
		p.ResultsBusARN = resultsBus
		p.CopyKmsKeyARN = copyKey
		return p
	}, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")})
}

// replicaBusARN is the ARN the stack builds for the bus of region: the
// partition and account from pseudo parameters, the bus named busName.
func replicaBusARN(region string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{
		"arn:", map[string]any{"Ref": "AWS::Partition"}, ":events:" + region + ":", map[string]any{"Ref": "AWS::AccountId"}, ":event-bus/amibump",
	}}}
}

// replicaBusARN's value as the forwarding role's policy writes it may differ
// in shape from the rule's; resolved compares them as JSON.
func resolved(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// replicaRegions: one rule on the bus forwards the function's own promoted
// results (its account and region in the result) to the bus of each replica
// region, with the dead-letter queue and one role EventBridge assumes.
func TestReplicaRegionsForwardPromotedResults(t *testing.T) {
	s := replicaStack(t)
	if s.construct.ReplicaRule == nil {
		t.Fatal("no replica rule")
	}
	rule := s.resources("AWS::Events::Rule")[s.id(s.construct.ReplicaRule)]
	if diff := cmp.Diff(normalize(map[string]any{
		"EventBusName": map[string]any{"Ref": s.id(s.construct.Bus)},
		"State":        "ENABLED",
		"EventPattern": map[string]any{
			"source": []string{"amibump"}, "detail-type": []string{"bump-finished"},
			"detail": map[string]any{
				"status":  []string{"promoted"},
				"account": []any{map[string]any{"Ref": "AWS::AccountId"}},
				"region":  []any{map[string]any{"Ref": "AWS::Region"}},
			},
		},
	}), normalize(map[string]any{"EventBusName": rule["EventBusName"], "State": rule["State"], "EventPattern": rule["EventPattern"]})); diff != "" {
		t.Errorf("replica rule (-want +got):\n%s", diff)
	}
	dlq := map[string]any{"Fn::GetAtt": []any{s.id(s.construct.DeadLetterQueue), "Arn"}}
	var arns []string
	roles := map[string]bool{}
	for _, target := range rule["Targets"].([]any) {
		target := target.(map[string]any)
		arns = append(arns, resolved(target["Arn"]))
		roles[resolved(target["RoleArn"])] = true
		if diff := cmp.Diff(normalize(map[string]any{"Arn": dlq}), normalize(target["DeadLetterConfig"])); diff != "" {
			t.Errorf("target %s: dead-letter queue (-want +got):\n%s", resolved(target["Arn"]), diff)
		}
	}
	var want []string
	for _, r := range replicaRegions {
		want = append(want, resolved(replicaBusARN(r)))
	}
	slices.Sort(arns)
	slices.Sort(want)
	if diff := cmp.Diff(want, arns); diff != "" {
		t.Errorf("the rule's targets (-want +got):\n%s", diff)
	}
	if len(roles) != 1 {
		t.Errorf("the targets use %d roles, want one for the rule", len(roles))
	}
}

// The role EventBridge assumes may put events on the replica buses and do
// nothing else; only EventBridge may assume it.
func TestReplicaForwardingRole(t *testing.T) {
	s := replicaStack(t)
	rule := s.resources("AWS::Events::Rule")[s.id(s.construct.ReplicaRule)]
	roleRef := rule["Targets"].([]any)[0].(map[string]any)["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
	role := s.resources("AWS::IAM::Role")[roleRef]
	trust := normalize(role["AssumeRolePolicyDocument"].(map[string]any)["Statement"])
	wantTrust := normalize([]any{map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "events.amazonaws.com"}}})
	if diff := cmp.Diff(wantTrust, trust); diff != "" {
		t.Errorf("trust of the forwarding role (-want +got):\n%s", diff)
	}
	var got []string
	for _, p := range s.resources("AWS::IAM::Policy") {
		if !slices.ContainsFunc(p["Roles"].([]any), func(r any) bool { return cmp.Equal(r, map[string]any{"Ref": roleRef}) }) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" || !cmp.Equal(actions(st), []string{"events:PutEvents"}) || st["Condition"] != nil {
				t.Errorf("the forwarding role may %v", st)
			}
			resources, isList := st["Resource"].([]any)
			if !isList {
				resources = []any{st["Resource"]}
			}
			for _, r := range resources {
				got = append(got, resolved(r))
			}
		}
	}
	var want []string
	for _, r := range replicaRegions {
		want = append(want, resolved(replicaBusARN(r)))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the buses the forwarding role may put events on (-want +got):\n%s", diff)
	}
}

// The dead-letter queue lets the replica rule send what it cannot deliver
// (the CDK adds the statement, conditioned on the rule's ARN).
func TestReplicaRuleMaySendToTheDeadLetterQueue(t *testing.T) {
	s := replicaStack(t)
	ruleArn := resolved(map[string]any{"Fn::GetAtt": []any{s.id(s.construct.ReplicaRule), "Arn"}})
	for _, p := range s.resources("AWS::SQS::QueuePolicy") {
		if !strings.Contains(resolved(p["Queues"]), s.id(s.construct.DeadLetterQueue)) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] == "Allow" && slices.Contains(actions(st), "sqs:SendMessage") && strings.Contains(resolved(st["Condition"]), ruleArn) {
				return
			}
		}
	}
	t.Error("no statement of the dead-letter queue's policy lets the replica rule send to it")
}

// resultsBusArn's rule stays beside it: every result to the results bus,
// the promoted ones also to the replica regions.
func TestReplicaAndResultsRulesCoexist(t *testing.T) {
	s := replicaStack(t)
	if s.construct.ResultsRule == nil {
		t.Fatal("no results rule beside the replica rule")
	}
	check(t, func() { s.template.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(7)) })
	results := s.resources("AWS::Events::Rule")[s.id(s.construct.ResultsRule)]
	if got := resolved(results["Targets"].([]any)[0].(map[string]any)["Arn"]); got != resolved(resultsBus) {
		t.Errorf("results rule targets %s, want %s", got, resultsBus)
	}
}

// The ARNs of the replica buses come from AWS::Partition (the results bus
// ARN, a setting, is written as given).
func TestReplicaBusesHaveNoHardCodedPartition(t *testing.T) {
	s := replicaStack(t)
	rule := resolved(s.resources("AWS::Events::Rule")[s.id(s.construct.ReplicaRule)])
	if found := literalPartition.FindAllString(rule, -1); len(found) > 0 {
		t.Errorf("the replica rule has ARNs with a literal partition: %v", found)
	}
}

func TestReplicaNagAwsSolutions(t *testing.T) {
	checkNag(t, replicaStack(t))
}

func TestNoReplicaRuleByDefault(t *testing.T) {
	if defaultStack(t).construct.ReplicaRule != nil {
		t.Error("the default stack forwards promoted results")
	}
}

// A stack whose region is set refuses replicaRegions naming it, before it
// builds anything.
func TestReplicaRegionsRefuseTheStacksOwnRegion(t *testing.T) {
	p := amibump.Defaults()
	p.FunctionSource = functionSource(t)
	p.ReplicaRegions = []string{"us-west-2", "us-east-1"}
	_, err := synth(t, p, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")})
	if err == nil || !strings.Contains(err.Error(), `replicaRegions: "us-east-1" is the stack's own region`) {
		t.Errorf("got %v, want the stack's own region refused", err)
	}
}

// copyKmsKeyArn reaches the function as AMIBUMP_COPY_KMS_KEY_ARN; the
// default stack sets no such variable (none).
func TestCopyKmsKeyArnReachesTheFunction(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    *synthesized
		want any
	}{{"copyKmsKeyArn set", replicaStack(t), copyKey}, {"the default", defaultStack(t), nil}} {
		found := 0
		for _, fn := range tt.s.resources("AWS::Lambda::Function") {
			env, _ := fn["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			if vars["AMIBUMP_EVENT_BUS"] == nil {
				continue // not amibump's function
			}
			found++
			if got := vars["AMIBUMP_COPY_KMS_KEY_ARN"]; got != tt.want {
				t.Errorf("%s: AMIBUMP_COPY_KMS_KEY_ARN = %v, want %v", tt.name, got, tt.want)
			}
		}
		if found != 1 {
			t.Errorf("%s: %d amibump functions, want 1", tt.name, found)
		}
	}
}

// copyKmsKeyArn lets the role use that key as EBS encryption needs, on that
// key only, CreateGrant only for EC2; the default stack has no KMS statement.
func TestCopyKmsKeyGrantsOnThatKeyOnly(t *testing.T) {
	kmsStatements := func(s *synthesized) []map[string]any {
		var kms []map[string]any
		for _, st := range s.roleStatements(t) {
			if slices.ContainsFunc(actions(st), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
				kms = append(kms, map[string]any{"Sid": st["Sid"], "Action": actions(st), "Resource": st["Resource"], "Condition": st["Condition"]})
			}
		}
		return kms
	}
	want := normalize([]map[string]any{
		{"Sid": "UseCopyKeyForCopies", "Resource": copyKey, "Condition": nil, "Action": []string{
			"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		}},
		{"Sid": "GrantCopyKeyToEC2", "Resource": copyKey, "Action": []string{"kms:CreateGrant"},
			"Condition": map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}}},
	})
	if diff := cmp.Diff(want, normalize(kmsStatements(replicaStack(t)))); diff != "" {
		t.Errorf("KMS statements of the role (-want +got):\n%s", diff)
	}
	if got := kmsStatements(defaultStack(t)); len(got) != 0 {
		t.Errorf("the default role has KMS statements: %v", got)
	}
}

func TestReplicaRoleMatchesTheServiceAuthorizationReference(t *testing.T) {
	checkServiceAuthorization(t, replicaStack(t))
}
