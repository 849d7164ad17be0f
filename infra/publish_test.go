package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
)

// fakeAWS is an aws command that logs each call, one line, answers the
// identity and organisation queries, and knows no bucket but those listed in
// $FAKE_BUCKETS.
const fakeAWS = `#!/usr/bin/env bash
echo "$*" >>"$FAKE_LOG"
case "$1 $2" in
"sts get-caller-identity")
	case "$*" in *Account*) echo 123456789012 ;; *) echo arn:aws-cn:iam::123456789012:user/ops ;; esac ;;
"organizations describe-organization") echo o-a1b2c3d4e5 ;;
"s3api head-bucket") case " $FAKE_BUCKETS " in *" $4 "*) exit 0 ;; *) exit 254 ;; esac ;;
"s3api put-bucket-policy") printf '%s\n' "${@: -1}" >"$FAKE_LOG.$4.policy" ;;
esac
`

// make publish-code: each region's bucket, named as the member stacks read
// it, created where missing (us-east-1 without a location constraint), with
// the organisation-only policy built from the partition, and the zip under the
// key the StackSet gives.
func TestPublishCode(t *testing.T) {
	dir := t.TempDir()
	bin, out := filepath.Join(dir, "bin"), filepath.Join(dir, "cdk.out")
	code := filepath.Join(out, "member-AmibumpOrg-Org", "code")
	for _, d := range []string{bin, code} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	zip := "function-arm64-0123456789abcdef.zip"
	must(t, os.WriteFile(filepath.Join(code, zip), []byte("zip"), 0o644))
	must(t, os.WriteFile(filepath.Join(bin, "aws"), []byte(fakeAWS), 0o755))
	log := filepath.Join(dir, "aws.log")
	cmd := exec.Command("bash", "publish-code.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "CDK_OUT="+out, "FAKE_LOG="+log,
		"FAKE_BUCKETS="+amibump.CodeBucketPrefix+"-123456789012-eu-west-1", "REGIONS=us-east-1, eu-west-1,cn-north-1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("publish-code: %v\n%s", err, b)
	}
	calls, err := os.ReadFile(log)
	must(t, err)
	text := string(calls)
	for _, want := range []string{
		"s3api create-bucket --bucket amibump-code-123456789012-us-east-1 --region us-east-1\n",
		"s3api create-bucket --bucket amibump-code-123456789012-cn-north-1 --region cn-north-1 --create-bucket-configuration LocationConstraint=cn-north-1",
		"s3 cp " + filepath.Join(code, zip) + " s3://amibump-code-123456789012-eu-west-1/amibump/" + zip,
		"s3 cp " + filepath.Join(code, zip) + " s3://amibump-code-123456789012-cn-north-1/amibump/" + zip,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no call %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "create-bucket --bucket amibump-code-123456789012-eu-west-1") {
		t.Error("created eu-west-1's bucket, which exists")
	}
	raw, err := os.ReadFile(log + ".amibump-code-123456789012-cn-north-1.policy")
	must(t, err)
	var policy struct{ Statement []map[string]any }
	must(t, json.Unmarshal(raw, &policy))
	read := policy.Statement[0]
	if read["Resource"] != "arn:aws-cn:s3:::amibump-code-123456789012-cn-north-1/amibump/*" ||
		read["Condition"].(map[string]any)["StringEquals"].(map[string]any)["aws:PrincipalOrgID"] != "o-a1b2c3d4e5" {
		t.Errorf("the bucket policy's read statement is %v", read)
	}
}

func TestPublishCodeNeedsRegionsAndOneZip(t *testing.T) {
	for _, env := range [][]string{{"REGIONS="}, {"REGIONS=eu-west-1", "CDK_OUT=" + t.TempDir()}} {
		cmd := exec.Command("bash", "publish-code.sh")
		cmd.Env = append(os.Environ(), env...)
		b, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(b), "publish-code: ") {
			t.Errorf("%v: got %v, %s; want a refusal saying why", env, err, b)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
