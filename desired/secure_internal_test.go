package desired

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// These tests give plan the token list a server in secure token storage
// mode sends (the selector in Secret, Secure set, backend listed as
// backend) and check what Apply would send; secure_test.go runs the same
// rules end to end on the stand-in's secure mode.
func TestPlanUnderSecureStorage(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const (
		selOwn  = "OwnSelector0123456789a"
		selOld  = "OldSelector0123456789b"
		selNew  = "NewSelector0123456789c"
		selDup  = "DupSelector0123456789d"
		selSvc  = "SvcSelector0123456789e"
		ownFull = "*:development.v2_" + selOwn + "_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2V"
	)
	tok := func(sel, name string, typ unleashadmin.TokenType, created time.Time, expires *time.Time) unleashadmin.APIToken {
		return unleashadmin.APIToken{Secret: sel, Secure: true, TokenName: name, Type: typ, Environment: "development",
			Project: "*", Projects: []string{"*"}, CreatedAt: created, ExpiresAt: expires}
	}
	soon := now.Add(time.Hour)
	toks := []unleashadmin.APIToken{
		tok(selOwn, "svc-ci", unleashadmin.TokenTypeBackend, now.Add(-time.Hour), nil),
		tok(selOld, "checkout", unleashadmin.TokenTypeBackend, now.Add(-2*time.Hour), &soon),
		tok(selDup, "web", unleashadmin.TokenTypeFrontend, now.Add(-3*time.Hour), nil),
		tok(selNew, "web", unleashadmin.TokenTypeFrontend, now.Add(-2*time.Hour), nil),
		tok(selSvc, "svc-gone", unleashadmin.TokenTypeClient, now.Add(-2*time.Hour), nil),
	}
	f := &File{Tokens: []Entry{
		{Name: "checkout", Type: unleashadmin.TokenTypeClient, RenewBefore: 2 * time.Hour},
		{Name: "web", Type: unleashadmin.TokenTypeFrontend},
	}, Prune: PruneRule{NamePrefix: "svc-"}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	acts := plan(f, toks, nil, now, "development", Options{OwnKey: ownFull}, nil) // the deprecated OwnKey, without a client
	var got []string
	for _, a := range acts {
		got = append(got, fmt.Sprintf("%s %s %s", a.Kind, a.Name, a.Token.Secret))
	}
	want := []string{
		"rotate checkout " + selOld, // backend listed as backend matches a client entry
		"keep web " + selNew,
		"retire web " + selDup,  // retired through its selector, which delete accepts
		"keep svc-ci " + selOwn, // the key in use, known by its full secret, matched by selector
		"retire svc-gone " + selSvc,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !acts[0].retireOld {
		t.Error("the rotated token is not to be retired")
	}
	// A selector is not a credential: the printed plan shows it, as the
	// core prints listed tokens.
	if s := fmt.Sprint(acts[2]); !strings.Contains(s, selDup) {
		t.Errorf("printed %q", s)
	}
}
