// Command unleash-tokens manages Unleash API tokens from shell scripts and
// terminals: create, list, get, expire, delete and rotate tokens, read the
// token event log, keep a desired-state file of tokens applied (plan,
// apply), and find and clean what nobody uses (audit, prune, check).
//
//	unleash-tokens create --type backend --name checkout --env production --project default
//	unleash-tokens list --project default -o json
//	unleash-tokens rotate SECRET --grace 24h
//	unleash-tokens apply -f tokens.yaml --deliver-dir /run/secrets/unleash
//
// The server and key come from --url and --token or --token-file, or
// UNLEASH_URL and UNLEASH_API_TOKEN. A command that takes a SECRET reads it
// from standard input when it is "-". Secrets are printed in full only
// where a script needs them (the new token of create and rotate) and
// redacted elsewhere unless --show-secrets is given.
//
// Exit codes: see exitCodes below, the README, or "unleash-tokens --help".
// Errors go to stderr on one line.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
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
	// exitNotDelivered is a new secret that could not be delivered where it
	// was to go (stdout for create and rotate, the sink for apply): the new
	// token was deleted again and the old one left alone.
	exitNotDelivered = 7
	// exitChanges is a plan with changes under --detailed-exitcode.
	exitChanges = 8
	// exitFindings is an audit that found what --fail-on names, or a check
	// that found a secret that is not live.
	exitFindings = 9
	// exitPartial is an apply or prune in which some actions failed (each
	// is named on stderr) and the others were done, or an apply over a
	// fleet in which an instance could not be read; or a create or rotate
	// whose new secret could not be delivered and whose token could not be
	// deleted either.
	exitPartial = 10
	// exitInterrupted is a second SIGINT or SIGTERM, which stops the
	// command at once: stderr names what may be left half done.
	exitInterrupted = 130
)

// exitCodes is the table --help prints.
const exitCodes = `exit codes:
  0  success
  1  any other failure: network, timeout, an answer that is not Unleash's
  2  usage error or invalid argument (nothing was sent)
  3  the key was refused (401) or lacks the permission (403)
  4  not found: no such token, project or name
  5  any other error answer from Unleash (400, 415, 429, 5xx), or a server
     that lacks the feature
  6  rotate made the new token (printed) but could not retire the old one,
     or with --wait-unused did not see it go unused in time: both are live
  7  a new secret could not be delivered (stdout for create and rotate, the
     sink for apply): its token was deleted again, the old one left alone
  8  plan --detailed-exitcode (or apply --dry-run --detailed-exitcode): the
     plan has changes
  9  audit --fail-on found such findings, or check found a secret not live
  10 apply or prune: some actions failed (named on stderr), the rest done;
     apply over a fleet: an instance could not be read or applied too;
     create or rotate: the new secret could not be delivered, nor its token
     deleted: it is live (named on stderr)
  11 apply PLANFILE: the plan is stale (a token of its names, or what the
     sink holds, changed since it was made; or another instance's): nothing
     was changed, make a new plan
  130 a second SIGINT or SIGTERM stopped the command without waiting:
      stderr names each token whose create, delivery, revoke or retire was
      under way`

func main() {
	// A signal ends the context (every request in flight is cancelled)
	// instead of the process, so that a new secret that has arrived is
	// still delivered or revoked. A second one stops the process at once,
	// saying what may be left half done. A stdout whose reader has gone
	// must give a write error (which revokes an undelivered token), not
	// kill the process with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	work := &inFlight{}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		<-signals
		if isTerminal(os.Stderr) {
			fmt.Fprint(os.Stderr, "\r\033[K") // a progress line
		}
		fmt.Fprintln(os.Stderr, work.abandoned())
		os.Exit(exitInterrupted)
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, work, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// inFlight is what a command has under way on the server, token by token:
// what a second signal, which stops the process without waiting for a
// revoke or a retire to end, may leave half done. Safe for concurrent use.
type inFlight struct {
	mu    sync.Mutex
	cmd   string
	n     int
	steps map[any]flight
}

// flight is one step under way: the token's name and what is being done.
type flight struct {
	order      int
	name, what string
}

// The keys of the steps of create and rotate; apply's are its actions.
type flightKey string

const (
	newToken flightKey = "new"
	oldToken flightKey = "old"
)

// start records that step is under way for the token named name, the step
// of key replacing the one before it.
func (f *inFlight) start(key any, name string, step desired.StepKind, t *unleashadmin.APIToken) {
	shown := ""
	if t != nil {
		shown = " " + shownSecret(*t)
	}
	var what string
	switch step {
	case desired.StepCreate:
		what = "creating a new token, which may be live with its secret held nowhere"
	case desired.StepDeliver:
		what = "delivering its new token" + shown + ", which is live and may not have arrived"
	case desired.StepRevoke:
		what = "deleting its undelivered new token" + shown + ", which may still be live"
	default:
		what = "retiring its token" + shown + ", which may still be live"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.steps == nil {
		f.steps = map[any]flight{}
	}
	order := f.n
	if was, ok := f.steps[key]; ok {
		order = was.order
	} else {
		f.n++
	}
	f.steps[key] = flight{order, name, what}
}

// done records that the steps of key have ended.
func (f *inFlight) done(key any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.steps, key)
}

// abandoned is the line a second signal prints: each step under way, in
// the order they began.
func (f *inFlight) abandoned() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := "unleash-tokens"
	if f.cmd != "" {
		prefix += " " + f.cmd
	}
	if len(f.steps) == 0 {
		return prefix + ": interrupted again, stopped without waiting; no token was being created, delivered, revoked or retired"
	}
	steps := slices.SortedFunc(maps.Values(f.steps), func(a, b flight) int { return a.order - b.order })
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = printable(s.name) + ": " + printable(s.what)
	}
	return prefix + ": interrupted again, stopped without waiting; may be left half done: " + strings.Join(parts, "; ")
}

// env is the part of the process environment the command reads.
type env func(string) string

// needs says which of the shared flags a command takes.
type needs int

const (
	// needKey: --url, --token, --token-file, --bearer, --timeout, -o; the
	// command talks to the Admin API with a key.
	needKey needs = iota
	// needServer: --url, --timeout, -o; no key (check).
	needServer
	// needKeyOrFleet: as needKey, but a desired-state file that names its
	// instances (-f, fleet.go) may take the place of the server and key.
	needKeyOrFleet
)

// command is one subcommand: its name, usage line, what it does, which
// shared flags it takes, and how it defines its own flags and runs.
type command struct {
	name, args, summary string
	needs               needs
	setup               func(fs *flag.FlagSet) runFunc
}

type runFunc func(ctx context.Context, a *app, args []string) error

// commands in the order --help lists them.
var commands = []command{
	{"create", "--type TYPE --name NAME [--env ENV] [--project ID]... [--expires TIME]", "create a token and print it with its secret", needKey, setupCreate},
	{"list", "[--project ID] [--show-secrets]", "list all tokens, or one project's", needKey, setupList},
	{"get", "NAME [--show-secrets]", "list the tokens named NAME (names are not unique)", needKey, setupGet},
	{"expire", "SECRET|- --at TIME [--ignore-not-found]", "move a token's expiry (a past time expires it)", needKey, setupExpire},
	{"delete", "SECRET|- [--project ID] [--ignore-not-found]", "delete a token (through its project with --project)", needKey, setupDelete},
	{"rotate", "SECRET|- [--grace DURATION] [--expires TIME] [--wait-unused DURATION [--quiet DURATION]]", "replace a token, print the new one, then retire the old", needKey, setupRotate},
	{"events", "[--type created,updated,deleted] [--from DATE] [--to DATE] [--project ID] [--query TEXT] [--limit N]", "list API-token events, newest first", needKey, setupEvents},
	{"server", "", "show the server's version, token limit and defaults", needKey, setupServer},
	// The desired-state commands, in desired.go.
	{"plan", "-f FILE [--instance NAME]... [--deliver-dir DIR|--read-exec CMD] [--grace DURATION] [--settle DURATION] [--detailed-exitcode] [-out PLANFILE]", "show what apply would change to match a desired-state file", needKeyOrFleet, setupPlan},
	{"apply", "-f FILE [--instance NAME]...|PLANFILE --deliver-dir DIR|--deliver-exec CMD [--read-exec CMD] [--grace DURATION] [--settle DURATION] [--rotate-undelivered] [--parallel N] [--dry-run]", "match a desired-state file or saved plan, delivering first", needKeyOrFleet, setupApply},
	{"export", "[-f FILE [--instance NAME]...] [--name-prefix P] [--project ID] [-o yaml|json]", "print a desired-state file of the live tokens, to adopt them", needKeyOrFleet, setupExport},
	// The hygiene commands, in hygiene.go.
	{"audit", "[-f FILE [--instance NAME]...] [--unused-for 30d] [--expiring-within 14d] [--stalled-after 1d] [--fail-on KIND,...]", "report unused, expiring, duplicate, all-projects and stalled tokens", needKeyOrFleet, setupAudit},
	{"prune", "--expired | --unused-for D | --never-seen [--name-prefix P] [--yes] [--parallel N]", "retire expired or unused tokens (a dry run without --yes)", needKey, setupPrune},
	{"check", "[SECRET...] [-] [--dir DIR]", "tell which secrets are live (needs no API token)", needServer, setupCheck},
}

// commandNotes holds more help for a command, which --help prints after
// its flags.
var commandNotes = map[string]string{
	"create": `The new token, secret included, goes to stdout (-o json: jq -r .secret). A
stdout that goes nowhere (closed, /dev/null) is refused before anything is
created; if writing it fails, the token is deleted again (exit 7).`,
	"rotate": `SECRET is the token's secret, or under secure token storage the selector
that list shows. The new token is written to stdout first, as create prints it
(-o json: {"token": new, "old": old, "retire": what happens to it}, so
jq -r .token.secret); only then is the old token retired (deleted, or with
--grace its expiry moved). A stdout that goes nowhere is refused before
anything is created, a failed write deletes the new token and leaves the old
(exit 7), a retire that fails leaves both live (exit 6). A signal ends the
retire, not the delivery.

--wait-unused watches Unleash's record of each token's use (seenAt) and
retires the old token only once the new one has been used and the old one
has gone unused for --quiet (default 10m); when the time given runs out
first, both stay live, stderr says when the old token was last used, and
rotate exits 6. Unleash records a use up to 3 minutes late (a job writes
seenAt every 3 minutes), or at once for tokens in secure token storage: a
--quiet shorter than that plus 15s is refused before anything is made.
Without --timeout the command's time limit grows by --wait-unused.`,
	"delete": `SECRET is the token's secret, or under secure token storage the selector
that list shows. The token is looked up first: Unleash answers success for a
secret it does not hold, so an unknown one exits 4 (0 with
--ignore-not-found).`,
	"expire": `SECRET is the token's secret, or under secure token storage the selector
that list shows. The token is looked up first: an unknown one exits 4 (0 with
--ignore-not-found). SDKs may go on using it for up to about a minute.`,
	"export": exportNote,
	"plan":   savedNote,
	"apply":  savedNote,
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit code of its own with an error.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// app holds what every subcommand shares once the flags are parsed.
type app struct {
	in      io.Reader
	out     io.Writer
	errOut  io.Writer
	client  *unleashadmin.Client
	key     string // the API key the command runs with; a credential
	json    bool
	secrets bool
	// wide is -o wide: tables print every column whole.
	wide bool
	// width is what tables fit (outputWidth); 0 for tableWidth.
	width int
	// progress is true when stderr is a terminal, for commands that show
	// progress of long work.
	progress bool
	// stdinUsed is set once a "-" argument has read standard input.
	stdinUsed bool
	// work is what the command has under way, for a second signal.
	work *inFlight
	// getenv reads the environment, for the keys of a fleet.
	getenv env
	// clientErr is why there is no client, for a command that may work
	// on a fleet instead (needKeyOrFleet): client is nil then.
	clientErr error
	// serverFlags are the flags given that name the server or the key
	// (--url, --token, --token-file, --bearer), which a fleet refuses.
	serverFlags []string
	// clientOpts are the options of every client the command makes.
	clientOpts []unleashadmin.Option
}

// run runs the command of args. work, when not nil, is told what the
// command has under way on the server.
func run(ctx context.Context, work *inFlight, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		mainUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" || args[0] == "version" {
		fmt.Fprintf(stdout, "unleash-tokens %s\n", unleashadmin.Version)
		return exitOK
	}
	name := args[0]
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "unleash-tokens: unknown command \"%s\" (see unleash-tokens --help)\n", printable(sanitize(name, args)))
		return exitUsage
	}
	cmd := commands[i]
	if work == nil {
		work = &inFlight{}
	}
	work.mu.Lock()
	work.cmd = name
	work.mu.Unlock()
	fs := flag.NewFlagSet("unleash-tokens "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The defaults come from the environment after parsing, so that --help
	// never prints them: the URL may hold a password, the token is one.
	var token, tokenFile *string
	var bearer *bool
	timeout := 60 * time.Second
	formats, formatsHelp := []string{"table", "wide", "json"}, "output: table, wide (a table, nothing cut) or json"
	if f, ok := outputFormats[name]; ok {
		formats, formatsHelp = f.formats, f.help
	}
	output := fs.String("o", formats[0], formatsHelp)
	url := fs.String("url", "", "Unleash base URL (default $UNLEASH_URL)")
	fs.Var((*durationFlag)(&timeout), "timeout", "time limit for the whole command, such as 90s or 5m")
	if cmd.needs == needKey || cmd.needs == needKeyOrFleet {
		token = fs.String("token", "", "admin API token or personal access token (default $UNLEASH_API_TOKEN, which, like --token-file, keeps it out of ps)")
		tokenFile = fs.String("token-file", "", "read the API token from this file")
		bearer = fs.Bool("bearer", false, "send the token as \"Bearer <token>\"")
	}
	exec := cmd.setup(fs)
	showSecrets := fs.Lookup("show-secrets")

	positional, err := parseInterleaved(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, cmd, fs)
		return exitOK
	}
	if err == nil && !slices.Contains(formats, *output) {
		err = usagef("-o must be %s or %s, not \"%s\"", strings.Join(formats[:len(formats)-1], ", "), formats[len(formats)-1], *output)
	}
	if err == nil && timeout <= 0 {
		err = usagef("--timeout must be longer than 0")
	}
	if f := fs.Lookup("wait-unused"); err == nil && f != nil {
		// The watch of rotate --wait-unused runs within --timeout: without
		// one the timeout grows by the watch.
		if wait := time.Duration(*f.Value.(*durationFlag)); wait > 0 {
			switch {
			case !flagSet(fs, "timeout"):
				timeout += wait
			case timeout <= wait:
				err = usagef("--timeout %s must be longer than --wait-unused %s, which it bounds too", durations.Format(timeout), durations.Format(wait))
			}
		}
	}
	a := &app{in: stdin, out: stdout, errOut: stderr, json: *output == "json", wide: *output == "wide",
		width: outputWidth(stdout, getenv), progress: isTerminal(stderr), work: work, getenv: getenv}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "url", "token", "token-file", "bearer":
			a.serverFlags = append(a.serverFlags, "--"+f.Name)
		}
	})
	if showSecrets != nil {
		a.secrets = showSecrets.Value.String() == "true"
	}
	var opts []unleashadmin.Option
	if err == nil {
		if *url == "" {
			*url = getenv("UNLEASH_URL")
		}
		if *url == "" {
			err = usagef("no server: UNLEASH_URL is not set and --url is not given")
		}
	}
	if err == nil && (cmd.needs == needKey || cmd.needs == needKeyOrFleet) {
		a.key, err = readKey(*token, *tokenFile, getenv)
		if err == nil && *bearer {
			opts = append(opts, unleashadmin.WithBearerAuth())
		}
	}
	var usage usageError
	if cmd.needs == needKeyOrFleet && errors.As(err, &usage) {
		// No server or key in the environment: the command's file may
		// name its instances; it says this if it does not.
		a.clientErr, err = err, nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "unleash-tokens %s: %s\nusage: unleash-tokens %s %s\n", name, printable(sanitize(err.Error(), append(args, a.key))), name, cmd.args)
		return exitUsage
	}
	a.clientOpts = []unleashadmin.Option{unleashadmin.WithUserAgent("unleash-tokens/" + unleashadmin.Version)}
	opts = append(opts, a.clientOpts...)
	switch {
	case a.clientErr != nil:
	case cmd.needs == needServer:
		a.client, err = unleashadmin.NewClientWithoutKey(*url, opts...)
	default:
		a.client, err = unleashadmin.NewClient(*url, a.key, opts...)
	}
	if err != nil && cmd.needs == needKeyOrFleet {
		a.clientErr, err = err, nil
	}
	if err != nil {
		return fail(stderr, name, err, args)
	}
	if a.client != nil {
		defer a.client.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return fail(stderr, name, exec(ctx, a, positional), args)
}

// readKey returns the API key from --token, --token-file or the
// environment.
func readKey(token, file string, getenv env) (string, error) {
	switch {
	case token != "" && file != "":
		return "", usagef("give --token or --token-file, not both")
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		key := strings.TrimSpace(string(data))
		if key == "" || strings.ContainsAny(key, "\r\n") {
			return "", usagef("--token-file %s must hold the token alone on one line", file)
		}
		return key, nil
	case token != "":
		return token, nil
	}
	if key := getenv("UNLEASH_API_TOKEN"); key != "" {
		return key, nil
	}
	return "", usagef("no API token: UNLEASH_API_TOKEN is not set and neither --token nor --token-file is given")
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, as in "get NAME -o json". A lone "-" is a
// positional argument (read standard input).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		// A selector of secure token storage may start with "-": one that
		// names no flag is an argument, not a flag.
		for len(args) > 0 && unleashadmin.IsSelector(args[0]) && strings.HasPrefix(args[0], "-") &&
			fs.Lookup(strings.TrimLeft(args[0], "-")) == nil {
			positional = append(positional, args[0])
			args = args[1:]
		}
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
func fail(stderr io.Writer, name string, err error, args []string) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "unleash-tokens %s: %s\n", name, printable(sanitize(err.Error(), args)))
	return exitCodeOf(err)
}

// exitCodeOf is the exit code for err.
func exitCodeOf(err error) int {
	var apiErr *unleashadmin.APIError
	var usage usageError
	var coded exitError
	switch {
	case errors.As(err, &coded):
		return coded.code
	case errors.Is(err, unleashadmin.ErrUndeliveredLive):
		return exitPartial
	case errors.Is(err, unleashadmin.ErrNotDelivered):
		return exitNotDelivered
	case errors.Is(err, unleashadmin.ErrRotationIncomplete):
		return exitIncomplete
	case errors.As(err, &usage), errors.Is(err, unleashadmin.ErrInvalidArgument):
		return exitUsage
	case errors.Is(err, unleashadmin.ErrUnauthorized), errors.Is(err, unleashadmin.ErrForbidden):
		return exitAuth
	case errors.Is(err, unleashadmin.ErrNotSupported):
		return exitAPI
	case errors.Is(err, unleashadmin.ErrNotFound):
		return exitNotFound
	case errors.As(err, &apiErr):
		return exitAPI
	}
	return exitFailure
}

// printable is the one way text from a server, a file or an argument
// reaches the terminal, in tables, lines and errors alike. Every character
// that could move the cursor, rewrite what was printed, reorder or hide
// text (hidden) is shown as an escape, and the result is one line:
//
//   - \n, \r and \t, and \xHH for the other C0 controls and DEL;
//   - \uHHHH (\UHHHHHHHH beyond the BMP) for C1 controls, format
//     characters (bidi controls such as \u202e, zero-width characters, the
//     BOM), other default-ignorable characters and the line and paragraph
//     separators;
//   - \xHH for each byte that is not valid UTF-8 (above \x7f, so never
//     mistaken for a control).
//
// A backslash is doubled where what follows it could be read as an escape
// (a backslash, one of n r t x u U, or an escaped character), so that
// every output reads back into one text: a name that spells "\x1b" never
// looks like one that holds ESC.
func printable(text string) string {
	if !needsEscape(text) {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, text[i])
		case r == '\\':
			b.WriteByte('\\')
			if escapeFollows(text[i+1:]) {
				b.WriteByte('\\')
			}
		case hidden(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(text[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsEscape reports whether printable would change text.
func needsEscape(text string) bool {
	return !utf8.ValidString(text) || strings.ContainsFunc(text, func(r rune) bool { return r == '\\' || hidden(r) })
}

// escapeFollows reports whether rest, the text after a backslash, starts
// with what would make the backslash read as the start of an escape.
func escapeFollows(rest string) bool {
	if rest == "" {
		return false
	}
	r, n := utf8.DecodeRuneInString(rest)
	return strings.ContainsRune(`\nrtxuU`, r) || r == utf8.RuneError && n == 1 || hidden(r)
}

// hidden is the rule of what a terminal must not get raw: C0 controls,
// DEL and C1 controls; format characters (Cf: the bidi controls U+061C,
// U+200E, U+200F, U+202A-U+202E, U+2066-U+2069, the zero-width U+200B-
// U+200D, U+2060, U+FEFF, the soft hyphen, tags); Unicode's other
// default-ignorable characters and variation selectors (invisible, such as
// the Hangul fillers); the line and paragraph separators; Unicode's
// noncharacters (U+FDD0-U+FDEF, and the last two code points of every
// plane, U+FFFE and U+FFFF among them, which YAML refuses even in a
// comment).
func hidden(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	case r < 0xa0:
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// escapeRune is the escape printable shows for a hidden character.
func escapeRune(r rune) string {
	switch {
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r == '\t':
		return `\t`
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// escapeJSON is printable's rule applied to marshalled JSON, which
// encoding/json leaves raw but for C0 controls and U+2028/U+2029: DEL, C1
// controls, format and other invisible characters become \uHHHH escapes
// (surrogate pairs beyond the BMP), which decode to the same text. They
// can only stand inside strings: JSON's own syntax is ASCII.
func escapeJSON(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r < 0x7f || !hidden(r) && !(r == utf8.RuneError && n == 1) {
			if out != nil {
				out = append(out, data[i:i+n]...)
			}
			i += n
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(data)+32), data[:i]...)
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	if out == nil {
		return data
	}
	return out
}

// sanitize replaces, in a message about the command line, every argument
// that looks like a credential with its redacted form: a message must not
// repeat a key or secret that was given in the wrong place.
func sanitize(msg string, args []string) string {
	for _, arg := range args {
		_, value, found := strings.Cut(arg, "=")
		for _, s := range []string{arg, value} {
			if (s == arg || found) && looksLikeCredential(s) {
				msg = strings.ReplaceAll(msg, s, unleashadmin.RedactSecret(s))
			}
		}
	}
	return msg
}

// looksLikeCredential reports whether s may be a key or a secret: Unleash's
// shapes ("<project>:<env>.<random>", "user:<random>", a selector), or any
// long word without spaces.
func looksLikeCredential(s string) bool {
	if len(s) < 12 {
		return false
	}
	if _, ok := unleashadmin.Selector(s); ok || strings.HasPrefix(s, "user:") || unleashadmin.RedactSecret(s) != "***" {
		return true
	}
	return len(s) >= 24 && !strings.ContainsAny(s, " /")
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
flags most commands take: --url (or UNLEASH_URL), --token or --token-file (or
UNLEASH_API_TOKEN), --bearer, -o table|wide|json, --timeout. A SECRET argument
given as "-" is read from standard input. "unleash-tokens COMMAND --help"
describes one command; "unleash-tokens --version" prints the version.`)
	fmt.Fprintln(w, "\n"+exitCodes)
}

func commandUsage(w io.Writer, cmd command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\n%s.\n\nflags:\n", wrap("usage: unleash-tokens "+cmd.name+" "+cmd.args, "    "), cmd.summary)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n%s\n", line, wrap("      "+strings.ReplaceAll(usage, "\n\t", " "), "      "))
	})
	if note := commandNotes[cmd.name]; note != "" {
		fmt.Fprintln(w, "\n"+note)
	}
	fmt.Fprintln(w, "\n"+exitCodes)
}

// wrap breaks text into lines of at most tableWidth columns at spaces; the
// lines after the first start with indent.
func wrap(text, indent string) string {
	var b strings.Builder
	lead := text[:len(text)-len(strings.TrimLeft(text, " "))]
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = lead + word
		case len(line)+1+len(word) > tableWidth:
			b.WriteString(line + "\n")
			line = indent + word
		default:
			line += " " + word
		}
	}
	b.WriteString(line)
	return b.String()
}

// secretArg returns the one SECRET argument of a command, read from
// standard input when it is "-".
func (a *app) secretArg(cmd string, args []string) (string, error) {
	if len(args) != 1 {
		return "", usagef("%s takes one SECRET (or - to read it from standard input)", cmd)
	}
	if args[0] != "-" {
		return args[0], nil
	}
	lines, err := a.stdinLines()
	if err != nil {
		return "", err
	}
	if len(lines) != 1 {
		return "", usagef("%s -: standard input must hold one secret on one line, not %d lines", cmd, len(lines))
	}
	return lines[0], nil
}

// stdinLines reads standard input once: its non-empty lines, trimmed.
func (a *app) stdinLines() ([]string, error) {
	if a.stdinUsed {
		return nil, usagef("standard input (-) can be read once")
	}
	a.stdinUsed = true
	var lines []string
	sc := bufio.NewScanner(a.in)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return lines, nil
}

func setupCreate(fs *flag.FlagSet) runFunc {
	typ := fs.String("type", "", "client, backend or frontend (required)")
	name := fs.String("name", "", "token name (required)")
	environment := fs.String("env", "", "environment (the server's default when empty: development, or default before Unleash 7)")
	var projects listFlag
	fs.Var(&projects, "project", "project ID; repeat or separate with commas; all projects when absent")
	expires := fs.String("expires", "", "expiry: RFC 3339 time, YYYY-MM-DD, or +DURATION from now such as +90d (never when empty)")
	allowPast := fs.Bool("allow-past", false, "accept an --expires in the past (the token is born expired)")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("create takes no arguments, got \"%s\"", args[0])
		}
		if *typ == "" || *name == "" {
			return usagef("--type and --name are required")
		}
		t, err := unleashadmin.ParseTokenType(*typ)
		if err != nil {
			return usagef("--type must be client, backend or frontend, not \"%s\"", *typ)
		}
		at, err := parseExpiry(*expires, *allowPast)
		if err != nil {
			return err
		}
		if err := a.canDeliver(); err != nil {
			return err
		}
		// The new secret goes to standard output; if it cannot, the new
		// token is deleted again. A token whose answer was odd is still
		// live: its secret is printed, then what was odd is reported.
		a.work.start(newToken, *name, desired.StepCreate, nil)
		defer a.work.done(newToken)
		_, err = a.client.CreateAndDeliver(ctx, unleashadmin.CreateAPITokenRequest{
			Type: t, TokenName: *name, Environment: *environment, Projects: projects, ExpiresAt: at,
		}, func(_ context.Context, fresh unleashadmin.APIToken) error {
			a.work.start(newToken, fresh.TokenName, desired.StepDeliver, &fresh)
			err := a.writeNew(fresh, nil)
			if err != nil {
				// CreateAndDeliver deletes the new token next.
				a.work.start(newToken, fresh.TokenName, desired.StepRevoke, &fresh)
			}
			return err
		})
		return err
	}
}

// canDeliver refuses, before anything is created, to print a new secret to
// a standard output that goes nowhere: /dev/null, or a closed stdout (which
// the Go runtime reopens as /dev/null).
func (a *app) canDeliver() error {
	f, ok := a.out.(*os.File)
	if !ok {
		return nil
	}
	mine, err := f.Stat()
	if err != nil {
		return exitError{exitNotDelivered, fmt.Errorf("standard output cannot take the new secret (%v); nothing was changed", err)}
	}
	if sameAsDevNull(mine) {
		return exitError{exitNotDelivered, errors.New("standard output goes nowhere (closed or /dev/null): the new secret would be lost; nothing was changed")}
	}
	return nil
}

// writeNew writes a new token, secret included, to standard output (as
// printNew: v is what -o json prints, nil for the token object) and makes
// sure it is there: a regular file is synced too.
func (a *app) writeNew(tok unleashadmin.APIToken, v any) error {
	if err := a.printNew(tok, v); err != nil {
		return fmt.Errorf("writing the new token to standard output: %w", err)
	}
	if f, ok := a.out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			if err := f.Sync(); err != nil {
				return fmt.Errorf("writing the new token to standard output: %w", err)
			}
		}
	}
	return nil
}

func setupList(fs *flag.FlagSet) runFunc {
	project := fs.String("project", "", "list only this project's tokens")
	fs.Bool("show-secrets", false, "print secrets in full")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("list takes no arguments (a project goes in --project)")
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
		return a.printTokens(toks)
	}
}

func setupGet(fs *flag.FlagSet) runFunc {
	fs.Bool("show-secrets", false, "print secrets in full")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) != 1 {
			return usagef("get takes one NAME")
		}
		toks, err := a.client.GetAPITokensByName(ctx, args[0])
		if err != nil {
			return err
		}
		if len(toks) == 0 {
			return fmt.Errorf("no token named \"%s\": %w", args[0], unleashadmin.ErrNotFound)
		}
		return a.printTokens(toks)
	}
}

// target reads the SECRET argument of cmd and looks its token up. An
// unknown token is ErrNotFound, or with ignoreNotFound a line saying there
// is nothing to do, and no token.
func (a *app) target(ctx context.Context, cmd string, args []string, ignoreNotFound, ownKey bool) (*unleashadmin.APIToken, error) {
	secret, err := a.secretArg(cmd, args)
	if err != nil {
		return nil, err
	}
	tok, err := a.client.LookupAPIToken(ctx, secret)
	if errors.Is(err, unleashadmin.ErrNotFound) && ignoreNotFound {
		shown := unleashadmin.RedactSecret(secret)
		return nil, a.printResult(foundJSON{Found: false}, "no token %s: nothing to do\n", shown)
	}
	if err == nil && a.client.IsKey(*tok) && !ownKey {
		return nil, usagef("that is the token of the key this command runs with: %s would lock it out; give --own-key to do it anyway", cmd)
	}
	return tok, err
}

func setupExpire(fs *flag.FlagSet) runFunc {
	at := fs.String("at", "", "new expiry: RFC 3339 time, YYYY-MM-DD, +DURATION from now (+30d), or now (required)")
	ignore := fs.Bool("ignore-not-found", false, "succeed when no such token exists")
	ownKey := fs.Bool("own-key", false, "allow the token of the key the command runs with (which then stops working)")
	return func(ctx context.Context, a *app, args []string) error {
		if *at == "" {
			return usagef("--at is required")
		}
		when, err := parseTime(*at)
		if err != nil {
			return err
		}
		tok, err := a.target(ctx, "expire", args, *ignore, *ownKey)
		if tok == nil {
			return err
		}
		if err := a.client.UpdateAPITokenExpiry(ctx, tok.Secret, when); err != nil {
			return err
		}
		when = when.UTC().Truncate(time.Millisecond)
		tok.ExpiresAt = &when
		return a.printResult(foundJSON{Found: true, Token: tokenObject(*tok, false)},
			"expiry of %s (%s) set to %s\n", tok.TokenName, tok.Redacted().Secret, when.Format(time.RFC3339))
	}
}

func setupDelete(fs *flag.FlagSet) runFunc {
	project := fs.String("project", "", "delete through this project (fails unless the token is the project's alone)")
	ignore := fs.Bool("ignore-not-found", false, "succeed when no such token exists")
	ownKey := fs.Bool("own-key", false, "allow the token of the key the command runs with (which then stops working)")
	return func(ctx context.Context, a *app, args []string) error {
		tok, err := a.target(ctx, "delete", args, *ignore, *ownKey)
		if tok == nil {
			return err
		}
		if *project != "" {
			err = a.client.DeleteProjectAPIToken(ctx, *project, tok.Secret)
		} else {
			err = a.client.DeleteAPIToken(ctx, tok.Secret)
		}
		if err != nil {
			return err
		}
		return a.printResult(foundJSON{Found: true, Token: tokenObject(*tok, false)},
			"deleted %s (%s)\n", tok.TokenName, tok.Redacted().Secret)
	}
}

// The defaults of rotate --wait-unused.
const (
	// defaultQuiet is --quiet: how long the old token must have gone
	// unused.
	defaultQuiet = 10 * time.Minute
	// minPoll is the shortest --poll: each look is one list request.
	minPoll = time.Second
)

func setupRotate(fs *flag.FlagSet) runFunc {
	var grace, wait time.Duration
	quiet, poll := defaultQuiet, unleashadmin.DefaultUnusedPollInterval
	fs.Var((*durationFlag)(&grace), "grace", "keep the old token working this long, such as 24h or 7d (deleted at once when 0)")
	expires := fs.String("expires", "", "the new token's expiry: RFC 3339 time, YYYY-MM-DD or +DURATION such as +90d (never when empty)")
	allowPast := fs.Bool("allow-past", false, "accept an --expires in the past")
	fs.Var((*durationFlag)(&wait), "wait-unused", "retire the old token only once the new one has been used and the old one has gone unused for --quiet, watching for at most this long, such as 1h (see below)")
	fs.Var((*durationFlag)(&quiet), "quiet", "with --wait-unused: how long the old token must have gone unused")
	fs.Var((*durationFlag)(&poll), "poll", "with --wait-unused: how often to read the tokens' seenAt (one request each time; at least 1s)")
	return func(ctx context.Context, a *app, args []string) error {
		at, err := parseExpiry(*expires, *allowPast)
		if err != nil {
			return err
		}
		if grace < 0 {
			return usagef("--grace must not be negative")
		}
		var waitOpts *unleashadmin.UnusedWait
		switch {
		case wait < 0:
			return usagef("--wait-unused must not be negative")
		case wait == 0 && (flagSet(fs, "quiet") || flagSet(fs, "poll")):
			return usagef("--quiet and --poll go with --wait-unused")
		case wait > 0 && poll < minPoll:
			return usagef("--poll must be at least %s", durations.Format(minPoll))
		case wait > 0:
			// The shortest quiet any token allows is refused here, before
			// anything is sent; the one of the old token's storage once it
			// is read, before the new token is made.
			if shortest := unleashadmin.MinQuiet(unleashadmin.ServerInfo{}, unleashadmin.APIToken{Secure: true}); quiet < shortest {
				return usagef("--quiet %s is shorter than %s: no Unleash records a token's use sooner, plus a margin (%s in default token storage)",
					durations.Format(quiet), durations.Format(shortest), durations.Format(unleashadmin.MinQuiet(unleashadmin.ServerInfo{}, unleashadmin.APIToken{})))
			}
			waitOpts = &unleashadmin.UnusedWait{Policy: unleashadmin.UnusedPolicy{Quiet: quiet}, Timeout: wait, PollInterval: poll}
		}
		secret, err := a.secretArg("rotate", args)
		if err != nil {
			return err
		}
		if err := a.canDeliver(); err != nil {
			return err
		}
		old, err := a.client.LookupAPIToken(ctx, secret)
		if err != nil {
			return err
		}
		opts := unleashadmin.RotateOptions{GracePeriod: grace, ExpiresAt: at, WaitUnused: waitOpts}
		plan := "deleted next"
		if grace > 0 {
			plan = "expires in " + durations.Format(grace)
		}
		if waitOpts != nil {
			plan = strings.TrimSuffix(plan, " next") + " once unused for " + durations.Format(quiet) + " (watched for up to " + durations.Format(wait) + ")"
			watch := a.watchProgress()
			opts.WaitUnused.Progress = func(d unleashadmin.RetireDecision) {
				watch(d)
				if d.Retire {
					a.work.start(oldToken, old.TokenName, desired.StepRetire, old)
				}
			}
		}
		// The new secret is printed before the old token is touched; if it
		// cannot be, the new token is deleted and the old one kept.
		opts.Deliver = func(_ context.Context, fresh unleashadmin.APIToken) error {
			a.work.start(newToken, fresh.TokenName, desired.StepDeliver, &fresh)
			err := a.writeNew(fresh, rotateJSON{Token: tokenObject(fresh, true), Old: tokenObject(*old, false), Retire: plan})
			if err != nil {
				// RotateAPIToken deletes the new token next.
				a.work.start(newToken, fresh.TokenName, desired.StepRevoke, &fresh)
				return err
			}
			a.work.done(newToken)
			if waitOpts == nil {
				a.work.start(oldToken, old.TokenName, desired.StepRetire, old)
			} else if a.progress {
				fmt.Fprintf(a.errOut, "rotate: watching the use of the old token %s and the new one; quiet needed: %s\n",
					printable(old.Redacted().Secret), durations.Format(quiet))
			}
			return nil
		}
		a.work.start(newToken, old.TokenName, desired.StepCreate, nil)
		r, err := a.client.RotateAPIToken(ctx, *old, opts)
		a.work.done(newToken)
		a.work.done(oldToken)
		if waitOpts != nil && a.progress {
			fmt.Fprint(a.errOut, "\r\033[K") // the progress line
		}
		if r == nil {
			return err
		}
		if errors.Is(err, unleashadmin.ErrUndeliveredLive) {
			// Not delivered, and the new token could not be deleted: it is
			// live, and its secret is nowhere.
			return err
		}
		// What happened to the old token, on stderr: stdout holds the new
		// token alone, already written.
		why := ""
		if r.Waited != nil && err == nil {
			why = " (" + printable(strings.TrimPrefix(r.Waited.Reason, "retire: ")) + ")"
		}
		shown := printable(old.Redacted().Secret)
		switch {
		case err != nil:
		case r.OldGone:
			fmt.Fprintf(a.errOut, "old token %s: already gone, nothing to retire\n", shown)
		case r.OldDeleted:
			fmt.Fprintf(a.errOut, "old token %s: deleted%s\n", shown, why)
		case r.OldExpiresAt != nil:
			fmt.Fprintf(a.errOut, "old token %s: expires %s%s\n", shown, r.OldExpiresAt.UTC().Format(time.RFC3339), why)
		}
		return err
	}
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// watchProgress returns what rotate --wait-unused calls with each
// decision: on a terminal, one line of stderr rewritten each time with
// what the watch waits for; elsewhere nothing.
func (a *app) watchProgress() func(unleashadmin.RetireDecision) {
	if !a.progress {
		return func(unleashadmin.RetireDecision) {}
	}
	start := time.Now()
	return func(d unleashadmin.RetireDecision) {
		newState := "not used yet"
		if d.ReplacementUsed {
			newState = "used"
		}
		oldState := "never used"
		if d.LastUsed != nil {
			oldState = "last used " + d.LastUsed.UTC().Format(time.RFC3339)
		}
		// Short enough for one line of 80 columns, which \r rewrites.
		fmt.Fprintf(a.errOut, "\r\033[Krotate: %s: new token %s, old one %s",
			durations.Format(time.Since(start).Round(time.Second)), newState, oldState)
	}
}

func setupEvents(fs *flag.FlagSet) runFunc {
	var types listFlag
	fs.Var(&types, "type", "created, updated or deleted; repeat or separate with commas (all when absent)")
	from := fs.String("from", "", "first day, YYYY-MM-DD (UTC)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (UTC)")
	project := fs.String("project", "", "only this project's token events")
	query := fs.String("query", "", "free-text search, such as a token name")
	limit := fs.Int("limit", 50, "how many events at most; 0 for all")
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("events takes no arguments")
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
			e, err := unleashadmin.ParseEventType(t)
			if err != nil {
				return usagef("--type must be created, updated or deleted, not \"%s\"", t)
			}
			opts.Types = append(opts.Types, e)
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
			if errors.Is(err, unleashadmin.ErrNotSupported) {
				return fmt.Errorf("this Unleash server has no event search (it came with Unleash 6): %w", err)
			}
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

func setupServer(*flag.FlagSet) runFunc {
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("server takes no arguments")
		}
		info, err := a.client.ServerInfo(ctx)
		if err != nil {
			return err
		}
		return a.printServer(serverInfo{Version: info.Version, TokenLimit: info.TokenLimit,
			DefaultEnvironment: info.DefaultEnvironment(), BackendType: info.HasBackendType(), SecureTokens: info.SecureTokens})
	}
}

// listFlag collects a flag given several times or as a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			// An unset variable ("--project $PROJ") must not widen a
			// token to all projects.
			return errors.New("an empty value (give \"*\" for all)")
		}
		*l = append(*l, part)
	}
	return nil
}

// durationFlag is a duration flag that takes days ("7d") too.
type durationFlag time.Duration

func (d *durationFlag) String() string {
	if *d == 0 {
		return "0"
	}
	return durations.Format(time.Duration(*d))
}

func (d *durationFlag) Set(v string) error {
	parsed, err := durations.Parse(v)
	if err != nil {
		return err
	}
	*d = durationFlag(parsed)
	return nil
}

// parseTime reads an RFC 3339 time, a date (midnight UTC), "now", or
// "+DURATION" from now (days allowed: "+30d").
func parseTime(s string) (time.Time, error) {
	switch {
	case s == "now":
		return time.Now().UTC(), nil
	case strings.HasPrefix(s, "+"):
		d, err := durations.Parse(s[1:])
		if err != nil {
			return time.Time{}, usagef("bad time \"%s\": %v", s, err)
		}
		return time.Now().Add(d).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("bad time \"%s\": want RFC 3339 (2030-01-02T03:04:05Z), YYYY-MM-DD, now or +DURATION (+90d)", s)
}

// parseExpiry reads an optional expiry for a new token, refusing one in
// the past unless allowPast.
func parseExpiry(s string, allowPast bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return nil, err
	}
	if !allowPast && !t.After(time.Now()) {
		return nil, usagef("--expires %s is in the past: the token would be born expired (give --allow-past if that is what you want)", s)
	}
	return &t, nil
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("bad date \"%s\": want YYYY-MM-DD", s)
	}
	return t, nil
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && !sameAsDevNull(fi)
}

func sameAsDevNull(fi os.FileInfo) bool {
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}
