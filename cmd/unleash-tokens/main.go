// Command unleash-tokens manages Unleash API tokens from shell scripts and
// terminals: create, list, get, expire, delete and rotate tokens, and read
// the token event log.
//
//	unleash-tokens create --type backend --name checkout --env production --project default
//	unleash-tokens list --project default -o json
//	unleash-tokens rotate SECRET --grace 24h
//
// The server and key come from --url and --token, or UNLEASH_URL and
// UNLEASH_API_TOKEN. Secrets are printed in full only where a script needs
// them (the new token of create and rotate) and redacted elsewhere unless
// --show-secrets is given.
//
// Exit codes: 0 success; 1 any other failure (network, timeout, an answer
// that is not Unleash's); 2 usage error or invalid argument; 3 the key was
// refused (401) or lacks the permission (403); 4 not found (404); 5 any other
// error answer from Unleash (400, 415, 429, 5xx); 6 rotate made the new token
// (printed on stdout) but could not retire the old one, so both are live.
// Errors go to stderr on one line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// Exit codes, for scripts to branch on.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitAuth     = 3
	exitNotFound = 4
	exitAPI      = 5
	// exitIncomplete is a rotation that created the new token but failed to
	// retire the old one, whatever the cause: the script must store the new
	// secret and retire the old token itself.
	exitIncomplete = 6
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// env is the part of the process environment the command reads.
type env func(string) string

// command is one subcommand: its name, usage line, what it does, and how it
// defines its flags and runs.
type command struct {
	name, args, summary string
	setup               func(fs *flag.FlagSet) func(ctx context.Context, a *app, args []string) error
}

// commands in the order --help lists them.
var commands = []command{
	{"create", "--type TYPE --name NAME [--env ENV] [--project ID]... [--expires TIME]", "create a token and print it with its secret", setupCreate},
	{"list", "[--project ID] [--show-secrets]", "list all tokens, or one project's", setupList},
	{"get", "NAME [--show-secrets]", "list the tokens named NAME (names are not unique)", setupGet},
	{"expire", "SECRET --at TIME", "move a token's expiry (a past time expires it)", setupExpire},
	{"delete", "SECRET [--project ID]", "delete a token (through its project with --project)", setupDelete},
	{"rotate", "SECRET [--grace DURATION] [--expires TIME]", "replace a token and retire the old one", setupRotate},
	{"events", "[--type created,updated,deleted] [--from DATE] [--to DATE] [--project ID] [--query TEXT] [--limit N]", "list API-token events, newest first", setupEvents},
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// app holds what every subcommand shares once the flags are parsed.
type app struct {
	out     io.Writer
	client  *unleashadmin.Client
	json    bool
	secrets bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mainUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "unleash-tokens: unknown command %q (see unleash-tokens --help)\n", name)
		return exitUsage
	}
	cmd := commands[i]
	fs := flag.NewFlagSet("unleash-tokens "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The defaults come from the environment after parsing, so that --help
	// never prints them: the URL may hold a password, the token is one.
	url := fs.String("url", "", "Unleash base URL (default $UNLEASH_URL)")
	token := fs.String("token", "", "admin API token or personal access token (default $UNLEASH_API_TOKEN)")
	bearer := fs.Bool("bearer", false, "send the token as \"Bearer <token>\"")
	output := fs.String("o", "table", "output: table or json")
	timeout := fs.Duration("timeout", 60*time.Second, "time limit for the whole command")
	showSecrets := fs.Bool("show-secrets", false, "print secrets in full")
	exec := cmd.setup(fs)

	positional, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return exitOK
	}
	if err == nil && *output != "table" && *output != "json" {
		err = usagef("-o must be table or json, not %q", *output)
	}
	if *url == "" {
		*url = getenv("UNLEASH_URL")
	}
	if err == nil && *url == "" {
		err = usagef("no server: set --url or UNLEASH_URL")
	}
	if *token == "" {
		*token = getenv("UNLEASH_API_TOKEN")
	}
	if err == nil && *token == "" {
		err = usagef("no API token: set --token or UNLEASH_API_TOKEN")
	}
	if err != nil {
		fmt.Fprintf(stderr, "unleash-tokens %s: %v\nusage: unleash-tokens %s %s\n", name, err, name, cmd.args)
		return exitUsage
	}
	var opts []unleashadmin.Option
	if *bearer {
		opts = append(opts, unleashadmin.WithBearerAuth())
	}
	opts = append(opts, unleashadmin.WithUserAgent("unleash-tokens/"+unleashadmin.Version))
	client, err := unleashadmin.NewClient(*url, *token, opts...)
	if err != nil {
		return fail(stderr, name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	a := &app{out: stdout, client: client, json: *output == "json", secrets: *showSecrets}
	return fail(stderr, name, exec(ctx, a, positional))
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, as in "get NAME -o json".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// fail prints err on one line and returns the exit code for it.
func fail(stderr io.Writer, name string, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "unleash-tokens %s: %s\n", name, strings.ReplaceAll(err.Error(), "\n", " "))
	var apiErr *unleashadmin.APIError
	var usage usageError
	switch {
	case errors.Is(err, unleashadmin.ErrRotationIncomplete):
		return exitIncomplete
	case errors.As(err, &usage), errors.Is(err, unleashadmin.ErrInvalidArgument):
		return exitUsage
	case errors.Is(err, unleashadmin.ErrUnauthorized), errors.Is(err, unleashadmin.ErrForbidden):
		return exitAuth
	case errors.Is(err, unleashadmin.ErrNotFound):
		return exitNotFound
	case errors.As(err, &apiErr):
		return exitAPI
	}
	return exitFailure
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "unleash-tokens manages Unleash API tokens.")
	fmt.Fprintln(w, "\nusage: unleash-tokens COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, `
flags every command takes: --url, --token (or UNLEASH_URL, UNLEASH_API_TOKEN),
--bearer, -o table|json, --show-secrets, --timeout. "unleash-tokens COMMAND --help"
describes one command.

exit codes: 0 ok, 1 other failure, 2 usage, 3 unauthorized or forbidden,
4 not found, 5 other error answer from Unleash, 6 rotate created the new token
but could not retire the old one.`)
}

func commandUsage(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: unleash-tokens %s %s\n\n%s.\n\nflags:\n", cmd.name, cmd.args, cmd.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func setupCreate(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	typ := fs.String("type", "", "client, backend or frontend (required)")
	name := fs.String("name", "", "token name (required)")
	environment := fs.String("env", "", "environment (Unleash's default, development, when empty)")
	var projects listFlag
	fs.Var(&projects, "project", "project ID; repeat or separate with commas; all projects when absent")
	expires := fs.String("expires", "", "expiry: RFC 3339 time, YYYY-MM-DD, or +DURATION from now (never when empty)")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *typ == "" || *name == "" {
			return usagef("--type and --name are required")
		}
		at, err := parseOptionalTime(*expires)
		if err != nil {
			return err
		}
		var tok *unleashadmin.APIToken
		if len(projects) == 1 && projects[0] != "*" {
			tok, err = a.client.CreateProjectAPIToken(ctx, projects[0], unleashadmin.CreateProjectAPITokenRequest{
				Type: unleashadmin.TokenType(*typ), TokenName: *name, Environment: *environment, ExpiresAt: at,
			})
		} else {
			tok, err = a.client.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
				Type: unleashadmin.TokenType(*typ), TokenName: *name, Environment: *environment, Projects: projects, ExpiresAt: at,
			})
		}
		if err != nil {
			return err
		}
		return a.printTokens(true, *tok)
	}
}

func setupList(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	project := fs.String("project", "", "list only this project's tokens")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var toks []unleashadmin.APIToken
		var err error
		if *project != "" {
			toks, err = a.client.ListProjectAPITokens(ctx, *project)
		} else {
			toks, err = a.client.ListAPITokens(ctx)
		}
		if err != nil {
			return err
		}
		return a.printTokens(false, toks...)
	}
}

func setupGet(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) != 1 {
			return usagef("get takes one NAME")
		}
		toks, err := a.client.GetAPITokensByName(ctx, args[0])
		if err != nil {
			return err
		}
		return a.printTokens(false, toks...)
	}
}

func setupExpire(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	at := fs.String("at", "", "new expiry: RFC 3339 time, YYYY-MM-DD, +DURATION from now, or now (required)")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) != 1 {
			return usagef("expire takes one SECRET")
		}
		if *at == "" {
			return usagef("--at is required")
		}
		when, err := parseTime(*at)
		if err != nil {
			return err
		}
		if err := a.client.UpdateAPITokenExpiry(ctx, args[0], when); err != nil {
			return err
		}
		return a.printResult(map[string]any{"secret": unleashadmin.RedactSecret(args[0]), "expiresAt": when.UTC()},
			"expiry of %s set to %s\n", unleashadmin.RedactSecret(args[0]), when.UTC().Format(time.RFC3339))
	}
}

func setupDelete(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	project := fs.String("project", "", "delete through this project (fails unless the token is the project's alone)")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) != 1 {
			return usagef("delete takes one SECRET")
		}
		var err error
		if *project != "" {
			err = a.client.DeleteProjectAPIToken(ctx, *project, args[0])
		} else {
			err = a.client.DeleteAPIToken(ctx, args[0])
		}
		if err != nil {
			return err
		}
		return a.printResult(map[string]any{"secret": unleashadmin.RedactSecret(args[0]), "deleted": true},
			"deleted %s\n", unleashadmin.RedactSecret(args[0]))
	}
}

func setupRotate(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	grace := fs.Duration("grace", 0, "keep the old token working this long (deleted at once when 0)")
	expires := fs.String("expires", "", "the new token's expiry: RFC 3339 time, YYYY-MM-DD or +DURATION (never when empty)")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) != 1 {
			return usagef("rotate takes one SECRET")
		}
		at, err := parseOptionalTime(*expires)
		if err != nil {
			return err
		}
		all, err := a.client.ListAPITokens(ctx)
		if err != nil {
			return err
		}
		var old *unleashadmin.APIToken
		for i := range all {
			if all[i].Secret == args[0] {
				old = &all[i]
			}
		}
		if old == nil {
			// With secure token storage (Unleash 8.1 and later, when
			// enabled) lists hold no secrets, so none matches.
			return fmt.Errorf("no token with secret %s in the list (a server with secure token storage lists no secrets): %w",
				unleashadmin.RedactSecret(args[0]), unleashadmin.ErrNotFound)
		}
		r, err := a.client.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{GracePeriod: *grace, ExpiresAt: at})
		if r != nil {
			// Print the new token even when retiring the old one failed:
			// its secret must not be lost.
			if perr := a.printRotation(*old, r); perr != nil && err == nil {
				err = perr
			}
		}
		return err
	}
}

func setupEvents(fs *flag.FlagSet) func(context.Context, *app, []string) error {
	var types listFlag
	fs.Var(&types, "type", "created, updated or deleted; repeat or separate with commas (all when absent)")
	from := fs.String("from", "", "first day, YYYY-MM-DD (UTC)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (UTC)")
	project := fs.String("project", "", "only this project's token events")
	query := fs.String("query", "", "free-text search, such as a token name")
	limit := fs.Int("limit", 50, "how many events at most; 0 for all")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		if *limit < 0 {
			return usagef("--limit must not be negative")
		}
		opts := unleashadmin.TokenEventsOptions{Project: *project, Query: *query}
		if *limit > 0 {
			// Pages no larger than needed; AllTokenEvents picks one for 0.
			opts.Limit = min(*limit, unleashadmin.MaxEventsLimit)
		}
		for _, t := range types {
			opts.Types = append(opts.Types, unleashadmin.EventType("api-token-"+strings.TrimPrefix(t, "api-token-")))
		}
		var err error
		if opts.From, err = parseDay(*from); err != nil {
			return err
		}
		if opts.To, err = parseDay(*to); err != nil {
			return err
		}
		events := []unleashadmin.Event{}
		for e, err := range a.client.AllTokenEvents(ctx, opts) {
			if err != nil {
				return err
			}
			events = append(events, e)
			if *limit > 0 && len(events) == *limit {
				break
			}
		}
		return a.printEvents(events)
	}
}

// listFlag collects a flag given several times or as a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// parseTime reads an RFC 3339 time, a date (midnight UTC), "now", or
// "+DURATION" from now.
func parseTime(s string) (time.Time, error) {
	switch {
	case s == "now":
		return time.Now().UTC(), nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, usagef("bad duration %q: %v", s, err)
		}
		return time.Now().Add(d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("bad time %q: want RFC 3339 (2030-01-02T03:04:05Z), YYYY-MM-DD, now or +DURATION", s)
}

func parseOptionalTime(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("bad date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}
