package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// exampleNow is the fixed time of the examples' stand-in.
var exampleNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// exampleServer is an in-process Unleash with a fixed clock, and a client
// for it; use your server's URL and an admin API token.
func exampleServer() (*unleashtest.Server, *unleashadmin.Client) {
	srv := unleashtest.NewServer(unleashtest.WithClock(func() time.Time { return exampleNow }))
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		log.Fatal(err)
	}
	return srv, c
}

const exampleFile = `
tokens:
  - name: checkout
    type: backend
    environment: production
    projects: [default]
    expiresIn: 90d
    renewBefore: 14d
  - name: web
    type: frontend
prune:
  namePrefix: svc-
`

// discard is a Sink for examples; a real one writes the secret where the
// service reads it.
var discard = desired.SinkFunc(func(context.Context, unleashadmin.APIToken) error { return nil })

// exampleAction is an action built by hand, with a made-up secret.
func exampleAction() desired.Action {
	tok := unleashadmin.APIToken{
		TokenName: "checkout", Type: unleashadmin.TokenTypeClient, Environment: "production",
		Project: "default", Projects: []string{"default"}, CreatedAt: exampleNow.AddDate(0, -3, 0),
		Secret: "default:production.d17f1c9e2b4a4c8f9e3d2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
	}
	return desired.Action{Kind: desired.ActionRotate, Name: "checkout", Token: &tok, Reason: "older than maxAge 60d"}
}

// noTime drops slog's time attribute so that output is stable.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// exampleLog logs to the example's standard output, without the time.
func exampleLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
}

func ExampleParse() {
	f, err := desired.Parse([]byte(exampleFile))
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range f.Tokens {
		fmt.Println(e.Line, e.Name, e.Type, e.Environment, e.Projects, e.ExpiresIn, e.RenewBefore)
	}
	fmt.Println("prune", f.Prune.NamePrefix)

	_, err = desired.Parse([]byte("tokens:\n  - name: checkout\n    type: backend\n    enviroment: production\n"))
	fmt.Println(err)
	// Output:
	// 3 checkout backend production [default] 2160h0m0s 336h0m0s
	// 9 web frontend  [] 0s 0s
	// prune svc-
	// 4: unknown key in a token (want name, type, environment, projects, expiresIn, renewBefore, maxAge, instances, retire; did you mean "environment"?)
}

func ExampleReadFile() {
	path := filepath.Join(os.TempDir(), "desired-example.yaml")
	if err := os.WriteFile(path, []byte("tokens:\n  - {name: web, type: frontend}\n  - {name: web, type: client}\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)
	_, err := desired.ReadFile(path)
	fmt.Println(strings.TrimPrefix(err.Error(), os.TempDir()+string(filepath.Separator)))
	// Output: desired-example.yaml:3: name repeated (first on line 2): a file lists each name once
}

func ExampleFile_Validate() {
	f := &desired.File{Tokens: []desired.Entry{
		{Name: "checkout", Type: "BACKEND", Projects: []string{"payments", "default", "payments"}},
		{Name: "web", Type: "admin"},
	}}
	fmt.Println(f.Validate())
	fmt.Println(f.Tokens[0].Type, f.Tokens[0].Projects)
	// Output:
	// desired state: token 2: type "admin": want client, backend or frontend
	// backend [default payments]
}

func ExampleFileError_Error() {
	err := &desired.FileError{Path: "tokens.yaml", Line: 7, Msg: "type: want client, backend or frontend"}
	fmt.Println(err.Error())
	// Output: tokens.yaml:7: type: want client, backend or frontend
}

func ExampleFileError_Is() {
	_, err := desired.Parse([]byte("tokens: [{name: a, type: client, maxAge: 3w}]"))
	fmt.Println(errors.Is(err, unleashadmin.ErrInvalidArgument))
	// Output: true
}

func ExampleNewPlan() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	// A web token exists, of another type than the file asks for.
	_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "web"})
	_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "svc-legacy"})

	f, _ := desired.Parse([]byte(exampleFile))
	p, err := desired.NewPlan(ctx, c, f, desired.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range p.Actions {
		fmt.Printf("%-8s %-10s %s\n", a.Kind, a.Name, a.Reason)
	}
	// Output:
	// create   checkout   no token named "checkout"
	// replace  web        is client in development for *; the file asks for frontend in development for *
	// retire   svc-legacy not in the file; its name has the prune prefix "svc-"
}

func ExamplePlan_Apply() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte(exampleFile))
	p, err := desired.NewPlan(ctx, c, f, desired.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "secrets")
	defer os.RemoveAll(dir)
	res, err := p.Apply(ctx, desired.ApplyOptions{Sink: desired.DirSink{Dir: dir}})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range res.Outcomes {
		b, _ := os.ReadFile(filepath.Join(dir, o.Action.Name))
		fmt.Println(o.Action.Kind, o.Action.Name, o.Done, o.New.Secret+"\n" == string(b))
	}
	// A second plan changes nothing.
	p, _ = desired.NewPlan(ctx, c, f, desired.Options{})
	fmt.Println(p.Empty())
	// Output:
	// create checkout true true
	// create web true true
	// true
}

func ExamplePlan_Changes() {
	srv, c := exampleServer()
	defer srv.Close()
	f, _ := desired.Parse([]byte(exampleFile))
	p, _ := desired.NewPlan(context.Background(), c, f, desired.Options{})
	fmt.Println(p.Changes(), "of", len(p.Actions))
	// Output: 2 of 2
}

func ExamplePlan_Empty() {
	srv, c := exampleServer()
	defer srv.Close()
	f, _ := desired.Parse([]byte("tokens: []"))
	p, _ := desired.NewPlan(context.Background(), c, f, desired.Options{})
	fmt.Println(p.Empty())
	// Output: true
}

func ExamplePlan_Makes() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte(exampleFile))
	p, _ := desired.NewPlan(ctx, c, f, desired.Options{})
	fmt.Println(p.Makes())
	// Without a sink, a plan that makes tokens is refused before any change.
	_, err := p.Apply(ctx, desired.ApplyOptions{})
	fmt.Println(errors.Is(err, desired.ErrNoSink))
	// Output:
	// true
	// true
}

func ExamplePlan_Format() {
	srv, c := exampleServer()
	defer srv.Close()
	f, _ := desired.Parse([]byte(exampleFile))
	p, _ := desired.NewPlan(context.Background(), c, f, desired.Options{})
	fmt.Println(p)
	// Output:
	// create checkout: no token named "checkout"
	// create web: no token named "web"
}

func ExamplePlan_LogValue() {
	p := desired.Plan{Actions: []desired.Action{exampleAction()}}
	exampleLog().Info("plan", "plan", p)
	// Output: level=INFO msg=plan plan.changes=1 plan.0.action=rotate plan.0.name=checkout plan.0.reason="older than maxAge 60d" plan.0.token.tokenName=checkout plan.0.token.type=client plan.0.token.environment=production plan.0.token.project=default plan.0.token.projects=[default] plan.0.token.secret=default:production.d17f***
}

func ExamplePlan_MarshalJSON() {
	srv, c := exampleServer()
	defer srv.Close()
	f, _ := desired.Parse([]byte("tokens: [{name: web, type: frontend}]"))
	p, _ := desired.NewPlan(context.Background(), c, f, desired.Options{})
	b, _ := json.Marshal(p)
	fmt.Println(string(b))
	// Output: {"actions":[{"action":"create","name":"web","reason":"no token named \"web\"","type":"frontend","environment":"development","projects":["*"]}]}
}

func ExampleAction_Makes() {
	a := exampleAction()
	fmt.Println(a.Makes(), desired.Action{Kind: desired.ActionRetire}.Makes())
	// Output: true false
}

func ExampleAction_Changes() {
	fmt.Println(exampleAction().Changes(), desired.Action{Kind: desired.ActionKeep}.Changes())
	// Output: true false
}

func ExampleAction_Format() {
	fmt.Printf("%v\n%+v\n", exampleAction(), exampleAction())
	// Output:
	// rotate checkout default:production.d17f***: older than maxAge 60d
	// rotate checkout default:production.d17f***: older than maxAge 60d
}

func ExampleAction_LogValue() {
	exampleLog().Info("action", "a", exampleAction())
	// Output: level=INFO msg=action a.action=rotate a.name=checkout a.reason="older than maxAge 60d" a.token.tokenName=checkout a.token.type=client a.token.environment=production a.token.project=default a.token.projects=[default] a.token.secret=default:production.d17f***
}

func ExampleAction_MarshalJSON() {
	b, _ := json.Marshal(exampleAction())
	fmt.Println(string(b))
	// Output: {"action":"rotate","name":"checkout","reason":"older than maxAge 60d","token":{"secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"createdAt":"2025-12-01T12:00:00Z"}}
}

// exampleResult applies a file in which one delivery fails.
func exampleResult() (*desired.Result, error) {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte("tokens: [{name: checkout, type: backend}, {name: web, type: frontend}]"))
	p, _ := desired.NewPlan(ctx, c, f, desired.Options{})
	sink := desired.SinkFunc(func(_ context.Context, tok unleashadmin.APIToken) error {
		if tok.TokenName == "web" {
			return errors.New("vault is sealed")
		}
		return nil
	})
	return p.Apply(ctx, desired.ApplyOptions{Sink: sink, Parallel: 1})
}

func ExampleResult_Failed() {
	res, _ := exampleResult()
	for _, o := range res.Failed() {
		fmt.Println(o.Action.Name, o.Revoked, errors.Is(o.Err, unleashadmin.ErrNotDelivered))
	}
	// Output: web true true
}

func ExampleResult_Err() {
	res, err := exampleResult()
	fmt.Println(err)
	fmt.Println(res.Err() != nil)
	// Output:
	// desired: create web: unleashadmin: the new token could not be delivered: vault is sealed; the new token was deleted again, and the old ones left as they were
	// true
}

func ExampleResult_Format() {
	res, _ := exampleResult()
	for _, o := range res.Outcomes {
		o.New = nil // their secrets are random; printed, they are redacted
		fmt.Println(o)
	}
	// Output:
	// done: create checkout: no token named "checkout"
	// failed: create web: no token named "web"; desired: create web: unleashadmin: the new token could not be delivered: vault is sealed; the new token was deleted again, and the old ones left as they were
}

func ExampleResult_LogValue() {
	res, _ := exampleResult()
	res.Outcomes = res.Outcomes[1:]
	res.Outcomes[0].New = nil
	exampleLog().Info("applied", "result", *res)
	// Output: level=INFO msg=applied result.failed=1 result.0.status=failed result.0.action.action=create result.0.action.name=web result.0.action.reason="no token named \"web\"" result.0.error="desired: create web: unleashadmin: the new token could not be delivered: vault is sealed; the new token was deleted again, and the old ones left as they were"
}

func ExampleResult_MarshalJSON() {
	res, _ := exampleResult()
	res.Outcomes = res.Outcomes[:1]
	res.Outcomes[0].New = nil
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	// Output: {"outcomes":[{"action":"create","name":"checkout","reason":"no token named \"checkout\"","type":"backend","environment":"development","projects":["*"],"status":"done","delivered":true}]}
}

func ExampleActionResult_Format() {
	o := desired.ActionResult{Action: exampleAction(), Done: true, Delivered: true, Retired: true, Deleted: true}
	fmt.Println(o)
	// Output: done: rotate checkout default:production.d17f***: older than maxAge 60d
}

func ExampleActionResult_LogValue() {
	o := desired.ActionResult{Action: desired.Action{Kind: desired.ActionRetire, Name: "svc-old", Reason: "pruned"}, Err: errors.New("desired: retire svc-old: 503")}
	exampleLog().Info("result", "o", o)
	// Output: level=INFO msg=result o.status=failed o.action.action=retire o.action.name=svc-old o.action.reason=pruned o.error="desired: retire svc-old: 503"
}

func ExampleActionResult_Status() {
	tok := exampleAction().Token
	for _, o := range []desired.ActionResult{
		{Action: exampleAction(), Done: true, New: tok, Delivered: true, Retired: true},
		{Action: exampleAction(), New: tok, Delivered: true, Err: errors.New("desired: rotate checkout: 503")},
		{Action: exampleAction(), Err: errors.New("desired: rotate checkout: 403")},
		{Action: desired.Action{Kind: desired.ActionKeep, Name: "ci", Protected: unleashadmin.ProtectedKeyInUse}, Done: true},
	} {
		fmt.Println(o.Status())
	}
	// Output:
	// done
	// partly-done
	// failed
	// protected
}

func ExampleActionResult_MarshalJSON() {
	o := desired.ActionResult{Action: exampleAction(), Done: true, Delivered: true, Retired: true, Deleted: true}
	b, _ := json.Marshal(o)
	fmt.Println(string(b))
	// Output: {"action":"rotate","name":"checkout","reason":"older than maxAge 60d","token":{"secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"createdAt":"2025-12-01T12:00:00Z"},"status":"done","delivered":true,"retired":true,"deleted":true}
}

func ExampleStep_Format() {
	a := exampleAction()
	fmt.Println(desired.Step{Kind: desired.StepRetire, Action: a, Token: a.Token})
	// Output: retire for rotate checkout: default:production.d17f***
}

func ExampleStep_LogValue() {
	exampleLog().Info("step", "s", desired.Step{Kind: desired.StepCreate, Action: desired.Action{Kind: desired.ActionCreate, Name: "web"}})
	// Output: level=INFO msg=step s.step=create s.action.action=create s.action.name=web s.action.reason=""
}

func ExampleStep_MarshalJSON() {
	b, _ := json.Marshal(desired.Step{Kind: desired.StepCreate, Action: desired.Action{Kind: desired.ActionCreate, Name: "web"}})
	fmt.Println(string(b))
	// Output: {"step":"create","action":{"action":"create","name":"web","reason":""}}
}

func ExampleSinkFunc_Deliver() {
	var sink desired.Sink = desired.SinkFunc(func(_ context.Context, tok unleashadmin.APIToken) error {
		fmt.Println("deliver", tok.TokenName, unleashadmin.RedactSecret(tok.Secret))
		return nil
	})
	_ = sink.Deliver(context.Background(), *exampleAction().Token)
	// Output: deliver checkout default:production.d17f***
}

func ExampleDirSink_Deliver() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	sink := desired.DirSink{Dir: filepath.Join(dir, "unleash")}
	if err := sink.Deliver(context.Background(), *exampleAction().Token); err != nil {
		log.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "unleash", "checkout"))
	b, _ := os.ReadFile(filepath.Join(dir, "unleash", "checkout"))
	fmt.Println(fi.Mode(), len(b), strings.HasSuffix(string(b), "\n"))
	// Output: -rw------- 76 true
}

func ExampleExecSink_Deliver() {
	sink := desired.ExecSink{
		Command: `printf '%s %s %s %s %d\n' "$UNLEASH_TOKEN_NAME" "$UNLEASH_TOKEN_TYPE" "$UNLEASH_TOKEN_ENVIRONMENT" "$UNLEASH_TOKEN_PROJECTS" "$(wc -c)"`,
		Stdout:  os.Stdout,
	}
	if err := sink.Deliver(context.Background(), *exampleAction().Token); err != nil {
		log.Fatal(err)
	}
	err := desired.ExecSink{Command: "exit 3"}.Deliver(context.Background(), *exampleAction().Token)
	fmt.Println(err)
	// Output:
	// checkout client production default 75
	// desired: ExecSink: the command failed: exit status 3
}

func ExampleOptions_Format() {
	opts := desired.Options{GracePeriod: 24 * time.Hour}
	fmt.Println(opts)
	// Output: {GracePeriod:24h0m0s DefaultEnvironment:""}
}

func ExampleOptions_LogValue() {
	opts := desired.Options{DefaultEnvironment: "production"}
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	slog.New(slog.NewTextHandler(os.Stdout, noTime)).Info("planning", "opts", opts)
	// Output: level=INFO msg=planning opts.gracePeriod=0s opts.defaultEnvironment=production
}

func ExampleOptions_MarshalJSON() {
	b, _ := json.Marshal(desired.Options{GracePeriod: 7 * 24 * time.Hour, Now: time.Now})
	fmt.Println(string(b))
	// Output: {"gracePeriod":"7d"}
}

func ExampleOptions_UnmarshalJSON() {
	var opts desired.Options
	err := json.Unmarshal([]byte(`{"gracePeriod":"36h","defaultEnvironment":"production"}`), &opts)
	fmt.Println(opts.GracePeriod, opts.DefaultEnvironment, err)
	// A misspelt key is refused rather than taken for no grace period.
	err = json.Unmarshal([]byte(`{"gracePeriode":"36h"}`), &opts)
	fmt.Println(errors.Is(err, unleashadmin.ErrInvalidArgument))
	// Output:
	// 36h0m0s production <nil>
	// true
}
