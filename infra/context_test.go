package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/google/go-cmp/cmp"
)

// cdk.json's settings are the documented defaults, and parse without error.
func TestCDKJSONHasTheDefaults(t *testing.T) {
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdkJSON struct {
		App     string
		Context map[string]any
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		t.Fatal(err)
	}
	if cdkJSON.App != "go run ./infra" {
		t.Errorf("app = %q, want %q", cdkJSON.App, "go run ./infra")
	}
	for _, key := range contextKeys {
		if _, ok := cdkJSON.Context[key]; !ok {
			t.Errorf("cdk.json context has no %s; list every setting so operators see it", key)
		}
	}
	got, err := propsFromContext(cdkJSON.Context)
	if err != nil {
		t.Fatal(err)
	}
	want := amibump.Defaults()
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("settings from cdk.json (-defaults +got):\n%s", diff)
	}
}

func TestContextValues(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   func(*amibump.Props)
	}{
		{"nothing set: the defaults", nil, func(*amibump.Props) {}},
		{"numbers as strings from -c", map[string]any{"archiveRetentionDays": "0", "reconcileMinutes": " 5", "logRetentionDays": "30"},
			func(p *amibump.Props) { p.ArchiveRetentionDays, p.ReconcileMinutes, p.LogRetentionDays = 0, 5, 30 }},
		{"numbers from cdk.json", map[string]any{"archiveRetentionDays": 365.0, "reconcileMinutes": 15.0, "logRetentionDays": 0.0},
			func(p *amibump.Props) { p.ArchiveRetentionDays, p.ReconcileMinutes, p.LogRetentionDays = 365, 15, 0 }},
		{"the accounts settings", map[string]any{"ciOrgId": " o-a1b2c3d4e5 ", "readOnlyTrust": "210987654321, o-a1b2c3d4e5",
			"resultsBusArn": "arn:aws-cn:events:cn-north-1:210987654321:event-bus/amibump-results"},
			func(p *amibump.Props) {
				p.CIOrgID, p.ReadOnlyTrust = "o-a1b2c3d4e5", []string{"210987654321", "o-a1b2c3d4e5"}
				p.ResultsBusARN = "arn:aws-cn:events:cn-north-1:210987654321:event-bus/amibump-results"
			}},
		{"replicaRegions comma-separated from -c", map[string]any{"replicaRegions": "us-west-2, eu-west-1"},
			func(p *amibump.Props) { p.ReplicaRegions = []string{"us-west-2", "eu-west-1"} }},
		{"replicaRegions from cdk.json", map[string]any{"replicaRegions": []any{"us-west-2"}},
			func(p *amibump.Props) { p.ReplicaRegions = []string{"us-west-2"} }},
		{"copyKmsKeyArn", map[string]any{"copyKmsKeyArn": " arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab "},
			func(p *amibump.Props) {
				p.CopyKmsKeyARN = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			}},
		{"ciPrincipals as a JSON list", map[string]any{"ciPrincipals": []any{"123456789012", "arn:aws:iam::123456789012:role/ci"}},
			func(p *amibump.Props) { p.CIPrincipals = []string{"123456789012", "arn:aws:iam::123456789012:role/ci"} }},
		{"ciPrincipals as a JSON string from -c", map[string]any{"ciPrincipals": `["123456789012", "arn:aws-cn:iam::123456789012:role/ci"]`},
			func(p *amibump.Props) {
				p.CIPrincipals = []string{"123456789012", "arn:aws-cn:iam::123456789012:role/ci"}
			}},
		{"ciPrincipals comma-separated from -c", map[string]any{"ciPrincipals": "123456789012, 210987654321,"},
			func(p *amibump.Props) { p.CIPrincipals = []string{"123456789012", "210987654321"} }},
		{"ciPrincipals empty string: this account only", map[string]any{"ciPrincipals": ""}, func(*amibump.Props) {}},
		{"ciPrincipals role with a path in GovCloud", map[string]any{"ciPrincipals": "arn:aws-us-gov:iam::123456789012:role/ci/jenkins"},
			func(p *amibump.Props) { p.CIPrincipals = []string{"arn:aws-us-gov:iam::123456789012:role/ci/jenkins"} }},
		{"kmsKeyArns from -c", map[string]any{"kmsKeyArns": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			func(p *amibump.Props) {
				p.KMSKeyARNs = []string{"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
			}},
		{"kmsKeyArns multi-Region key in Beijing", map[string]any{"kmsKeyArns": []any{"arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"}},
			func(p *amibump.Props) {
				p.KMSKeyARNs = []string{"arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"}
			}},
		{"ssmParameterPrefix", map[string]any{"ssmParameterPrefix": "/releases/shop-web_v2/"},
			func(p *amibump.Props) { p.SSMParameterPrefix = "/releases/shop-web_v2/" }},
		{"reservedConcurrency from -c", map[string]any{"reservedConcurrency": "1000"}, func(p *amibump.Props) { p.ReservedConcurrency = 1000 }},
		{"restrictDeployEvents from -c", map[string]any{"restrictDeployEvents": "true", "ciPrincipals": "123456789012"},
			func(p *amibump.Props) { p.RestrictDeployEvents, p.CIPrincipals = true, []string{"123456789012"} }},
		{"restrictDeployEvents from cdk.json", map[string]any{"restrictDeployEvents": true, "ciPrincipals": []any{"arn:aws:iam::123456789012:role/ci"}},
			func(p *amibump.Props) {
				p.RestrictDeployEvents, p.CIPrincipals = true, []string{"arn:aws:iam::123456789012:role/ci"}
			}},
		{"reservedConcurrency from cdk.json", map[string]any{"reservedConcurrency": 5.0}, func(p *amibump.Props) { p.ReservedConcurrency = 5 }},
		{"reservedConcurrency none: no reservation", map[string]any{"reservedConcurrency": "None"}, func(p *amibump.Props) { p.ReservedConcurrency = amibump.NoReservation }},
		{"reservedConcurrency empty: no reservation", map[string]any{"reservedConcurrency": ""}, func(p *amibump.Props) { p.ReservedConcurrency = amibump.NoReservation }},
		{"strings", map[string]any{"busName": "releases", "ciSource": "ci.github", "architecture": "x86_64", "alarmEmail": "ops@example.com", "logLevel": "debug"},
			func(p *amibump.Props) {
				p.BusName, p.CISource, p.Architecture, p.AlarmEmail, p.LogLevel = "releases", "ci.github", "x86_64", "ops@example.com", "DEBUG"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := propsFromContext(tt.values)
			if err != nil {
				t.Fatal(err)
			}
			want := amibump.Defaults()
			tt.want(&want)
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Every bad value fails with a message that names the key and what it allows.
func TestBadContextValues(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   []string // each must appear in the error
	}{
		{"busName with a slash", map[string]any{"busName": "a/b"}, []string{"busName", `"a/b"`, "A-Z a-z 0-9"}},
		{"busName default", map[string]any{"busName": "default"}, []string{"busName", `not "default"`}},
		{"busName empty", map[string]any{"busName": ""}, []string{"busName"}},
		{"busName not a string", map[string]any{"busName": 7.0}, []string{"busName", "want a string"}},
		{"ciSource in the aws namespace", map[string]any{"ciSource": "aws.ec2"}, []string{"ciSource", `not starting with "aws."`}},
		{"ciSource with spaces", map[string]any{"ciSource": "ci jenkins"}, []string{"ciSource"}},
		{"ciPrincipals short account", map[string]any{"ciPrincipals": "12345"}, []string{"ciPrincipals", `"12345"`, "12-digit account id or an IAM role ARN"}},
		{"ciPrincipals user ARN", map[string]any{"ciPrincipals": []any{"arn:aws:iam::123456789012:user/bob"}}, []string{"ciPrincipals", "IAM role ARN"}},
		{"ciPrincipals bad JSON", map[string]any{"ciPrincipals": `["123456789012"`}, []string{"ciPrincipals", "JSON list"}},
		{"ciPrincipals not strings", map[string]any{"ciPrincipals": []any{123456789012.0}}, []string{"ciPrincipals", "want a string"}},
		{"kmsKeyArns alias", map[string]any{"kmsKeyArns": "arn:aws:kms:us-east-1:123456789012:alias/ebs"}, []string{"kmsKeyArns", `"arn:aws:kms:us-east-1:123456789012:alias/ebs"`, "not alias ARNs"}},
		{"kmsKeyArns key id", map[string]any{"kmsKeyArns": []any{"1234abcd-12ab-34cd-56ef-1234567890ab"}}, []string{"kmsKeyArns", "KMS key ARNs (arn:<partition>:kms:"}},
		{"kmsKeyArns not strings", map[string]any{"kmsKeyArns": []any{1.0}}, []string{"kmsKeyArns", "want a string (one of the KMS key ARNs)"}},
		{"ssmParameterPrefix without a leading slash", map[string]any{"ssmParameterPrefix": "amibump/"}, []string{"ssmParameterPrefix", `"amibump/"`, "starting and ending with /"}},
		{"ssmParameterPrefix without a trailing slash", map[string]any{"ssmParameterPrefix": "/amibump"}, []string{"ssmParameterPrefix", "starting and ending with /"}},
		{"ssmParameterPrefix the whole account", map[string]any{"ssmParameterPrefix": "/"}, []string{"ssmParameterPrefix", "1 to 14 levels"}},
		{"ssmParameterPrefix with a space", map[string]any{"ssmParameterPrefix": "/ami bump/"}, []string{"ssmParameterPrefix", "A-Z a-z 0-9 _ . -"}},
		{"ssmParameterPrefix reserved by SSM", map[string]any{"ssmParameterPrefix": "/aws/amibump/"}, []string{"ssmParameterPrefix", "not starting with aws or ssm"}},
		{"ssmParameterPrefix empty level", map[string]any{"ssmParameterPrefix": "/amibump//"}, []string{"ssmParameterPrefix"}},
		{"reservedConcurrency zero from cdk.json", map[string]any{"reservedConcurrency": 0.0}, []string{"reservedConcurrency", "0 is not allowed", "throttles every invocation", `"none" for no reservation`}},
		{"reservedConcurrency zero from -c", map[string]any{"reservedConcurrency": "0"}, []string{"reservedConcurrency", "0 is not allowed", `"none" for no reservation`}},
		{"reservedConcurrency negative", map[string]any{"reservedConcurrency": "-5"}, []string{"reservedConcurrency", "-5", "from 1 to 1000", `"none"`}},
		{"reservedConcurrency a word", map[string]any{"reservedConcurrency": "unreserved"}, []string{"reservedConcurrency", "not a whole number", `"none"`}},
		{"reservedConcurrency too many", map[string]any{"reservedConcurrency": "1001"}, []string{"reservedConcurrency", "1001", "from 1 to 1000"}},
		{"restrictDeployEvents without ciPrincipals", map[string]any{"restrictDeployEvents": true}, []string{"restrictDeployEvents", "needs ciPrincipals", "no principal at all"}},
		{"restrictDeployEvents not a boolean", map[string]any{"restrictDeployEvents": "yes"}, []string{"restrictDeployEvents", `"yes"`, "true or false"}},
		{"archiveRetentionDays negative", map[string]any{"archiveRetentionDays": -1.0}, []string{"archiveRetentionDays", "-1", "0 (forever)"}},
		{"archiveRetentionDays not a number", map[string]any{"archiveRetentionDays": "ninety"}, []string{"archiveRetentionDays", "not a whole number"}},
		{"archiveRetentionDays fractional", map[string]any{"archiveRetentionDays": 1.5}, []string{"archiveRetentionDays", "not a whole number"}},
		{"reconcileMinutes zero", map[string]any{"reconcileMinutes": "0"}, []string{"reconcileMinutes", "from 1 to 1440"}},
		{"reconcileMinutes too many", map[string]any{"reconcileMinutes": 1441.0}, []string{"reconcileMinutes", "from 1 to 1440"}},
		{"architecture", map[string]any{"architecture": "amd64"}, []string{"architecture", `"amd64"`, "arm64 or x86_64"}},
		{"alarmEmail", map[string]any{"alarmEmail": "ops at example"}, []string{"alarmEmail", "email address"}},
		{"alarmEmail with a name", map[string]any{"alarmEmail": "Ops <ops@example.com>"}, []string{"alarmEmail"}},
		{"logRetentionDays not allowed by CloudWatch", map[string]any{"logRetentionDays": "45"}, []string{"logRetentionDays", "45", "30, 60, 90"}},
		{"logLevel", map[string]any{"logLevel": "verbose"}, []string{"logLevel", `"VERBOSE"`, "DEBUG, INFO"}},
		{"ciOrgId an account", map[string]any{"ciOrgId": "123456789012"}, []string{"ciOrgId", `"123456789012"`, "AWS Organizations id such as o-"}},
		{"ciOrgId a root id", map[string]any{"ciOrgId": "r-ab12"}, []string{"ciOrgId", "o-a1b2c3d4e5"}},
		{"readOnlyTrust a role ARN", map[string]any{"readOnlyTrust": "arn:aws:iam::123456789012:role/ops"}, []string{"readOnlyTrust", "12-digit account ids or an AWS Organizations id"}},
		{"readOnlyTrust two organisations", map[string]any{"readOnlyTrust": "o-a1b2c3d4e5,o-f6g7h8i9j0"}, []string{"readOnlyTrust", `"o-f6g7h8i9j0"`, "at most one organisation id"}},
		{"readOnlyTrust not strings", map[string]any{"readOnlyTrust": []any{1.0}}, []string{"readOnlyTrust", "want a string"}},
		{"resultsBusArn a name", map[string]any{"resultsBusArn": "results"}, []string{"resultsBusArn", `"results"`, "event bus ARN (arn:<partition>:events:"}},
		{"resultsBusArn a rule ARN", map[string]any{"resultsBusArn": "arn:aws:events:us-east-1:123456789012:rule/x"}, []string{"resultsBusArn", "event-bus/<name>"}},
		{"replicaRegions not a region", map[string]any{"replicaRegions": "us-west"}, []string{"replicaRegions", `"us-west"`, "region names such as us-west-2"}},
		{"replicaRegions twice", map[string]any{"replicaRegions": "us-west-2,eu-west-1,us-west-2"}, []string{"replicaRegions", `"us-west-2" is listed twice`}},
		{"replicaRegions in China", map[string]any{"replicaRegions": "cn-northwest-1"}, []string{"replicaRegions", `"cn-northwest-1"`, "aws-cn partition",
			"routes no events between regions", "use pull only", "amibump:replicate-from"}},
		{"copyKmsKeyArn an alias", map[string]any{"copyKmsKeyArn": "arn:aws:kms:us-west-2:123456789012:alias/copies"},
			[]string{"copyKmsKeyArn", `"arn:aws:kms:us-west-2:123456789012:alias/copies"`, "KMS key ARN (arn:<partition>:kms:", "not an alias ARN"}},
		{"copyKmsKeyArn a list", map[string]any{"copyKmsKeyArn": []any{"arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
			[]string{"copyKmsKeyArn", "want a string"}},
		{"copyKmsKeyArn a China region in aws", map[string]any{"copyKmsKeyArn": "arn:aws:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			[]string{"copyKmsKeyArn", "names region cn-north-1 in partition aws"}},
		{"replicaRegions in GovCloud", map[string]any{"replicaRegions": []any{"us-gov-east-1"}}, []string{"replicaRegions", "aws-us-gov partition", "pull only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := propsFromContext(tt.values)
			if err == nil {
				t.Fatalf("got no error, want one naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// The settings that depend on the region are checked for the CDK CLI's
// region, when it is known.
func TestContextForTheCLIsRegion(t *testing.T) {
	key := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name, region string
		values       map[string]any
		want         string // in the error; "": none
	}{
		{"replicaRegions naming the CLI's region", "us-east-1", map[string]any{"replicaRegions": "us-west-2,us-east-1"}, `replicaRegions: "us-east-1" is the stack's own region`},
		{"replicaRegions from Beijing", "cn-north-1", map[string]any{"replicaRegions": "us-west-2"}, "use pull only"},
		{"copyKmsKeyArn of another region", "us-west-2", map[string]any{"copyKmsKeyArn": key}, "want a key of us-west-2"},
		{"both right", "us-east-1", map[string]any{"replicaRegions": "us-west-2", "copyKmsKeyArn": key}, ""},
		{"region unknown", "", map[string]any{"replicaRegions": "us-east-1", "copyKmsKeyArn": key}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := propsIn(tt.values, tt.region)
			switch {
			case tt.want == "" && (err != nil || p == nil):
				t.Errorf("got %v, want the settings", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// All problems are reported at once, one line each.
func TestEveryProblemIsReported(t *testing.T) {
	_, err := propsFromContext(map[string]any{
		"busName": "", "architecture": "sparc", "reconcileMinutes": "x", "logRetentionDays": 2.0,
	})
	if err == nil {
		t.Fatal("got no error")
	}
	for _, key := range []string{"busName", "architecture", "reconcileMinutes", "logRetentionDays"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != 4 {
		t.Errorf("got %d lines, want 4:\n%v", lines, err)
	}
}

func TestUnknownContextKeys(t *testing.T) {
	known := map[string]any{"busName": "x", "@aws-cdk/core:newStyleStackSynthesis": true, "aws:cdk:enable-path-metadata": true, "availability-zones:account=1:region=r": []any{}}
	if err := unknownKeys(&known); err != nil {
		t.Errorf("known keys refused: %v", err)
	}
	typo := map[string]any{"reconcileMinute": "5", "busName": "x"}
	err := unknownKeys(&typo)
	if err == nil || !strings.Contains(err.Error(), "reconcileMinute: not a setting amibump knows") || !strings.Contains(err.Error(), "reconcileMinutes") {
		t.Errorf("typo: got %v, want an error naming the key and the settings", err)
	}
}

// Every setting has its row in the README's Settings table.
func TestREADMEListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range append(append([]string{}, contextKeys...), orgKeys...) {
		if !strings.Contains(string(raw), "\n| `"+key+"` |") {
			t.Errorf("the README's Settings table has no row for %s", key)
		}
	}
}
