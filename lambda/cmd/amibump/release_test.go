package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestVersion: --version (and version, -version) prints the stamped release
// on stdout, or "devel" for a build that was not stamped.
func TestVersion(t *testing.T) {
	w := newWorld(t, nil)
	for _, arg := range []string{"--version", "-version", "version"} {
		code, stdout, stderr := w.amibump(arg)
		want := regexp.MustCompile(`^amibump devel \(go[^,]+, ` + runtime.GOOS + "/" + runtime.GOARCH + `\)\n$`)
		if code != exitOK || !want.MatchString(stdout) || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and %s", arg, code, stdout, stderr, want)
		}
	}
	version = "v1.2.3"
	defer func() { version = "" }()
	if _, stdout, _ := w.amibump("--version"); !strings.HasPrefix(stdout, "amibump v1.2.3 (") {
		t.Errorf("stamped v1.2.3: %q", stdout)
	}
}

// TestMakeRelease: make release builds, for each platform, an archive holding
// the binary (stamped with VERSION) and the README, and SHA256SUMS that check.
// It builds this machine's platform only; the default list is checked in the
// dry run.
func TestMakeRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI with make")
	}
	dry, err := exec.Command("make", "-C", repoRoot, "-n", "release").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n release: %v\n%s", err, dry)
	}
	if !strings.Contains(string(dry), "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64") {
		t.Errorf("make -n release does not build linux and darwin on amd64 and arm64:\n%s", dry)
	}

	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	out, err := exec.Command("make", "-C", repoRoot, "release", "DIST="+dist, "RELEASE_PLATFORMS="+platform, "VERSION=v0.0.0-test").CombinedOutput()
	if err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	archive := fmt.Sprintf("amibump_v0.0.0-test_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
	entries, _ := os.ReadDir(dist)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "SHA256SUMS "+archive {
		t.Fatalf("dist holds %v; want %s and SHA256SUMS", names, archive)
	}
	raw, err := os.ReadFile(filepath.Join(dist, archive))
	if err != nil {
		t.Fatal(err)
	}
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	sum := sha256.Sum256(raw)
	if want := hex.EncodeToString(sum[:]) + "  " + archive + "\n"; string(sums) != want {
		t.Errorf("SHA256SUMS = %q, want %q", sums, want)
	}

	files := untar(t, raw, t.TempDir())
	dir := strings.TrimSuffix(archive, ".tar.gz")
	bin := files[dir+"/amibump"]
	if bin == "" || files[dir+"/README.md"] == "" {
		t.Fatalf("the archive holds %v; want %s/amibump and %s/README.md", files, dir, dir)
	}
	got, err := exec.CommandContext(context.Background(), bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(got), "amibump v0.0.0-test (") {
		t.Errorf("the released binary's --version: %q, %v; want it stamped v0.0.0-test", got, err)
	}
}

// TestMakeCLIForAnotherPlatform: GOOS/GOARCH=… make cli writes
// amibump-GOOS-GOARCH, leaving ./amibump (this machine's) alone.
func TestMakeCLIForAnotherPlatform(t *testing.T) {
	for _, tt := range []struct{ goos, goarch, want string }{
		{"", "", "-o amibump "},
		{runtime.GOOS, runtime.GOARCH, "-o amibump "},
		{"darwin", "arm64", "-o amibump-darwin-arm64 "},
		{"linux", "riscv64", "-o amibump-linux-riscv64 "},
	} {
		cmd := exec.Command("make", "-C", repoRoot, "-n", "cli")
		cmd.Env = append(os.Environ(), "GOOS="+tt.goos, "GOARCH="+tt.goarch)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), "-X main.version=") {
			t.Errorf("GOOS=%q GOARCH=%q make -n cli: %v\n%s\nwant %q and the version stamped", tt.goos, tt.goarch, err, out, tt.want)
		}
	}
}

// untar writes a gzipped tarball's files into dir and returns them by name.
func untar(t *testing.T, raw []byte, dir string) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		path := filepath.Join(dir, filepath.Base(h.Name))
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		files[h.Name] = path
	}
}
