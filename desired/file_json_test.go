package desired_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// withoutLines returns f's entries with Line zeroed: where an entry was
// read is not part of it.
func withoutLines(f *desired.File) *desired.File {
	g := *f
	g.Tokens = append([]desired.Entry(nil), f.Tokens...)
	for i := range g.Tokens {
		g.Tokens[i].Line = 0
	}
	return &g
}

// TestFileJSONRoundTrip: a File marshals to the file format (durations as
// "90d", not nanoseconds), so that Parse and json.Unmarshal of what
// json.Marshal wrote give the same file back.
func TestFileJSONRoundTrip(t *testing.T) {
	t.Parallel()
	parsed, err := desired.Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	built := &desired.File{Tokens: []desired.Entry{
		{Name: "a", Type: unleashadmin.TokenTypeClient, ExpiresIn: 36 * time.Hour, RenewBefore: 90 * time.Minute,
			MaxAge: 1500 * time.Millisecond},
		{Name: "caf\u00e9 <&>", Type: unleashadmin.TokenTypeBackend, Environment: "production", Projects: []string{"x", "y"},
			ExpiresIn: 24*time.Hour + 30*time.Second, MaxAge: time.Duration(1<<63 - 1)},
	}}
	if err := built.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*desired.File{parsed, built, {}} {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"line"`) || strings.Contains(string(b), "null") {
			t.Errorf("marshalled %s", b)
		}
		again, err := desired.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s): %v", b, err)
		}
		if !reflect.DeepEqual(withoutLines(again), withoutLines(f)) {
			t.Errorf("Parse(%s) = %+v, want %+v", b, again, f)
		}
		var un desired.File
		if err := json.Unmarshal(b, &un); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if !reflect.DeepEqual(withoutLines(&un), withoutLines(f)) {
			t.Errorf("json.Unmarshal(%s) = %+v, want %+v", b, un, f)
		}
	}
	b, _ := json.Marshal(parsed)
	const want = `{"tokens":[{"name":"checkout","type":"backend","environment":"production","projects":["default"],` +
		`"expiresIn":"90d","renewBefore":"14d","maxAge":"60d"},{"name":"web","type":"frontend","projects":["a","b"]}],` +
		`"prune":{"namePrefix":"svc-"}}`
	if string(b) != want {
		t.Errorf("json.Marshal gave\n%s\nwant\n%s", b, want)
	}

	// An Entry alone goes there and back too; read alone, it has no line.
	for _, e := range append(parsed.Tokens, built.Tokens...) {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var got desired.Entry
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		e.Line = 0
		if !reflect.DeepEqual(got, e) {
			t.Errorf("json.Unmarshal(%s) = %+v, want %+v", b, got, e)
		}
	}

	// json.Unmarshal is as strict as Parse, and as quiet about values.
	for _, bad := range []string{
		`{"tokens": [{"name": "a", "type": "client", "expiresIn": 7776000000000000}]}`,
		`{"tokens": [{"name": "a", "type": "client", "line": 3}]}`,
		`{"tokens": [{"name": "a", "type": "*:*.5f3a9c1e7b2d4f6a8c0e"}]}`,
		`{"tokens": [{"name": "a", "type": "client"}, {"name": "A", "type": "client"}]}`,
	} {
		var f desired.File
		err := json.Unmarshal([]byte(bad), &f)
		var fe *desired.FileError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "5f3a9c1e") {
			t.Errorf("json.Unmarshal(%s): %v", bad, err)
		}
		var e desired.Entry
		if strings.Contains(bad, "expiresIn") || strings.Contains(bad, "line") {
			entry := bad[strings.Index(bad, "[")+1 : strings.LastIndex(bad, "]")]
			if err := json.Unmarshal([]byte(entry), &e); !errors.As(err, &fe) {
				t.Errorf("json.Unmarshal(%s) into an Entry: %v", entry, err)
			}
		}
	}
}

// TestOptionsJSONInTheFilesForm: Options marshal their grace period as the
// file writes durations, and read it back; the key stays out.
func TestOptionsJSONInTheFilesForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts desired.Options
		json string
	}{
		{desired.Options{OwnKey: "*:*.0123456789abcdef0123456789abcdef", GracePeriod: 24 * time.Hour, DefaultEnvironment: "production"},
			`{"gracePeriod":"1d","defaultEnvironment":"production"}`},
		{desired.Options{GracePeriod: 90 * time.Minute}, `{"gracePeriod":"1h30m"}`},
		{desired.Options{}, `{}`},
	} {
		b, err := json.Marshal(tc.opts)
		if err != nil || string(b) != tc.json {
			t.Errorf("json.Marshal(%v) = %s, %v; want %s", tc.opts, b, err, tc.json)
		}
		var got desired.Options
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("json.Unmarshal(%s): %v", b, err)
		}
		if got.GracePeriod != tc.opts.GracePeriod || got.DefaultEnvironment != tc.opts.DefaultEnvironment || got.OwnKey != "" {
			t.Errorf("json.Unmarshal(%s) = %v", b, got)
		}
	}
	// What the previous MarshalJSON wrote is read too.
	var got desired.Options
	if err := json.Unmarshal([]byte(`{"gracePeriod":"1h0m0s"}`), &got); err != nil || got.GracePeriod != time.Hour {
		t.Errorf("1h0m0s: %v, %v", got.GracePeriod, err)
	}
	for _, bad := range []string{`{"gracePeriod":3600000000000}`, `{"gracePeriod":"1w5f3a9c1e"}`, `{"gracePeriod":"-1h"}`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil || strings.Contains(err.Error(), "5f3a9c1e") {
			t.Errorf("json.Unmarshal(%s): %v", bad, err)
		}
	}
}
