package main

// The export command: the desired-state file of an instance's live tokens
// (package desired's Export), to adopt an instance that has tokens.

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"go.yaml.in/yaml/v3"
)

// outputFormats are the -o values of the commands that do not print
// tables, the first the default, and what -o's help says of them.
var outputFormats = map[string]struct {
	formats []string
	help    string
}{
	"export": {[]string{"yaml", "json"}, "output: yaml (the file, its notes as comments) or json (the file in its JSON form)"},
}

// exportNote is export's --help note.
const exportNote = `Prints a desired-state file (docs/DESIRED.md) for the live tokens, admin
tokens and expired ones left out: one entry per name, sorted by name, with
its type, environment and projects; no secret and no selector. Several live
tokens of one name and scope are one entry. A name whose live tokens have
different scopes, or that the file format refuses (invisible characters, a
slash, names that differ only by case), is left out; each is named on stderr
and as a comment at the top of the YAML, with the surplus duplicates and
expired tokens of exported names that the first apply will retire. plan -f
of the file, against the same instance, then shows nothing to create, rotate
or replace. The file has no prune rule; with --name-prefix, add
"prune: {namePrefix: P}" to own every name of the prefix.

With -f FILE, a file that names its instances, every instance it names (or
those given with --instance) is exported into one file: its instances
section, and an entry per name and scope, with the instances that have it
where not all do. When an instance cannot be read, nothing is printed.`

func setupExport(fs *flag.FlagSet) runFunc {
	prefix := fs.String("name-prefix", "", "export only the names that start with `P`")
	project := fs.String("project", "", "export only the names whose tokens are in project `ID` (alone or among others; an all-projects token is in none)")
	file := fs.String("f", "", "export every instance the desired-state `FILE` names (its instances section) into one file")
	ff := addFleetFlags(fs)
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("export takes no arguments")
		}
		if fr, err := a.fleetOf(*file, ff); fr != nil || err != nil {
			if err != nil {
				return err
			}
			defer fr.fleet.CloseIdleConnections()
			return a.exportFleet(ctx, fr, desired.ExportOptions{NamePrefix: *prefix, Project: *project})
		}
		res, err := desired.Export(ctx, a.client, desired.ExportOptions{NamePrefix: *prefix, Project: *project})
		if err != nil {
			return err
		}
		notes := exportNotes(res)
		for _, n := range notes {
			fmt.Fprintf(a.errOut, "unleash-tokens export: %s\n", n)
		}
		fmt.Fprintf(a.errOut, "unleash-tokens export: exported %d name(s); %d left out; the first apply retires %d token(s)\n",
			len(res.File.Tokens), len(res.LeftOut), len(res.Retires))
		if a.json {
			// The file's JSON form has no comments: the notes are on
			// stderr alone.
			return a.printJSON(res.File)
		}
		out, err := fileYAML(res.File, notes)
		if err != nil {
			return err
		}
		_, err = a.out.Write(out)
		return err
	}
}

// exportNotes are what a reader of the file must know, one line each,
// printable: the names left out and why, then the tokens the first apply
// retires.
func exportNotes(res *desired.ExportResult) []string {
	var notes []string
	for _, l := range res.LeftOut {
		note := fmt.Sprintf("left out \"%s\": %s", l.Name, l.Reason)
		if len(l.Scopes) > 0 {
			note += ": " + strings.Join(l.Scopes, "; ")
		}
		notes = append(notes, printable(note))
	}
	for _, act := range res.Retires {
		t := act.Token
		if t == nil {
			continue
		}
		when := "made " + t.CreatedAt.UTC().Format(time.RFC3339)
		switch {
		case t.ExpiredAt(res.Now):
			when += ", expired " + t.ExpiresAt.UTC().Format(time.RFC3339)
		case t.ExpiresAt != nil:
			when += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		notes = append(notes, printable(fmt.Sprintf("the first apply retires a token of \"%s\" (%s, %s): %s",
			act.Name, tokenScope(*t), when, act.Reason)))
	}
	return notes
}

// tokenScope is "client in production for default,payments".
func tokenScope(t unleashadmin.APIToken) string {
	return fmt.Sprintf("%s in %s for %s", strings.ToLower(string(t.Type)), t.Environment, strings.Join(t.ProjectIDs(), ","))
}

// fileYAML is f as YAML, two-space indents, each note a comment line
// above it.
func fileYAML(f *desired.File, notes []string) ([]byte, error) {
	var b bytes.Buffer
	for _, n := range notes {
		b.WriteString("# " + n + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
