package durations

import (
	"strings"
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

// TestParseErrorsHoldNoInput: a duration is read from files and flags that
// may hold a credential by mistake; an error names what is wrong, never
// any part of what was written.
func TestParseErrorsHoldNoInput(t *testing.T) {
	const secret = "5f3a9c1e7b2d4f6a8c0e"
	for _, bad := range []string{
		secret, "90" + secret, "1d" + secret, "9" + secret + "d", secret + "90d",
		"*:*." + secret, "99999999999999999999" + secret + "d", "9223372036854775807h" + secret,
	} {
		_, err := Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) gave no error", bad)
			continue
		}
		for i := 0; i+6 <= len(secret); i++ {
			if strings.Contains(err.Error(), secret[i:i+6]) {
				t.Errorf("Parse(%q): error %q holds part of the input", bad, err)
				break
			}
		}
	}
}

// TestFormatParsesBack: what Format writes, Parse reads as the same
// duration, for every non-negative duration (what a file marshals).
func TestFormatParsesBack(t *testing.T) {
	for _, d := range []time.Duration{
		0, 1, time.Microsecond, 1500 * time.Millisecond, time.Minute, 90 * time.Minute,
		36 * time.Hour, 24*time.Hour + 30*time.Second, 90 * 24 * time.Hour,
		time.Duration(1<<63 - 1), 106751 * 24 * time.Hour,
	} {
		got, err := Parse(Format(d))
		if err != nil || got != d {
			t.Errorf("Parse(Format(%d)) = Parse(%q) = %d, %v", int64(d), Format(d), int64(got), err)
		}
	}
}
