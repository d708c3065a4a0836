package main

import "testing"

// TestPrintableEscapesNoncharacters: Unicode's noncharacters are not text
// a terminal or a YAML file may get raw (YAML refuses U+FFFE and U+FFFF
// even in a comment); printable shows them as escapes.
func TestPrintableEscapesNoncharacters(t *testing.T) {
	for in, want := range map[string]string{
		"a\uffffb":   `a\uffffb`,
		"\ufffe":     `\ufffe`,
		"\ufdd0x":    `\ufdd0x`,
		"\ufdefx":    `\ufdefx`,
		"\U0001fffe": `\U0001fffe`,
		"\U0010ffff": `\U0010ffff`,
		"\ufffd":     "\ufffd", // the replacement character is a character
		"\ufdf0":     "\ufdf0",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}
