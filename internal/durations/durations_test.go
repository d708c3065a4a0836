package durations

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"90d":    90 * day,
		"1d12h":  day + 12*time.Hour,
		"36h":    36 * time.Hour,
		"1.5d":   36 * time.Hour,
		"-2h30m": -(2*time.Hour + 30*time.Minute),
		"+7d":    7 * day,
		"0":      0,
		"0d":     0,
		" 14d ":  14 * day,
		"500ms":  500 * time.Millisecond,
	} {
		got, err := Parse(in)
		if in == "0" {
			// A bare 0 has no unit; Go accepts it, but so short a form is
			// not worth the special case: it is an error here too.
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "90", "ten days", "90days", "1y", "9999999999999d", "1d-2h", "--1d"} {
		if got, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, got)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * 24 * time.Hour:           "90d",
		36 * time.Hour:                "36h",
		90 * time.Minute:              "1h30m",
		0:                             "0s",
		1500 * time.Millisecond:       "1.5s",
		-48 * time.Hour:               "-2d",
		24*time.Hour + 30*time.Second: "24h0m30s",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
	}
}
