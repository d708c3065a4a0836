package unleashadmin

// Two kinds of leak are checked here: goroutines (goleak, for the whole
// package) and credentials (TestLeakAudit: the API key and token secrets
// must never show in logs, error strings or printed values).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's run when a test leaves a goroutine behind:
// a response body never closed, a server handler never released, a timer
// of a retry wait.
func TestMain(m *testing.M) {
	// goleak is a test-only dependency: it never reaches a user's build.
	// It checks, after the whole package ran, that no goroutine of a
	// transport, a retry wait or a test server outlived its test.
	goleak.VerifyTestMain(m)
}

const (
	// The credentials of the audit. Each has a random part (after the last
	// dot) long enough that RedactSecret keeps only its first 4 characters.
	leakKey       = "*:*.9c2f7e1a4b6d8f0e2c4a6b8d0f1e3c5a-leak-admin"
	leakSecret    = "default:development.7a41c0de9b2f4e8d6c5b3a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"
	leakStarred   = "*:development.31e4f0a9c8b7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5"
	leakCreated   = "default:production.e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8"
	leakListedOne = "[]:development.0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c"
	// A personal access token: no dot, all of it is random.
	leakPAT = "user:5e1f0c2d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
)

// randomOf is what follows the last dot of a secret.
func randomOf(secret string) string {
	return secret[strings.LastIndexByte(secret, '.')+1:]
}

// forbidden lists every form of the audit's credentials that must not be
// printed: whole, random part alone, raw and escaped.
func forbidden() []string {
	var out []string
	for _, s := range []string{leakKey, leakSecret, leakStarred, leakCreated, leakListedOne, leakPAT} {
		for _, f := range []string{s, randomOf(s), url.PathEscape(s), url.QueryEscape(s)} {
			if !strings.Contains(strings.Join(out, "\x00"), f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer that many goroutines may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// teeHandler sends every record to each of its handlers.
type teeHandler []slog.Handler

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, x := range h {
		if x.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, x := range h {
		if x.Enabled(ctx, r.Level) {
			errs = append(errs, x.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (h teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithAttrs(attrs)
	}
	return out
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithGroup(name)
	}
	return out
}

// audit collects everything the SDK and a caller could print.
type audit struct {
	out          lockedBuffer // printed values and error strings
	jsonLog      lockedBuffer
	textLog      lockedBuffer
	logger       *slog.Logger
	mu           sync.Mutex
	errs, checks int
}

func newAudit() *audit {
	a := &audit{}
	opts := &slog.HandlerOptions{Level: slog.LevelDebug - 4, AddSource: true}
	a.logger = slog.New(teeHandler{slog.NewJSONHandler(&a.jsonLog, opts), slog.NewTextHandler(&a.textLog, opts)})
	return a
}

var printVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"}

// printAll prints v with every verb, to the audit and through its logger.
func (a *audit) printAll(label string, v any) {
	for _, verb := range printVerbs {
		fmt.Fprintf(&a.out, "%s %s: "+verb+"\n", label, verb, v)
	}
	a.logger.Log(context.Background(), slog.LevelDebug-4, "caller logs "+label, "value", v)
}

// printErr prints err and, when it is one of the SDK's error types, the
// struct behind it, by value and by pointer.
func (a *audit) printErr(label string, err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	a.errs++
	a.mu.Unlock()
	a.printAll(label+" error", err)
	fmt.Fprintf(&a.out, "%s Error(): %s\n", label, err.Error())
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		// A caller printing what the error wraps sees no more.
		fmt.Fprintf(&a.out, "%s wrapped: %v\n", label, e)
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		a.printAll(label+" *APIError", apiErr)
		a.printAll(label+" APIError", *apiErr)
		fmt.Fprintf(&a.out, "%s APIError.Body: %s\n", label, apiErr.Body)
	}
	var reqErr *RequestError
	if errors.As(err, &reqErr) {
		a.printAll(label+" *RequestError", reqErr)
		a.printAll(label+" RequestError", *reqErr)
	}
}

// verify fails t for each forbidden string in anything collected. With
// LEAK_DUMP set, every offending line also goes to stderr.
func (a *audit) verify(t *testing.T) {
	t.Helper()
	banned := forbidden()
	for name, text := range map[string]string{"printed": a.out.String(), "JSON log": a.jsonLog.String(), "text log": a.textLog.String()} {
		if text == "" {
			t.Errorf("%s output is empty: the audit saw nothing", name)
		}
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(nil, 16<<20)
		leaks := 0
		for sc.Scan() {
			line := sc.Text()
			if s, ok := containsAny(line, banned...); ok {
				if os.Getenv("LEAK_DUMP") != "" {
					fmt.Fprintf(os.Stderr, "LEAK\t%s\t%s\n", name, line)
				}
				if leaks++; leaks <= 5 {
					t.Errorf("%s output holds %q:\n%s", name, s, line)
				}
			}
		}
		if leaks > 5 {
			t.Errorf("%s output: %d lines with a credential in all", name, leaks)
		}
	}
}

// leakServer answers every request in one way, echoing what it received
// wherever a careless server or proxy might.
func leakServer(t *testing.T, useTLS bool, answer func(w http.ResponseWriter, r *http.Request)) *faultServer {
	return startFaultServer(t, useTLS, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, r) })
}

// echo fills a body template: PATH is the request's path as sent, AUTH its
// Authorization header.
func echo(tmpl string, r *http.Request) string {
	return strings.NewReplacer("PATH", r.URL.EscapedPath(), "AUTH", r.Header.Get("Authorization")).Replace(tmpl)
}

const (
	// The NotFoundError Unleash 8.2 answers for a route it does not know,
	// which repeats the path, secret included (capture 801-proj-put).
	echoNotFound = `{"id":"6a8e4f3b-5b7c-4bb6-9a6e-1f0e2d3c4b5a","name":"NotFoundError","message":"The path you were looking for (PATH) is not available.","details":[{"message":"The path you were looking for (PATH) is not available.","path":"PATH"}]}`
	// A proxy that quotes the request, header included.
	echoProxy = `{"name":"ProxyError","message":"upstream refused PATH for AUTH","details":[{"message":"Authorization: AUTH","path":"PATH"}]}`
	echoHTML  = `<html><body><h1>Error</h1><pre>Cannot handle PATH</pre><p>Authorization: AUTH</p></body></html>`
)

// leakScenario is one way for a call to go, success included.
type leakScenario struct {
	name    string
	answer  func(w http.ResponseWriter, r *http.Request)
	tls     bool
	timeout time.Duration
}

func leakScenarios() []leakScenario {
	listed := `{"tokens":[` +
		`{"secret":"` + leakKey + `","tokenName":"admin","type":"admin","project":"*","projects":["*"],"environment":"*","expiresAt":null,"createdAt":"2026-11-22T07:55:12.527Z","alias":null,"seenAt":null,"secure":false},` +
		`{"secret":"` + leakSecret + `","tokenName":"leak","type":"client","project":"default","projects":["default"],"environment":"development","expiresAt":"2030-01-02T03:04:05.000Z","createdAt":"2026-11-22T07:55:13.082Z","alias":null,"seenAt":"2026-11-22T08:00:00.000Z","secure":false},` +
		`{"secret":"` + leakStarred + `","tokenName":"leak","type":"frontend","project":"*","projects":["*"],"environment":"development","expiresAt":null,"createdAt":"2026-11-22T07:55:13.082Z","alias":"` + leakStarred + `","seenAt":null,"secure":false},` +
		`{"secret":"` + leakListedOne + `","tokenName":"leak","type":"client","project":"default,second","projects":["default","second"],"environment":"development","expiresAt":null,"createdAt":"2026-11-22T07:55:13.443Z","alias":null,"seenAt":null,"secure":false}]}`
	created := `{"tokenName":"leak","environment":"development","projects":["default"],"secret":"` + leakCreated + `","type":"backend","alias":null,"project":"default","createdAt":"2026-11-22T07:55:14.070Z","secure":false}`

	out := []leakScenario{{name: "success", answer: answerOK(created, listed)}}
	for _, code := range []int{400, 401, 403, 404, 415, 429, 500, 502, 503, 504} {
		for _, body := range []struct{ name, ctype, tmpl string }{
			{"Unleash NotFoundError echo", jsonCT, echoNotFound},
			{"proxy JSON echo", jsonCT, echoProxy},
			{"proxy HTML echo", htmlCT, echoHTML},
		} {
			out = append(out, leakScenario{name: fmt.Sprintf("%d %s", code, body.name), answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "120") // a 429 is not waited for
				w.Header().Set("Content-Type", body.ctype)
				w.WriteHeader(code)
				_, _ = io.WriteString(w, echo(body.tmpl, r))
			}})
		}
	}
	out = append(out,
		leakScenario{name: "200 HTML login page echo", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", htmlCT)
			_, _ = io.WriteString(w, echo(echoHTML, r))
		}},
		leakScenario{name: "200 wrong shape echoing the key and path", answer: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, echo(`{"secret":"PATH","createdAt":"AUTH","tokens":[{"createdAt":"AUTH","tokenName":"PATH"}]}`, r))
		}},
		leakScenario{name: "200 wrong shape echoing a listed secret", answer: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, `{"secret":7,"tokens":[{"secret":"`+leakListedOne+`","createdAt":7}]}`)
		}},
		leakScenario{name: "200 truncated", answer: func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, listed[:len(listed)/2])
		}},
		leakScenario{name: "200 too large", answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(MaxResponseBytes+1))
			w.Header().Set("Content-Type", jsonCT)
			_, _ = io.WriteString(w, listed)
		}},
		leakScenario{name: "reset before the response", answer: func(w http.ResponseWriter, r *http.Request) {
			resetNow(hijack(w))
		}},
		leakScenario{name: "stall", timeout: 200 * time.Millisecond, answer: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		leakScenario{name: "non-HTTP peer echoing the request", answer: func(w http.ResponseWriter, r *http.Request) {
			conn := hijack(w)
			_ = r.Write(conn) // the request line, headers and all
			_ = conn.Close()
		}},
		leakScenario{name: "status line then the request as headers", answer: func(w http.ResponseWriter, r *http.Request) {
			conn := hijack(w)
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\n"+echo("Authorization AUTH\r\nPATH\r\n\r\n", r))
			_ = conn.Close()
		}},
		leakScenario{name: "redirect loop", answer: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.RequestURI()+"?again="+url.QueryEscape(r.Header.Get("Authorization")), http.StatusFound)
		}},
		leakScenario{name: "TLS not trusted", tls: true, answer: func(w http.ResponseWriter, r *http.Request) {}},
	)
	return out
}

// TestLeakAudit drives every method through success, each API error
// status, transport failures, unexpected responses and bad input, with a
// logger at full verbosity writing JSON and text, and prints every error
// and value with every verb. No form of the API key or of a token secret
// may show anywhere.
func TestLeakAudit(t *testing.T) {
	t.Parallel()
	a := newAudit()
	methods := sdkMethods(leakSecret, "leak")
	// The calls that put a secret in the path, again with a "*:" secret,
	// which is escaped there.
	for _, m := range sdkMethods(leakStarred, "leak") {
		if !m.decodes || m.name == "RotateAPIToken" {
			m.name += "/starred"
			methods = append(methods, m)
		}
	}

	var wg sync.WaitGroup
	for _, sc := range leakScenarios() {
		for _, bearer := range []bool{false, true} {
			srv := leakServer(t, sc.tls, sc.answer)
			opts := []Option{WithHTTPClient(&http.Client{Transport: newFaultTransport(nil, nil)}), WithRetryWait(0, time.Millisecond), WithLogger(a.logger)}
			if bearer {
				opts = append(opts, WithBearerAuth())
			}
			if sc.tls {
				opts[0] = WithHTTPClient(&http.Client{Transport: newFaultTransport(&tls.Config{RootCAs: x509.NewCertPool()}, nil)})
			}
			c, err := NewClient(srv.URL, leakKey, opts...)
			if err != nil {
				t.Fatal(err)
			}
			a.printAll("client", c)
			timeout := sc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			wg.Go(func() {
				for _, m := range methods {
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					err := m.call(ctx, c)
					cancel()
					label := fmt.Sprintf("%s/%s/bearer=%t", sc.name, m.name, bearer)
					if sc.name == "success" {
						if err != nil {
							t.Errorf("%s: %v", label, err)
						}
						continue
					}
					if err == nil && (m.decodes || !strings.HasPrefix(sc.name, "200")) {
						t.Errorf("%s: no error", label)
					}
					a.printErr(label, err)
				}
				if sc.name == "success" {
					printResults(t, a, c)
				}
			})
		}
	}

	// A refused connection.
	c, err := NewClient("http://"+closedPort(t), leakKey, WithRetryWait(0, time.Millisecond), WithLogger(a.logger))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range methods {
		a.printErr("refused/"+m.name, m.call(context.Background(), c))
	}
	wg.Wait()

	// Bad input, caught before any request.
	for _, in := range badInputs(c) {
		if !errors.Is(in.err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", in.name, in.err)
		}
		a.printErr("bad input/"+in.name, in.err)
	}
	a.verify(t)
	t.Logf("audited %d errors; %d bytes printed, %d bytes of JSON log, %d bytes of text log",
		a.errs, len(a.out.String()), len(a.jsonLog.String()), len(a.textLog.String()))
}

// printResults prints the values a successful create and list return.
func printResults(t *testing.T, a *audit, c *Client) {
	ctx := context.Background()
	tok, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: "leak"})
	if err != nil || tok.Secret != leakCreated {
		t.Errorf("create: %v, %v", tok, err)
		return
	}
	toks, err := c.ListAPITokens(ctx)
	if err != nil || len(toks) != 4 {
		t.Errorf("list: %v, %v", toks, err)
		return
	}
	a.printAll("created token", *tok)
	a.printAll("created token pointer", tok)
	// A slice is printed with fmt, which formats each token; slog's JSON
	// handler would marshal it with encoding/json, which keeps secrets on
	// purpose (see docs/RELIABILITY.md), so tokens are logged one by one.
	for _, verb := range printVerbs {
		fmt.Fprintf(&a.out, "token list "+verb+"\n", toks)
	}
	a.logger.Debug("caller logs the list", "tokens", fmt.Sprint(toks))
	for _, tk := range toks {
		a.printAll("listed token", tk)
	}
	a.logger.Debug("caller logs tokens", "token", tok, "client", c)
}

type badInput struct {
	name string
	err  error
}

func badInputs(c *Client) []badInput {
	ctx := context.Background()
	var nilCtx context.Context
	zero := time.Time{}
	in := []badInput{}
	add := func(name string, err error) { in = append(in, badInput{name, err}) }
	_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{TokenName: leakSecret})
	add("create without type", err)
	_, err = c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: leakSecret, Projects: []string{" "}})
	add("create with a blank project", err)
	_, err = c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: leakSecret, ExpiresAt: &zero})
	add("create with a zero expiry", err)
	_, err = c.CreateProjectAPIToken(ctx, "", CreateProjectAPITokenRequest{Type: TokenTypeClient, TokenName: leakSecret})
	add("project create without project", err)
	_, err = c.GetAPITokensByName(ctx, " ")
	add("get by blank name", err)
	_, err = c.ListProjectAPITokens(ctx, "")
	add("project list without project", err)
	add("update with a zero expiry", c.UpdateAPITokenExpiry(ctx, leakSecret, zero))
	add("update without secret", c.UpdateAPITokenExpiry(ctx, "", time.Now()))
	add("delete without secret", c.DeleteAPIToken(ctx, "\t"))
	add("project delete without project", c.DeleteProjectAPIToken(ctx, "", leakSecret))
	add("update with a nil context", c.UpdateAPITokenExpiry(nilCtx, leakSecret, time.Now()))
	add("delete with a nil context", c.DeleteAPIToken(nilCtx, leakSecret))
	add("project delete with a nil context", c.DeleteProjectAPIToken(nilCtx, "default", leakStarred))
	_, err = c.RotateAPIToken(ctx, APIToken{Secret: leakSecret, Type: TokenTypeClient}, RotateOptions{})
	add("rotate a token without a name", err)
	_, err = c.RotateAPIToken(ctx, APIToken{Secret: leakSecret, TokenName: "leak", Type: TokenTypeClient}, RotateOptions{GracePeriod: -time.Second})
	add("rotate with a negative grace period", err)
	_, err = c.RotateAPIToken(nilCtx, APIToken{Secret: leakStarred, TokenName: "leak", Type: TokenTypeClient, Projects: []string{"default"}}, RotateOptions{})
	add("rotate with a nil context", err)
	_, err = c.ListTokenEvents(ctx, TokenEventsOptions{Query: "leak", Limit: -1})
	add("events with a negative limit", err)
	_, err = c.ListTokenEvents(nilCtx, TokenEventsOptions{Query: "leak"})
	add("events with a nil context", err)
	for _, err := range c.AllTokenEvents(ctx, TokenEventsOptions{Query: "leak", Project: "a,b"}) {
		add("all events with a comma in the project", err)
	}
	for name, args := range map[string][2]string{
		"NewClient key with a line break":   {"https://unleash.example.com", leakKey[:10] + "\n" + leakKey[10:]},
		"NewClient key in the URL password": {"ftp://admin:" + leakKey + "@unleash.example.com", leakKey},
		"NewClient key in the user info":    {"https://admin:" + url.PathEscape(leakKey) + "@unleash.example.com", leakKey},
		"NewClient PAT as the user info":    {"https://" + leakPAT + "@unleash.example.com", leakKey},
		"NewClient key in the URL query":    {"https://unleash.example.com/?token=" + url.QueryEscape(leakKey), leakKey},
		"NewClient key in the fragment":     {"https://unleash.example.com/#" + leakKey, leakKey},
		"NewClient URL that does not parse": {"https://unleash.example.com/%zz" + leakKey, leakKey},
		"NewClient URL without host":        {"https:///" + leakKey, leakKey},
		"NewClient arguments swapped":       {leakKey, "https://unleash.example.com"},
		"NewClient PAT and URL swapped":     {leakPAT, "https://unleash.example.com"},
		"NewClient PAT with a line break":   {"https://unleash.example.com", leakPAT[:8] + "\r\n" + leakPAT[8:]},
	} {
		_, err := NewClient(args[0], args[1])
		add(name, err)
	}
	return in
}
