// Package golden compares a test's output with a file under testdata/golden/
// and rewrites the file when the tests run with -update (a flag of the test
// binaries that import this package: go test ./lambda/event ./lambda/bump
// ./lambda/cmd/amibump -update). Every output amibump promises (the
// bump-finished result, amibump status, the metrics in the logs) has one.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden/")

// Path is the path of a golden file: testdata/golden/name at the root of the repository.
func Path(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "golden", name)
}

// Check fails t when got differs from the golden file name; with -update it
// writes got there first.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := Path(name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./... -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// Read returns the contents of the golden file name.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(Path(name))
	if err != nil {
		t.Fatalf("%v (run go test ./... -update to write it)", err)
	}
	return raw
}
