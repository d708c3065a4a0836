package desired

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/unicode/norm"
)

// MaxFileBytes bounds the size of a file Parse and ReadFile accept: 1 MiB
// holds 5,000 to 15,000 entries (an entry takes 60 to 200 bytes, in YAML
// or indented JSON), more than any fleet's file.
//
// Parse also bounds the file's structure before the YAML parser reads it
// (line breaks and YAML indicators, at most 200,000: 10,000 entries of the
// example in Parse take 130,000), so that reading any file allocates well
// under 256 MB in all: the parser's cost is per node, and a file of tiny
// items or comments costs it up to 400 bytes per byte.
const MaxFileBytes = 1 << 20

// maxFileMarks bounds the marks of a file, as marks counts them. Each
// costs the YAML parser at most about 500 bytes of allocation (measured:
// a mapping of keys with comments), so 200,000 stay near 100 MB.
const maxFileMarks = 200_000

// markBytes are the bytes that marks counts: every node of a YAML
// document but the first follows one of them (a flow or block indicator,
// a line break, the start of a comment, an anchor, alias or tag). 0x85,
// 0xA8 and 0xA9 are the last bytes of the line breaks NEL, LS and PS (and
// of some other characters, which are counted too: an upper bound).
var markBytes = func() (t [256]bool) {
	for _, c := range []byte(",:-?[]{}#&*!|>\n\r\x85\xa8\xa9") {
		t[c] = true
	}
	return t
}()

// marks counts the bytes of data that can start or end a YAML node: an
// upper bound, up to a small factor, on the nodes (and comments) the
// parser would build for data, and so on what it would allocate.
func marks(data []byte) int {
	n := 0
	for _, c := range data {
		if markBytes[c] {
			n++
		}
	}
	return n
}

// File is a desired state: the tokens that should exist, and which other
// tokens may be retired. Read one with ReadFile or Parse, or build one in
// code and check it with Validate.
type File struct {
	// Instances are the Unleash instances the file is for, in the order of
	// the file: a fleet (see NewFleet). None for a file applied to one
	// instance, the client given to NewPlan.
	Instances []Instance `json:"instances,omitempty"`
	// Tokens are the entries, in the order of the file. Their names are
	// unique (on each instance): a file owns the names it lists.
	Tokens []Entry `json:"tokens"`
	// Prune says which tokens that no entry lists are retired.
	Prune PruneRule `json:"prune"`

	// path is the file's name, when it was read with ReadFile.
	path string
	// Retire is the retire policy of the entries that have none of their
	// own (Entry.Retire); the zero policy retires at once.
	Retire RetirePolicy `json:"retire"`
}

// Entry is one token the file asks for.
type Entry struct {
	// Name is the token's name. Every token with this name belongs to the
	// entry.
	Name string `json:"name"`
	// Type is client, backend or frontend. Unleash treats backend and
	// client as the same kind, and so does a plan.
	Type unleashadmin.TokenType `json:"type"`
	// Environment is the token's environment; empty for the server's
	// default.
	Environment string `json:"environment,omitempty"`
	// Projects are the token's projects, sorted and without repeats; empty
	// for all projects.
	Projects []string `json:"projects,omitempty"`
	// ExpiresIn is the lifetime of a token made for this entry; zero for
	// none.
	ExpiresIn time.Duration `json:"expiresIn,omitempty"`
	// RenewBefore rotates the token when it expires within this; zero
	// for never.
	RenewBefore time.Duration `json:"renewBefore,omitempty"`
	// MaxAge rotates the token when it is older than this; zero for never.
	MaxAge time.Duration `json:"maxAge,omitempty"`
	// Instances are the names of the file's instances the entry is for,
	// in the order of the file's instances section and without repeats;
	// empty for all of them. A file without instances has none.
	Instances []string `json:"instances,omitempty"`
	// Retire, when set, is the entry's retire policy, in place of the
	// file's (File.Retire).
	Retire *RetirePolicy `json:"retire,omitempty"`
	// Line is the line of the entry in the file it was read from; zero for
	// an entry built in code. It is not marshalled: it says where the
	// entry was read, and the file format has no such key.
	Line int `json:"-"`
}

// entryJSON is an Entry in the file format, as JSON.
type entryJSON struct {
	Name        string                 `json:"name"`
	Type        unleashadmin.TokenType `json:"type"`
	Environment string                 `json:"environment,omitempty"`
	Projects    []string               `json:"projects,omitempty"`
	ExpiresIn   string                 `json:"expiresIn,omitempty"`
	RenewBefore string                 `json:"renewBefore,omitempty"`
	MaxAge      string                 `json:"maxAge,omitempty"`
	Instances   []string               `json:"instances,omitempty"`
	Retire      *RetirePolicy          `json:"retire,omitempty"`
}

// durationText writes d as a file does ("90d", "36h"), and zero as "".
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return durations.Format(d)
}

// MarshalJSON writes the file format, which Parse reads: durations as
// text ("expiresIn":"90d"), zero ones and Line left out.
func (f File) MarshalJSON() ([]byte, error) {
	tokens := f.Tokens
	if tokens == nil {
		tokens = []Entry{}
	}
	var prune *Prune
	if f.Prune != (Prune{}) {
		prune = &f.Prune
	}
	var retire *RetirePolicy
	if f.Retire.When != "" {
		retire = &f.Retire
	}
	return json.Marshal(struct {
		Instances instancesJSON `json:"instances,omitempty"`
		Tokens    []Entry       `json:"tokens"`
		Prune     *Prune        `json:"prune,omitempty"`
		Retire    *RetirePolicy `json:"retire,omitempty"`
	}{f.Instances, tokens, prune, retire})
}

// UnmarshalJSON reads f as Parse does, as strictly and within the same
// limits, so that json.Unmarshal of what MarshalJSON wrote gives the same
// file back (with the lines of the JSON). A null leaves f as it is.
func (f *File) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	got, err := Parse(data)
	if err != nil {
		return err
	}
	*f = *got
	return nil
}

// MarshalJSON writes the entry in the file format: durations as text
// ("expiresIn":"90d"), zero ones and Line left out.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(entryJSON{
		Name: e.Name, Type: e.Type, Environment: e.Environment, Projects: e.Projects,
		ExpiresIn: durationText(e.ExpiresIn), RenewBefore: durationText(e.RenewBefore), MaxAge: durationText(e.MaxAge),
		Instances: e.Instances,
		Retire:    e.Retire,
	})
}

// UnmarshalJSON reads one entry of the file format, as strictly as Parse
// does (File.Validate checks the rest: names, repeats, projects). An
// entry read alone has no line. A null leaves e as it is.
func (e *Entry) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	doc, err := parseYAML(data, "an empty entry")
	if err != nil {
		return err
	}
	got, err := decodeEntry(documentRoot(doc))
	if err != nil {
		return err
	}
	got.Line = 0
	*e = got
	return nil
}

// PruneRule names the tokens outside the file's entries that a plan
// retires.
type PruneRule struct {
	// NamePrefix, when set, retires every token whose name starts with it
	// and that no entry lists.
	NamePrefix string `json:"namePrefix,omitempty"`
}

// FileError is a mistake in a desired-state file, found before any request
// is sent. Its text names the file (when known), the line and the field,
// and never quotes a value of the file: a file may hold the key in use or
// a secret in the wrong place.
type FileError struct {
	// Path is the file's name, when it was read with ReadFile.
	Path string
	// Line and Column locate the mistake; Line is zero when the mistake
	// has no place, such as an empty file.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

// Error reads like "tokens.yaml:7: unknown key in a token (want name,
// type, ...; did you mean "environment"?)".
func (e *FileError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	} else {
		b.WriteString("desired state: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, unleashadmin.ErrInvalidArgument) match, as for
// every input refused before a request.
func (e *FileError) Is(target error) bool { return target == unleashadmin.ErrInvalidArgument }

// ReadFile reads and checks the desired-state file at path (YAML, or JSON,
// which YAML reads too). Every mistake is a *FileError naming the path and
// the line.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	if f != nil {
		f.path = path
	}
	return f, err
}

// Parse reads and checks a desired-state file, strictly: an unknown key,
// a repeated key or name, a value of the wrong type, an unknown token type
// or a bad duration is a *FileError naming the line and the field (never
// the value, which may be a secret written in the wrong place).
//
// The format:
//
//	tokens:
//	  - name: checkout            # required, unique in the file
//	    type: backend             # required: client, backend or frontend
//	    environment: production   # optional: the server's default
//	    projects: [default]       # optional: all projects
//	    expiresIn: 90d            # optional: lifetime of a token made for it
//	    renewBefore: 14d          # optional: rotate when it expires within this
//	    maxAge: 60d               # optional: rotate when older than this
//	    retire: {when: unused}    # optional: this entry's retire policy
//	prune:
//	  namePrefix: svc-            # optional
//	retire:                       # optional: the entries' retire policy
//	  when: unused                # now (the default) or unused
//	  quiet: 10m                  # with unused: how long the old token must have gone unused
//	  within: 7d                  # optional: retire it anyway once its replacement is this old
//
// A retire policy (RetirePolicy) says when a rotated, replaced or
// duplicate token goes: at once, or only once nobody uses it; an entry's
// replaces the file's as a whole, and says "when".
//
// A file may name the instances it is for (a fleet, see NewFleet), and an
// entry those of them it is for (all by default):
//
//	instances:
//	  eu: {url: https://unleash.eu.example.com, tokenEnv: UNLEASH_TOKEN_EU}
//	  us: {url: https://unleash.us.example.com, tokenFile: /run/secrets/unleash-us, bearer: true}
//	tokens:
//	  - name: checkout
//	    type: backend
//	    instances: [eu]
//
// Durations are Go's (36h, 90m) with "d" for days besides. A file is at
// most MaxFileBytes, and of bounded structure (see MaxFileBytes).
func Parse(data []byte) (*File, error) {
	doc, err := parseYAML(data, `the file is empty: want a mapping with "tokens"`)
	if err != nil {
		return nil, err
	}
	f, err := decodeFile(doc)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// parseYAML reads data, within the limits of a file, as one YAML document.
func parseYAML(data []byte, empty string) (*yaml.Node, error) {
	if len(data) > MaxFileBytes {
		return nil, &FileError{Msg: fmt.Sprintf("the file is larger than %d bytes", MaxFileBytes)}
	}
	if n := marks(data); n > maxFileMarks {
		return nil, &FileError{Msg: fmt.Sprintf("the file has more than %d line breaks and YAML indicators "+
			"(, : - ? [ ] { } # & * ! | >), which is more than %d entries take", maxFileMarks, maxFileMarks/13)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{Msg: empty}
		}
		return nil, yamlError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err, data)
		}
		return nil, &FileError{Line: extra.Line, Column: extra.Column, Msg: "a second YAML document: a file holds one"}
	}
	return &doc, nil
}

var (
	yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	// yamlQuoted matches what the parser quotes of the file (an anchor's
	// name), but not the one-character indicators it quotes of its own
	// ("did not find expected '-' indicator").
	yamlQuoted = regexp.MustCompile("\\s*('[^']{2,}'|\"[^\"]{2,}\"|`[^`]{2,}`)")
)

// yamlError turns a syntax error of the YAML parser into a FileError. The
// parser names the line where the block it was reading starts, which may
// be above the mistake; the message says so. What the parser quotes of the
// file is left out.
func yamlError(err error, data []byte) error {
	msg := yamlQuoted.ReplaceAllString(err.Error(), "")
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return &FileError{Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
	}
	n, _ := strconv.Atoi(m[1])
	msg = "YAML syntax, at or below this line: " + m[2]
	if bytes.Contains(data, []byte("\n\t")) || bytes.HasPrefix(data, []byte("\t")) {
		msg += " (a tab? YAML indents with spaces)"
	}
	return &FileError{Line: n, Msg: msg}
}

func nodeErr(n *yaml.Node, format string, args ...any) error {
	return &FileError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// fields walks a mapping node, refusing repeated and unknown keys, and
// calls set for each key and value. An unknown key is not quoted (it may
// be a secret); the known key it looks like is.
func fields(n *yaml.Node, what string, known []string, set func(key string, k, v *yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		return nodeErr(n, "%s is an alias: aliases are not supported, write the value out", what)
	}
	if n.Kind != yaml.MappingNode {
		return nodeErr(n, "%s must be a mapping, not %s", what, describe(n))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nodeErr(k, "a key of %s must be a string, not %s", what, describe(k))
		}
		if !slices.Contains(known, k.Value) {
			hint := ""
			if near := nearest(k.Value, known); near != "" {
				hint = fmt.Sprintf("; did you mean %q?", near)
			}
			return nodeErr(k, "unknown key in %s (want %s%s)", what, strings.Join(known, ", "), hint)
		}
		if seen[k.Value] {
			return nodeErr(k, "key %q repeated in %s", k.Value, what)
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return nodeErr(v, "%s is an alias: aliases are not supported, write the value out", k.Value)
		}
		if err := set(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// nearest returns the known key that key differs from only by case or by
// at most two edits (a typo), or "".
func nearest(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	if len(key) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD && d < len(k)/2 {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance counts the edits (a byte added, removed, changed, or two
// neighbours swapped) that turn a into b.
func editDistance(a, b string) int {
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		rows = [3][]int{prev, cur, pp}
	}
	return rows[1][len(b)]
}

// describe names what kind of value a node is, for an error, without its
// value or a tag the file chose.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "empty (null)"
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!timestamp":
			return "a date"
		case "!!binary":
			return "!!binary data"
		case "!!merge":
			return "a merge key (<<)"
		}
		return "a value with a tag"
	}
	return "an alias (aliases are not supported)"
}

func str(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", nodeErr(n, "%s must be a string, not %s", key, describe(n))
	}
	if strings.TrimSpace(n.Value) == "" {
		return "", nodeErr(n, "%s is empty", key)
	}
	return n.Value, nil
}

func duration(n *yaml.Node, key string) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return 0, nodeErr(n, "%s must be a duration such as 90d or 36h, not %s", key, describe(n))
	}
	d, err := durations.Parse(n.Value)
	if err != nil {
		return 0, nodeErr(n, "%s: %v", key, err) // durations.Parse quotes no input
	}
	if d <= 0 {
		return 0, nodeErr(n, "%s must be positive", key)
	}
	return d, nil
}

var (
	fileKeys  = []string{"tokens", "prune", "instances", "retire"}
	entryKeys = []string{"name", "type", "environment", "projects", "expiresIn", "renewBefore", "maxAge", "instances", "retire"}
	pruneKeys = []string{"namePrefix"}
)

// documentRoot returns the node a document holds.
func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

func decodeFile(doc *yaml.Node) (*File, error) {
	root := documentRoot(doc)
	f := &File{}
	hasTokens := false
	err := fields(root, "the file", fileKeys, func(key string, _, v *yaml.Node) error {
		switch key {
		case "tokens":
			hasTokens = true
			if v.Kind != yaml.SequenceNode {
				return nodeErr(v, "tokens must be a list, not %s", describe(v))
			}
			for _, item := range v.Content {
				e, err := decodeEntry(item)
				if err != nil {
					return err
				}
				f.Tokens = append(f.Tokens, e) // Validate refuses repeated names
			}
		case "instances":
			var err error
			f.Instances, err = decodeInstances(v)
			return err
		case "prune":
			return fields(v, "prune", pruneKeys, func(_ string, _, v *yaml.Node) error {
				p, err := str(v, "namePrefix")
				if err == nil {
					if err := checkText(p); err != nil {
						return nodeErr(v, "namePrefix %v", err)
					}
				}
				f.Prune.NamePrefix = p
				return err
			})
		case "retire":
			p, err := decodeRetire(v)
			f.Retire = p
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasTokens {
		return nil, nodeErr(root, `no "tokens" key: a file lists its tokens under it (an empty list is "tokens: []")`)
	}
	return f, nil
}

func decodeEntry(n *yaml.Node) (Entry, error) {
	e := Entry{Line: n.Line}
	has := map[string]bool{}
	err := fields(n, "a token", entryKeys, func(key string, _, v *yaml.Node) error {
		has[key] = true
		var err error
		switch key {
		case "name":
			e.Name, err = str(v, key)
		case "type":
			var s string
			s, err = str(v, key)
			e.Type = unleashadmin.TokenType(strings.ToLower(s))
		case "environment":
			e.Environment, err = str(v, key)
		case "projects":
			if v.Kind != yaml.SequenceNode {
				return nodeErr(v, "projects must be a list of project IDs, such as [default], not %s", describe(v))
			}
			if len(v.Content) == 0 {
				return nodeErr(v, "projects is an empty list: leave it out for all projects")
			}
			for _, p := range v.Content {
				id, err := str(p, "a project ID")
				if err != nil {
					return err
				}
				e.Projects = append(e.Projects, id)
			}
		case "expiresIn":
			e.ExpiresIn, err = duration(v, key)
		case "renewBefore":
			e.RenewBefore, err = duration(v, key)
		case "maxAge":
			e.MaxAge, err = duration(v, key)
		case "instances":
			e.Instances, err = instanceNames(v)
		case "retire":
			var p RetirePolicy
			p, err = decodeRetire(v)
			e.Retire = &p
		}
		return err
	})
	if err != nil {
		return e, err
	}
	for _, k := range []string{"name", "type"} {
		if !has[k] {
			return e, nodeErr(n, "a token without %q", k)
		}
	}
	return e, nil
}

// Equal reports whether f and g say the same: the same instances (URLs and
// where their keys are read from), entries, prune rule and retire policy,
// compared in their JSON form (so durations by value, and not the lines
// they stand on). A saved plan is applied only with the file it was made
// from (SavedPlan.File, SavedFleetPlan.File): where keys go is taken from
// the caller's file, never from a plan file.
func (f *File) Equal(g *File) bool {
	if f == nil || g == nil {
		return f == g
	}
	jf, errf := json.Marshal(f)
	jg, errg := json.Marshal(g)
	return errf == nil && errg == nil && bytes.Equal(jf, jg)
}

// Validate checks a File built in code the way Parse checks a file, and
// puts each entry's projects in the form a plan compares (sorted, without
// repeats, nil for all projects). An error names the entry's line when it
// has one, its position in Tokens otherwise.
//
// Names are unique up to what does not show: two names that differ only
// by case or by Unicode form (NFC or NFD, compatibility forms such as
// fullwidth letters or ligatures) are refused (in a file with instances,
// where both entries are for one instance: one name may have an entry per
// instance), and so is a name, an
// environment, a project ID or a prune prefix that holds a control
// character, an invisible or format character (zero-width space, byte
// order mark, bidi controls, ...), a space other than U+0020, or a
// private-use or unassigned code point. The instances section is checked
// too: names as for tokens, unique up to case and Unicode form; a URL
// unleashadmin.NewClient takes; one of tokenEnv (a variable's name) and
// tokenFile; and each entry's instances must be the file's, and are put in
// the file's order.
func (f *File) Validate() error {
	if f == nil {
		return &FileError{Msg: "no file"}
	}
	if err := f.validateInstances(); err != nil {
		return err
	}
	names := make(map[string][]int, len(f.Tokens)) // nameKey to indexes
	for i := range f.Tokens {
		e := &f.Tokens[i]
		fail := func(format string, args ...any) error {
			msg := fmt.Sprintf(format, args...)
			if e.Line == 0 {
				msg = fmt.Sprintf("token %d: %s", i+1, msg)
			}
			return &FileError{Line: e.Line, Msg: msg}
		}
		if err := checkName(e.Name); err != nil {
			return fail("name %v", err)
		}
		if err := f.entryInstances(e); err != nil {
			return fail("%v", err)
		}
		key := nameKey(e.Name)
		if k := slices.IndexFunc(names[key], func(j int) bool { return sharesInstance(&f.Tokens[j], e) }); k >= 0 {
			j := names[key][k]
			first := f.Tokens[j]
			on, of := fmt.Sprintf("as token %d", j+1), fmt.Sprintf("of token %d", j+1)
			if first.Line > 0 {
				on, of = fmt.Sprintf("on line %d", first.Line), fmt.Sprintf("on line %d", first.Line)
			}
			once, both := "once", ""
			if len(f.Instances) > 0 {
				once, both = "once per instance", ", for an instance both are for"
			}
			if first.Name == e.Name {
				return fail("name repeated (first %s%s): a file lists each name %s", on, both, once)
			}
			return fail("name is the name %s but for case or Unicode form%s: the two print alike, "+
				"and a sink on a case-insensitive file system takes them for one", of, both)
		}
		names[key] = append(names[key], i)
		e.Type = unleashadmin.TokenType(strings.ToLower(string(e.Type)))
		switch e.Type {
		case unleashadmin.TokenTypeClient, unleashadmin.TokenTypeBackend, unleashadmin.TokenTypeFrontend:
		case unleashadmin.TokenTypeAdmin:
			return fail(`type "admin": want client, backend or frontend`)
		default:
			return fail("type: want client, backend or frontend")
		}
		if e.Environment == "*" {
			return fail(`environment "*": a client, backend or frontend token has one environment`)
		}
		if e.Environment != strings.TrimSpace(e.Environment) {
			return fail("environment has surrounding spaces")
		}
		if err := checkText(e.Environment); err != nil {
			return fail("environment %v", err)
		}
		if len(e.Projects) > 0 || e.Projects != nil {
			ps := slices.Clone(e.Projects)
			slices.Sort(ps)
			ps = slices.Compact(ps)
			switch {
			case len(ps) == 0:
				return fail("projects is an empty list: leave it out for all projects")
			case slices.Contains(ps, "") || slices.ContainsFunc(ps, func(p string) bool { return strings.TrimSpace(p) != p }):
				return fail("projects holds an empty ID or one with surrounding spaces")
			case slices.Contains(ps, "*") && len(ps) > 1:
				return fail(`projects mixes "*" (all projects) with project IDs`)
			case slices.Equal(ps, []string{"*"}):
				ps = nil
			}
			for _, p := range ps {
				if err := checkText(p); err != nil {
					return fail("projects: a project ID %v", err)
				}
			}
			e.Projects = ps
		}
		for _, d := range []struct {
			key string
			v   time.Duration
		}{{"expiresIn", e.ExpiresIn}, {"renewBefore", e.RenewBefore}, {"maxAge", e.MaxAge}} {
			if d.v < 0 {
				return fail("%s %s is negative", d.key, durations.Format(d.v))
			}
		}
		if e.ExpiresIn > 0 && e.RenewBefore >= e.ExpiresIn {
			return fail("renewBefore %s is not shorter than expiresIn %s: every new token would be due at once",
				durations.Format(e.RenewBefore), durations.Format(e.ExpiresIn))
		}
		if e.Retire != nil {
			if err := e.Retire.check(); err != nil {
				if e.Retire.Line > 0 {
					return &FileError{Line: e.Retire.Line, Msg: err.Error()}
				}
				return fail("%v", err)
			}
		}
	}
	if err := f.Retire.check(); err != nil {
		return &FileError{Line: f.Retire.Line, Msg: err.Error()}
	}
	if p := f.Prune.NamePrefix; p != "" && strings.TrimSpace(p) == "" {
		return &FileError{Msg: "prune.namePrefix is only spaces"}
	}
	if err := checkText(f.Prune.NamePrefix); err != nil {
		return &FileError{Msg: "prune.namePrefix " + err.Error()}
	}
	return nil
}

// checkName refuses names a sink could not use as a file name, and names
// that are blank or carry control characters. Its errors, which follow
// "name ", do not quote the name.
func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("is empty")
	case strings.TrimSpace(name) != name:
		return errors.New("has surrounding spaces")
	case name == "." || name == "..":
		return errors.New(`"." or ".." is not a usable name`)
	case strings.ContainsAny(name, `/\`):
		return errors.New("holds a slash")
	case len(name) > 255:
		return errors.New("is longer than 255 bytes")
	}
	return checkText(name)
}

// checkText refuses text that does not print as what it is: invalid
// UTF-8, control characters, characters that print as nothing (format and
// bidi controls, Unicode's default-ignorable code points, variation
// selectors), spaces other than U+0020, and private-use or unassigned code
// points, which print as whatever a font makes of them. Its errors name
// the code point, not the text.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r == ' ':
		case unicode.IsControl(r):
			return errors.New("holds a control character")
		case unicode.Is(unicode.Cf, r) || r == '\u2800' ||
			unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector):
			return fmt.Errorf("holds an invisible or format character %U", r)
		case unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return fmt.Errorf("holds a space other than U+0020: %U", r)
		case !unicode.IsGraphic(r):
			return fmt.Errorf("holds a private-use or unassigned character %U", r)
		}
	}
	return nil
}

// nameKey is what names that print alike have in common: the name in
// Unicode's compatibility decomposition (NFKD, so that "caf\u00e9" and
// "cafe\u0301", or a fullwidth letter and its ASCII one, are the same) with
// each letter folded to one case (so that K, k and the Kelvin sign are the
// same). It is applied twice, as Unicode's compatibility caseless match
// does, because folding can undo the order of combining marks.
func nameKey(name string) string {
	s := norm.NFKD.String(name)
	s = strings.Map(foldRune, s)
	return norm.NFKD.String(s)
}

// foldRune maps r to the smallest rune of its case-folding orbit.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// projectsOf returns the projects of e as ProjectIDs returns a token's:
// ["*"] for all projects.
func (e Entry) projectIDs() []string {
	if len(e.Projects) == 0 {
		return []string{"*"}
	}
	return e.Projects
}
