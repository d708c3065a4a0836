package unleashtest

import (
	"testing"
	"time"
)

func TestJSNumber(t *testing.T) {
	for f, want := range map[float64]string{
		5: "5", 5.5: "5.5", -0.25: "-0.25", 1e21: "1e+21", 123456789012345680000: "123456789012345680000",
		1e-7: "1e-7", 0.000001: "0.000001", 1.5e-10: "1.5e-10", 0: "0", 100: "100",
	} {
		if got := jsNumber(f); got != want {
			t.Errorf("jsNumber(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestDateTimeFormat(t *testing.T) {
	good := map[string]string{
		"2030-01-02T03:04:05.000Z":       "2030-01-02T03:04:05.000Z",
		"2030-01-02T03:04:05Z":           "2030-01-02T03:04:05.000Z",
		"2031-07-04T11:26:24+02:00":      "2031-07-04T09:26:24.000Z",
		"2031-07-04T11:26:24+0200":       "2031-07-04T09:26:24.000Z",
		"2031-07-04T11:26:24-02":         "2031-07-04T13:26:24.000Z",
		"2030-01-02t03:04:05.123456789z": "2030-01-02T03:04:05.123Z",
		"2030-01-02 03:04:05.1Z":         "2030-01-02T03:04:05.100Z",
		"2024-02-29T00:00:00Z":           "2024-02-29T00:00:00.000Z",
		"2016-12-31T23:59:60Z":           "2017-01-01T00:00:00.000Z",
		"9999-12-31T23:00:00-02:00":      "+010000-01-01T01:00:00.000Z",
	}
	for in, want := range good {
		got, ok := parseDateTime(in)
		if !ok {
			t.Errorf("%q rejected", in)
			continue
		}
		if s := formatTime(got); s != want {
			t.Errorf("%q -> %q, want %q", in, s, want)
		}
	}
	for _, in := range []string{
		"", "2030-01-01", "not-a-date", "2030-01-02T03:04:05", "2030-13-01T00:00:00Z",
		"2023-02-29T00:00:00Z", "2030-01-02T24:00:00Z", "2030-01-02T03:04:05.Z",
		"2030-01-02T03:04:05+24:00", "2030-01-02T03:04:05+02:", "2030-1-02T03:04:05Z",
		"2030-01-02TT03:04:05Z", "2030-01-02T03:04:60Z",
	} {
		if isDateTime(in) {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2030, 1, 2, 5, 4, 5, 999_999_999, time.FixedZone("x", 2*3600))
	if got := formatTime(tm); got != "2030-01-02T03:04:05.999Z" {
		t.Errorf("formatTime = %q", got)
	}
}

func TestParseJSONMessages(t *testing.T) {
	for in, want := range map[string]string{
		`{"tokenName":`:    "Unexpected end of JSON input",
		`   `:              "Unexpected end of JSON input",
		`{"a":1}  x`:       "Unexpected non-whitespace character after JSON at position 9",
		`{"a" 1}`:          `Unexpected token '1', "{"a" 1}" is not valid JSON`,
		`tokenName=t-form`: `Unexpected token 'o', "tokenName=t-form" is not valid JSON`,
	} {
		_, err := parseJSON([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("parseJSON(%q) error %v, want %q", in, err, want)
		}
	}
	v, err := parseJSON([]byte(`{"b":1,"a":[true,null,"x\u003c"],"b":2.50}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.stringify(); got != `{"b":2.5,"a":[true,null,"x<"]}` {
		t.Errorf("stringify = %s", got)
	}
}
