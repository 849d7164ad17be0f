package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// flagsLeftOff are the recommended feature flags cdk.json sets otherwise, each
// with its reason in the README (Deploying, Feature flags).
var flagsLeftOff = map[string]any{
	// A literal partition would tie the template to the partition of the
	// region it was synthesized for; amibump's template builds every ARN from
	// AWS::Partition so that one template deploys to aws and aws-cn alike.
	"@aws-cdk/core:enablePartitionLiterals": false,
}

// TestCDKJSONHasTheRecommendedFlags: cdk.json sets exactly the feature flags
// the pinned aws-cdk-lib recommends (what cdk init writes for it), so that
// cdk synth has none left to warn about, apart from flagsLeftOff.
func TestCDKJSONHasTheRecommendedFlags(t *testing.T) {
	recommended := recommendedFlags(t)
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdkJSON struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for k, v := range cdkJSON.Context {
		if strings.HasPrefix(k, "@") {
			got[k] = v
		}
	}
	want := map[string]any{}
	for k, v := range recommended {
		want[k] = v
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range flagsLeftOff {
		want[k] = v
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("the README does not say why cdk.json sets %s otherwise than recommended", k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cdk.json's feature flags (-recommended +cdk.json):\n%s", diff)
	}
}

// recommendedFlags reads CURRENTLY_RECOMMENDED_FLAGS from the aws-cdk-lib
// that the pinned Go module embeds (cx-api/lib/features.js), with Node.
func recommendedFlags(t *testing.T) map[string]any {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-cdk-go/awscdk/v2").Output()
	if err != nil {
		t.Fatalf("go list the CDK module: %v", err)
	}
	tgzs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(dir)), "jsii", "aws-cdk-lib-*.tgz"))
	if len(tgzs) != 1 {
		t.Fatalf("%d aws-cdk-lib tarballs in the CDK module, want 1", len(tgzs))
	}
	tmp := t.TempDir()
	if err := extract(tgzs[0], "package/cx-api/lib/", tmp); err != nil {
		t.Fatal(err)
	}
	features := filepath.Join(tmp, "package", "cx-api", "lib", "features.js")
	node := os.Getenv("JSII_NODE")
	if node == "" {
		node = "node"
	}
	out, err := exec.Command(node, "-e", `process.stdout.write(JSON.stringify(require(process.argv[1]).CURRENTLY_RECOMMENDED_FLAGS))`, features).Output()
	if err != nil {
		t.Fatalf("read the recommended flags with %s: %v", node, err)
	}
	var flags map[string]any
	if err := json.Unmarshal(out, &flags); err != nil || len(flags) == 0 {
		t.Fatalf("recommended flags %s: %v", out, err)
	}
	return flags
}

// extract writes the files under prefix in the gzipped tarball into dir.
func extract(tgz, prefix, dir string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) || strings.Contains(h.Name, "..") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
}
