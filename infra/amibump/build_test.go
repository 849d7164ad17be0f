package amibump_test

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
)

func TestBuildFunction(t *testing.T) {
	tests := []struct {
		arch    string
		machine elf.Machine
	}{
		{"arm64", elf.EM_AARCH64},
		{"x86_64", elf.EM_X86_64},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			stale := filepath.Join(dir, "stale")
			if err := os.WriteFile(stale, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := amibump.BuildFunction("testdata/placeholder", tt.arch, dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(stale); !os.IsNotExist(err) {
				t.Errorf("%s survived the build; the output directory must hold only the new binary", stale)
			}
			bin := filepath.Join(dir, "bootstrap")
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			if f.Machine != tt.machine {
				t.Errorf("bootstrap is for %v, want %v", f.Machine, tt.machine)
			}
			// Reproducible: the same source builds the same bytes, so the asset
			// hash (and the deploy) changes only when the code does.
			again := filepath.Join(t.TempDir(), "again")
			if err := amibump.BuildFunction("testdata/placeholder", tt.arch, again); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(bin)
			b, _ := os.ReadFile(filepath.Join(again, "bootstrap"))
			if !bytes.Equal(a, b) {
				t.Error("two builds of the same source differ")
			}
		})
	}
	for name, c := range map[string]struct{ source, arch string }{
		"missing source":       {"testdata/missing", "arm64"},
		"unknown architecture": {"testdata/placeholder", "sparc"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := amibump.BuildFunction(c.source, c.arch, filepath.Join(t.TempDir(), "out")); err == nil {
				t.Error("got no error")
			}
		})
	}
}
