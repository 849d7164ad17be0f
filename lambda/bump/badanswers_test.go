package bump_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/amibump/amibump/lambda/event"
)

// Bad answers from AWS are input too. Each case serves answers with fields
// missing (nil pointers in the SDK's structs), an image state newer than the
// SDK, or a tag with an empty value, for every call of an operation during one
// delivery; the handler must answer with a clear result (a status, and a reason
// when it is not promoted) and no panic, leave nothing half-done, and a
// redelivery once AWS answers well again must promote the deploy.
func TestBadAnswersFromAWS(t *testing.T) {
	var bad atomic.Bool // the edits apply while set
	images := func(edit func(img *ec2types.Image)) func(any) {
		return func(out any) {
			for i := range out.(*ec2.DescribeImagesOutput).Images {
				if bad.Load() {
					edit(&out.(*ec2.DescribeImagesOutput).Images[i])
				}
			}
		}
	}
	versions := func(edit func(v *ec2types.LaunchTemplateVersion)) func(any) {
		return func(out any) {
			for i := range out.(*ec2.DescribeLaunchTemplateVersionsOutput).LaunchTemplateVersions {
				if bad.Load() {
					edit(&out.(*ec2.DescribeLaunchTemplateVersionsOutput).LaunchTemplateVersions[i])
				}
			}
		}
	}
	const di, dv = "DescribeImages", "DescribeLaunchTemplateVersions"
	tests := []struct {
		name, op string
		edit     func(any)
		// deploy is the deploy event's result; "": a function error (a malformed
		// answer is like a 5xx: Lambda's retry asks again).
		deploy event.Status
	}{
		{"images without id, name or state", di, images(func(img *ec2types.Image) { img.ImageId, img.Name, img.State = nil, nil, "" }), event.Failed},
		{"images in a state the SDK does not know", di, images(func(img *ec2types.Image) { img.State = "quarantined" }), event.Failed},
		{"images without tags, creation date or state reason", di, images(func(img *ec2types.Image) { img.Tags, img.CreationDate, img.StateReason = nil, nil, nil }), event.Promoted},
		{"image tags with empty values", di, images(func(img *ec2types.Image) {
			for i := range img.Tags {
				img.Tags[i].Value = aws.String("")
			}
		}), event.Promoted},
		{"image tags with nil keys and values", di, images(func(img *ec2types.Image) {
			for i := range img.Tags {
				img.Tags[i].Key, img.Tags[i].Value = nil, nil
			}
		}), event.Promoted},
		{"versions without data", dv, versions(func(v *ec2types.LaunchTemplateVersion) { v.LaunchTemplateData = nil }), ""},
		{"versions without number, default flag or description", dv, versions(func(v *ec2types.LaunchTemplateVersion) {
			v.VersionNumber, v.DefaultVersion, v.VersionDescription = nil, nil, nil
		}), ""},
		{"versions without image or template id", dv, versions(func(v *ec2types.LaunchTemplateVersion) {
			v.LaunchTemplateId = nil
			if v.LaunchTemplateData != nil {
				v.LaunchTemplateData.ImageId = nil
			}
		}), event.Rejected},
	}
	for _, tt := range tests {
		for _, delivery := range []string{"deploy", "reconcile", "AMI state change"} {
			t.Run(tt.name+"/"+delivery, func(t *testing.T) {
				w := newWorld(t)
				raw := sample(t, "deploy-finished-web.json")
				if delivery != "deploy" {
					// An earlier delivery ran out of time: its AMI is pending, for
					// reconcile or the AMI state change to promote.
					margin := w.cfg.PromoteMargin
					w.cfg.PromoteMargin = w.deadline
					res := one(t, must(w.handle(raw)))
					w.cfg.PromoteMargin = margin
					if res.Status != event.Pending {
						t.Fatalf("seeding: %+v, want pending", res)
					}
					raw = sample(t, "scheduled-reconcile.json")
					if delivery == "AMI state change" {
						raw = amiStateEvent(t, res.ImageID, "available")
					}
					time.Sleep(50 * time.Millisecond) // the AMI becomes available
				}
				bad.Store(true)
				for range 100 {
					w.cloud.EditNext(tt.op, tt.edit)
				}
				resp, err := w.handle(raw)
				bad.Store(false)
				for _, r := range resp.Results {
					if r.Status == "" || (r.Status != event.Promoted && strings.TrimSpace(r.Reason) == "") {
						t.Errorf("result %+v: want a status, and a reason unless promoted", r)
					}
				}
				if err != nil && strings.TrimSpace(err.Error()) == "" {
					t.Error("a function error without a message")
				}
				if delivery == "deploy" {
					var got event.Status
					if len(resp.Results) > 0 {
						got = resp.Results[0].Status
					}
					if got != tt.deploy || (got == "" && err == nil) {
						t.Errorf("deploy: results %+v, error %v; want status %q", resp.Results, err, tt.deploy)
					}
				}

				again := one(t, must(w.handle(sample(t, "deploy-finished-web.json"))))
				if again.Status != event.Promoted {
					t.Errorf("redelivery once AWS answers well: %+v, want promoted", again)
				}
				if n := len(w.amibumpImages(w.lt)); n != 1 {
					t.Errorf("%d amibump images, want 1", n)
				}
			})
		}
	}
}
