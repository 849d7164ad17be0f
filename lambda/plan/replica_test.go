package plan

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckReplicateFrom(t *testing.T) {
	tests := []struct {
		name, value, own, want string
	}{
		{"another region", "us-east-1", "us-west-2", ""},
		{"China to China", "cn-north-1", "cn-northwest-1", ""},
		{"the European Sovereign Cloud from aws", "eusc-de-east-1", "eu-central-1", "partition aws-eusc"},
		{"aws from an isolated region", "us-east-1", "us-isob-east-1", "partition aws"},
		{"own region", "us-west-2", "us-west-2", "own region"},
		{"another partition", "cn-north-1", "us-west-2", "partition aws-cn"},
		{"GovCloud from aws", "us-gov-west-1", "us-east-1", "partition aws-us-gov"},
		{"not a region", "virginia", "us-east-1", "not a region name"},
		{"empty", "", "us-east-1", "not a region name"},
		{"upper case", "US-EAST-1", "us-west-2", "not a region name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckReplicateFrom(tc.value, tc.own)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckReplicateFrom(%q, %q) = %v, want %q", tc.value, tc.own, err, tc.want)
			}
		})
	}
}

func TestSourceTemplate(t *testing.T) {
	keys := []string{"amibump:app", "amibump:env", "amibump:layer", "amibump:group"}
	want := map[string]string{"amibump:app": "shop", "amibump:env": "prod", "amibump:layer": "web"}
	web := Candidate{ID: "lt-1", Name: "web", Tags: map[string]string{"amibump:app": "shop", "amibump:env": "prod", "amibump:layer": "web"}}
	webA := Candidate{ID: "lt-2", Name: "web-a", Tags: map[string]string{"amibump:app": "shop", "amibump:env": "prod", "amibump:layer": "web", "amibump:group": "a"}}
	web2 := Candidate{ID: "lt-3", Name: "web-2", Tags: web.Tags}
	tests := []struct {
		name       string
		candidates []Candidate
		wantID     string
		wantErr    string
	}{
		{"exactly one (a group on another does not match)", []Candidate{web, webA}, "lt-1", ""},
		{"none", []Candidate{webA}, "", "no launch template in us-east-1 is tagged amibump:app=shop, amibump:env=prod, amibump:layer=web"},
		{"several, named", []Candidate{web, web2}, "", "2 launch templates in us-east-1 are tagged amibump:app=shop, amibump:env=prod, amibump:layer=web (web, web-2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SourceTemplate(want, keys, "us-east-1", tc.candidates)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.ID != tc.wantID {
				t.Errorf("got %s, %v; want %s", got.ID, err, tc.wantID)
			}
		})
	}
}

func TestNewestReleaseAndCopyDue(t *testing.T) {
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	old := Image{ID: "ami-1", Deploy: Deploy{At: at, BuildID: "1"}, State: "available"}
	pending := Image{ID: "ami-3", Deploy: Deploy{At: at.Add(2 * time.Minute), BuildID: "3"}, State: "pending"}
	newer := Image{ID: "ami-2", Deploy: Deploy{At: at.Add(time.Minute), BuildID: "2"}, State: "available"}
	got, ok := NewestRelease([]Image{old, pending, newer})
	if !ok || got.ID != "ami-2" {
		t.Errorf("NewestRelease = %s, %v; want ami-2 (the newest available)", got.ID, ok)
	}
	if _, ok := NewestRelease([]Image{pending}); ok {
		t.Error("NewestRelease of a pending image only: found one, want none")
	}
	copyOfNewer := Image{ID: "ami-9", Deploy: newer.Deploy, State: "failed"}
	for _, tc := range []struct {
		name string
		have []Image
		want bool
	}{
		{"nothing here", nil, true},
		{"an older release here", []Image{old}, true},
		{"a copy of it here, failed", []Image{copyOfNewer}, false},
		{"a newer deploy here", []Image{pending}, false},
	} {
		if got := CopyDue(tc.have, newer); got != tc.want {
			t.Errorf("%s: CopyDue = %v, want %v", tc.name, got, tc.want)
		}
	}
	token := CopyToken("us-east-1/ami-2", "lt-1", "", "event-1")
	if token != CopyToken("us-east-1/ami-2", "lt-1", "", "event-1") || len(token) > 64 ||
		token == CopyToken("us-east-1/ami-2", "lt-1", "arn:aws:kms:us-west-2:123456789012:key/k", "event-1") ||
		token == CopyToken("us-east-1/ami-2", "lt-1", "", "event-2") {
		t.Error("CopyToken: the same for a retry of the event, another for a key change or another event, within 64 characters")
	}
}

// TestCopiesThatFit: copies start in order while their snapshots fit beside
// those in flight (EBS: 20 per destination region); the rest wait.
func TestCopiesThatFit(t *testing.T) {
	for _, tc := range []struct {
		inFlight int
		wanted   []int
		want     []bool
	}{
		{0, []int{1, 1, 1}, []bool{true, true, true}},
		{18, []int{1, 1, 1}, []bool{true, true, false}},
		{20, []int{1}, []bool{false}},
		{15, []int{4, 3, 1}, []bool{true, false, true}},
		{0, []int{0, 21}, []bool{true, false}},
		{25, []int{1}, []bool{false}}, // more in flight than the quota (another tool's, or a stale read)
	} {
		if got := CopiesThatFit(tc.inFlight, tc.wanted); !slices.Equal(got, tc.want) {
			t.Errorf("CopiesThatFit(%d, %v) = %v, want %v", tc.inFlight, tc.wanted, got, tc.want)
		}
	}
}
