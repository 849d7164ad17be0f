package bump

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/event"
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

// kmsKeyAdvice tells a person what to do when EC2 could not use the KMS key
// that encrypts the imaged instance's EBS volumes: the snapshots of an
// encrypted volume use the same key, on the caller's permissions (Amazon EBS
// User Guide, "Requirements for Amazon EBS encryption").
const kmsKeyAdvice = "the instance's EBS volumes use a customer managed KMS key that amibump may not use; " +
	"add the key's ARN to the stack's kmsKeyArns setting (cdk deploy -c kmsKeyArns=<key ARN>), and check " +
	"that the key is enabled and its key policy allows the account's IAM policies"

// isKMSKeyCode reports an error or state reason code about a KMS key. EC2
// returns KMS's errors with a "KMS." prefix (KMS.DisabledException,
// KMS.NotFoundException, ...) and gives a volume or image that failed on its
// key a reason code such as Client.InvalidKMSKey.InvalidState. AWS documents
// no complete list for CreateImage, so any code naming a KMS key counts (the
// harsher reading: advice that may not apply beats silence).
func isKMSKeyCode(code string) bool {
	return strings.HasPrefix(code, "KMS.") || strings.Contains(code, "KMSKey") || strings.Contains(code, "KmsKey")
}

// stateReason is EC2's reason for a failed image, with kmsKeyAdvice when the
// reason is a KMS key; "no reason given" when EC2 gives none.
func stateReason(r *ec2types.StateReason) string {
	if r == nil || aws.ToString(r.Message) == "" && aws.ToString(r.Code) == "" {
		return "no reason given"
	}
	reason := aws.ToString(r.Message)
	if reason == "" {
		reason = aws.ToString(r.Code)
	}
	if isKMSKeyCode(aws.ToString(r.Code)) {
		reason += "; " + kmsKeyAdvice
	}
	return reason
}

// rejected is res as a rejected result for err, a permanent problem, logged
// once at ERROR here, where it is handled: every rejection (a bad event, no
// target, no source, access denied, a template amibump may not change) is
// made by this function. A template's result names it; an event's does not.
func rejected(ctx context.Context, log *slog.Logger, res event.Result, err error) event.Result {
	res.Status, res.Reason = event.Rejected, err.Error()
	msg := "event rejected"
	if res.LaunchTemplateID != "" {
		msg = "target rejected"
	}
	log.ErrorContext(ctx, msg, "imageId", res.ImageID, "error", err)
	return res
}
