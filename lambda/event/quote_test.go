package event

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteAndClip(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: the cut falls inside a rune
	tests := []struct{ name, got, want string }{
		{"a short value is quoted whole", Quote("shop\x00"), `"shop\x00"`},
		{"a long value is cut at a rune, with its length", Quote(long), `"` + strings.Repeat("é", 32) + `"… (200 bytes)`},
		{"a short message is kept", Clip("bad"), "bad"},
		{"a long message is cut, with its length", Clip(strings.Repeat("a", 600)), strings.Repeat("a", 512) + "… (cut, 600 bytes)"},
		{"invalid UTF-8 in a message is replaced", Clip("a\xffb"), "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
			if !utf8.ValidString(tt.got) {
				t.Errorf("%q is not valid UTF-8", tt.got)
			}
		})
	}
}
