package event

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/golden"
)

func load(t *testing.T, name string) *Envelope {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	env, err := ParseEnvelope(raw)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return env
}

func TestClassify(t *testing.T) {
	tests := []struct {
		file string
		want *Kind
	}{
		{"deploy-finished.json", KindDeploy},
		{"deploy-finished-replay.json", KindDeploy},
		{"ami-state-available.json", KindAMIState},
		{"ami-state-failed.json", KindAMIState},
		{"scheduled-reconcile.json", KindReconcile},
		{"unsupported.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if got := load(t, tt.file).Classify(); got != tt.want {
				t.Errorf("Classify = %v, want %v", kindLabel(got), kindLabel(tt.want))
			}
		})
	}
}

func kindLabel(k *Kind) string {
	if k == nil {
		return "none"
	}
	return k.Name
}

// TestKindsTable: every kind has a detail type and says where it comes from;
// no two kinds can claim the same event; a kind with a dry run turns a detail
// into one that asks for it; Unsupported names every kind.
func TestKindsTable(t *testing.T) {
	seen := map[string]string{}
	for _, k := range Kinds {
		if k.Name == "" || k.DetailType == "" || k.From == "" {
			t.Errorf("kind %+v lacks a name, detail type or origin", k)
		}
		key := k.Source + "/" + k.DetailType
		if other, dup := seen[key]; dup {
			t.Errorf("kinds %s and %s both claim %s", other, k.Name, key)
		}
		seen[key] = k.Name
	}
	detail, err := KindDeploy.DryRun([]byte(`{"app":"shop","env":"prod","build":{"id":"b-1"}}`))
	if d, perr := ParseDeploy(detail); err != nil || perr != nil || !d.DryRun {
		t.Errorf("the deploy kind's dry run: %s, %v, %v; want dryRun set", detail, err, perr)
	}
	if KindAMIState.Plannable() || KindReconcile.Plannable() || !KindDeploy.Plannable() {
		t.Error("only deploy-finished has a dry run")
	}
	msg := Unsupported(load(t, "unsupported.json")).Error()
	for _, k := range Kinds {
		if !strings.Contains(msg, k.DetailType) {
			t.Errorf("%q does not name %s", msg, k.DetailType)
		}
	}
}

func TestParseEnvelopeKeepsReplayName(t *testing.T) {
	env := load(t, "deploy-finished-replay.json")
	if env.ReplayName != "amibump-replay-20261126" {
		t.Errorf("ReplayName = %q, want amibump-replay-20261126", env.ReplayName)
	}
}

func TestParseEnvelopeRejectsNonEvents(t *testing.T) {
	for _, raw := range []string{`[]`, `{}`, `{"source":"ci.jenkins"}`, `not json`} {
		if _, err := ParseEnvelope([]byte(raw)); err == nil {
			t.Errorf("ParseEnvelope(%s) accepted it", raw)
		}
	}
}

func TestParseDeployValid(t *testing.T) {
	tests := []struct {
		file string
		want Deploy
	}{
		{"deploy-finished.json", Deploy{App: "shop", Env: "prod", Layer: "web", Group: "a",
			Build:      Build{ID: "jenkins-shop-deploy-142", URL: "https://jenkins.example.com/job/shop-deploy/142/", Commit: "9f1c2e7d"},
			InstanceID: "i-0123456789abcdef0"}},
		{"deploy-finished-minimal.json", Deploy{App: "shop", Env: "prod", Build: Build{ID: "jenkins-shop-deploy-143"}}},
		{"deploy-finished-dry-run.json", Deploy{App: "shop", Env: "prod", Layer: "web", Group: "a", Build: Build{ID: "jenkins-shop-deploy-144"}, DryRun: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseDeploy(load(t, tt.file).Detail)
			if err != nil {
				t.Fatalf("ParseDeploy: %v", err)
			}
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("detail (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseDeployInvalid checks every invalid sample: rejected, and the message
// names each wrong field and what is allowed (golden: testdata/golden/).
func TestParseDeployInvalid(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "events", "invalid-*.json"))
	if len(files) < 5 {
		t.Fatalf("found %d invalid samples, want at least 5", len(files))
	}
	var got strings.Builder
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			_, err := ParseDeploy(load(t, name).Detail)
			if err == nil {
				t.Fatal("accepted an invalid event")
			}
			got.WriteString("== " + name + "\n" + err.Error() + "\n")
		})
	}
	golden.Check(t, "invalid-events.txt", []byte(got.String()))
}

func TestValidateNamesEachField(t *testing.T) {
	tests := []struct {
		name   string
		deploy Deploy
		field  string
	}{
		{"missing app", Deploy{Env: "prod", Build: Build{ID: "b"}}, "detail.app is required"},
		{"value too long", Deploy{App: strings.Repeat("a", 33), Env: "prod", Build: Build{ID: "b"}}, "detail.app"},
		{"slash in layer", Deploy{App: "a", Env: "prod", Layer: "web/x", Build: Build{ID: "b"}}, "detail.layer"},
		{"build id with trailing space", Deploy{App: "a", Env: "prod", Build: Build{ID: "b "}}, "detail.build.id"},
		{"build id too long", Deploy{App: "a", Env: "prod", Build: Build{ID: strings.Repeat("b", 129)}}, "detail.build.id"},
		{"url without scheme", Deploy{App: "a", Env: "prod", Build: Build{ID: "b", URL: "jenkins/job/1"}}, "detail.build.url"},
		{"instance id malformed", Deploy{App: "a", Env: "prod", Build: Build{ID: "b"}, InstanceID: "i-xyz"}, "detail.instanceId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.deploy.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.field)
			}
		})
	}
	ok := Deploy{App: "shop", Env: "prod", Layer: "web.1", Group: "a_b-c", Build: Build{ID: "jenkins-shop deploy-1", URL: "http://ci/job/1", Commit: "abc"}, InstanceID: "i-01234567"}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate rejected a valid detail: %v", err)
	}
}

func TestSelector(t *testing.T) {
	d := Deploy{App: "shop", Env: "prod", Group: "a"}
	want := []TagValue{{TagApp, "shop"}, {TagEnv, "prod"}, {TagGroup, "a"}}
	if diff := cmp.Diff(want, d.Selector()); diff != "" {
		t.Errorf("Selector (-want +got):\n%s", diff)
	}
}

func TestParseAMIState(t *testing.T) {
	s, err := ParseAMIState(load(t, "ami-state-failed.json").Detail)
	if err != nil {
		t.Fatal(err)
	}
	want := &AMIState{RequestID: "4f2a3b0c-1d5e-4f6a-0b9c-8d7e6f5a4b3c", ImageID: "ami-0abcdef1234567890", State: "failed", ErrorMessage: "Snapshot creation failed"}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseAMIState([]byte(`{"ImageId":"snap-1"}`)); err == nil {
		t.Error("accepted a detail without an AMI id")
	}
}

func TestParseForwarded(t *testing.T) {
	env := load(t, "bump-finished-forwarded.json")
	if k := env.Classify(); k != KindSourcePromoted {
		t.Fatalf("Classify = %v, want source-promoted", k)
	}
	r, err := ParseForwarded(env.Detail)
	if err != nil || r.Region != "us-east-1" || r.ImageID != "ami-0fedcba9876543210" {
		t.Fatalf("ParseForwarded = %+v, %v", r, err)
	}
	for _, tc := range []struct{ detail, want string }{
		{`{"status":"failed","region":"us-east-1","launchTemplateId":"lt-1","imageId":"ami-1"}`, `status "failed"`},
		{`{"status":"promoted","launchTemplateId":"lt-1"}`, "region, imageId missing"},
		{`[]`, "invalid bump-finished detail"},
	} {
		if _, err := ParseForwarded([]byte(tc.detail)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseForwarded(%s) = %v, want %q", tc.detail, err, tc.want)
		}
	}
}
