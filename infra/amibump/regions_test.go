package amibump_test

import (
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
)

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-1": "aws", "ap-southeast-5": "aws", "il-central-1": "aws",
		"cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f",
		"eusc-de-east-1": "aws-eusc",
	} {
		if got := amibump.PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
}

// The settings that depend on the stack's region: replicaRegions are other
// regions of its partition, and only where EventBridge routes events
// between regions.
func TestValidateIn(t *testing.T) {
	tests := []struct {
		name, region string
		replicas     []string
		key          string
		want         []string // each must appear in the error; none: no error
	}{
		{"no replicas anywhere", "cn-north-1", nil, "", nil},
		{"other regions of aws", "us-east-1", []string{"us-west-2", "eu-west-1"}, "", nil},
		{"the stack's own region", "us-east-1", []string{"us-west-2", "us-east-1"}, "", []string{"replicaRegions", `"us-east-1" is the stack's own region`}},
		{"a stack in China", "cn-north-1", []string{"us-west-2"}, "", []string{"replicaRegions: not allowed in cn-north-1 (the aws-cn partition)",
			"routes no events between regions", "use pull only", "amibump:replicate-from=cn-north-1"}},
		{"a stack in GovCloud", "us-gov-west-1", []string{"us-west-2"}, "", []string{"replicaRegions: not allowed in us-gov-west-1 (the aws-us-gov partition)"}},
		{"a copy key of the stack's region", "us-west-2", nil, "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", nil},
		{"a stack in the European Sovereign Cloud", "eusc-de-east-1", []string{"us-west-2"}, "", []string{"replicaRegions: not allowed in eusc-de-east-1 (the aws-eusc partition)"}},
		{"a copy key of the European Sovereign Cloud there", "eusc-de-east-1", nil, "arn:aws-eusc:kms:eusc-de-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", nil},
		{"a copy key of Ningxia in Ningxia", "cn-northwest-1", nil, "arn:aws-cn:kms:cn-northwest-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", nil},
		{"a copy key of another region", "us-west-2", nil, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			[]string{"copyKmsKeyArn", "is a key of us-east-1, and the stack's region is us-west-2", "want a key of us-west-2"}},
		{"a copy key of another partition", "cn-north-1", nil, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			[]string{"copyKmsKeyArn", "want a key of cn-north-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := amibump.Defaults()
			p.ReplicaRegions, p.CopyKmsKeyARN = tt.replicas, tt.key
			err := p.ValidateIn(tt.region)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want one saying %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// A StackSet deploys the member in each of its regions: a replica region
// that is one of them would be its own region there.
func TestOrgRefusesAReplicaRegionItDeploysTo(t *testing.T) {
	p := orgProps(t) // regions eu-west-1 and us-east-1
	p.Member.ReplicaRegions = []string{"us-west-2", "eu-west-1"}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), `orgTargets.regions eu-west-1: replicaRegions: "eu-west-1" is the stack's own region`) {
		t.Errorf("got %v, want an error naming eu-west-1", err)
	}
	p.Member.ReplicaRegions = []string{"us-west-2"}
	if err := p.Validate(); err != nil {
		t.Errorf("replicaRegions outside the StackSet's regions: %v", err)
	}
}

// A StackSet deploys one template in each of its regions: a copy key, which
// is a key of one region, fits one StackSet region only.
func TestOrgRefusesACopyKeyOfAnotherRegion(t *testing.T) {
	p := orgProps(t) // regions eu-west-1 and us-east-1
	p.Member.CopyKmsKeyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "orgTargets.regions eu-west-1: copyKmsKeyArn") {
		t.Errorf("got %v, want an error naming eu-west-1 and copyKmsKeyArn", err)
	}
}
