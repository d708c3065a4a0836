package desired_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// randomPart is the random part of a default-storage secret.
var randomPart = regexp.MustCompile(`[0-9a-f]{56}`)

// TestNothingPrintsASecret prints every exported type holding a token,
// with every verb, through slog and json.Marshal, and every error, and
// looks for any secret the server holds or a sink was given.
func TestNothingPrintsASecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed("rot", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Second)
	f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("moved", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	f.seed("svc-old", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	file := f.parse(`tokens:
  - {name: rot, type: client, renewBefore: 2h}
  - {name: dup, type: client}
  - {name: moved, type: client}
  - {name: new, type: client}
  - {name: leaky, type: client}
prune: {namePrefix: svc-}
`)
	secrets := map[string]bool{}
	for _, tok := range f.srv.Tokens() {
		secrets[tok.Secret] = true
	}
	var mu sync.Mutex
	var steps []desired.Step
	// One sink error quotes the secret it was given.
	sink := desired.SinkFunc(func(_ context.Context, tok unleashadmin.APIToken) error {
		mu.Lock()
		secrets[tok.Secret] = true
		mu.Unlock()
		if tok.TokenName == "leaky" {
			return fmt.Errorf("cannot store %s", tok.Secret)
		}
		return nil
	})
	observer := func(_ context.Context, s desired.Step) {
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, s)
	}
	opts := f.opts()
	p := f.plan(file, opts)
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
	if err == nil {
		t.Fatal("the leaky sink did not fail")
	}
	mustEqual(t, "plan", summary(p), []string{"rotate rot", "keep dup", "retire dup", "replace moved", "create new", "create leaky", "retire svc-old"})

	values := []any{p, *p, res, *res, opts, &opts}
	for _, a := range p.Actions {
		values = append(values, a, &a)
	}
	for _, o := range res.Outcomes {
		values = append(values, o, &o)
		if o.New == nil && o.Action.Makes() {
			t.Errorf("%v: no new token", o)
		}
	}
	for _, s := range steps {
		values = append(values, s, &s)
	}
	// Every error, and everything its chain holds: an error reporter
	// walks the chain and prints each link.
	var errs []error
	for _, e := range append([]error{err, res.Err()}, failedErrs(res)...) {
		errs = append(errs, chain(e)...)
	}
	var out bytes.Buffer
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		b, jerr := json.Marshal(v)
		if jerr != nil {
			t.Errorf("json.Marshal(%T): %v", v, jerr)
		}
		out.Write(b)
		for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
			slog.New(h).Info("x", "v", v)
		}
	}
	for _, e := range errs {
		fmt.Fprintf(&out, "%v\n%+v\n", e, e)
	}
	text := out.String()
	if len(secrets) < 8 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for s := range secrets {
		if i := strings.Index(text, s); i >= 0 {
			t.Errorf("printed %s in %.200q", unleashadmin.RedactSecret(s), text[max(0, i-200):i])
		}
	}
	if m := randomPart.FindString(text); m != "" {
		t.Errorf("printed a secret's random part %s...", m[:4])
	}
	for _, want := range []string{"rotate rot", "retire svc-old", `"action":"create"`, "cannot store " + "*:development."} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed forms lack %q", want)
		}
	}
}

func TestPlanJSONShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed("old", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	p := f.plan(f.parse("tokens: [{name: a, type: backend, projects: [a]}, {name: old, type: frontend}]"), f.opts())
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Actions []map[string]any `json:"actions"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Actions) != 2 {
		t.Fatalf("%s", b)
	}
	a, k := got.Actions[0], got.Actions[1]
	if a["action"] != "create" || a["name"] != "a" || a["reason"] != `no token named "a"` || a["type"] != "backend" ||
		a["environment"] != "development" || fmt.Sprint(a["projects"]) != "[a]" || a["token"] != nil {
		t.Errorf("create: %v", a)
	}
	tok, _ := k["token"].(map[string]any)
	if k["action"] != "keep" || tok == nil || !strings.HasSuffix(fmt.Sprint(tok["secret"]), "***") || tok["type"] != "frontend" {
		t.Errorf("keep: %v", k)
	}
	// An empty plan is {"actions":[]}.
	b, _ = json.Marshal(desired.Plan{})
	if string(b) != `{"actions":[]}` {
		t.Errorf("empty plan: %s", b)
	}
}

func failedErrs(res *desired.Result) []error {
	var out []error
	for _, o := range res.Failed() {
		out = append(out, o.Err)
	}
	return out
}

// chain returns err and every error it wraps, through Unwrap() error and
// Unwrap() []error.
func chain(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, chain(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, chain(e)...)
		}
	}
	return out
}

// TestSinkErrorEchoIsRedacted has the sink fail with an error that
// repeats the new secret in the forms an exact match misses: upper-cased,
// split by a line break, cut to 40 characters, \u-escaped. The reported
// error, and every error its chain holds, shows none of it.
func TestSinkErrorEchoIsRedacted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		echo func(secret string) string
	}{
		{"upper-cased", strings.ToUpper},
		{"split by a line break", func(s string) string { return s[:30] + "\n" + s[30:] }},
		{"cut to 40 characters", func(s string) string { return s[:40] }},
		{`\u-escaped`, func(s string) string {
			var b strings.Builder
			for _, r := range s {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
			return b.String()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var secret, echo string
			sink := desired.SinkFunc(func(_ context.Context, tok unleashadmin.APIToken) error {
				secret, echo = tok.Secret, tc.echo(tok.Secret)
				return fmt.Errorf("the vault refused %s", echo)
			})
			res, err := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
			if !errors.Is(err, unleashadmin.ErrNotDelivered) || secret == "" {
				t.Fatalf("got %v", err)
			}
			for _, e := range append(chain(err), chain(res.Outcomes[0].Err)...) {
				text := e.Error()
				if strings.Contains(text, echo) || unleashadmin.RedactText(text, secret) != text {
					t.Errorf("the error shows the secret: %q", text)
				}
			}
			if !strings.Contains(err.Error(), "the vault refused") && !strings.Contains(err.Error(), "removed") {
				t.Errorf("the error lost what happened: %v", err)
			}
		})
	}
}
