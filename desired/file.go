package desired

import (
	"bytes"
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

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
	"go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds the size of a file Parse and ReadFile accept.
const MaxFileBytes = 16 << 20

// File is a desired state: the tokens that should exist, and which other
// tokens may be retired. Read one with ReadFile or Parse, or build one in
// code and check it with Validate.
type File struct {
	// Tokens are the entries, in the order of the file. Their names are
	// unique: a file owns the names it lists.
	Tokens []Entry `json:"tokens"`
	// Prune says which tokens that no entry lists are retired.
	Prune PruneRule `json:"prune"`
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
	// Line is the line of the entry in the file it was read from; zero for
	// an entry built in code.
	Line int `json:"line,omitempty"`
}

// PruneRule names the tokens outside the file's entries that a plan
// retires.
type PruneRule struct {
	// NamePrefix, when set, retires every token whose name starts with it
	// and that no entry lists.
	NamePrefix string `json:"namePrefix,omitempty"`
}

// FileError is a mistake in a desired-state file, found before any request
// is sent. Its text names the file (when known) and the line.
type FileError struct {
	// Path is the file's name, when it was read with ReadFile.
	Path string
	// Line and Column locate the mistake; Line is zero when the mistake
	// has no place, such as an empty file.
	Line, Column int
	// Msg says what is wrong.
	Msg string
}

// Error reads like "tokens.yaml:7: unknown key "enviroment" (want name,
// type, ...)".
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
	return f, err
}

// Parse reads and checks a desired-state file, strictly: an unknown key,
// a repeated key or name, a value of the wrong type, an unknown token type
// or a bad duration is a *FileError naming the line.
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
//	prune:
//	  namePrefix: svc-            # optional
//
// Durations are Go's (36h, 90m) with "d" for days besides.
func Parse(data []byte) (*File, error) {
	if len(data) > MaxFileBytes {
		return nil, &FileError{Msg: fmt.Sprintf("the file is larger than %d bytes", MaxFileBytes)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{Msg: `the file is empty: want a mapping with "tokens"`}
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
	f, err := decodeFile(&doc)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a syntax error of the YAML parser into a FileError. The
// parser names the line where the block it was reading starts, which may
// be above the mistake; the message says so.
func yamlError(err error, data []byte) error {
	msg := err.Error()
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
// calls set for each key and value.
func fields(n *yaml.Node, what string, known []string, set func(key string, k, v *yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		return nodeErr(n, "%s is an alias (*%s): aliases are not supported, write the value out", what, n.Value)
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
			return nodeErr(k, "unknown key %q in %s (want %s)", k.Value, what, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return nodeErr(k, "key %q repeated in %s", k.Value, what)
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return nodeErr(v, "%s is an alias (*%s): aliases are not supported, write the value out", k.Value, v.Value)
		}
		if err := set(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// describe names what a node is, for an error.
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
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return "the boolean " + n.Value
		}
		return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
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
		return 0, nodeErr(n, "%s: %v", key, err)
	}
	if d <= 0 {
		return 0, nodeErr(n, "%s must be positive, not %s", key, n.Value)
	}
	return d, nil
}

var (
	fileKeys  = []string{"tokens", "prune"}
	entryKeys = []string{"name", "type", "environment", "projects", "expiresIn", "renewBefore", "maxAge"}
	pruneKeys = []string{"namePrefix"}
)

func decodeFile(doc *yaml.Node) (*File, error) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	f := &File{}
	hasTokens := false
	err := fields(root, "the file", fileKeys, func(key string, _, v *yaml.Node) error {
		switch key {
		case "tokens":
			hasTokens = true
			if v.Kind != yaml.SequenceNode {
				return nodeErr(v, "tokens must be a list, not %s", describe(v))
			}
			names := make(map[string]int, len(v.Content))
			for _, item := range v.Content {
				e, err := decodeEntry(item)
				if err != nil {
					return err
				}
				if line, dup := names[e.Name]; dup {
					return nodeErr(item, "name %q repeated (first on line %d): a file lists each name once", e.Name, line)
				}
				names[e.Name] = e.Line
				f.Tokens = append(f.Tokens, e)
			}
		case "prune":
			return fields(v, "prune", pruneKeys, func(_ string, _, v *yaml.Node) error {
				p, err := str(v, "namePrefix")
				f.Prune.NamePrefix = p
				return err
			})
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

// Validate checks a File built in code the way Parse checks a file, and
// puts each entry's projects in the form a plan compares (sorted, without
// repeats, nil for all projects). An error names the entry's line when it
// has one, its position in Tokens otherwise.
func (f *File) Validate() error {
	if f == nil {
		return &FileError{Msg: "no file"}
	}
	names := make(map[string]int, len(f.Tokens))
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
			return fail("name: %v", err)
		}
		if j, dup := names[e.Name]; dup {
			return fail("name %q repeated (first as token %d): a file lists each name once", e.Name, j+1)
		}
		names[e.Name] = i
		e.Type = unleashadmin.TokenType(strings.ToLower(string(e.Type)))
		switch e.Type {
		case unleashadmin.TokenTypeClient, unleashadmin.TokenTypeBackend, unleashadmin.TokenTypeFrontend:
		default:
			return fail("type %q: want client, backend or frontend", e.Type)
		}
		if e.Environment == "*" {
			return fail(`environment "*": a client, backend or frontend token has one environment`)
		}
		if e.Environment != strings.TrimSpace(e.Environment) {
			return fail("environment %q has surrounding spaces", e.Environment)
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
	}
	if p := f.Prune.NamePrefix; p != "" && strings.TrimSpace(p) == "" {
		return &FileError{Msg: "prune.namePrefix is only spaces"}
	}
	return nil
}

// checkName refuses names a sink could not use as a file name, and names
// that are blank or carry control characters.
func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("empty")
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%q has surrounding spaces", name)
	case name == "." || name == "..":
		return fmt.Errorf("%q is not a usable name", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("%q holds a slash", name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return fmt.Errorf("%q holds a control character", name)
	case len(name) > 255:
		return errors.New("longer than 255 bytes")
	}
	return nil
}

// projectsOf returns the projects of e as ProjectIDs returns a token's:
// ["*"] for all projects.
func (e Entry) projectIDs() []string {
	if len(e.Projects) == 0 {
		return []string{"*"}
	}
	return e.Projects
}
