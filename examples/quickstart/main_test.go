package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestWalkThrough runs the quickstart against the in-process server and
// checks that every step ran and no full secret was printed.
func TestWalkThrough(t *testing.T) {
	t.Setenv("UNLEASH_URL", "")
	t.Setenv("UNLEASH_API_TOKEN", "")
	var out bytes.Buffer
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"1. create a backend", "2. create a frontend", "3. list", "4. extend", "5. delete", "quickstart-frontend-", "deleted; 0 tokens"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if full := regexp.MustCompile(`\.[0-9a-f]{56}`).FindString(text); full != "" {
		t.Errorf("output holds a full secret:\n%s", text)
	}
	if !strings.Contains(text, "***") {
		t.Errorf("no redacted secret in the output:\n%s", text)
	}
}
