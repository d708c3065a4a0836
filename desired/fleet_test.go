package desired_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
	"go.yaml.in/yaml/v3"
)

const fleetFile = `instances:
  eu: {url: https://unleash.eu.example.com, tokenEnv: UNLEASH_TOKEN_EU}
  us: {url: https://unleash.us.example.com/unleash, tokenFile: /run/secrets/unleash-us}
  staging: {url: http://127.0.0.1:4242, tokenEnv: UNLEASH_TOKEN_STAGING, bearer: true}
tokens:
  - name: checkout
    type: backend
    environment: production
    instances: [us, eu, us]
  - name: storefront
    type: frontend
  - name: checkout
    type: client
    instances: [staging]
prune:
  namePrefix: svc-
`

// TestParseFleetFile: the instances section and each entry's instances
// (put in the file's order, without repeats); ForInstance is the file an
// instance sees.
func TestParseFleetFile(t *testing.T) {
	t.Parallel()
	f, err := desired.Parse([]byte(fleetFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []desired.Instance{
		{Name: "eu", URL: "https://unleash.eu.example.com", TokenEnv: "UNLEASH_TOKEN_EU", Line: 2},
		{Name: "us", URL: "https://unleash.us.example.com/unleash", TokenFile: "/run/secrets/unleash-us", Line: 3},
		{Name: "staging", URL: "http://127.0.0.1:4242", TokenEnv: "UNLEASH_TOKEN_STAGING", Bearer: true, Line: 4},
	}
	if !reflect.DeepEqual(f.Instances, want) {
		t.Fatalf("instances %+v", f.Instances)
	}
	mustEqual(t, "names", f.InstanceNames(), []string{"eu", "us", "staging"})
	mustEqual(t, "checkout's instances", f.Tokens[0].Instances, []string{"eu", "us"})
	if f.Tokens[1].Instances != nil {
		t.Errorf("storefront: %v", f.Tokens[1].Instances)
	}
	for name, entries := range map[string][]string{
		"eu":      {"checkout backend 6", "storefront frontend 10"},
		"us":      {"checkout backend 6", "storefront frontend 10"},
		"staging": {"storefront frontend 10", "checkout client 12"},
	} {
		one, err := f.ForInstance(name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range one.Tokens {
			if e.Instances != nil {
				t.Errorf("%s: %s keeps its instances", name, e.Name)
			}
			got = append(got, fmt.Sprintf("%s %s %d", e.Name, e.Type, e.Line))
		}
		mustEqual(t, name, got, entries)
		if one.Instances != nil || one.Prune.NamePrefix != "svc-" || one.Validate() != nil {
			t.Errorf("%s: %+v", name, one)
		}
	}
	if _, err := f.ForInstance("mars"); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("an unknown instance: %v", err)
	}
	// A file without instances is the same file for any instance.
	plain, _ := desired.Parse([]byte("tokens: [{name: a, type: client}]\n"))
	if one, err := plain.ForInstance("any"); err != nil || len(one.Tokens) != 1 {
		t.Errorf("%+v %v", one, err)
	}
}

// TestFleetFileRoundTrip: JSON and YAML write the instances in their
// order and each entry's instances, which Parse reads back as they were.
func TestFleetFileRoundTrip(t *testing.T) {
	t.Parallel()
	f, err := desired.Parse([]byte(fleetFile))
	if err != nil {
		t.Fatal(err)
	}
	noLines := func(f *desired.File) *desired.File {
		g := *f
		g.Instances = slices.Clone(f.Instances)
		g.Tokens = slices.Clone(f.Tokens)
		for i := range g.Instances {
			g.Instances[i].Line = 0
		}
		for i := range g.Tokens {
			g.Tokens[i].Line = 0
		}
		return &g
	}
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(js), `{"instances":{"eu":{"url":"https://unleash.eu.example.com","tokenEnv":"UNLEASH_TOKEN_EU"},"us":`) {
		t.Errorf("JSON: %s", js)
	}
	ym, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(ym), "instances:\n    eu: {url: 'https://unleash.eu.example.com', tokenEnv: UNLEASH_TOKEN_EU}\n") &&
		!strings.HasPrefix(string(ym), "instances:\n    eu: {url: https://unleash.eu.example.com, tokenEnv: UNLEASH_TOKEN_EU}\n") {
		t.Errorf("YAML:\n%s", ym)
	}
	if !strings.Contains(string(ym), "instances: [eu, us]") {
		t.Errorf("YAML:\n%s", ym)
	}
	for what, data := range map[string][]byte{"JSON": js, "YAML": ym} {
		back, err := desired.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, data)
		}
		if !reflect.DeepEqual(noLines(back), noLines(f)) {
			t.Errorf("%s gave back %+v", what, back)
		}
	}
	for _, secret := range []string{"sekrit"} {
		if bytes.Contains(js, []byte(secret)) || bytes.Contains(ym, []byte(secret)) {
			t.Error("a key in the file's form")
		}
	}
}

// TestFleetFileErrors: every mistake of the instances section, and of an
// entry's instances, names its line and quotes nothing of the value.
func TestFleetFileErrors(t *testing.T) {
	t.Parallel()
	const secret = "sekrit0123456789"
	inst := func(lines ...string) string {
		return "instances:\n" + strings.Join(lines, "\n") + "\ntokens:\n  - {name: a, type: client}\n"
	}
	ok := "  eu: {url: https://eu.example.com, tokenEnv: K_EU}"
	for _, tc := range []struct {
		name, file string
		line       int
		msg        string
	}{
		{"not a mapping", "instances: [eu]\ntokens: []\n", 1, "instances must be a mapping of names"},
		{"empty", "instances: {}\ntokens: []\n", 1, "instances is empty"},
		{"name a number", inst("  42: {url: https://x.example.com, tokenEnv: K}"), 2, "an instance's name must be a string, not a number"},
		{"name with a slash", inst("  a/b: {url: https://x.example.com, tokenEnv: K}"), 2, "an instance's name holds a slash"},
		{"name dot-dot", inst("  '..': {url: https://x.example.com, tokenEnv: K}"), 2, "an instance's name"},
		{"name repeated", inst(ok, "  eu: {url: https://x.example.com, tokenEnv: K}"), 3, "instance eu repeated (first on line 2)"},
		{"name in another case", inst(ok, "  EU: {url: https://x.example.com, tokenEnv: K}"), 3, "instance EU is the name of the instance on line 2 but for case"},
		{"unknown key", inst("  eu: {url: https://x.example.com, token: " + secret + "}"), 2, "unknown key in the instance eu (want url, tokenEnv, tokenFile, bearer"},
		{"no url", inst("  eu: {tokenEnv: K}"), 2, "instance eu has no url"},
		{"url scheme", inst("  eu: {url: " + secret + ":x, tokenEnv: K}"), 2, "instance eu: url must start with http:// or https://"},
		{"url with a key in it", inst("  eu: {url: 'https://u:" + secret + "@x.example.com', tokenEnv: K}"), 2, "url must not carry a user name or password"},
		{"url query", inst("  eu: {url: 'https://x.example.com/?k=" + secret + "', tokenEnv: K}"), 2, "url must not have a query or fragment"},
		{"url no host", inst("  eu: {url: 'https:///x', tokenEnv: K}"), 2, "url has no host name"},
		{"no key source", inst("  eu: {url: https://x.example.com}"), 2, "instance eu has neither tokenEnv nor tokenFile"},
		{"both key sources", inst("  eu: {url: https://x.example.com, tokenEnv: K, tokenFile: k}"), 2, "instance eu has tokenEnv and tokenFile"},
		{"a key as tokenEnv", inst("  eu: {url: https://x.example.com, tokenEnv: '*:*." + secret + "'}"), 2, "tokenEnv must name an environment variable"},
		{"bearer a string", inst("  eu: {url: https://x.example.com, tokenEnv: K, bearer: 'yes'}"), 2, "bearer must be true or false, not a string"},
		{"entry instances unknown", "instances:\n" + ok + "\ntokens:\n  - name: a\n    type: client\n    instances: [eu, " + secret + "]\n", 4, "instances: item 2 names no instance of the file (it has eu)"},
		{"entry instances empty", "instances:\n" + ok + "\ntokens:\n  - name: a\n    type: client\n    instances: []\n", 6, "instances is an empty list: leave it out for all instances"},
		{"entry instances not a list", "instances:\n" + ok + "\ntokens:\n  - name: a\n    type: client\n    instances: eu\n", 6, "instances must be a list"},
		{"entry instances without a section", "tokens:\n  - name: a\n    type: client\n    instances: [eu]\n", 2, "the file has no instances section"},
		{"name repeated on an instance", "instances:\n" + ok + "\n  us: {url: https://us.example.com, tokenEnv: K_US}\ntokens:\n  - {name: a, type: client}\n  - {name: a, type: frontend, instances: [us]}\n", 6, "name repeated (first on line 5, for an instance both are for): a file lists each name once per instance"},
		{"names alike on an instance", "instances:\n" + ok + "\n  us: {url: https://us.example.com, tokenEnv: K_US}\ntokens:\n  - {name: a, type: client, instances: [eu, us]}\n  - {name: A, type: frontend, instances: [us]}\n", 6, "but for case or Unicode form, for an instance both are for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := desired.Parse([]byte(tc.file))
			var fe *desired.FileError
			if !errors.As(err, &fe) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
				t.Fatalf("got %v (%T), want a *FileError", err, err)
			}
			if fe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("line %d, want %d; %q lacks %q", fe.Line, tc.line, err, tc.msg)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes the file: %v", err)
			}
		})
	}
	// One name, on instances none of which both are for: two entries.
	f, err := desired.Parse([]byte("instances:\n" + ok + "\n  us: {url: https://us.example.com, tokenEnv: K_US}\ntokens:\n" +
		"  - {name: a, type: client, instances: [eu]}\n  - {name: a, type: frontend, instances: [us]}\n"))
	if err != nil || len(f.Tokens) != 2 {
		t.Fatalf("%+v %v", f, err)
	}
	// A File built in code is checked the same.
	code := &desired.File{Instances: []desired.Instance{{Name: "eu", URL: "ftp://x", TokenEnv: "K"}}}
	if err := code.Validate(); err == nil || !strings.Contains(err.Error(), "instance 1: instance eu: url must start with http") {
		t.Errorf("Validate: %v", err)
	}
}

// fleetServer is a stand-in and its client, for the fleets of the tests.
type fleetServer struct {
	srv *unleashtest.Server
	c   *unleashadmin.Client
}

func newFleetServer(t testing.TB, opts ...unleashtest.Option) fleetServer {
	t.Helper()
	srv := unleashtest.NewTestServer(t, opts...)
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryMax(0), unleashadmin.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return fleetServer{srv, c}
}

// lists counts the requests to list the tokens after the first n, and
// fails t for any other but the settings.
func (s fleetServer) lists(t *testing.T, n int) int {
	t.Helper()
	lists := 0
	for _, r := range s.srv.Requests()[n:] {
		switch {
		case r.Method == "GET" && r.Path == "/api/admin/api-tokens":
			lists++
		case r.Method == "GET" && r.Path == "/api/admin/ui-config":
		default:
			t.Errorf("a plan sent %s %s", r.Method, r.Path)
		}
	}
	return lists
}

// named returns the live tokens of a name on s, "type env projects" each.
func (s fleetServer) named(name string) []string {
	var out []string
	for _, tok := range s.srv.Tokens() {
		if tok.TokenName == name {
			out = append(out, fmt.Sprintf("%s %s %s", strings.ToLower(tok.Type), tok.Environment, strings.Join(tok.Projects, ",")))
		}
	}
	return out
}

// TestNewFleetReadsEachKey: the keys come from tokenEnv and tokenFile,
// bearer is sent as such; a missing key names the instance's line and
// never a key; instances not asked for need no key.
func TestNewFleetReadsEachKey(t *testing.T) {
	t.Parallel()
	a, b := newFleetServer(t), newFleetServer(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key-b")
	if err := os.WriteFile(keyFile, []byte("  "+b.srv.AdminKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "fleet.yaml")
	text := fmt.Sprintf("instances:\n  a: {url: %s, tokenEnv: KEY_A, bearer: true}\n  b: {url: %s, tokenFile: %s}\n  c: {url: %s, tokenEnv: KEY_C}\ntokens: []\n",
		a.srv.URL(), b.srv.URL(), keyFile, a.srv.URL())
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := desired.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEY_A": a.srv.AdminKey()}
	getenv := func(k string) string { return env[k] }
	opts := []unleashadmin.Option{unleashadmin.WithRetryMax(0)}
	// c's key is missing: the file and c's line are named, nothing is sent.
	_, err = desired.NewFleet(f, nil, getenv, opts...)
	var fe *desired.FileError
	if !errors.As(err, &fe) || fe.Path != path || fe.Line != 4 || !errors.Is(err, unleashadmin.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "instance c: its key is missing: tokenEnv names KEY_C, which is not set or empty") {
		t.Fatalf("%v", err)
	}
	fleet, err := desired.NewFleet(f, []string{"b", "a"}, getenv, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if len(fleet) != 2 {
		t.Fatalf("%v", fleet)
	}
	ctx := context.Background()
	for name, s := range map[string]fleetServer{"a": a, "b": b} {
		if _, err := fleet[name].ListAPITokens(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := s.srv.Requests()[0].Header.Get("Authorization")
		if want := map[string]string{"a": "Bearer " + a.srv.AdminKey(), "b": b.srv.AdminKey()}[name]; got != want {
			t.Errorf("%s: Authorization %q", name, got)
		}
	}
	fleet.CloseIdleConnections()
	if _, err := desired.NewFleet(f, []string{"x"}, getenv); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("an unknown instance: %v", err)
	}
	// A tokenFile that is missing, empty, or of two lines.
	for content, want := range map[string]string{"": "tokenFile is empty", "a\nb\n": "tokenFile must hold the key alone on one line", "-": "tokenFile cannot be opened: no such file or directory"} {
		kf := filepath.Join(dir, "k")
		_ = os.Remove(kf)
		if content != "-" {
			if err := os.WriteFile(kf, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		g, _ := desired.Parse([]byte(fmt.Sprintf("instances:\n  b: {url: %s, tokenFile: %s}\ntokens: []\n", b.srv.URL(), kf)))
		_, err := desired.NewFleet(g, nil, getenv)
		if !errors.As(err, &fe) || fe.Line != 2 || !strings.Contains(err.Error(), "instance b: its key is missing: "+want) || strings.Contains(err.Error(), kf) {
			t.Errorf("%q: %v", content, err)
		}
	}
	if n := a.srv.RequestCount() + b.srv.RequestCount(); n != 2 {
		t.Errorf("%d requests", n)
	}
}

// TestFleetPlanAndApply applies one file to three instances, each with its
// own rules: a 6.x one whose default environment is "default", one in
// secure token storage. Each is read once per plan; the entries for some
// instances are made there only; the second plan is empty.
func TestFleetPlanAndApply(t *testing.T) {
	t.Parallel()
	v8 := newFleetServer(t)
	secure := newFleetServer(t, unleashtest.WithSecureTokens())
	v6 := newFleetServer(t, unleashtest.WithVersion("6.10.1"), unleashtest.WithEnvironments("default", "development", "production"))
	fleet := desired.Fleet{"v8": v8.c, "secure": secure.c, "v6": v6.c}
	f, err := desired.Parse([]byte(`instances:
  v8: {url: http://v8.example.com, tokenEnv: K}
  secure: {url: http://secure.example.com, tokenEnv: K}
  v6: {url: http://v6.example.com, tokenEnv: K}
tokens:
  - {name: everywhere, type: backend, environment: production, projects: [default]}
  - {name: default-env, type: client}
  - {name: some, type: frontend, environment: production, instances: [v6, secure]}
  - {name: one, type: client, environment: development, instances: [v8]}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := map[string]int{"v8": v8.srv.RequestCount(), "secure": secure.srv.RequestCount(), "v6": v6.srv.RequestCount()}
	fp, err := desired.NewFleetPlan(ctx, fleet, f, desired.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	servers := map[string]fleetServer{"v8": v8, "secure": secure, "v6": v6}
	var got []string
	for _, ip := range fp.Instances {
		if n := servers[ip.Instance].lists(t, before[ip.Instance]); n != 1 {
			t.Errorf("%s: %d lists", ip.Instance, n)
		}
		got = append(got, ip.Instance+": "+strings.Join(summary(ip.Plan), ", ")+" in "+ip.Plan.DefaultEnvironment)
	}
	mustEqual(t, "plans", got, []string{
		"v8: create everywhere, create default-env, create one in development",
		"secure: create everywhere, create default-env, create some in development",
		"v6: create everywhere, create default-env, create some in default",
	})
	if fp.Changes() != 9 || fp.Empty() {
		t.Errorf("%d changes", fp.Changes())
	}
	sinks := map[string]*recorder{"v8": {}, "secure": {}, "v6": {}}
	res, err := fp.Apply(ctx, desired.FleetApplyOptions{ApplyOptions: func(name string) desired.ApplyOptions {
		return desired.ApplyOptions{Sink: sinks[name]}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 3 || len(res.Failed()) != 0 {
		t.Fatalf("%v", res)
	}
	for name, s := range servers {
		for entry, want := range map[string]string{"everywhere": "backend production default", "default-env": "client development *"} {
			if name == "v6" && entry == "default-env" {
				want = "client default *"
			}
			if name != "secure" && entry == "everywhere" {
				want = "client production default" // a backend token lists as client
			}
			if got := s.named(entry); len(got) != 1 || got[0] != want {
				t.Errorf("%s %s: %v", name, entry, got)
			}
		}
		if got, want := len(s.named("some")), map[string]int{"v6": 1, "secure": 1}[name]; got != want {
			t.Errorf("%s: %d tokens of some", name, got)
		}
		if got, want := len(s.named("one")), map[string]int{"v8": 1}[name]; got != want {
			t.Errorf("%s: %d tokens of one", name, got)
		}
		if len(sinks[name].secrets()) != 3 {
			t.Errorf("%s: delivered %v", name, sinks[name].secrets())
		}
	}
	// ApplyFleet again: nothing to change, anywhere; each instance is
	// read once.
	for name, s := range servers {
		before[name] = s.srv.RequestCount()
	}
	res, err = desired.ApplyFleet(ctx, fleet, f, desired.FleetOptions{Instances: []string{"v6", "v8", "secure"}}, desired.FleetApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, ir := range res.Instances {
		if want := []string{"v8", "secure", "v6"}[i]; ir.Instance != want || !ir.Result.Plan.Empty() || len(ir.Result.Plan.Actions) != 3 {
			t.Errorf("%s: %v", ir.Instance, ir.Result)
		}
		if n := servers[ir.Instance].lists(t, before[ir.Instance]); n != 1 {
			t.Errorf("%s: ApplyFleet read the tokens %d times", ir.Instance, n)
		}
	}
	// A second ApplyFleet with a new entry: made and delivered.
	f.Tokens = append(f.Tokens, desired.Entry{Name: "late", Type: unleashadmin.TokenTypeClient, Environment: "development", Instances: []string{"v6"}})
	res, err = desired.ApplyFleet(ctx, fleet, f, desired.FleetOptions{}, desired.FleetApplyOptions{ApplyOptions: func(name string) desired.ApplyOptions {
		return desired.ApplyOptions{Sink: sinks[name]}
	}})
	if err != nil || len(v6.named("late")) != 1 || sinks["v6"].secrets()["late"] == "" || len(v8.named("late")) != 0 {
		t.Fatalf("%v %v", res, err)
	}
	f.Tokens = f.Tokens[:len(f.Tokens)-1]
	// A fleet of clients and a file without instances: every entry for
	// every client, by name.
	plain, _ := desired.Parse([]byte("tokens:\n  - {name: everywhere, type: backend, environment: production, projects: [default]}\n"))
	fp, err = desired.NewFleetPlan(ctx, desired.Fleet{"b": secure.c, "a": v8.c}, plain, desired.FleetOptions{})
	if err != nil || len(fp.Instances) != 2 || fp.Instances[0].Instance != "a" || !fp.Empty() {
		t.Fatalf("%v %v", fp, err)
	}
	// Mistakes: nothing is sent.
	n := v8.srv.RequestCount()
	for what, call := range map[string]func() error{
		"unknown instance": func() error {
			_, err := desired.NewFleetPlan(ctx, fleet, f, desired.FleetOptions{Instances: []string{"mars"}})
			return err
		},
		"twice": func() error {
			_, err := desired.NewFleetPlan(ctx, fleet, f, desired.FleetOptions{Instances: []string{"v8", "v8"}})
			return err
		},
		"no client": func() error {
			_, err := desired.NewFleetPlan(ctx, desired.Fleet{"v8": v8.c}, f, desired.FleetOptions{})
			return err
		},
		"negative parallel": func() error {
			_, err := desired.ApplyFleet(ctx, fleet, f, desired.FleetOptions{}, desired.FleetApplyOptions{Parallel: -1})
			return err
		},
		"export without instances": func() error {
			_, err := desired.ExportFleet(ctx, fleet, plain, desired.FleetExportOptions{})
			return err
		},
	} {
		if err := call(); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%s: %v", what, err)
		}
	}
	if v8.srv.RequestCount() != n {
		t.Errorf("mistakes sent requests")
	}
}

// TestFleetInstancesFailAlone: an instance whose key is refused, one that
// answers 500 to its list, and one that does not answer (bounded by the
// context) fail each alone; the fourth is planned and applied, and the
// errors name each instance and why.
func TestFleetInstancesFailAlone(t *testing.T) {
	t.Parallel()
	good, refused, broken, hung := newFleetServer(t), newFleetServer(t), newFleetServer(t), newFleetServer(t)
	badKey, err := unleashadmin.NewClient(refused.srv.URL(), "*:*."+strings.Repeat("0", 56), unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	broken.srv.FailNext(math.MaxInt, unleashtest.Fault{Status: 500, Body: []byte(`{"name":"UnknownError","message":"db down"}`)})
	hung.srv.FailNext(math.MaxInt, unleashtest.Fault{Delay: time.Hour})
	fleet := desired.Fleet{"good": good.c, "refused": badKey, "broken": broken.c, "hung": hung.c}
	f, _ := desired.Parse([]byte("tokens:\n  - {name: svc, type: client, environment: development}\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sink := &recorder{}
	start := time.Now()
	res, err := desired.ApplyFleet(ctx, fleet, f, desired.FleetOptions{}, desired.FleetApplyOptions{
		ApplyOptions: func(name string) desired.ApplyOptions { return desired.ApplyOptions{Sink: sink} }})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s", took)
	}
	if res == nil || err == nil {
		t.Fatalf("%v %v", res, err)
	}
	byName := map[string]desired.InstanceResult{}
	for _, ir := range res.Instances {
		byName[ir.Instance] = ir
	}
	if g := byName["good"]; g.Err != nil || g.Result == nil || len(g.Result.Outcomes) != 1 || !g.Result.Outcomes[0].Done {
		t.Fatalf("good: %+v", g)
	}
	if len(good.named("svc")) != 1 || len(sink.secrets()) != 1 {
		t.Errorf("good was not applied")
	}
	for name, want := range map[string]error{"refused": unleashadmin.ErrUnauthorized, "broken": nil, "hung": context.DeadlineExceeded} {
		ir := byName[name]
		var ie *desired.InstanceError
		if ir.Result != nil || !errors.As(ir.Err, &ie) || ie.Instance != name || !strings.HasPrefix(ir.Err.Error(), "desired: instance "+name+": reading the tokens: ") {
			t.Errorf("%s: %+v", name, ir)
		}
		if want != nil && !errors.Is(ir.Err, want) {
			t.Errorf("%s: %v, want %v", name, ir.Err, want)
		}
		if !strings.Contains(err.Error(), "desired: instance "+name+": ") {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
	if !strings.Contains(byName["broken"].Err.Error(), "500") {
		t.Errorf("broken: %v", byName["broken"].Err)
	}
	for _, s := range []fleetServer{refused, broken, hung} {
		for _, r := range s.srv.Requests() {
			if r.Method != "GET" {
				t.Errorf("sent %s %s to a failed instance", r.Method, r.Path)
			}
		}
	}
	// NewFleetPlan: the same instances fail alone; the plan of the good
	// one is there.
	hung.srv.ClearFaults()
	fp, err := desired.NewFleetPlan(context.Background(), fleet, f, desired.FleetOptions{Parallel: 1})
	if err == nil || fp == nil || len(fp.Instances) != 4 {
		t.Fatalf("%v %v", fp, err)
	}
	for _, ip := range fp.Instances {
		if (ip.Err == nil) != (ip.Instance == "good" || ip.Instance == "hung") || (ip.Plan == nil) == (ip.Err == nil) {
			t.Errorf("%s: %+v", ip.Instance, ip)
		}
	}
	// Its Apply leaves the instances that were not planned alone.
	res, err = fp.Apply(context.Background(), desired.FleetApplyOptions{ApplyOptions: func(string) desired.ApplyOptions { return desired.ApplyOptions{Sink: sink} }})
	if err == nil || len(res.Failed()) != 2 || len(hung.named("svc")) != 1 {
		t.Errorf("%v %v", res, err)
	}
}

// TestExportFleetMerges: one file of three instances, per-instance entries
// where they differ; a plan of it against each changes nothing.
func TestExportFleetMerges(t *testing.T) {
	t.Parallel()
	a, b := newFleetServer(t), newFleetServer(t)
	s := newFleetServer(t, unleashtest.WithSecureTokens())
	ctx := context.Background()
	mk := func(on fleetServer, name string, typ unleashadmin.TokenType, env string, projects ...string) {
		t.Helper()
		if _, err := on.c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{TokenName: name, Type: typ, Environment: env, Projects: projects}); err != nil {
			t.Fatal(err)
		}
	}
	for _, on := range []fleetServer{a, b, s} {
		mk(on, "same", unleashadmin.TokenTypeFrontend, "production")
		mk(on, "backend", unleashadmin.TokenTypeBackend, "development", "default") // listed as client but on s
	}
	mk(a, "some", unleashadmin.TokenTypeClient, "development")
	mk(s, "some", unleashadmin.TokenTypeClient, "development")
	mk(a, "differs", unleashadmin.TokenTypeClient, "development")
	mk(b, "differs", unleashadmin.TokenTypeClient, "production")
	mk(s, "differs", unleashadmin.TokenTypeClient, "development")
	mk(b, "Odd", unleashadmin.TokenTypeClient, "development")
	mk(b, "odd", unleashadmin.TokenTypeClient, "development")
	f, _ := desired.Parse([]byte("instances:\n  a: {url: http://a.example.com, tokenEnv: K}\n  b: {url: http://b.example.com, tokenFile: k, bearer: true}\n" +
		"  s: {url: http://s.example.com, tokenEnv: K}\ntokens: []\n"))
	fleet := desired.Fleet{"a": a.c, "b": b.c, "s": s.c}
	res, err := desired.ExportFleet(ctx, fleet, f, desired.FleetExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.File.Tokens {
		got = append(got, fmt.Sprintf("%s %s %s %v %v", e.Name, e.Type, e.Environment, e.Projects, e.Instances))
	}
	mustEqual(t, "entries", got, []string{
		"backend backend development [default] []",
		"differs client development [] [a s]",
		"differs client production [] [b]",
		"same frontend production [] []",
		"some client development [] [a s]",
	})
	if len(res.File.Instances) != 3 || res.File.Instances[1].TokenFile != "k" || !res.File.Instances[1].Bearer || res.File.Instances[0].Line != 0 {
		t.Errorf("instances %+v", res.File.Instances)
	}
	if lo := res.Instances[1].Result.LeftOut; len(lo) != 2 {
		t.Errorf("b left out %+v", lo)
	}
	// The file, written and read back, plans no change on any instance.
	data, err := yaml.Marshal(res.File)
	if err != nil {
		t.Fatal(err)
	}
	back, err := desired.Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	fp, err := desired.NewFleetPlan(ctx, fleet, back, desired.FleetOptions{})
	if err != nil || !fp.Empty() {
		t.Fatalf("%v %v\n%s", fp, err, data)
	}
	// Some instances only; one that cannot be read leaves no file.
	res, err = desired.ExportFleet(ctx, fleet, f, desired.FleetExportOptions{Instances: []string{"b"}})
	if err != nil || len(res.File.Instances) != 1 || res.File.Tokens[0].Instances != nil {
		t.Fatalf("%+v %v", res, err)
	}
	b.srv.FailNext(1, unleashtest.Fault{Status: 503})
	res, err = desired.ExportFleet(ctx, fleet, f, desired.FleetExportOptions{})
	var ie *desired.InstanceError
	if res == nil || res.File != nil || !errors.As(err, &ie) || ie.Instance != "b" || res.Instances[0].Result == nil {
		t.Fatalf("%+v %v", res, err)
	}
}

// TestSinkEnvHoldsNoKey: an exec sink of an instance gets its name and
// URL, and none of the fleet's keys.
func TestSinkEnvHoldsNoKey(t *testing.T) {
	t.Parallel()
	f, _ := desired.Parse([]byte(fleetFile))
	environ := []string{"PATH=" + os.Getenv("PATH"), "UNLEASH_TOKEN_EU=k1", "UNLEASH_TOKEN_STAGING=k2", "UNLEASH_URL=http://other", "UNLEASH_API_TOKEN=k3", "KEEP=1"}
	env, err := f.SinkEnv("us", environ)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "env", env, []string{"PATH=" + os.Getenv("PATH"), "UNLEASH_API_TOKEN=k3", "KEEP=1", "UNLEASH_INSTANCE=us", "UNLEASH_URL=https://unleash.us.example.com/unleash"})
	if _, err := f.SinkEnv("mars", nil); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("%v", err)
	}
	// The sink's commands get it, less UNLEASH_API_TOKEN.
	dir := t.TempDir()
	sink := desired.ExecSink{Command: `cat > "$OUT/secret"; env > "$OUT/env"`, Env: append(env, "OUT="+dir)}
	if err := sink.Deliver(context.Background(), unleashadmin.APIToken{TokenName: "a", Type: "client", Secret: "*:development." + strings.Repeat("ab", 28)}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"UNLEASH_INSTANCE=us\n", "UNLEASH_URL=https://unleash.us.example.com/unleash\n", "KEEP=1\n", "UNLEASH_TOKEN_NAME=a\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	for _, key := range []string{"k1", "k2", "k3"} {
		if strings.Contains(string(got), "="+key+"\n") {
			t.Errorf("a key reached the command:\n%s", got)
		}
	}
}

// TestFleetPrintsNoSecret: a fleet's plan and result print, log and
// marshal with every secret redacted.
func TestFleetPrintsNoSecret(t *testing.T) {
	t.Parallel()
	a, b := newFleetServer(t), newFleetServer(t)
	ctx := context.Background()
	if _, err := a.c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{TokenName: "dup", Type: "client", Environment: "development"}); err != nil {
		t.Fatal(err)
	}
	f, _ := desired.Parse([]byte("tokens:\n  - {name: new, type: client, environment: development}\n  - {name: dup, type: client, environment: production}\n"))
	fleet := desired.Fleet{"a": a.c, "b": b.c}
	sink := &recorder{}
	fp, err := desired.NewFleetPlan(ctx, fleet, f, desired.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fp.Apply(ctx, desired.FleetApplyOptions{ApplyOptions: func(string) desired.ApplyOptions { return desired.ApplyOptions{Sink: sink} }})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, s := range []fleetServer{a, b} {
		for _, tok := range s.srv.Tokens() {
			secrets = append(secrets, tok.Secret)
		}
	}
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	for _, v := range []any{fp, *fp, res, *res} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(js)
		log.Info("x", "v", v)
	}
	for _, s := range secrets {
		if r := randomPart.FindString(s); r != "" && strings.Contains(out.String(), r) {
			t.Fatalf("a secret printed:\n%s", out.String())
		}
	}
	for _, want := range []string{"a: create new", "b: create new", `{"instances":[{"instance":"a","actions":[{"action":"create"`, `"outcomes":[{"action":"create"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

// TestDocsFleetFile keeps the fleet example of docs/DESIRED.md valid: it
// parses, applies to three stand-ins as the fleet of its instances, and
// the second plan is empty.
func TestDocsFleetFile(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/DESIRED.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## A fleet: one file, many instances\n")
	_, block, ok2 := strings.Cut(section, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no fleet section with a yaml block in docs/DESIRED.md")
	}
	f, err := desired.Parse([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.InstanceNames(), []string{"eu", "us", "staging"}) || f.Instances[1].TokenFile == "" || !f.Instances[2].Bearer {
		t.Fatalf("%+v", f.Instances)
	}
	fleet := desired.Fleet{}
	for _, name := range f.InstanceNames() {
		fleet[name] = newFleetServer(t).c
	}
	ctx := context.Background()
	res, err := desired.ApplyFleet(ctx, fleet, f, desired.FleetOptions{}, desired.FleetApplyOptions{
		ApplyOptions: func(string) desired.ApplyOptions { return desired.ApplyOptions{Sink: &recorder{}} }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ir := range res.Instances {
		got = append(got, ir.Instance+": "+strings.Join(summary(ir.Result.Plan), ", "))
	}
	mustEqual(t, "applied", got, []string{"eu: create checkout, create storefront", "us: create checkout, create storefront", "staging: create storefront"})
	if fp, err := desired.NewFleetPlan(ctx, fleet, f, desired.FleetOptions{}); err != nil || !fp.Empty() {
		t.Fatalf("second plan: %v %v", fp, err)
	}
}
