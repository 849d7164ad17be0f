package event

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuoted bounds how much of a value a message quotes, and maxMessage how
// long a message about outside input may be: an event can carry 256 KB, and a
// reason is published in a bump-finished event, logged and returned.
const (
	maxQuoted  = 64
	maxMessage = 512
)

// Quote is v quoted for a message (Go syntax, so NUL bytes, invalid UTF-8 and
// odd Unicode show as escapes), shortened to its first 64 bytes, with its
// length, when longer.
func Quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(v[:runeStart(v, maxQuoted)]), len(v))
}

// Clip shortens a message that quotes outside input (a JSON decoder's error).
func Clip(msg string) string {
	if len(msg) <= maxMessage {
		return strings.ToValidUTF8(msg, "\uFFFD")
	}
	return strings.ToValidUTF8(msg[:runeStart(msg, maxMessage)], "\uFFFD") + fmt.Sprintf("… (cut, %d bytes)", len(msg))
}

// runeStart is the largest index at most n that starts a rune of s.
func runeStart(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
