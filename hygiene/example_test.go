package hygiene_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// exampleSecret is a made-up secret for the examples that print values.
const exampleSecret = "default:production.d17f0a6c2b3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"

var exampleToken = unleashadmin.APIToken{
	Secret: exampleSecret, TokenName: "checkout", Type: unleashadmin.TokenTypeClient, Environment: "production",
	Project: "default", Projects: []string{"default"}, CreatedAt: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC),
}

// exampleServer starts a stand-in whose clock stands still at t, and a
// client for it.
func exampleServer(t time.Time) (*unleashtest.Server, *unleashadmin.Client, func(time.Time)) {
	clk := newClock(t)
	srv := unleashtest.NewServer(unleashtest.WithClock(clk.Now))
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		log.Fatal(err)
	}
	return srv, c, clk.Set
}

func ExampleAudit() {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, c, setClock := exampleServer(start)
	defer srv.Close()
	ctx := context.Background()
	_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
		Type: "client", TokenName: "checkout", Projects: []string{"default"},
		ExpiresAt: unleashadmin.Ptr(start.Add(20 * 24 * time.Hour)),
	})
	_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "web"})

	// A week later. (The stand-in never records a use, so every token is
	// never seen, the admin key included.)
	setClock(start.Add(7 * 24 * time.Hour))
	r, err := hygiene.Audit(ctx, c, hygiene.AuditOptions{Now: func() time.Time { return start.Add(7 * 24 * time.Hour) }})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Tokens, "tokens")
	for _, f := range r.Findings {
		fmt.Printf("%-12s %-8s %s\n", f.Kind, f.Token.TokenName, f.Reason)
	}
	// Output:
	// 3 tokens
	// never-seen   admin    never seen; created 2030-01-01T00:00:00Z, over 1d ago
	// never-seen   checkout never seen; created 2030-01-01T00:00:00Z, over 1d ago
	// never-seen   web      never seen; created 2030-01-01T00:00:00Z, over 1d ago
	// expiring     checkout expires 2030-01-21T00:00:00Z, within 14d
	// all-projects web      grants access to all projects
}

func ExamplePrune() {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, c, setClock := exampleServer(start)
	defer srv.Close()
	ctx := context.Background()
	for _, name := range []string{"ci-1", "ci-2", "checkout"} {
		_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
			Type: "client", TokenName: name, ExpiresAt: unleashadmin.Ptr(start.Add(time.Hour)),
		})
	}
	later := start.Add(2 * time.Hour)
	setClock(later)

	// c knows its key: Prune never retires that token, nor any admin
	// token unless IncludeAdmin is set.
	opts := hygiene.PruneOptions{
		Expired:    true,
		NamePrefix: "ci-",
		Now:        func() time.Time { return later },
	}
	dry, _ := hygiene.Prune(ctx, c, opts) // a dry run: nothing is deleted
	for _, r := range dry.Results {
		fmt.Println(r.Status, r.Token.TokenName)
	}

	opts.Apply = true
	done, err := hygiene.Prune(ctx, c, opts)
	if err != nil {
		log.Fatal(err) // errors.Is(err, hygiene.ErrPruneIncomplete): see done.Results
	}
	for _, r := range done.Results {
		fmt.Println(r.Status, r.Token.TokenName)
	}
	fmt.Println(len(srv.Tokens()), "tokens left")
	// Output:
	// would-retire ci-1
	// would-retire ci-2
	// retired ci-1
	// retired ci-2
	// 2 tokens left
}

func ExampleCheck() {
	srv, c, _ := exampleServer(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	defer srv.Close()
	tok, _ := c.CreateAPIToken(context.Background(), unleashadmin.CreateAPITokenRequest{
		Type: "client", TokenName: "checkout", Environment: "production", Projects: []string{"default"},
	})

	// Checking needs no API key.
	kc, err := unleashadmin.NewClientWithoutKey(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	r, err := hygiene.Check(context.Background(), kc, []string{tok.Secret, exampleSecret})
	if err != nil {
		log.Fatal(err)
	}
	for _, res := range r.Results {
		if !res.Live {
			fmt.Println(unleashadmin.RedactSecret(res.Secret), "not live")
			continue
		}
		fmt.Println(res.Live, res.Type, res.Environment, res.Projects)
	}
	fmt.Println("all live:", r.AllLive())
	// Output:
	// true client production [default]
	// default:production.d17f*** not live
	// all live: false
}

func ExampleKinds() {
	for _, k := range hygiene.Kinds() {
		fmt.Print(k, " ")
	}
	fmt.Println()
	// Output: never-seen unused expired expiring duplicate all-projects stalled-rotation
}

func ExampleParseKind() {
	k, err := hygiene.ParseKind("Never-Seen")
	fmt.Println(k, err)
	_, err = hygiene.ParseKind("stale")
	fmt.Println(err)
	// Output:
	// never-seen <nil>
	// hygiene: invalid argument: unknown finding kind "stale" (known: never-seen, unused, expired, expiring, duplicate, all-projects, stalled-rotation)
}

func ExampleReadSecrets() {
	in := strings.NewReader(exampleSecret + "\n\n  " + exampleSecret + "  \n")
	secrets, err := hygiene.ReadSecrets(in)
	fmt.Println(len(secrets), err)
	_, err = hygiene.ReadSecrets(strings.NewReader("one\ntwo words\n"))
	fmt.Println(err)
	// Output:
	// 2 <nil>
	// hygiene: invalid argument: line 2 holds a space or a control character
}

func ExampleReadSecretDir() {
	dir, _ := os.MkdirTemp("", "secrets")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "checkout"), []byte(exampleSecret+"\n"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, ".keep"), nil, 0o600) // left out

	files, err := hygiene.ReadSecretDir(dir)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Name, unleashadmin.RedactSecret(f.Secret))
	}
	// Output: checkout default:production.d17f***
}

func exampleReport() hygiene.Report {
	return hygiene.Report{
		At: time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC), Tokens: 1700, Counted: 1700, Limit: 2000,
		Findings: []hygiene.Finding{{Kind: hygiene.FindingUnused, Token: exampleToken, Reason: "last seen 2030-01-02T00:00:00Z, over 30d ago"}},
	}
}

func ExampleReport_NearLimit() {
	r := exampleReport()
	fmt.Println(r.Counted, r.Limit, r.NearLimit())
	r.Counted = 1599
	fmt.Println(r.Counted, r.Limit, r.NearLimit())
	// Output:
	// 1700 2000 true
	// 1599 2000 false
}

func ExampleReport_Of() {
	r := exampleReport()
	fmt.Println(len(r.Of(hygiene.FindingUnused)), len(r.Of(hygiene.FindingExpired)))
	// Output: 1 0
}

func ExampleReport_Has() {
	r := exampleReport()
	fmt.Println(r.Has(hygiene.FindingExpired, hygiene.FindingUnused), r.Has(hygiene.FindingDuplicate))
	// Output: true false
}

func ExampleReport_Format() {
	fmt.Printf("%v\n", exampleReport())
	// Output: {At:2030-03-01T00:00:00Z Tokens:1700 Counted:1700 Limit:2000 Findings:[{Kind:unused Token:{TokenName:"checkout" Type:client Environment:production Project:default Projects:[default] Secret:default:production.d17f*** CreatedAt:2030-01-02T00:00:00Z Secure:false} Reason:"last seen 2030-01-02T00:00:00Z, over 30d ago"}]}
}

// noTime drops the time attribute, so that the examples' log lines stay
// the same.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func ExampleReport_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("audit", "report", exampleReport())
	// Output: level=INFO msg=audit report.tokens=1700 report.counted=1700 report.limit=2000 report.nearLimit=true report.unused=1
}

func ExampleReport_MarshalJSON() {
	b, _ := json.Marshal(exampleReport())
	fmt.Println(string(b))
	// Output: {"tokens":1700,"counted":1700,"limit":2000,"nearLimit":true,"findings":[{"kind":"unused","name":"checkout","secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"createdAt":"2030-01-02T00:00:00Z","expiresAt":null,"seenAt":null,"reason":"last seen 2030-01-02T00:00:00Z, over 30d ago"}]}
}

func ExampleFinding_Format() {
	f := hygiene.Finding{Kind: hygiene.FindingAllProjects, Token: exampleToken, Reason: "grants access to all projects"}
	fmt.Printf("%+v\n", f)
	// Output: {Kind:all-projects Token:{TokenName:"checkout" Type:client Environment:production Project:default Projects:[default] Secret:default:production.d17f*** CreatedAt:2030-01-02T00:00:00Z Secure:false} Reason:"grants access to all projects"}
}

func ExampleFinding_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	f := hygiene.Finding{Kind: hygiene.FindingExpired, Token: exampleToken, Reason: "expired 2030-02-01T00:00:00Z"}
	logger.Info("finding", "f", f)
	// Output: level=INFO msg=finding f.kind=expired f.token.tokenName=checkout f.token.type=client f.token.environment=production f.token.project=default f.token.projects=[default] f.token.secret=default:production.d17f*** f.reason="expired 2030-02-01T00:00:00Z"
}

func ExampleFinding_MarshalJSON() {
	f := hygiene.Finding{Kind: hygiene.FindingExpired, Token: exampleToken, Reason: "expired 2030-02-01T00:00:00Z"}
	b, _ := json.Marshal(f)
	fmt.Println(string(b))
	// Output: {"kind":"expired","name":"checkout","secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"createdAt":"2030-01-02T00:00:00Z","expiresAt":null,"seenAt":null,"reason":"expired 2030-02-01T00:00:00Z"}
}

func examplePruneReport() hygiene.PruneReport {
	return hygiene.PruneReport{Results: []hygiene.PruneResult{
		{Token: exampleToken, Kinds: []hygiene.FindingKind{hygiene.FindingExpired}, Status: hygiene.StatusRetired, Reason: "expired 2030-02-01T00:00:00Z"},
		{Token: exampleToken, Kinds: []hygiene.FindingKind{hygiene.FindingNeverSeen}, Status: hygiene.StatusFailed,
			Reason: "never seen; created 2030-01-02T00:00:00Z, over 1d ago", Err: fmt.Errorf("connection refused")},
	}}
}

func ExamplePruneReport_Count() {
	r := examplePruneReport()
	fmt.Println(r.Count(hygiene.StatusRetired), r.Count(hygiene.StatusFailed), r.Count(hygiene.StatusSkipped))
	// Output: 1 1 0
}

func ExamplePruneReport_Format() {
	r := examplePruneReport()
	r.Results = r.Results[:1]
	fmt.Printf("%v\n", r)
	// Output: {DryRun:false Results:[{Token:{TokenName:"checkout" Type:client Environment:production Project:default Projects:[default] Secret:default:production.d17f*** CreatedAt:2030-01-02T00:00:00Z Secure:false} Kinds:[expired] Status:retired Reason:"expired 2030-02-01T00:00:00Z"}]}
}

func ExamplePruneReport_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("prune", "report", examplePruneReport())
	// Output: level=INFO msg=prune report.dryRun=false report.retired=1 report.failed=1 report.skipped=0 report.protected=0 report.wouldRetire=0
}

func ExamplePruneReport_MarshalJSON() {
	r := examplePruneReport()
	r.Results = r.Results[1:]
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	// Output: {"dryRun":false,"retired":0,"failed":1,"skipped":0,"protected":0,"wouldRetire":0,"results":[{"name":"checkout","secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"kinds":["never-seen"],"status":"failed","outcome":"failed","reason":"never seen; created 2030-01-02T00:00:00Z, over 1d ago","error":"connection refused"}]}
}

func ExamplePruneResult_Format() {
	res := examplePruneReport().Results[1]
	fmt.Printf("%v\n", res)
	// Output: {Token:{TokenName:"checkout" Type:client Environment:production Project:default Projects:[default] Secret:default:production.d17f*** CreatedAt:2030-01-02T00:00:00Z Secure:false} Kinds:[never-seen] Status:failed Reason:"never seen; created 2030-01-02T00:00:00Z, over 1d ago" Err:"connection refused"}
}

func ExamplePruneResult_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	res := examplePruneReport().Results[0]
	logger.Info("retired", "r", res)
	// Output: level=INFO msg=retired r.token.tokenName=checkout r.token.type=client r.token.environment=production r.token.project=default r.token.projects=[default] r.token.secret=default:production.d17f*** r.kinds=[expired] r.status=retired r.reason="expired 2030-02-01T00:00:00Z"
}

func ExamplePruneResult_MarshalJSON() {
	b, _ := json.Marshal(examplePruneReport().Results[0])
	fmt.Println(string(b))
	// Output: {"name":"checkout","secret":"default:production.d17f***","type":"client","environment":"production","projects":["default"],"kinds":["expired"],"status":"retired","outcome":"retired","reason":"expired 2030-02-01T00:00:00Z"}
}

func exampleCheckReport() hygiene.CheckReport {
	return hygiene.CheckReport{Results: []unleashadmin.TokenCheck{
		{Secret: exampleSecret, Live: true, Type: "client", Environment: "production", Projects: []string{"default"}},
		{Secret: "garbage"},
	}}
}

func ExampleCheckReport_AllLive() {
	r := exampleCheckReport()
	fmt.Println(r.AllLive())
	r.Results = r.Results[:1]
	fmt.Println(r.AllLive())
	// Output:
	// false
	// true
}

func ExampleCheckReport_NotLive() {
	for _, c := range exampleCheckReport().NotLive() {
		fmt.Println(unleashadmin.RedactSecret(c.Secret), c.Live)
	}
	// Output: *** false
}

func ExampleCheckReport_Format() {
	fmt.Printf("%v\n", exampleCheckReport())
	// Output: {Results:[{Secret:default:production.d17f*** Live:true Type:client Environment:production Projects:[default]} {Secret:*** Live:false Type: Environment: Projects:[]}]}
}

func ExampleCheckReport_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("check", "report", exampleCheckReport())
	// Output: level=INFO msg=check report.checked=2 report.live=1
}

func ExampleCheckReport_MarshalJSON() {
	b, _ := json.Marshal(exampleCheckReport())
	fmt.Println(string(b))
	// Output: {"results":[{"secret":"default:production.d17f***","live":true,"type":"client","environment":"production","projects":["default"]},{"secret":"***","live":false,"type":null,"environment":null,"projects":null}]}
}

func ExampleSecretFile_Format() {
	fmt.Printf("%v\n", hygiene.SecretFile{Name: "checkout", Secret: exampleSecret})
	// Output: {Name:"checkout" Secret:default:production.d17f***}
}

func ExampleSecretFile_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("read", "file", hygiene.SecretFile{Name: "checkout", Secret: exampleSecret})
	// Output: level=INFO msg=read file.name=checkout file.secret=default:production.d17f***
}

func ExampleSecretFile_MarshalJSON() {
	b, _ := json.Marshal(hygiene.SecretFile{Name: "checkout", Secret: exampleSecret})
	fmt.Println(string(b))
	// Output: {"name":"checkout","secret":"default:production.d17f***"}
}

func ExamplePruneOptions_Format() {
	opts := hygiene.PruneOptions{Key: unleashtest.DefaultAdminKey, Expired: true, UnusedFor: 90 * 24 * time.Hour}
	fmt.Printf("%v\n", opts)
	// Output: {Key:*:*.unle*** Expired:true UnusedFor:2160h0m0s NeverSeen:false NamePrefix:"" IncludeAdmin:false Apply:false Parallel:0}
}

func ExamplePruneOptions_LogValue() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}))
	logger.Info("prune", "opts", hygiene.PruneOptions{Key: unleashtest.DefaultAdminKey, NeverSeen: true, Apply: true})
	// Output: level=INFO msg=prune opts.key=*:*.unle*** opts.expired=false opts.unusedFor=0s opts.neverSeen=true opts.namePrefix="" opts.includeAdmin=false opts.apply=true opts.parallel=0
}

func ExamplePruneOptions_MarshalJSON() {
	opts := hygiene.PruneOptions{Expired: true, UnusedFor: 90 * 24 * time.Hour, NamePrefix: "ci-"}
	b, _ := json.Marshal(opts) // a job's configuration, kept as a file
	fmt.Println(string(b))

	var back hygiene.PruneOptions
	_ = json.Unmarshal([]byte(`{"neverSeen":true,"unusedFor":"60d"}`), &back)
	fmt.Println(back.NeverSeen, back.UnusedFor)
	// Output:
	// {"expired":true,"namePrefix":"ci-","unusedFor":"90d"}
	// true 1440h0m0s
}

func ExampleAuditOptions_MarshalJSON() {
	b, _ := json.Marshal(hygiene.AuditOptions{UnusedFor: 60 * 24 * time.Hour})
	fmt.Println(string(b))
	// Output: {"unusedFor":"60d"}
}
