package bump

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// A failed image's reason carries the kmsKeyArns advice exactly when EC2's
// code is about a KMS key.
func TestStateReason(t *testing.T) {
	tests := []struct {
		name       string
		reason     *ec2types.StateReason
		want       string
		kmsAdvised bool
	}{
		{"no reason", nil, "no reason given", false},
		{"empty reason", &ec2types.StateReason{}, "no reason given", false},
		{"server error", &ec2types.StateReason{Code: aws.String("Server.InternalError"), Message: aws.String("Snapshot creation failed")}, "Snapshot creation failed", false},
		{"KMS key in a bad state", &ec2types.StateReason{Code: aws.String("Client.InvalidKMSKey.InvalidState"), Message: aws.String("The KMS key provided is in an incorrect state")}, "The KMS key provided is in an incorrect state", true},
		{"code only", &ec2types.StateReason{Code: aws.String("KMS.DisabledException")}, "KMS.DisabledException", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stateReason(tt.reason)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want it to start with %q", got, tt.want)
			}
			if advised := strings.Contains(got, "kmsKeyArns"); advised != tt.kmsAdvised {
				t.Errorf("got %q; names kmsKeyArns: %v, want %v", got, advised, tt.kmsAdvised)
			}
		})
	}
}
