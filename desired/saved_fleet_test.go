package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// savedFleet is a fleet of four stand-ins (one in secure token storage,
// one 6.x, one that answers 500 when planned) and its file.
type savedFleet struct {
	servers map[string]fleetServer
	fleet   desired.Fleet
	file    *desired.File
	sinks   map[string]desired.DirSink
}

var savedFleetNames = []string{"a", "b", "c", "d"}

func newSavedFleet(t *testing.T) *savedFleet {
	t.Helper()
	sf := &savedFleet{servers: map[string]fleetServer{
		"a": newFleetServer(t),
		"b": newFleetServer(t, unleashtest.WithSecureTokens()),
		"c": newFleetServer(t, unleashtest.WithVersion("6.10.1"), unleashtest.WithEnvironments("default", "development", "production")),
		"d": newFleetServer(t),
	}, fleet: desired.Fleet{}, sinks: map[string]desired.DirSink{}}
	text := "instances:\n"
	dir := t.TempDir()
	for _, name := range savedFleetNames {
		s := sf.servers[name]
		sf.fleet[name] = s.c
		sf.sinks[name] = desired.DirSink{Dir: dir + "/" + name}
		text += fmt.Sprintf("  %s: {url: %s, tokenEnv: KEY_%s}\n", name, s.srv.URL(), strings.ToUpper(name))
	}
	text += `tokens:
  - {name: svc, type: client, environment: development}
  - {name: web, type: frontend, environment: development, instances: [a, c]}
`
	f, err := desired.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sf.file = f
	return sf
}

func (sf *savedFleet) applyOptions() desired.FleetApplyOptions {
	return desired.FleetApplyOptions{ApplyOptions: func(name string) desired.ApplyOptions {
		return desired.ApplyOptions{Sink: sf.sinks[name]}
	}}
}

// plan plans the fleet, each instance by what its sink holds, with d
// failing, and returns the plan file.
func (sf *savedFleet) plan(t *testing.T) ([]byte, *desired.FleetPlan) {
	t.Helper()
	sf.servers["d"].srv.FailNext(1, unleashtest.Fault{Status: 500, Body: []byte(`{"name":"UnknownError","message":"db down"}`)})
	fp, err := desired.NewFleetPlan(context.Background(), sf.fleet, sf.file, desired.FleetOptions{
		Options: func(name string) desired.Options { return desired.Options{Reader: sf.sinks[name]} }})
	if fp == nil || err == nil || !strings.Contains(err.Error(), "instance d") {
		t.Fatalf("the plan: %v", err)
	}
	saved, err := fp.Saved()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	return data, fp
}

// secretsAndKeys are every secret's random part and every key of the
// fleet's stand-ins.
func (sf *savedFleet) secretsAndKeys() []string {
	var out []string
	for _, s := range sf.servers {
		out = append(out, s.srv.AdminKey())
		for _, tok := range s.srv.Tokens() {
			out = append(out, randomOfSecret(tok.Secret))
		}
	}
	return out
}

// TestSavedFleetPlanAppliedAsPrinted: a fleet's plan, saved and read
// back, does on every instance exactly what it planned there; the one
// that could not be planned is skipped, nothing sent to it. The file holds
// no secret and no key; a second apply of it is stale everywhere.
func TestSavedFleetPlanAppliedAsPrinted(t *testing.T) {
	t.Parallel()
	sf := newSavedFleet(t)
	ctx := context.Background()
	// A token of svc on a before the plan, and one of another name.
	a := sf.servers["a"].c
	for _, name := range []string{"svc", "svc", "other"} {
		if _, err := a.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name, Environment: "development"}); err != nil {
			t.Fatal(err)
		}
	}
	data, fp := sf.plan(t)
	for _, s := range sf.secretsAndKeys() {
		if strings.Contains(string(data), s) {
			t.Fatalf("the plan file holds a secret or key: %s", data)
		}
	}
	var printed map[string][]string
	for _, ip := range fp.Instances {
		if ip.Plan != nil {
			if printed == nil {
				printed = map[string][]string{}
			}
			printed[ip.Instance] = summary(ip.Plan)
		}
	}
	mustEqual(t, "plans", printed, map[string][]string{
		"a": {"deliver svc", "retire svc", "create web"},
		"b": {"create svc"},
		"c": {"create svc", "create web"},
	})
	saved, err := desired.ReadFleetPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "instances", saved.Instances(), savedFleetNames)
	if _, err := saved.Plan("d"); !errors.Is(err, desired.ErrInstanceNotPlanned) || !strings.Contains(err.Error(), "db down") {
		t.Errorf("d: %v", err)
	}
	before := map[string]int{}
	for name, s := range sf.servers {
		before[name] = s.srv.RequestCount()
	}
	res, err := saved.Apply(ctx, sf.fleet, nil, sf.applyOptions())
	if !errors.Is(err, desired.ErrInstanceNotPlanned) || errors.Is(err, desired.ErrStalePlan) {
		t.Fatalf("apply: %v", err)
	}
	for _, ir := range res.Instances {
		if ir.Instance == "d" {
			if ir.Result != nil || !errors.Is(ir.Err, desired.ErrInstanceNotPlanned) {
				t.Errorf("d: %v %v", ir.Result, ir.Err)
			}
			continue
		}
		if ir.Err != nil {
			t.Fatalf("%s: %v", ir.Instance, ir.Err)
		}
		mustEqual(t, ir.Instance+" did", summaryOf(ir.Result), printed[ir.Instance])
	}
	if n := sf.servers["d"].srv.RequestCount(); n != before["d"] {
		t.Errorf("d was sent %d requests", n-before["d"])
	}
	for name, want := range map[string]int{"a": 1, "b": 1, "c": 1, "d": 0} {
		if got := len(sf.servers[name].named("svc")); got != want {
			t.Errorf("%s: %d tokens of svc", name, got)
		}
		if secret, ok, err := sf.sinks[name].Held(ctx, token("svc", "")); name != "d" && (err != nil || !ok || secret == "") {
			t.Errorf("%s: svc not delivered: %v", name, err)
		}
	}
	if len(sf.servers["b"].named("web")) != 0 || len(sf.servers["a"].named("other")) != 1 {
		t.Error("web on b, or other retired on a")
	}
	// The same plan again: every planned instance changed since.
	res, err = saved.Apply(ctx, sf.fleet, []string{"c", "b"}, sf.applyOptions())
	if len(res.Instances) != 2 || res.Instances[0].Instance != "b" || !errors.Is(err, desired.ErrStalePlan) {
		t.Fatalf("%v %v", res, err)
	}
	for _, ir := range res.Instances {
		if ir.Result != nil || !errors.Is(ir.Err, desired.ErrStalePlan) {
			t.Errorf("%s: %v", ir.Instance, ir.Err)
		}
	}
}

// TestSavedFleetPlanStaleAlone: a token of one of the plan's names made on
// one instance after the plan makes that instance refuse, nothing changed
// there; the others are applied; --instance narrows the apply.
func TestSavedFleetPlanStaleAlone(t *testing.T) {
	t.Parallel()
	sf := newSavedFleet(t)
	ctx := context.Background()
	data, _ := sf.plan(t)
	saved, err := desired.ReadFleetPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	b := sf.servers["b"]
	if _, err := b.c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "svc", Environment: "production"}); err != nil {
		t.Fatal(err)
	}
	n := b.srv.RequestCount()
	// Check sees it, and changes nothing.
	checked, err := saved.Check(ctx, sf.fleet, []string{"a", "b"}, sf.applyOptions())
	if !errors.Is(err, desired.ErrStalePlan) || len(checked.Instances) != 2 || checked.Instances[0].Plan == nil || checked.Instances[1].Plan != nil {
		t.Fatalf("check: %v %v", checked, err)
	}
	res, err := saved.Apply(ctx, sf.fleet, []string{"a", "b", "c"}, sf.applyOptions())
	if !errors.Is(err, desired.ErrStalePlan) || errors.Is(err, desired.ErrInstanceNotPlanned) {
		t.Fatalf("%v", err)
	}
	var ie *desired.InstanceError
	for _, ir := range res.Instances {
		switch ir.Instance {
		case "b":
			if ir.Result != nil || !errors.As(ir.Err, &ie) || ie.Instance != "b" || !errors.Is(ir.Err, desired.ErrStalePlan) ||
				!strings.Contains(ir.Err.Error(), "token(s) of its names are new or changed") {
				t.Errorf("b: %v", ir.Err)
			}
		default:
			if ir.Err != nil || len(ir.Result.Outcomes) == 0 {
				t.Errorf("%s: %v", ir.Instance, ir.Err)
			}
		}
	}
	for _, r := range b.srv.Requests()[n:] {
		if r.Method != "GET" {
			t.Errorf("b was sent %s %s", r.Method, r.Path)
		}
	}
	if got := b.named("svc"); len(got) != 1 || got[0] != "client production *" {
		t.Errorf("b: %v", got)
	}
	if len(sf.servers["a"].named("svc")) != 1 || len(sf.servers["c"].named("web")) != 1 {
		t.Error("a or c not applied")
	}
	// Mistakes send nothing.
	total := 0
	for _, s := range sf.servers {
		total += s.srv.RequestCount()
	}
	for what, names := range map[string][]string{"unknown": {"x"}, "twice": {"a", "a"}, "empty": {}} {
		if _, err := saved.Apply(ctx, sf.fleet, names, sf.applyOptions()); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%s: %v", what, err)
		}
	}
	if _, err := saved.Apply(ctx, desired.Fleet{"a": sf.fleet["a"]}, nil, sf.applyOptions()); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("no client: %v", err)
	}
	for _, s := range sf.servers {
		total -= s.srv.RequestCount()
	}
	if total != 0 {
		t.Errorf("mistakes sent %d requests", -total)
	}
}

// TestSavedFleetPlanEditedRefused: a fleet's plan file changed by hand
// (even with the checksum made again, where the change does not fit the
// file) is refused by ReadFleetPlan, before anything is sent; a plan of
// one instance and one of a fleet are not read for each other.
func TestSavedFleetPlanEditedRefused(t *testing.T) {
	t.Parallel()
	sf := newSavedFleet(t)
	data, fp := sf.plan(t)
	n := 0
	for _, s := range sf.servers {
		n += s.srv.RequestCount()
	}
	edited := strings.Replace(string(data), `"create"`, `"keep"`, 1)
	if edited == string(data) {
		t.Fatal("no create to edit")
	}
	for what, text := range map[string]string{
		"an action edited": edited,
		"cut short":        string(data[:len(data)/2]),
		"newer":            strings.Replace(string(data), `"formatVersion":1`, `"formatVersion":2`, 1),
	} {
		if _, err := desired.ReadFleetPlan([]byte(text)); !errors.Is(err, desired.ErrInvalidPlanFile) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%s: %v", what, err)
		}
	}
	// Checksummed again, but not fitting the file: an instance's URL,
	// and a failed instance given actions.
	resum := func(edit func(secs []any)) []byte {
		var d map[string]any
		_ = json.Unmarshal(data, &d)
		edit(d["instances"].([]any))
		delete(d, "checksum")
		body, _ := json.Marshal(d)
		d["checksum"] = checksumOf(t, body)
		out, _ := json.Marshal(d)
		return out
	}
	for what, text := range map[string][]byte{
		"another URL":         resum(func(secs []any) { secs[0].(map[string]any)["baseURL"] = "http://elsewhere.example.com" }),
		"failed with actions": resum(func(secs []any) { secs[3].(map[string]any)["actions"] = []any{} }),
		"out of order":        resum(func(secs []any) { secs[0], secs[1] = secs[1], secs[0] }),
		"an unknown instance": resum(func(secs []any) { secs[0].(map[string]any)["instance"] = "mars" }),
		"a section's bad seen": resum(func(secs []any) {
			secs[1].(map[string]any)["tokensSeen"] = []any{map[string]any{"name": "x", "fingerprint": "y"}}
		}),
	} {
		if _, err := desired.ReadFleetPlan(text); !errors.Is(err, desired.ErrInvalidPlanFile) {
			t.Errorf("%s: %v", what, err)
		}
	}
	// The checksummed copy with nothing changed reads.
	if _, err := desired.ReadFleetPlan(resum(func([]any) {})); err != nil {
		t.Errorf("resummed: %v", err)
	}
	if _, err := desired.ReadPlan(data); !errors.Is(err, desired.ErrInvalidPlanFile) || !strings.Contains(err.Error(), "ReadFleetPlan") {
		t.Errorf("ReadPlan of a fleet's: %v", err)
	}
	one, err := fp.Instances[0].Plan.Saved()
	if err != nil {
		t.Fatal(err)
	}
	single, _ := json.Marshal(one)
	if _, err := desired.ReadFleetPlan(single); !errors.Is(err, desired.ErrInvalidPlanFile) || !strings.Contains(err.Error(), "ReadPlan") {
		t.Errorf("ReadFleetPlan of one instance's: %v", err)
	}
	if !desired.IsFleetPlan(data) || desired.IsFleetPlan(single) {
		t.Error("IsFleetPlan")
	}
	for _, s := range sf.servers {
		n -= s.srv.RequestCount()
	}
	if n != 0 {
		t.Errorf("reading sent %d requests", -n)
	}
}

// randomOfSecret is what of a secret must never be shown: the part after
// a v2 secret's selector (which base64url may fill with '_' and '-'), or
// after a legacy secret's last '.'.
func randomOfSecret(secret string) string {
	if _, ok := unleashadmin.Selector(secret); ok {
		return secret[len(secret)-43:]
	}
	return secret[strings.LastIndexByte(secret, '.')+1:]
}
