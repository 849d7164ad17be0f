package main

import (
	"strings"
	"testing"
)

// The table fits in 120 columns, however long a result is.
func TestTableFitsIn120Columns(t *testing.T) {
	rows := []row{
		{"2", "API calls, one template, first bump", "11 (+1 polls): resolve 1, check 2, source 1, image 1, promote 4, groups 1, retention 3, results 1", "<= 10", "MISSED"},
		{"4", "reconcile 500 templates, all due", "7066 calls (DeregisterImage 4500, DescribeLaunchTemplateVersions 1003, CreateLaunchTemplateVersion 500, ...); 1944 ms on the fakes, ~235 s at AWS's pace", "", ""},
		{"", "  calls a template (no polls); wall/T", strings.Repeat("x", 130), "<= 6 a template", "ok"},
	}
	var b strings.Builder
	if err := render(&b, rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, l := range lines {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "results 1") || !strings.Contains(got, "235 s at AWS's pace") {
		t.Errorf("wrapped results lost text:\n%s", got)
	}
	if len(lines) < 6 {
		t.Errorf("long results were not wrapped:\n%s", b.String())
	}
}
