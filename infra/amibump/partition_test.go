package amibump_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// The stack for Beijing (aws-cn partition): this file's one synth.
var beijing once

func beijingStack(t *testing.T) *synthesized {
	return beijing.get(t, func(t testing.TB) amibump.Props {
		p := amibump.Defaults()
		p.FunctionSource = functionSource(t)
		p.CIPrincipals = []string{"210987654321"} // an account principal: an ARN the stack builds
		return p
	}, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("cn-north-1")})
}

// Every ARN the stack writes is built from AWS::Partition, so it deploys in
// aws-cn (Beijing, Ningxia) as it does in aws.
func TestChinaRegionHasNoHardCodedPartition(t *testing.T) {
	checkNoHardCodedPartition(t, beijingStack(t))
}

func TestChinaNagAwsSolutions(t *testing.T) {
	checkNag(t, beijingStack(t))
}

// In the aws-cn partition the function defaults to x86_64: arm64 cannot be
// confirmed for Beijing and Ningxia.
func TestChinaRegionDefaultsToX86(t *testing.T) {
	s := beijingStack(t)
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Architectures": assertions.Match_Exact([]string{"x86_64"}),
		})
	})
}

func TestDefaultArchitecture(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "arm64", "eu-west-1": "arm64", "ap-east-1": "arm64", "us-gov-west-1": "arm64",
		"cn-north-1": "x86_64", "cn-northwest-1": "x86_64", "": "arm64",
	} {
		if got := amibump.DefaultArchitecture(region); got != want {
			t.Errorf("DefaultArchitecture(%q) = %q, want %q", region, got, want)
		}
	}
}

// EventBridge routes no events between the China Regions (PushPartition):
// a Beijing stack refuses replicaRegions, Ningxia's and another
// partition's alike, and says to use pull only.
func TestChinaRefusesReplicaRegions(t *testing.T) {
	for _, replicas := range [][]string{{"cn-northwest-1"}, {"us-west-2"}} {
		p := amibump.Defaults()
		p.FunctionSource = functionSource(t)
		p.ReplicaRegions = replicas
		_, err := synth(t, p, &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("cn-north-1")})
		if err == nil || !strings.Contains(err.Error(), "replicaRegions") || !strings.Contains(err.Error(), "use pull only") {
			t.Errorf("replicaRegions %v in cn-north-1: got %v, want an error saying to use pull only", replicas, err)
		}
	}
}
