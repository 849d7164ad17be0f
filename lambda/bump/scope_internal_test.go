package bump

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/event"
)

// A run's scope is where its calls go: the request budget is keyed by it and
// its results name it. A deploy event from a CI in another account names that
// account, which is not where the function images.
func TestRunScope(t *testing.T) {
	env := &event.Envelope{Account: "210987654321", Region: "us-west-2"}
	invoked := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		InvokedFunctionArn: "arn:aws-cn:lambda:cn-north-1:123456789012:function:amibump",
	})
	tests := []struct {
		name    string
		clients Scope
		ctx     context.Context
		want    Scope
	}{
		{"the clients' scope wins over the event's", Scope{Account: "111122223333", Region: "eu-west-1"}, invoked,
			Scope{Partition: "aws", Account: "111122223333", Region: "eu-west-1"}},
		{"the invoked function's account when the clients do not know it", Scope{Region: "cn-north-1"}, invoked,
			Scope{Partition: "aws-cn", Account: "123456789012", Region: "cn-north-1"}},
		{"the event's only for what nothing else tells", Scope{}, context.Background(),
			Scope{Partition: "aws", Account: "210987654321", Region: "us-west-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Bumper{clients: Clients{Scope: tt.clients}}
			if diff := cmp.Diff(tt.want, b.runScope(tt.ctx, env)); diff != "" {
				t.Errorf("run scope (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccountOfARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:lambda:us-east-1:123456789012:function:amibump":      "123456789012",
		"arn:aws:lambda:us-east-1:123456789012:function:amibump:live": "123456789012",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:amibump":  "123456789012",
		"":                         "",
		"not an arn":               "",
		"arn:aws:lambda:us-east-1": "",
	} {
		if got := accountOfARN(arn); got != want {
			t.Errorf("accountOfARN(%q) = %q, want %q", arn, got, want)
		}
	}
}
