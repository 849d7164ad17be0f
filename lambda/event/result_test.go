package event

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/golden"
)

// TestResultRoundTrip pins the bump-finished detail, the result amibump
// promises to its subscribers: each status's result marshals to its golden
// file (testdata/golden/result-*.json) and the golden file unmarshals, with
// unknown fields refused, to the same result.
func TestResultRoundTrip(t *testing.T) {
	build := &Build{ID: "jenkins-shop-deploy-142", URL: "https://jenkins.example.com/job/shop-deploy/142/", Commit: "9f1c2e7d"}
	tests := []struct {
		name string
		res  Result
	}{
		{"promoted", Result{Status: Promoted, EventID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", Version: 7, ImageID: "ami-0123456789abcdef0", SourceInstance: "i-0123456789abcdef0", Build: build,
			Warnings: []string{"group shop-web-prod-b is pinned to launch template version 5 and will keep launching the old AMI; set it to $Latest or $Default"},
			Pruned:   &Pruned{Versions: 2, Images: 1, Snapshots: 1}}},
		{"superseded", Result{Status: Superseded, EventID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", Version: 8, Build: build,
			Reason: "version 8 of shop-web-prod-a already carries ami-0fedcba9876543210, deployed at 2026-11-26T03:00:00Z, newer than this deploy (2026-11-26T02:15:00Z); nothing was made"}},
		{"pending", Result{Status: Pending, EventID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", ImageID: "ami-0123456789abcdef0", SourceInstance: "i-0123456789abcdef0", Build: build,
			Reason: "image ami-0123456789abcdef0 is still pending; the AMI state change event or the reconcile schedule will promote it"}},
		{"rejected", Result{Status: Rejected, EventID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", Account: "123456789012", Region: "us-east-1", Build: build,
			Reason: "no launch template tagged amibump:app=shop, amibump:env=prod, amibump:layer=web; tag the template or fix the event"}},
		{"failed", Result{Status: Failed, EventID: "7d3e0c4a-1b2c-4d5e-8f90-123456789abc", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", ImageID: "ami-0123456789abcdef0", Build: &Build{ID: "jenkins-shop-deploy-142"},
			Reason: "EC2 could not make the image: Snapshot creation failed"}},
		{"dry-run", Result{Status: DryRun, EventID: "d1c4a8e2-7b3f-4e59-9a6d-2f8b1c0e5a73", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", SourceInstance: "i-0123456789abcdef0", Build: build,
			Plan: []string{"image i-0123456789abcdef0 (tagged amibump:source-for=shop-web-prod-a)", "create version 8 of shop-web-prod-a with the new AMI"}}},
		{"drifted", Result{Status: Drifted, EventID: "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", Version: 9, ImageID: "ami-0aaaaaaaaaaaaaaaa",
			Reason: "version 9 of shop-web-prod-a was made by someone else and carries ami-0aaaaaaaaaaaaaaaa, older than ami-0123456789abcdef0 (build jenkins-shop-deploy-142) that amibump promoted"}},
		{"rolled-back", Result{Status: RolledBack, EventID: "5e2b7c1d-3f4a-4b8e-9d6c-0a1b2c3d4e5f", Account: "123456789012", Region: "us-east-1", LaunchTemplateID: "lt-0123456789abcdef0",
			LaunchTemplateName: "shop-web-prod-a", Version: 9, ImageID: "ami-0fedcba9876543210", Build: &Build{ID: "jenkins-shop-deploy-141", Commit: "1a2b3c4d"}, RolledBackFrom: build,
			Reason: "rolled back from build jenkins-shop-deploy-142 (ami-0123456789abcdef0) to build jenkins-shop-deploy-141 (ami-0fedcba9876543210): version 9 of shop-web-prod-a, made from version 6; held at build jenkins-shop-deploy-142 (amibump:hold=jenkins-shop-deploy-142) until a newer deploy; reason given: 5xx on checkout after build 142"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "result-" + tt.name + ".json"
			got, err := json.MarshalIndent(tt.res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name, append(got, '\n'))
			var back Result
			if err := decodeStrict(golden.Read(t, name), &back); err != nil {
				t.Fatalf("%s does not decode as a Result: %v", name, err)
			}
			if diff := cmp.Diff(tt.res, back); diff != "" {
				t.Errorf("round trip of %s (-want +got):\n%s", name, diff)
			}
		})
	}
}

// decodeStrict decodes raw into v, refusing fields v does not have: a golden
// file with a field the Go type lost fails the round trip.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
