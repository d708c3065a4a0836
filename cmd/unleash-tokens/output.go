package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// printJSON writes v as indented JSON (indentedJSON), in one write.
func (a *app) printJSON(v any) error {
	data, err := indentedJSON(v)
	if err != nil {
		return err
	}
	_, err = a.out.Write(data)
	return err
}

// indentedJSON is v as indented JSON and a newline, with what
// encoding/json leaves raw escaped (escapeJSON).
func indentedJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeJSON(b.Bytes()), nil
}

// printTokens prints listed tokens as a table or a JSON array of token
// objects, redacted unless --show-secrets was given (a selector, which is
// not a credential, shows in full either way).
func (a *app) printTokens(toks []unleashadmin.APIToken) error {
	if a.json {
		out := make([]*tokenJSON, len(toks))
		for i, t := range toks {
			out[i] = tokenObject(t, a.secrets)
		}
		return a.printJSON(out)
	}
	ids := secretIDs(toks)
	rows := make([][]string, len(toks))
	for i, t := range toks {
		if a.secrets {
			ids[i] = t.Secret
		}
		rows[i] = []string{t.TokenName, string(t.Type), t.Environment, strings.Join(t.ProjectIDs(), ","), day(t.ExpiresAt), ids[i]}
	}
	return a.printTable([]column{ident("NAME"), ident("TYPE"), desc("ENV", 2), desc("PROJECTS", 1), ident("EXPIRES"), ident("SECRET")}, rows)
}

// printNew prints a new token with its secret: as JSON, v (nil for the
// token object alone); as text, one field a line.
func (a *app) printNew(tok unleashadmin.APIToken, v any) error {
	if a.json {
		if v == nil {
			v = tokenObject(tok, true)
		}
		return a.printJSON(v)
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
		return a.printJSON(eventsJSON(events))
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
	return a.printTable([]column{ident("TIME (UTC)"), ident("EVENT"), desc("BY", 2), ident("TOKEN"), ident("TYPE"), desc("ENV", 3), desc("PROJECTS", 1)}, rows)
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
