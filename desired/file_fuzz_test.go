package desired_test

// FuzzParse feeds arbitrary files to Parse. Run it for a while with
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s ./desired
//
// (make fuzz does); a plain go test runs each seed once.

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// fuzzAllocBound is what Parse may allocate for data: a constant (the
// parser's nesting, up to its depth limit, is costly but bounded), plus
// per mark and per byte what the worst shapes measured cost. At the
// limits of a file this is 16 + 120 + 32 MB, within parseBudget, so a
// file over it is one that could break the budget at full size.
func fuzzAllocBound(data []byte) uint64 {
	return 16<<20 + 600*uint64(desired.Marks(data)) + 32*uint64(len(data))
}

// FuzzParse: Parse never panics, allocates within fuzzAllocBound, refuses
// with a *FileError only, and a file it accepts goes through json.Marshal
// and comes back the same from Parse and from json.Unmarshal.
func FuzzParse(f *testing.F) {
	for _, s := range []string{exampleYAML, exampleJSON, exampleFile, "tokens: []\n"} {
		f.Add([]byte(s))
	}
	if doc, err := os.ReadFile("../docs/DESIRED.md"); err == nil {
		if _, rest, ok := strings.Cut(string(doc), "```yaml\n"); ok {
			block, _, _ := strings.Cut(rest, "```")
			f.Add([]byte(block))
		}
	}
	for _, h := range hostileFiles {
		f.Add([]byte(h.prefix + strings.Repeat(h.unit, 20) + h.suffix))
	}
	f.Add([]byte("tokens:\n  - {name: checkout, type: client}\n  - {name: \"Checkout\\u200b\", type: client}\n"))
	f.Add([]byte("tokens:\n  - name: \"caf\u00e9\"\n    type: client\n    expiresIn: 1.5d\n    maxAge: 90m\n    projects: ['*']\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var file *desired.File
		var err error
		if n := allocated(func() { file, err = desired.Parse(data) }); n > fuzzAllocBound(data) {
			t.Fatalf("%d bytes, %d marks: allocated %d bytes, over %d", len(data), desired.Marks(data), n, fuzzAllocBound(data))
		}
		if err != nil {
			var fe *desired.FileError
			if !errors.As(err, &fe) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
				t.Fatalf("error %v (%T) is not a *FileError", err, err)
			}
			return
		}
		b, err := json.Marshal(file)
		if err != nil {
			t.Fatalf("json.Marshal(%+v): %v", file, err)
		}
		again, err := desired.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s), of what was accepted: %v", b, err)
		}
		if !reflect.DeepEqual(withoutLines(again), withoutLines(file)) {
			t.Fatalf("Parse(%s) = %+v, want %+v", b, again, file)
		}
		var un desired.File
		if err := json.Unmarshal(b, &un); err != nil || !reflect.DeepEqual(withoutLines(&un), withoutLines(file)) {
			t.Fatalf("json.Unmarshal(%s) = %+v, %v; want %+v", b, un, err, file)
		}
	})
}
