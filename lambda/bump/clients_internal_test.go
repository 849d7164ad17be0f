package bump

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov",
		"eusc-de-east-1": "aws-eusc", "us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "": ""} {
		if got := PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
}

// TestAssumeRoleClients: a role name is the role of that name in the scope's
// account and partition; an ARN is taken as is; a name without an account,
// or something that is neither, is refused saying so.
func TestAssumeRoleClients(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	for _, tt := range []struct {
		name, role string
		scope      Scope
		wantARN    string
		wantErr    string
	}{
		{"a name in an account", "amibump-readonly", Scope{Account: "123456789012", Region: "eu-west-1"}, "arn:aws:iam::123456789012:role/amibump-readonly", ""},
		{"a name in China", "amibump-readonly", Scope{Account: "123456789012", Region: "cn-north-1"}, "arn:aws-cn:iam::123456789012:role/amibump-readonly", ""},
		{"an ARN", "arn:aws:iam::210987654321:role/ops/amibump-readonly", Scope{Region: "us-east-1"}, "arn:aws:iam::210987654321:role/ops/amibump-readonly", ""},
		{"a name without an account", "amibump-readonly", Scope{Region: "us-east-1"}, "", "names no account"},
		{"neither", "iam:amibump", Scope{Account: "123456789012"}, "", "neither a role ARN nor a role name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			arn, err := roleARN(tt.scope.Or(Scope{Region: cfg.Region}), tt.role)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("roleARN: %v, want an error saying %q", err, tt.wantErr)
				}
				if _, err := AssumeRoleClients(cfg, tt.scope, tt.role); err == nil {
					t.Error("AssumeRoleClients took it")
				}
				return
			}
			if err != nil || arn != tt.wantARN {
				t.Fatalf("roleARN = %q, %v; want %q", arn, err, tt.wantARN)
			}
			c, err := AssumeRoleClients(cfg, tt.scope, tt.role)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.scope.Or(Scope{Region: cfg.Region})
			if c.Scope != want || c.EC2 == nil || c.AutoScaling == nil || c.Events == nil || c.SSM == nil {
				t.Errorf("clients for %v: scope %v, want %v, and all four clients", tt.scope, c.Scope, want)
			}
		})
	}
}
