// Command unleash-standin serves unleashtest, the stand-in for the
// API-token endpoints of an Unleash 8.2 server, as a process: for shell
// pipelines, for programs in other languages, and to try unleash-tokens
// with nothing installed.
//
// Once it listens it prints two lines on standard output, in one write,
// and nothing else:
//
//	export UNLEASH_URL='http://127.0.0.1:38193'
//	export UNLEASH_API_TOKEN='*:*.unleash-insecure-admin-api-token'
//
// Messages go to standard error. It serves until SIGINT or SIGTERM, then
// closes its connections and exits 0. From a shell:
//
//	go run github.com/seed8b9e94f4/unleashadmin/cmd/unleash-standin@latest -secure > standin.env &
//	standin=$!
//	until grep -q UNLEASH_API_TOKEN standin.env 2>/dev/null; do sleep 0.2; done
//	. ./standin.env
//	unleash-tokens create --type backend --name checkout --env production
//	kill $standin
//
// Flags:
//
//	-addr ADDR          address to listen on (default 127.0.0.1:0, a free port
//	                    on loopback; ":4242" is every interface)
//	-secure             secure token storage, as Unleash 8.2 with
//	                    UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true
//	-seed FILE          start with the tokens of FILE (see below)
//	-project ID         a project besides "default" (repeat the flag for more)
//	-environment NAME   an environment besides development and production
//	                    (repeat for more)
//	-version VERSION    the Unleash version to report in ui-config (default 8.2.0)
//	-token-limit N      how many tokens may exist (default 2000)
//	-seen-interval D    how often the uses of legacy tokens are written to
//	                    their seenAt (default 3m, as Unleash does; 0 at once);
//	                    tokens in secure storage get it at once
//
// The admin key is $UNLEASH_STANDIN_ADMIN_KEY, or the insecure development
// key *:*.unleash-insecure-admin-api-token when that is not set; it is not
// a flag, so that it never shows in the process list. Listening beyond
// loopback with the development key, which anyone can look up, prints a
// warning on standard error.
//
// The seed file holds a JSON list of tokens:
//
//	[
//	  {"tokenName": "checkout", "type": "backend", "projects": ["default"],
//	   "environment": "production", "secret": "default:production.0123abcd",
//	   "createdAt": "2025-01-01T00:00:00Z", "expiresAt": "2030-01-01T00:00:00Z",
//	   "seenAt": null},
//	  {"tokenName": "web", "type": "frontend"}
//	]
//
// tokenName and type (client, backend, frontend or admin) are required.
// projects (or project, comma-joined) defaults to all projects ("*"),
// environment to development ("*" for admin tokens). secret may be a
// legacy secret or a full v2 secret
// ("<project>:<env>.v2_<22 characters>_<43 characters>"), which puts the
// token in secure storage; without one the stand-in makes a secret in its
// mode ("secure": true asks for secure storage). Times are RFC 3339.
// Unknown keys are refused. Give the secrets you need to use: a made one
// is listed only as a selector in secure mode. An error about the file
// names a line, a field or a token's position in the list (token 1 is the
// first), never a value of the file, which may hold secrets.
//
// Exit codes: 0 stopped by a signal; 1 it could not listen or stop; 2 a
// usage error, or a seed file or seed that is not valid (nothing was
// served).
//
// The stand-in keeps everything in memory and loses it on exit. Of the
// requests it receives it keeps a bounded history, the most recent ones
// (at most 10,000 and 16 MiB of bodies and headers, as unleashtest's
// Server.Requests says), so that requests with or without a key cannot
// fill its memory. It closes a connection whose request takes more than a
// minute to arrive (10 seconds for the headers) or that is idle for a
// minute. See the documentation of package unleashtest for what it
// reproduces and what not; in short, of the client and frontend APIs only
// GET /api/client/features and GET /api/frontend (with no flags), no
// users, and no 60-second token cache.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// stopTimeout bounds how long a stop may wait for requests in flight.
const stopTimeout = 10 * time.Second

// maxSeedFile bounds the seed file read.
const maxSeedFile = 16 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// listFlag collects a flag given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, v)
	return nil
}

// run serves until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("unleash-standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (port 0 picks a free port; \":4242\" is every interface)")
	secure := fs.Bool("secure", false, "secure token storage, as Unleash 8.2 with UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true")
	seedFile := fs.String("seed", "", "start with the tokens of this JSON file (a list of tokens)")
	var projects, environments listFlag
	fs.Var(&projects, "project", "a project besides \"default\" (repeatable)")
	fs.Var(&environments, "environment", "an environment besides development and production (repeatable)")
	version := fs.String("version", unleashtest.DefaultVersion, "the Unleash version to report in ui-config")
	limit := fs.Int("token-limit", unleashtest.DefaultTokenLimit, "how many tokens may exist")
	seenInterval := fs.Duration("seen-interval", unleashtest.DefaultSeenAtInterval,
		"how often the uses of legacy tokens are written to their seenAt (0: at once); tokens in secure storage get it at once")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: unleash-standin [flags]

Serves a stand-in for the API-token endpoints of Unleash 8.2 until SIGINT or
SIGTERM, and prints export lines for UNLEASH_URL and UNLEASH_API_TOKEN on
stdout once it listens. The admin key is $UNLEASH_STANDIN_ADMIN_KEY, or the
insecure development key when that is not set (a warning is printed if it
then listens beyond loopback).

flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage // the flag package has said why
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unleash-standin: unexpected argument %q (see -h)\n", fs.Arg(0))
		return exitUsage
	}
	if *limit < 0 {
		fmt.Fprintln(stderr, "unleash-standin: -token-limit must not be negative")
		return exitUsage
	}
	if *seenInterval < 0 {
		fmt.Fprintln(stderr, "unleash-standin: -seen-interval must not be negative")
		return exitUsage
	}

	key := getenv("UNLEASH_STANDIN_ADMIN_KEY")
	if key == "" {
		key = unleashtest.DefaultAdminKey
	} else if strings.TrimSpace(key) != key || strings.ContainsAny(key, "\r\n") {
		fmt.Fprintln(stderr, "unleash-standin: UNLEASH_STANDIN_ADMIN_KEY must not hold spaces at its ends or line breaks")
		return exitUsage
	}
	opts := []unleashtest.Option{
		unleashtest.WithAdminKeys(key),
		unleashtest.WithProjects(append([]string{"default"}, projects...)...),
		unleashtest.WithEnvironments(append([]string{"development", "production"}, environments...)...),
		unleashtest.WithVersion(*version),
		unleashtest.WithTokenLimit(*limit),
		unleashtest.WithSeenAtInterval(*seenInterval),
	}
	if *secure {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	if *seedFile != "" {
		seeds, err := readSeeds(*seedFile)
		if err != nil {
			fmt.Fprintf(stderr, "unleash-standin: -seed %s: %v\n", *seedFile, err)
			return exitUsage
		}
		opts = append(opts, unleashtest.WithTokens(seeds...))
	}

	srv, err := unleashtest.Listen(*addr, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "unleash-standin: %v\n", err)
		var netErr *net.OpError
		if errors.As(err, &netErr) {
			return exitFailure
		}
		return exitUsage // a seed that breaks a rule
	}
	if key == unleashtest.DefaultAdminKey && beyondLoopback(*addr, srv.URL()) {
		fmt.Fprintf(stderr, "unleash-standin: warning: listening beyond loopback (-addr %q) with the well-known insecure development admin key: anyone who can reach the port can manage its tokens; set UNLEASH_STANDIN_ADMIN_KEY, or listen on 127.0.0.1\n", *addr)
	}
	// One write, so that a reader sees both lines or neither.
	if _, err := fmt.Fprintf(stdout, "export UNLEASH_URL=%s\nexport UNLEASH_API_TOKEN=%s\n",
		shellQuote(srv.URL()), shellQuote(key)); err != nil {
		fmt.Fprintf(stderr, "unleash-standin: writing the export lines: %v\n", err)
		srv.Close()
		return exitFailure
	}
	mode := "default token storage"
	if *secure {
		mode = "secure token storage"
	}
	fmt.Fprintf(stderr, "unleash-standin: Unleash %s stand-in (%s) listening at %s; stop it with Ctrl-C or SIGTERM\n",
		*version, mode, srv.URL())

	<-ctx.Done()
	fmt.Fprintln(stderr, "unleash-standin: stopping")
	stopped := make(chan struct{})
	go func() {
		srv.Close()
		close(stopped)
	}()
	select {
	case <-stopped:
		fmt.Fprintln(stderr, "unleash-standin: stopped")
		return exitOK
	case <-time.After(stopTimeout):
		fmt.Fprintf(stderr, "unleash-standin: requests still running after %v; exiting anyway\n", stopTimeout)
		return exitFailure
	}
}

// seedToken is one token of a seed file.
type seedToken struct {
	Secret      string     `json:"secret"`
	TokenName   string     `json:"tokenName"`
	Type        string     `json:"type"`
	Project     string     `json:"project"`
	Projects    []string   `json:"projects"`
	Environment string     `json:"environment"`
	CreatedAt   *time.Time `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	SeenAt      *time.Time `json:"seenAt"`
	Secure      bool       `json:"secure"`
}

// fieldName is what a key of a seed file that may be named in an error
// looks like.
var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// quotedChar is a character as the JSON decoder quotes it in a syntax
// error: in single quotes, escaped as Go does (a quote as backslash and
// quote).
var quotedChar = regexp.MustCompile(`'(\\'|[^']*)' ?`)

// position returns the line and column (from 1, in bytes) of offset in data.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	return line, len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// readSeeds reads a seed file. Its errors never quote the file's content,
// which holds secrets: they name a line, a field, or the position of a
// token in the list (the checks of unleashtest.WithTokens do the same).
func readSeeds(name string) ([]unleashtest.Token, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSeedFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSeedFile {
		return nil, fmt.Errorf("larger than %d MiB", maxSeedFile>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var seeds []seedToken
	if err := dec.Decode(&seeds); err != nil {
		// The decoder's own words may quote a value (a secret), a
		// character of one, or an unknown key: name the line and the
		// field only.
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(data, syn.Offset-1) // the byte at fault
			return nil, fmt.Errorf("not JSON: %s (line %d, column %d)", quotedChar.ReplaceAllString(syn.Error(), ""), line, col)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			line, _ := position(data, typ.Offset)
			kind, _, _ := strings.Cut(typ.Value, " ") // "number 123" names the number
			if typ.Field == "" {
				return nil, fmt.Errorf("not a JSON list of tokens: a JSON %s in place of the list or of a token (line %d)", kind, line)
			}
			return nil, fmt.Errorf("not a JSON list of tokens: field %q (line %d) must be %s, not %s", typ.Field, line, typ.Type, kind)
		}
		if key, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			// A key is named when it reads like one; a long or odd one
			// may be a secret put in the wrong place.
			if k, err := strconv.Unquote(key); err == nil && fieldName.MatchString(k) {
				return nil, fmt.Errorf("not a JSON list of tokens: unknown field %q", k)
			}
			line, _ := position(data, dec.InputOffset())
			return nil, fmt.Errorf("not a JSON list of tokens: a key that is not a token's field (line %d)", line)
		}
		line, _ := position(data, dec.InputOffset())
		return nil, fmt.Errorf("not a JSON list of tokens: a value that does not read (line %d; times are RFC 3339)", line)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	if seeds == nil {
		return nil, errors.New("not a JSON list of tokens: null")
	}
	out := make([]unleashtest.Token, len(seeds))
	for i, s := range seeds {
		out[i] = unleashtest.Token{
			Secret:      s.Secret,
			TokenName:   s.TokenName,
			Type:        s.Type,
			Project:     s.Project,
			Projects:    s.Projects,
			Environment: s.Environment,
			ExpiresAt:   s.ExpiresAt,
			SeenAt:      s.SeenAt,
			Secure:      s.Secure,
		}
		if s.CreatedAt != nil {
			out[i].CreatedAt = *s.CreatedAt
		}
	}
	return out, nil
}

// beyondLoopback reports whether a Server listening on addr (as given to
// -addr) at url may be reached from beyond this machine: addr names every
// interface (no host, 0.0.0.0, ::), or url, which names the address
// listened on otherwise, is not a loopback one.
func beyondLoopback(addr, url string) bool {
	if addr != "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return true
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			return true
		}
	}
	host := strings.TrimPrefix(url, "http://")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// shellQuote wraps s in single quotes so that a POSIX shell reads it back
// unchanged.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
