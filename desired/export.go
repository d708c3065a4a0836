package desired

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// ExportOptions says which of an instance's tokens Export writes into a
// file.
type ExportOptions struct {
	// NamePrefix, when set, exports only the names that start with it.
	NamePrefix string
	// Project, when set, exports only the names whose live tokens are in
	// this project (APIToken.InProject: of this project alone, or of
	// several that include it; an all-projects token is in no single
	// project).
	Project string
	// Now reads the time; nil for time.Now. A token whose expiry is not
	// after it is expired, and is not exported. Tests give the fake clock
	// of their server.
	Now func() time.Time
}

func (o ExportOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// LeftOut is a name with live tokens that Export could not write into the
// file: a plan of the file would then have made or retired tokens of it.
type LeftOut struct {
	// Name is the tokens' name.
	Name string
	// Reason says why, in a few words, without quoting the name (which
	// may not print as what it is).
	Reason string
	// Scopes are, for a name whose live tokens have different scopes,
	// each scope once ("client in production for default,payments",
	// sorted); nil otherwise.
	Scopes []string
}

// ExportResult is what Export made of an instance's tokens: the file, and
// what a reader of it must know.
//
// Its printed form (every fmt verb, slog and json.Marshal) holds no
// secret: File has none, and each of Retires prints its token redacted.
type ExportResult struct {
	// File holds one entry per exported name, sorted by name (byte
	// order), each with the type, environment and projects of the name's
	// live tokens; no durations and no prune rule. A plan of it against
	// the same tokens keeps one token of each entry and retires only
	// Retires.
	File *File
	// LeftOut are the names with live tokens that the file does not
	// list, sorted by name.
	LeftOut []LeftOut
	// Retires are the actions of the first plan of File (without a grace
	// period) that change anything: each retires a surplus duplicate (the
	// newest token of a scope is kept) or an expired token of an exported
	// name, with the plan's reason. A plan with Options.GracePeriod leaves
	// out those that already expire within the grace.
	Retires []Action
	// Now is the time the tokens were judged at, by ExportOptions.Now.
	Now time.Time
}

// Export reads the server's tokens once (one list request) and returns a
// desired-state file for the live tokens that are not admin tokens: one
// entry per name, sorted by name, that NewPlan accepts as it is and that
// plans, against the same tokens, nothing to create, rotate or replace.
//
// Every entry names its environment, so that the file means the same
// whatever the server's default environment; its type is the one the
// server lists for the newest live token (Unleash 7 and 8 list a backend
// token as client, but under secure token storage: a plan counts the two
// as one); its projects are left out for all projects. Several live tokens
// of one name and scope are one entry. A name whose live tokens have
// different scopes, and a name that the file format refuses (File.Validate:
// control or invisible characters, a slash, names that differ only by case
// or Unicode form, ...), are left out and reported (ExportResult.LeftOut).
// A name whose tokens are all expired, or all admin tokens, is left out
// without a word.
//
// No secret and no selector goes into the file. It changes nothing.
func Export(ctx context.Context, c *unleashadmin.Client, opts ExportOptions) (*ExportResult, error) {
	if c == nil {
		return nil, fmt.Errorf("desired: Export: %w: no client", unleashadmin.ErrInvalidArgument)
	}
	toks, err := c.ListAPITokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("desired: reading the tokens: %w", err)
	}
	return export(toks, opts.now(), opts, c)
}

// export is Export of the tokens toks at time now. c, which may be nil,
// only says which token is its key (for the plan of the retires).
func export(toks []unleashadmin.APIToken, now time.Time, opts ExportOptions, c *unleashadmin.Client) (*ExportResult, error) {
	live := map[string][]*unleashadmin.APIToken{}
	for i := range toks {
		t := &toks[i]
		if strings.HasPrefix(t.TokenName, opts.NamePrefix) && !t.ExpiredAt(now) {
			live[t.TokenName] = append(live[t.TokenName], t)
		}
	}
	res := &ExportResult{File: &File{Tokens: []Entry{}}, Now: now}
	var entries []Entry
	for _, name := range slices.Sorted(maps.Keys(live)) {
		ts := live[name]
		if opts.Project != "" && !slices.ContainsFunc(ts, func(t *unleashadmin.APIToken) bool { return t.InProject(opts.Project) }) {
			continue
		}
		if !slices.ContainsFunc(ts, func(t *unleashadmin.APIToken) bool { return !t.IsType(unleashadmin.TokenTypeAdmin) }) {
			continue // admin tokens are never exported
		}
		e, out := entryOf(name, ts)
		if out != nil {
			res.LeftOut = append(res.LeftOut, *out)
			continue
		}
		entries = append(entries, e)
	}
	// Names that print alike: the file format refuses the second, and
	// which one a reader meant is theirs to say.
	alike := map[string]int{}
	for _, e := range entries {
		alike[nameKey(e.Name)]++
	}
	for _, e := range entries {
		if alike[nameKey(e.Name)] > 1 {
			res.LeftOut = append(res.LeftOut, LeftOut{Name: e.Name,
				Reason: "another exported name differs from it only by case or Unicode form, which the file format refuses"})
			continue
		}
		res.File.Tokens = append(res.File.Tokens, e)
	}
	slices.SortStableFunc(res.LeftOut, func(a, b LeftOut) int { return strings.Compare(a.Name, b.Name) })
	if err := res.File.Validate(); err != nil {
		// entryOf checked each entry as Validate does: this is a bug.
		return nil, fmt.Errorf("desired: Export: the exported file does not validate: %w", err)
	}
	for _, a := range plan(res.File, toks, nil, now, "", Options{}, c) {
		if a.Changes() {
			res.Retires = append(res.Retires, a)
		}
	}
	return res, nil
}

// entryOf is the entry of the live tokens ts of name, or why there can be
// none.
func entryOf(name string, ts []*unleashadmin.APIToken) (Entry, *LeftOut) {
	slices.SortFunc(ts, olderFirst)
	newest := ts[len(ts)-1]
	e := Entry{Name: name, Type: unleashadmin.TokenType(strings.ToLower(string(newest.Type))),
		Environment: newest.Environment, Projects: newest.ProjectIDs()}
	// What a plan would read otherwise: no environment is the server's
	// default, no projects all projects.
	switch {
	case e.Environment == "":
		return e, &LeftOut{Name: name, Reason: "its newest token names no environment"}
	case len(e.Projects) == 0:
		return e, &LeftOut{Name: name, Reason: "its newest token names no project"}
	case slices.Equal(e.Projects, []string{"*"}):
		e.Projects = nil
	}
	// One scope, by the plan's own rule (matches).
	if slices.ContainsFunc(ts, func(t *unleashadmin.APIToken) bool { return !matches(&e, e.Environment, t) }) {
		return e, &LeftOut{Name: name, Scopes: scopes(ts),
			Reason: "its live tokens have different scopes, and an entry has one"}
	}
	one := File{Tokens: []Entry{e}}
	if err := one.Validate(); err != nil {
		msg := err.Error()
		var fe *FileError
		if errors.As(err, &fe) {
			msg = strings.TrimPrefix(fe.Msg, "token 1: ")
		}
		return e, &LeftOut{Name: name, Reason: "the file format refuses it: " + msg}
	}
	return one.Tokens[0], nil
}

// scopes are the scopes of ts, each once (backend and client are one
// type, as for a plan), shown as the newest token of each shows it, and
// sorted. ts is sorted oldest first.
func scopes(ts []*unleashadmin.APIToken) []string {
	var out []string
	seen := map[string]bool{}
	for i := len(ts) - 1; i >= 0; i-- {
		t := ts[i]
		kind := strings.ToLower(string(t.Type))
		if t.IsType(unleashadmin.TokenTypeClient) {
			kind = string(unleashadmin.TokenTypeClient)
		}
		key := kind + "\x00" + t.Environment + "\x00" + strings.Join(t.ProjectIDs(), ",")
		if !seen[key] {
			seen[key] = true
			out = append(out, scopeOf(t))
		}
	}
	slices.Sort(out)
	return out
}
