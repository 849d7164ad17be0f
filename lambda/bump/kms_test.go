package bump_test

import (
	"strings"
	"testing"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// CreateImage refused for a KMS key is rejected (a retry cannot fix a key
// permission) with advice naming the stack's kmsKeyArns setting.
func TestCreateImageRefusedForAKMSKeyNamesTheSetting(t *testing.T) {
	for _, code := range []string{"KMS.DisabledException", "KMS.NotFoundException", "KMS.InvalidStateException"} {
		t.Run(code, func(t *testing.T) {
			w := newWorld(t)
			w.cloud.FailNext("CreateImage", awsfake.APIError(code, "The request was rejected for the KMS key"))
			resp, err := w.handle(sample(t, "deploy-finished-web.json"))
			if err != nil {
				t.Fatalf("returned %v, want a rejected result", err)
			}
			res := one(t, resp)
			if res.Status != event.Rejected || !strings.Contains(res.Reason, code) || !strings.Contains(res.Reason, "kmsKeyArns") {
				t.Errorf("result %+v, want rejected naming %s and kmsKeyArns", res, code)
			}
			if n := len(w.amibumpImages(w.lt)); n != 0 {
				t.Errorf("%d images made, want none", n)
			}
		})
	}
}
