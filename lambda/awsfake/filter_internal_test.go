package awsfake

import "testing"

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"exact", "shop", "shop", true},
		{"exact is case sensitive", "shop", "Shop", false},
		{"star matches a run", "shop-*-prod", "shop-web-a-prod", true},
		{"star matches nothing", "shop*", "shop", true},
		{"star alone matches empty", "*", "", true},
		{"question mark is one character", "web-?", "web-a", true},
		{"question mark needs a character", "web-?", "web-", false},
		{"escaped star is literal", `a\*`, "a*", true},
		{"escaped star does not wildcard", `a\*`, "ab", false},
		{"prefix only", "shop", "shop-web", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
				t.Errorf("wildcardMatch(%q, %q): got %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}
