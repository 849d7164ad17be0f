package amibump_test

import (
	"testing"

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
