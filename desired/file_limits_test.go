package desired_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// parseBudget is what reading any desired-state file may allocate, in
// all, before it is accepted or refused.
const parseBudget = 256 << 20

// allocated returns the bytes f allocates (runtime.MemStats.TotalAlloc,
// which counts every allocation, freed or not).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostileFile is a file made of prefix, unit repeated as often as the
// file's limits allow (fill), and suffix.
type hostileFile struct {
	name, prefix, unit, suffix string
}

// hostileFiles are the shapes that cost the YAML parser most per byte
// (found by measuring every short pattern of YAML's indicators): flow and
// block collections of tiny items, comments, nesting, anchors and aliases,
// long scalars, and many well-formed entries.
var hostileFiles = []hostileFile{
	{"flow list", "tokens: [", "a,", "a]\n"},
	{"flow list of empty maps", "tokens: [", "{},", "{}]\n"},
	{"flow map of nulls", "tokens: {", "a,", "a}\n"},
	{"block list of nulls", "tokens:\n", "-\n", ""},
	{"block list of comments", "tokens:\n", "- #\n", ""},
	{"block map with comments", "", "a: #\n", ""},
	{"CR line breaks", "tokens:\r", "-\r", ""},
	{"LS line breaks", "tokens:\u2028", "-\u2028", ""},
	{"anchors, tags and comments", "tokens:\n", "- &a !t #\n", ""},
	{"aliases", "tokens: [&a a, ", "*a,", "a]\n"},
	{"billion laughs", "a: &a [x, x, x, x, x, x, x, x, x, x]\n", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n", "tokens: [*b]\n"},
	{"deep flow nesting", "tokens: ", "[", ""},
	{"deep block nesting", "tokens:\n", "- ", "a\n"},
	{"deep then wide", "tokens: " + strings.Repeat("{a: ", 9000), "a,", ""},
	{"long plain scalar", "tokens: ", "a", "\n"},
	{"long plain scalar of words", "tokens: ", "a \t", "a\n"},
	{"long quoted scalar", "tokens: '", "a ", "'\n"},
	{"long escaped scalar", "tokens: \"", "\\t", "\"\n"},
	{"long block scalar", "tokens: |\n", " a\n", ""},
	{"many entries", "tokens:\n", "  - {name: x, type: client}\n", ""},
	{"many JSON entries", "{\"tokens\": [", "{\"name\":\"x\",\"type\":\"client\"},", "{}]}"},
	{"many projects", "tokens:\n  - name: a\n    type: client\n    projects: [", "p,", "p]\n"},
	{"many documents", "tokens: []\n", "---\n", ""},
}

// fill repeats h.unit as often as the file's limits allow: its size and
// its structure.
func (h hostileFile) fill() []byte {
	n := (desired.MaxFileBytes - len(h.prefix) - len(h.suffix)) / len(h.unit)
	if m := desired.Marks([]byte(h.unit)); m > 0 {
		n = min(n, (desired.MaxFileMarks-desired.Marks([]byte(h.prefix+h.suffix)))/m)
	}
	return []byte(h.prefix + strings.Repeat(h.unit, n) + h.suffix)
}

// TestParseMemoryBound: any file is accepted or refused within
// parseBudget of allocations. Each hostile shape is made as large as the
// limits let through. Not parallel: it reads the process's allocation
// counter.
func TestParseMemoryBound(t *testing.T) {
	for _, h := range hostileFiles {
		t.Run(h.name, func(t *testing.T) {
			data := h.fill()
			var err error
			n := allocated(func() { _, err = desired.Parse(data) })
			t.Logf("%d bytes: %.1f MB allocated; %v", len(data), float64(n)/(1<<20), err)
			if n > parseBudget {
				t.Errorf("%d bytes allocated %.0f MB, over the budget of %d MB", len(data), float64(n)/(1<<20), parseBudget>>20)
			}
		})
	}
	t.Run("many valid entries", func(t *testing.T) {
		// As many distinct, well-formed entries as the limits let
		// through: the whole file is decoded and validated.
		var b strings.Builder
		b.WriteString("tokens:\n")
		const entry = "  - {name: svc-%06d, type: client, projects: [a]}\n"
		per := desired.Marks([]byte(entry)) + 1 // and the - of the name
		for i, m := 0, 1; b.Len()+len(entry) < desired.MaxFileBytes && m+per <= desired.MaxFileMarks; i, m = i+1, m+per {
			fmt.Fprintf(&b, entry, i)
		}
		data := []byte(b.String())
		var f *desired.File
		var err error
		n := allocated(func() { f, err = desired.Parse(data) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d bytes, %d entries: %.1f MB allocated", len(data), len(f.Tokens), float64(n)/(1<<20))
		if n > parseBudget {
			t.Errorf("%d entries allocated %.0f MB, over the budget of %d MB", len(f.Tokens), float64(n)/(1<<20), parseBudget>>20)
		}
	})
	// One byte over the size limit, and one mark over the structure
	// limit, are refused before any parsing.
	for _, data := range [][]byte{
		[]byte("tokens: []\n" + strings.Repeat(" ", desired.MaxFileBytes)),
		[]byte("tokens: [" + strings.Repeat(",", desired.MaxFileMarks) + "]"),
	} {
		var err error
		if n := allocated(func() { _, err = desired.Parse(data) }); n > 1<<20 {
			t.Errorf("refusing a file too large allocated %d bytes", n)
		}
		var fe *desired.FileError
		if !errors.As(err, &fe) || fe.Line != 0 ||
			!strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", desired.MaxFileBytes)) &&
				!strings.Contains(err.Error(), fmt.Sprintf("more than %d line breaks and YAML indicators", desired.MaxFileMarks)) {
			t.Errorf("a file over the limits: %v", err)
		}
	}
	// The example of the docs is far from both.
	if n := desired.Marks([]byte(exampleYAML)); n > 40 {
		t.Errorf("the example file has %d marks", n)
	}
}
