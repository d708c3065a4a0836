package desired_test

// Saved plans: made, written, read back and applied exactly as they were
// made; refused, changing nothing, when what they relied on changed, and
// refused before anything is sent when the file is not one to apply.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// savedFile is a file whose plan has one action of each kind the rules
// make without a sink to read: a rotate, a keep and a retire of a
// duplicate, a replace, a create, and a prune.
const savedFile = `tokens:
  - {name: rot, type: client, renewBefore: 2h, expiresIn: 30d}
  - {name: dup, type: client}
  - {name: moved, type: client, projects: [a]}
  - {name: new, type: frontend, environment: production}
prune: {namePrefix: svc-}
`

// seedSaved makes the tokens savedFile's plan acts on.
func seedSaved(f *fixture) {
	f.seed("rot", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Second)
	f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("moved", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	f.seed("svc-old", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	f.seed("other", unleashadmin.TokenTypeClient, "development", nil, 0)
}

// savedRoundTrip writes p as a plan file and reads it back.
func savedRoundTrip(t *testing.T, p *desired.Plan) (*desired.SavedPlan, []byte) {
	t.Helper()
	s, err := p.Saved()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	read, err := desired.ReadPlan(data)
	if err != nil {
		t.Fatalf("ReadPlan of what Saved wrote: %v\n%s", err, data)
	}
	return read, data
}

// changeRequests returns the requests after the first n that are not GETs.
func (f *fixture) changeRequests(n int) []string {
	var out []string
	for _, r := range f.srv.Requests()[n:] {
		if r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// TestSavedPlanDoesWhatItPrinted: a plan written, read back and applied
// unchanged carries out exactly its actions, on exactly its tokens, with
// one read of the list; both storage modes, with and without a grace
// period.
func TestSavedPlanDoesWhatItPrinted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		secure bool
		grace  time.Duration
	}{{"default", false, 0}, {"secure", true, 0}, {"default grace", false, time.Hour}, {"secure grace", true, time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []unleashtest.Option
			if tc.secure {
				opts = append(opts, unleashtest.WithSecureTokens())
			}
			f := newFixture(t, opts...)
			seedSaved(f)
			o := f.opts()
			o.GracePeriod = tc.grace
			p := f.plan(f.parse(savedFile), o)
			mustEqual(t, "plan", summary(p), []string{"rotate rot", "keep dup", "retire dup", "replace moved", "create new", "retire svc-old"})
			saved, data := savedRoundTrip(t, p)
			if saved.BaseURL() != f.srv.URL() || !saved.PlannedAt().Equal(p.Now) {
				t.Errorf("BaseURL %q, PlannedAt %v", saved.BaseURL(), saved.PlannedAt())
			}
			var printed struct {
				Actions []struct{ Action, Name, Reason string } `json:"actions"`
			}
			if err := json.Unmarshal(data, &printed); err != nil || len(printed.Actions) != len(p.Actions) {
				t.Fatalf("%v: %s", err, data)
			}
			saved.Now = f.clk.Now
			f.clk.Advance(time.Minute)

			var steps []desired.Step
			sink := &recorder{}
			n := f.srv.RequestCount()
			res, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: sink, Parallel: 1,
				Observer: func(_ context.Context, s desired.Step) { steps = append(steps, s) }})
			if err != nil {
				t.Fatal(err)
			}
			// One list, then the changes: nothing planned again.
			if reqs := f.requestsSince(n); reqs[0] != "GET /api/admin/api-tokens" || strings.Count(strings.Join(reqs, "\n"), "GET /api/admin/api-tokens\n") != 1 {
				t.Errorf("requests: %v", reqs)
			}
			for i, o := range res.Outcomes {
				a, want := o.Action, p.Actions[i]
				if string(a.Kind) != printed.Actions[i].Action || a.Name != printed.Actions[i].Name || a.Reason != printed.Actions[i].Reason {
					t.Errorf("action %d: %v, printed %+v", i, a, printed.Actions[i])
				}
				if (a.Token == nil) != (want.Token == nil) || a.Token != nil && a.Token.Secret != want.Token.Secret {
					t.Errorf("action %d acts on another token than planned: %v", i, a)
				}
				if !o.Done || o.Err != nil {
					t.Errorf("%v", o)
				}
			}
			var retired []string
			for _, s := range steps {
				if s.Kind == desired.StepRetire {
					retired = append(retired, s.Token.Secret)
				}
			}
			var planned []string
			for _, a := range p.Actions {
				// A rotate's or replace's old token is retired unless its
				// expiry is within the grace period already.
				if a.Kind == desired.ActionRetire || a.Makes() && a.Token != nil && (tc.grace == 0 || a.ExpiresAt != nil) {
					planned = append(planned, a.Token.Secret)
				}
			}
			mustEqual(t, "retired", retired, planned)
			if len(sink.got) != 3 {
				t.Errorf("delivered %d tokens, want the rotate's, the replace's and the create's", len(sink.got))
			}
			// The grace runs from the apply, and a new token expires
			// expiresIn after it is made.
			if tc.grace > 0 {
				for _, o := range res.Outcomes {
					if o.Retired && !o.ExpiresAt.Equal(f.clk.Now().Add(tc.grace)) && !o.ExpiresAt.Before(f.clk.Now().Add(tc.grace)) {
						t.Errorf("%v: expires %v", o.Action, o.ExpiresAt)
					}
				}
			}
			if rot := res.Outcomes[0].New; rot == nil || !rot.ExpiresAt.Equal(f.clk.Now().Add(30*day)) {
				t.Errorf("the new rot token: %v", rot)
			}
			// What the file asks for holds: a new plan has nothing to
			// make or retire (with a grace period, the retired tokens
			// wait for their expiry).
			if tc.grace == 0 {
				if again := f.plan(f.parse(savedFile), f.opts()); !again.Empty() {
					t.Errorf("plan after the saved apply: %v", changes(again))
				}
			}
			// Applying it again: what it relied on has changed.
			n = f.srv.RequestCount()
			if _, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: sink}); !errors.Is(err, desired.ErrStalePlan) {
				t.Fatalf("second apply of the same plan: %v", err)
			}
			mustEqual(t, "requests of the stale apply", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
		})
	}
}

// TestStaleSavedPlanChangesNothing: a token of one of its names made
// after the plan, a retired token deleted by hand, a kept token's expiry
// moved, a token of the prune prefix made: the apply refuses with
// ErrStalePlan after its one list request, and sends no change. A token
// of a name the plan does not look at does not matter.
func TestStaleSavedPlanChangesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(f *fixture)
		stale  string
	}{
		{"made", func(f *fixture) { f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0) }, `new or changed: "dup" (client in development for *`},
		{"retired token deleted by hand", func(f *fixture) {
			if err := f.c.DeleteAPIToken(context.Background(), f.named("svc-old")[0].Secret); err != nil {
				f.t.Fatal(err)
			}
		}, `gone or changed (deleted, rotated, or their expiry moved): of "svc-old"`},
		{"kept token's expiry moved", func(f *fixture) {
			if err := f.c.UpdateAPITokenExpiry(context.Background(), f.named("dup")[1].Secret, f.clk.Now().Add(day)); err != nil {
				f.t.Fatal(err)
			}
		}, `of "dup"`},
		{"rotated by hand", func(f *fixture) {
			_, err := f.c.RotateAPIToken(context.Background(), desiredToken(f, "rot"), unleashadmin.RotateOptions{})
			if err != nil {
				f.t.Fatal(err)
			}
		}, `"rot"`},
		{"prune prefix", func(f *fixture) { f.seed("svc-new", unleashadmin.TokenTypeClient, "development", nil, 0) }, `"svc-new"`},
		{"another name", func(f *fixture) { f.seed("unrelated", unleashadmin.TokenTypeClient, "development", nil, 0) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			seedSaved(f)
			saved, _ := savedRoundTrip(t, f.plan(f.parse(savedFile), f.opts()))
			tc.change(f)
			before := f.srv.Tokens()
			n := f.srv.RequestCount()
			res, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: &recorder{}})
			if tc.stale == "" {
				if err != nil || len(res.Outcomes) != 6 {
					t.Fatalf("%v", err)
				}
				return
			}
			if !errors.Is(err, desired.ErrStalePlan) || res != nil || !strings.Contains(err.Error(), tc.stale) ||
				!strings.Contains(err.Error(), "nothing was changed") {
				t.Fatalf("got %v, want the plan stale: %s", err, tc.stale)
			}
			mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
			mustEqual(t, "tokens", f.srv.Tokens(), before)
			// Check says the same, and changes nothing either.
			if _, err := saved.Check(context.Background(), f.c, desired.ApplyOptions{}); !errors.Is(err, desired.ErrStalePlan) {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

// desiredToken is the listed token named name.
func desiredToken(f *fixture, name string) unleashadmin.APIToken {
	toks, err := f.c.GetAPITokensByName(context.Background(), name)
	if err != nil || len(toks) != 1 {
		f.t.Fatalf("%s: %v %v", name, toks, err)
	}
	return toks[0]
}

// TestSavedPlanWithASinkToRead: a plan made reading a directory keeps what
// it holds; applied with the same directory it does what it said, and a
// change of what the directory holds makes it stale. A plan made reading
// a sink is not applied without one to read, nor the other way round.
func TestSavedPlanWithASinkToRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := desired.DirSink{Dir: t.TempDir()}
	older := f.seed("held", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Second)
	f.seed("held", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Hour) // older than the settle time: a leftover
	f.seed("empty", unleashadmin.TokenTypeClient, "development", nil, 0)
	if err := dir.Deliver(context.Background(), token("held", older.Secret)); err != nil {
		t.Fatal(err)
	}
	file := f.parse("tokens: [{name: held, type: client}, {name: empty, type: client}]")
	o := f.opts()
	o.Reader = dir
	p := f.plan(file, o)
	mustEqual(t, "plan", summary(p), []string{"keep held", "retire held", "deliver empty"})
	saved, data := savedRoundTrip(t, p)
	if !bytes.Contains(data, []byte(`"holds": "token"`)) || !bytes.Contains(data, []byte(`"holds": "nothing"`)) {
		t.Fatalf("the plan file does not say what the sink held:\n%s", data)
	}

	withoutReader, _ := savedRoundTrip(t, f.plan(file, f.opts()))
	n := f.srv.RequestCount()
	for _, ao := range []desired.ApplyOptions{{}, {Sink: &recorder{}}} {
		if _, err := saved.Apply(context.Background(), f.c, ao); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("without a sink to read: %v", err)
		}
	}
	if _, err := withoutReader.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: dir}); !errors.Is(err, unleashadmin.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "made without reading the sink") {
		t.Errorf("a plan made without reading, with a sink to read: %v", err)
	}
	if got := f.srv.RequestCount() - n; got != 0 {
		t.Fatalf("the refused applies sent %d requests", got)
	}

	// What the directory holds changes: stale.
	if err := os.WriteFile(filepath.Join(dir.Dir, "empty"), []byte(desiredToken(f, "empty").Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n = f.srv.RequestCount()
	if _, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: dir}); !errors.Is(err, desired.ErrStalePlan) ||
		!strings.Contains(err.Error(), `what the sink holds for "empty" changed: it held no secret`) {
		t.Fatalf("got %v", err)
	}
	mustEqual(t, "changes of the stale apply", f.changeRequests(n), []string(nil))
	if err := os.Remove(filepath.Join(dir.Dir, "empty")); err != nil {
		t.Fatal(err)
	}

	// As it was: the plan is applied as it was made.
	res, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "applied", summaryOf(res), []string{"keep held", "retire held", "deliver empty"})
	if toks := f.named("held"); len(toks) != 1 || toks[0].Secret != older.Secret {
		t.Fatalf("held: the server holds %v", toks)
	}
	if got, ok, _ := dir.Held(context.Background(), token("empty", "")); !ok || got != f.named("empty")[0].Secret {
		t.Fatal("empty was not delivered")
	}
}

func summaryOf(res *desired.Result) []string {
	out := make([]string, len(res.Outcomes))
	for i, o := range res.Outcomes {
		out[i] = string(o.Action.Kind) + " " + o.Action.Name
	}
	return out
}

// TestSavedPlanHoldsNoSecret: the plan file holds no secret's random
// part, no legacy secret (a legacy token's "selector" is its secret), and
// nothing the sink holds; in both storage modes.
func TestSavedPlanHoldsNoSecret(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		var opts []unleashtest.Option
		if secure {
			opts = append(opts, unleashtest.WithSecureTokens())
		}
		f := newFixture(t, opts...)
		seedSaved(f)
		dir := desired.DirSink{Dir: t.TempDir()}
		held := f.seed("held", unleashadmin.TokenTypeClient, "development", nil, 0)
		if err := dir.Deliver(context.Background(), token("held", held.Secret)); err != nil {
			t.Fatal(err)
		}
		file := f.parse(strings.Replace(savedFile, "tokens:\n", "tokens:\n  - {name: held, type: client}\n", 1))
		o := f.opts()
		o.Reader = dir
		p := f.plan(file, o)
		saved, data := savedRoundTrip(t, p)
		var printedForms bytes.Buffer
		fmt.Fprintf(&printedForms, "%v %+v %#v", saved, saved, saved)
		slog.New(slog.NewJSONHandler(&printedForms, nil)).Info("plan", "saved", saved)
		data = append(data, printedForms.Bytes()...)
		var secrets []string
		for _, tok := range f.srv.Tokens() {
			secrets = append(secrets, tok.Secret)
		}
		secrets = append(secrets, f.srv.AdminKey())
		if len(secrets) < 8 {
			t.Fatalf("%d secrets", len(secrets))
		}
		for _, secret := range secrets {
			random := secret[strings.LastIndexByte(secret, '.')+1:]
			if strings.Contains(secret, ".v2_") {
				random = secret[len(secret)-43:]
			}
			if len(random) < 32 {
				t.Fatalf("no random part in a secret of %d bytes", len(secret))
			}
			for i := 0; i+12 <= len(random); i++ {
				if bytes.Contains(bytes.ToLower(data), []byte(strings.ToLower(random[i:i+12]))) {
					t.Fatalf("secure %v: the plan file holds 12 characters of a secret's random part:\n%s", secure, data)
				}
			}
		}
		if m := regexp.MustCompile(`[.][0-9a-f]{20}|_[A-Za-z0-9_-]{43}`).Find(data); m != nil {
			t.Fatalf("the plan file holds what looks like a secret: %s", m)
		}
	}
}

// TestBadPlanFilesSendNothing: a plan file of another instance, changed
// by hand, cut short, of a newer formatVersion, with an unknown key, or
// whose parts do not fit is refused before anything is sent.
func TestBadPlanFilesSendNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	seedSaved(f)
	p := f.plan(f.parse(savedFile), f.opts())
	saved, data := savedRoundTrip(t, p)

	// Another instance, refused as stale, with no request to either.
	other := newFixture(t)
	if _, err := saved.Apply(context.Background(), other.c, desired.ApplyOptions{Sink: &recorder{}}); !errors.Is(err, desired.ErrStalePlan) ||
		!strings.Contains(err.Error(), "it was made for "+f.srv.URL()+", and the client is for "+other.srv.URL()) {
		t.Fatalf("another instance: %v", err)
	}
	if n := other.srv.RequestCount(); n != 0 {
		t.Fatalf("the other instance got %d requests", n)
	}

	// reseal writes the checksum of an edited document as docs/JSON.md
	// says it is computed: a consistent edit passes it, and only the
	// plan's own checks remain.
	reseal := func(doc map[string]any) []byte {
		delete(doc, "checksum")
		body, _ := json.Marshal(doc)
		doc["checksum"] = checksumOf(t, body)
		out, _ := json.Marshal(doc)
		return out
	}
	edit := func(change func(doc map[string]any)) []byte {
		out, _ := json.Marshal(edit2(data, change))
		return out
	}
	firstAction := func(doc map[string]any) map[string]any { return doc["actions"].([]any)[0].(map[string]any) }
	// The resealed file, unchanged, reads: the checksum is what docs say.
	if _, err := desired.ReadPlan(reseal(edit2(data, func(map[string]any) {}))); err != nil {
		t.Fatalf("the documented checksum: %v", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"edited", edit(func(doc map[string]any) { firstAction(doc)["action"] = "keep" }), "the checksum does not match the content"},
		{"edited reason", bytes.Replace(data, []byte(`"expires within`), []byte(`"expires  within`), 1), "the checksum does not match"},
		{"cut short", data[:len(data)/2], "not a JSON object: cut short"},
		{"cut at the end", bytes.TrimSpace(data)[:len(bytes.TrimSpace(data))-1], "not a JSON object"},
		{"empty", nil, "not a JSON object"},
		{"not an object", []byte(`[1]`), "not a JSON object"},
		{"two values", append(append([]byte{}, data...), data...), "not a JSON object"},
		{"newer", edit(func(doc map[string]any) { doc["formatVersion"] = 2 }), "formatVersion 2 is newer than this version reads (1)"},
		{"no version", edit(func(doc map[string]any) { delete(doc, "formatVersion") }), "no formatVersion"},
		{"version text", edit(func(doc map[string]any) { doc["formatVersion"] = "1" }), "no formatVersion"},
		{"unknown key", reseal(edit2(data, func(doc map[string]any) { doc["extra"] = true })), "an unknown key"},
		{"unknown token", reseal(edit2(data, func(doc map[string]any) { firstAction(doc)["fingerprint"] = strings.Repeat("0", 32) })),
			"actions[0]: a token the plan did not see"},
		{"an action of no entry", reseal(edit2(data, func(doc map[string]any) { firstAction(doc)["name"] = "nobody" })), "actions[0]: "},
		{"a retire first", reseal(edit2(data, func(doc map[string]any) { firstAction(doc)["action"] = "retire" })),
			"an entry's first action cannot be retire"},
		{"no base URL", reseal(edit2(data, func(doc map[string]any) { doc["baseURL"] = "" })), "baseURL is empty"},
		{"bad file", reseal(edit2(data, func(doc map[string]any) { doc["file"] = map[string]any{"tokens": "x"} })), "file is not a desired-state file"},
		{"too large", append(bytes.Repeat([]byte(" "), desired.MaxPlanBytes), data...), "larger than"},
	} {
		n := f.srv.RequestCount()
		s, err := desired.ReadPlan(tc.data)
		if !errors.Is(err, desired.ErrInvalidPlanFile) || !errors.Is(err, unleashadmin.ErrInvalidArgument) || s != nil ||
			!strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "desired: plan file: ") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
		if got := f.srv.RequestCount() - n; got != 0 {
			t.Errorf("%s: %d requests", tc.name, got)
		}
		var sp desired.SavedPlan
		if err := json.Unmarshal(tc.data, &sp); err == nil && tc.name != "too large" {
			t.Errorf("%s: json.Unmarshal took it", tc.name)
		}
	}

	// A plan that retires a token the client protects (an admin token,
	// as a hand edit with a new checksum could make it) is stale.
	p = f.plan(f.parse("tokens: []\nprune: {namePrefix: adm}\n"), f.opts())
	mustEqual(t, "plan", summary(p), []string{"keep admin"})
	_, data = savedRoundTrip(t, p)
	retireAdmin := reseal(edit2(data, func(doc map[string]any) {
		firstAction(doc)["action"], firstAction(doc)["protection"] = "retire", nil
	}))
	saved, err := desired.ReadPlan(retireAdmin)
	if err != nil {
		t.Fatal(err)
	}
	n := f.srv.RequestCount()
	if _, err := saved.Apply(context.Background(), f.c, desired.ApplyOptions{}); !errors.Is(err, desired.ErrStalePlan) ||
		!strings.Contains(err.Error(), "it retires *:*.unle***, which is the key in use: never retired") {
		t.Fatalf("a plan retiring an admin token: %v", err)
	}
	mustEqual(t, "changes", f.changeRequests(n), []string(nil))
}

// edit2 decodes data, changes it and returns the document.
func edit2(data []byte, change func(doc map[string]any)) map[string]any {
	var doc map[string]any
	_ = json.Unmarshal(data, &doc)
	change(doc)
	return doc
}

// checksumOf is a plan document's checksum the way docs/JSON.md says:
// the SHA-256 of its compact JSON without "checksum", keys sorted.
func checksumOf(t *testing.T, body []byte) string {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	delete(v, "checksum")
	canonical, _ := json.Marshal(v)
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestSavedPlanReadsBackReformatted: a plan file indented otherwise, or
// compacted (as jq does), is the same plan.
func TestSavedPlanReadsBackReformatted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	seedSaved(f)
	_, data := savedRoundTrip(t, f.plan(f.parse(savedFile), f.opts()))
	var compact, wide bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&wide, compact.Bytes(), "", "\t\t"); err != nil {
		t.Fatal(err)
	}
	for _, d := range [][]byte{compact.Bytes(), wide.Bytes()} {
		s, err := desired.ReadPlan(d)
		if err != nil {
			t.Fatal(err)
		}
		again, err := json.MarshalIndent(s, "", "  ")
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("%v: written again:\n%s\nwant\n%s", err, again, data)
		}
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, data[:len(data)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := desired.LoadPlan(path); !errors.Is(err, desired.ErrInvalidPlanFile) || !strings.HasPrefix(err.Error(), "desired: plan file "+path+": ") {
		t.Fatalf("LoadPlan: %v", err)
	}
}
