package bump

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// permanentError is an error that a retry cannot fix: a bad event, no target, no
// source instance, access denied. Its target is reported as rejected and the
// event is not retried.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent marks err as one a retry cannot fix.
func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// rejectf is a permanent error with a message for a person.
func rejectf(format string, args ...any) error { return permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err is permanent: marked so by amibump, or an AWS
// error that no retry fixes (access denied, invalid parameters).
func IsPermanent(err error) bool {
	var p *permanentError
	if errors.As(err, &p) {
		return true
	}
	code := errorCode(err)
	switch {
	case code == "":
		return false
	case isAccessDenied(code):
		return true
	case strings.HasPrefix(code, "InvalidParameter"), code == "MissingParameter",
		code == "ValidationError", code == "ValidationException",
		code == "IdempotentParameterMismatch", strings.HasSuffix(code, ".Malformed"):
		return true
	}
	return false
}

func isAccessDenied(code string) bool {
	switch code {
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "AuthFailure", "Blocked", "OptInRequired":
		return true
	}
	return false
}

// errorCode is the AWS error code of err, "" if it has none.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func hasCode(err error, codes ...string) bool {
	c := errorCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// isThrottle reports a throttling error that outlived the SDK's own retries.
func isThrottle(err error) bool {
	return hasCode(err, "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestThrottled", "ResourceContention")
}
