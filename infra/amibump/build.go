package amibump

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// goArch maps the architecture setting to GOARCH.
var goArch = map[string]string{"arm64": "arm64", "x86_64": "amd64"}

// BuildFunction compiles the Go main package in source for Lambda's
// provided.al2023 runtime on arch (arm64 | x86_64) and writes it as
// outDir/bootstrap. outDir is emptied first, so it holds exactly the binary that
// was just built: a stale or missing binary cannot be shipped.
//
// The build is reproducible (-trimpath, -buildvcs=false, no cgo), so unchanged
// code gives an identical binary, an unchanged asset hash and no diff on deploy.
func BuildFunction(source, arch, outDir string) error {
	goarch, ok := goArch[arch]
	if !ok {
		return fmt.Errorf("build %s: architecture %q is not arm64 or x86_64", source, arch)
	}
	if err := os.RemoveAll(outDir); err != nil {
		return fmt.Errorf("build %s: clear %s: %w", source, outDir, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("build %s: create %s: %w", source, outDir, err)
	}
	if !filepath.IsAbs(source) && !hasDotPrefix(source) {
		source = "./" + source // a directory, not an import path
	}
	cmd := exec.Command("go", "build",
		"-tags", "lambda.norpc",
		"-trimpath",
		"-buildvcs=false",
		"-ldflags=-s -w",
		"-o", filepath.Join(outDir, "bootstrap"),
		source)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s for linux/%s: %w\n%s", source, goarch, err, out.String())
	}
	return nil
}

func hasDotPrefix(p string) bool {
	return p == "." || p == ".." || len(p) > 1 && p[0] == '.' && (p[1] == '/' || p[1] == '.')
}
