package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed8b9e94f4/unleashadmin"
)

// tableWidth is the width every table keeps to.
const tableWidth = 80

// printJSON writes v as indented JSON, in one write, with what
// encoding/json leaves raw escaped (escapeJSON).
func (a *app) printJSON(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := a.out.Write(escapeJSON(b.Bytes()))
	return err
}

// printTokens prints listed tokens as a table or a JSON array, redacted
// unless --show-secrets was given (a selector, which is not a credential,
// shows in full either way).
func (a *app) printTokens(toks []unleashadmin.APIToken) error {
	out := make([]unleashadmin.APIToken, len(toks))
	for i, t := range toks {
		if a.secrets {
			out[i] = t
		} else {
			out[i] = t.Redacted()
		}
	}
	if a.json {
		return a.printJSON(out)
	}
	rows := make([][]string, len(out))
	for i, t := range out {
		secret := t.Secret
		if !a.secrets {
			secret = shortSecret(toks[i])
		}
		rows[i] = []string{t.TokenName, string(t.Type), t.Environment, strings.Join(t.ProjectIDs(), ","), day(t.ExpiresAt), secret}
	}
	return printTable(a.out, []string{"NAME", "TYPE", "ENVIRONMENT", "PROJECTS", "EXPIRES", "SECRET"}, rows, 3, 0, 2)
}

// printNew prints a new token with its secret: the token's fields (and
// extra keys) as one JSON object, or one field a line.
func (a *app) printNew(tok unleashadmin.APIToken, extra map[string]any) error {
	if a.json {
		if len(extra) == 0 {
			return a.printJSON(tok)
		}
		fields := map[string]any{}
		data, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &fields); err != nil {
			return err
		}
		for k, v := range extra {
			fields[k] = v
		}
		return a.printJSON(fields)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name:         %s\n", printable(tok.TokenName))
	fmt.Fprintf(&b, "type:         %s\n", printable(string(tok.Type)))
	fmt.Fprintf(&b, "environment:  %s\n", printable(tok.Environment))
	fmt.Fprintf(&b, "projects:     %s\n", printable(strings.Join(tok.ProjectIDs(), ",")))
	fmt.Fprintf(&b, "expires:      %s\n", when(tok.ExpiresAt, "never"))
	fmt.Fprintf(&b, "secret:       %s\n", printable(tok.Secret))
	// One write: a partial delivery is a failed one.
	_, err := io.WriteString(a.out, b.String())
	return err
}

// oldInfo is what rotate says, with the new token, about the old one.
type oldInfo struct {
	Secret string `json:"secret"`
	// Retire is "deleted next" or "expires in <grace>": the new token is
	// printed before the old one is touched; the outcome goes to stderr
	// and the exit code (6 when the old token could not be retired).
	Retire string `json:"retire"`
}

// result is what expire and delete print.
type result struct {
	Secret    string     `json:"secret"`
	Name      string     `json:"name,omitempty"`
	Found     bool       `json:"found"`
	Deleted   bool       `json:"deleted,omitempty"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// printResult prints v as JSON, or the formatted line, each string of
// args printable.
func (a *app) printResult(v any, format string, args ...any) error {
	if a.json {
		return a.printJSON(v)
	}
	for i, arg := range args {
		if s, ok := arg.(string); ok {
			args[i] = printable(s)
		}
	}
	_, err := fmt.Fprintf(a.out, format, args...)
	return err
}

// serverInfo is what the server command prints: what the server says of
// itself (ServerInfo). How many tokens count against the limit is audit's
// business.
type serverInfo struct {
	Version string `json:"version"`
	// TokenLimit is 0 when the server does not say (Unleash 5 has none).
	TokenLimit         int    `json:"tokenLimit"`
	DefaultEnvironment string `json:"defaultEnvironment"`
	BackendType        bool   `json:"backendType"`
	SecureTokens       bool   `json:"secureTokens"`
}

func (a *app) printServer(s serverInfo) error {
	if a.json {
		return a.printJSON(s)
	}
	limit := "none given"
	if s.TokenLimit > 0 {
		limit = fmt.Sprint(s.TokenLimit)
	}
	_, err := fmt.Fprintf(a.out, "version:              %s\ntoken limit:          %s\ndefault environment:  %s\nbackend type:         %t\nsecure token storage: %t\n",
		printable(s.Version), limit, printable(s.DefaultEnvironment), s.BackendType, s.SecureTokens)
	return err
}

func (a *app) printEvents(events []unleashadmin.Event) error {
	if a.json {
		// Event data never holds a secret, but redact defensively: an older
		// server or a future one might put it there.
		// The tokens are copied: the caller's stay as they are.
		shown := slices.Clone(events)
		for i := range shown {
			shown[i].Data, shown[i].PreData = redactedCopy(shown[i].Data), redactedCopy(shown[i].PreData)
		}
		return a.printJSON(shown)
	}
	rows := make([][]string, len(events))
	for i, e := range events {
		t := e.Token()
		if t == nil {
			t = &unleashadmin.APIToken{}
		}
		projects := t.ProjectIDs()
		if e.PreData != nil {
			// Unleash records an update of a project token with projects
			// ["*"] in data; preData has the real ones.
			projects = e.PreData.ProjectIDs()
		}
		rows[i] = []string{e.CreatedAt.UTC().Format("2006-01-02 15:04"),
			strings.TrimPrefix(string(e.Type), "api-token-"), e.CreatedBy, t.TokenName, string(t.Type), t.Environment, strings.Join(projects, ",")}
	}
	return printTable(a.out, []string{"TIME (UTC)", "EVENT", "BY", "TOKEN", "TYPE", "ENV", "PROJECTS"}, rows, 6, 2, 3, 5)
}

// shortSecret is the token's secret as a table shows it: the redacted
// random part (the prefix repeats the project and environment columns),
// or the selector of a token listed under secure token storage.
func shortSecret(t unleashadmin.APIToken) string {
	s := t.Redacted().Secret
	return s[strings.LastIndexByte(s, '.')+1:]
}

func redactedCopy(t *unleashadmin.APIToken) *unleashadmin.APIToken {
	if t == nil {
		return nil
	}
	return unleashadmin.Ptr(t.Redacted())
}

func when(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func day(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.DateOnly)
}

// printTable prints an aligned table that fits tableWidth: when the
// natural widths are too wide, the columns named in shrink are cut, with
// "…": the first down to minCell characters before the second is touched,
// and so on. The other columns are never cut.
func printTable(w io.Writer, header []string, rows [][]string, shrink ...int) error {
	const gap, minCell = 2, 6
	// A server's text cannot add a row, move the cursor or hide: the
	// widths are those of what is printed.
	for _, r := range rows {
		for i := range r {
			r[i] = printable(r[i])
		}
	}
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := func() int {
		n := gap * (len(widths) - 1)
		for _, x := range widths {
			n += x
		}
		return n
	}
	for _, i := range shrink {
		if over := total() - tableWidth; over > 0 && widths[i] > minCell {
			widths[i] = max(minCell, widths[i]-over)
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{header}, rows...) {
		var line strings.Builder
		for i, c := range r {
			c = cut(c, widths[i])
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+gap))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cut shortens s, a printable text, to n characters, ending in "…" when
// it was longer. An escape is kept whole or left out: a cut one could read
// as another character.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	var b strings.Builder
	for width := 0; s != ""; {
		k := unitLen(s)
		w := utf8.RuneCountInString(s[:k])
		if width+w > n-1 {
			break
		}
		b.WriteString(s[:k])
		width += w
		s = s[k:]
	}
	return b.String() + "…"
}

// unitLen is the length in bytes of what printable text s starts with: an
// escape (printable's forms), or one character.
func unitLen(s string) int {
	if len(s) > 1 && s[0] == '\\' {
		switch s[1] {
		case '\\', 'n', 'r', 't':
			return 2
		case 'x':
			return min(len(s), 4)
		case 'u':
			return min(len(s), 6)
		case 'U':
			return min(len(s), 10)
		}
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}
