package awsfake_test

import (
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/amibump/amibump/lambda/awsfake"
)

// t0 is where the tests' clocks start: awsfake.Epoch(), which AMIBUMP_TEST_EPOCH moves.
var t0 = awsfake.Epoch()

// code returns the AWS error code of err, "" for nil, or "<not an API error>".
func code(err error) string {
	if err == nil {
		return ""
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "<not an API error: " + err.Error() + ">"
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code: got %q (%v), want %q", got, err, want)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func itoa(i int) string { return strconv.Itoa(i) }

// sdk lets cmp look into SDK types, whose only unexported field is an empty marker.
var sdk = cmp.Exporter(func(reflect.Type) bool { return true })
