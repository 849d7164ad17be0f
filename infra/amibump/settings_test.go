package amibump_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"
)

// The stack with every setting changed from its default: this file's one synth.
var custom once

const (
	ciAccount       = "210987654321"
	ciRole          = "arn:aws:iam::123456789012:role/jenkins/deployer"
	ebsKey          = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	settingsCopyKey = "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
)

func customStack(t *testing.T) *synthesized {
	return custom.get(t, func(t testing.TB) amibump.Props {
		return amibump.Props{
			BusName:              "releases",
			CISource:             "ci.buildkite",
			CIPrincipals:         []string{ciAccount, ciRole},
			RestrictDeployEvents: true,
			ArchiveRetentionDays: 0,
			ReconcileMinutes:     5,
			Architecture:         "x86_64",
			AlarmEmail:           "ops@example.com",
			LogRetentionDays:     30,
			LogLevel:             "DEBUG",
			KMSKeyARNs:           []string{ebsKey},
			SSMParameterPrefix:   "/releases/shop/",
			ReservedConcurrency:  2,
			CIOrgID:              ciOrg,
			ReadOnlyTrust:        []string{opsAccount, ciOrg},
			ResultsBusARN:        resultsBus,
			CopyKmsKeyARN:        settingsCopyKey,
			FunctionSource:       functionSource(t),
		}
	}, nil)
}

func TestEverySettingReachesTheTemplate(t *testing.T) {
	s := customStack(t)
	bus := s.id(s.construct.Bus)
	tests := []struct {
		name, typ string
		props     map[string]any
	}{
		{"busName", "AWS::Events::EventBus", map[string]any{"Name": "releases"}},
		{"busName names the schema registry", "AWS::EventSchemas::Registry", map[string]any{"RegistryName": "releases"}},
		{"ciSource in the registered schema", "AWS::EventSchemas::Schema", map[string]any{
			"Content": assertions.Match_StringLikeRegexp(jsii.String(`"x-amazon-events-source":"ci.buildkite"`)),
		}},
		{"ciSource in the rule", "AWS::Events::Rule", map[string]any{
			"EventBusName": map[string]any{"Ref": bus},
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"ci.buildkite"}, "detail-type": []string{"deploy-finished"},
			}),
		}},
		{"ciSource and archiveRetentionDays 0 (forever) in the archive", "AWS::Events::Archive", map[string]any{
			"RetentionDays": 0,
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"ci.buildkite"}, "detail-type": []string{"deploy-finished"},
			}),
		}},
		{"ciPrincipals may put deploy-finished events only", "AWS::Events::EventBusPolicy", map[string]any{
			"EventBusName": map[string]any{"Ref": bus},
			"Statement": map[string]any{
				"Sid":    "cdk-CIPutDeployFinished",
				"Effect": "Allow",
				"Action": "events:PutEvents",
				"Principal": map[string]any{"AWS": []any{
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::" + ciAccount + ":root"}}},
					ciRole,
				}},
				"Resource": map[string]any{"Fn::GetAtt": []any{bus, "Arn"}},
				"Condition": map[string]any{"StringEquals": map[string]any{
					"events:source": "ci.buildkite", "events:detail-type": []string{"deploy-finished", "rollback-requested"},
				}},
			},
		}},
		{"reconcileMinutes", "AWS::Events::Rule", map[string]any{"ScheduleExpression": "rate(5 minutes)"}},
		{"architecture, logLevel, reservedConcurrency, ssmParameterPrefix, reconcileMinutes", "AWS::Lambda::Function", map[string]any{
			"Architectures":                []string{"x86_64"},
			"ReservedConcurrentExecutions": 2,
			"LoggingConfig":                assertions.Match_ObjectLike(&map[string]any{"ApplicationLogLevel": "DEBUG"}),
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"AMIBUMP_SSM_PREFIX": "/releases/shop/", "AMIBUMP_RECONCILE_PERIOD": "5m",
			})},
		}},
		{"alarmEmail", "AWS::SNS::Subscription", map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com",
			"TopicArn": map[string]any{"Ref": s.id(s.construct.Topic)},
		}},
		{"logRetentionDays", "AWS::Logs::LogGroup", map[string]any{"RetentionInDays": 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func() { s.template.HasResourceProperties(jsii.String(tt.typ), tt.props) })
		})
	}
}

func TestCustomResourceCounts(t *testing.T) {
	s := customStack(t)
	for typ, want := range map[string]int{"AWS::Events::EventBusPolicy": 3, "AWS::SNS::Subscription": 1, "AWS::Events::Rule": 6} {
		check(t, func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(float64(want))) })
	}
}

func TestCustomNagAwsSolutions(t *testing.T) {
	checkNag(t, customStack(t))
}

// kmsKeyArns grants what CreateImage needs on those keys, copyKmsKeyArn what
// CopyImage needs on that key, and on nothing else.
func TestKMSKeyArnsGrantsOnThoseKeysOnly(t *testing.T) {
	s := customStack(t)
	var kms []map[string]any
	for _, st := range s.roleStatements(t) {
		if slices.ContainsFunc(actions(st), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
			kms = append(kms, map[string]any{"Sid": st["Sid"], "Action": actions(st), "Resource": st["Resource"], "Condition": st["Condition"]})
		}
	}
	want := normalize([]map[string]any{
		{"Sid": "UseEBSKeysOfImagedVolumes", "Resource": ebsKey, "Condition": nil, "Action": []string{
			"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		}},
		{"Sid": "GrantEBSKeysToEC2", "Resource": ebsKey, "Action": []string{"kms:CreateGrant"},
			"Condition": map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}}},
		{"Sid": "UseCopyKeyForCopies", "Resource": settingsCopyKey, "Condition": nil, "Action": []string{
			"kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		}},
		{"Sid": "GrantCopyKeyToEC2", "Resource": settingsCopyKey, "Action": []string{"kms:CreateGrant"},
			"Condition": map[string]any{"Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}}},
	})
	if diff := cmp.Diff(want, normalize(kms)); diff != "" {
		t.Errorf("KMS statements of the role (-want +got):\n%s", diff)
	}
}

func TestCustomRoleMatchesTheServiceAuthorizationReference(t *testing.T) {
	checkServiceAuthorization(t, customStack(t))
}

// restrictDeployEvents: every principal but the CI principals is denied
// putting deploy-finished events on the bus, this account's included; a listed
// account admits its principals, a listed role its sessions.
func TestRestrictDeployEventsDeniesAllButTheCIPrincipals(t *testing.T) {
	s := customStack(t)
	bus := s.id(s.construct.Bus)
	var denies []any
	for _, p := range s.resources("AWS::Events::EventBusPolicy") {
		if st, _ := p["Statement"].(map[string]any); st["Effect"] == "Deny" {
			denies = append(denies, p)
		}
	}
	want := []any{map[string]any{
		"EventBusName": map[string]any{"Ref": bus},
		"StatementId":  "cdk-OnlyCIPutsDeployFinished",
		"Statement": map[string]any{
			"Sid":       "cdk-OnlyCIPutsDeployFinished",
			"Effect":    "Deny",
			"Action":    "events:PutEvents",
			"Principal": map[string]any{"AWS": "*"},
			"Resource":  map[string]any{"Fn::GetAtt": []any{bus, "Arn"}},
			"Condition": map[string]any{
				"StringEquals": map[string]any{"events:detail-type": []any{"deploy-finished", "rollback-requested"}},
				"ArnNotLike": map[string]any{"aws:PrincipalArn": []any{
					map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::" + ciAccount + ":*"}}},
					ciRole,
				}},
			},
		},
	}}
	if diff := cmp.Diff(normalize(want), normalize(denies)); diff != "" {
		t.Errorf("Deny statements of the bus policy (-want +got):\n%s", diff)
	}
}
