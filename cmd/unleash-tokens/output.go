package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// shown returns the token as it may be printed: the secret in full only
// when the token is new (create, rotate) or --show-secrets was given.
func (a *app) shown(t unleashadmin.APIToken, fresh bool) unleashadmin.APIToken {
	if !fresh && !a.secrets {
		return redacted(t)
	}
	return t
}

// redacted returns t with its secret and its alias (which authenticates
// like the secret) redacted.
func redacted(t unleashadmin.APIToken) unleashadmin.APIToken {
	t.Secret = unleashadmin.RedactSecret(t.Secret)
	if t.Alias != nil {
		t.Alias = unleashadmin.Ptr(unleashadmin.RedactSecret(*t.Alias))
	}
	return t
}

func redactedCopy(t *unleashadmin.APIToken) *unleashadmin.APIToken {
	if t == nil {
		return nil
	}
	return unleashadmin.Ptr(redacted(*t))
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printTokens prints tokens as a table or a JSON array (a single object
// for a new token).
func (a *app) printTokens(fresh bool, toks ...unleashadmin.APIToken) error {
	out := make([]unleashadmin.APIToken, len(toks))
	for i, t := range toks {
		out[i] = a.shown(t, fresh)
	}
	if a.json {
		if fresh && len(out) == 1 {
			return a.printJSON(out[0])
		}
		return a.printJSON(out)
	}
	w := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tENVIRONMENT\tPROJECTS\tEXPIRES\tCREATED\tSECRET")
	for _, t := range out {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.TokenName, t.Type, t.Environment,
			strings.Join(t.Projects, ","), when(t.ExpiresAt, "never"), t.CreatedAt.UTC().Format(time.RFC3339), t.Secret)
	}
	return w.Flush()
}

// printResult prints v as JSON, or the formatted line.
func (a *app) printResult(v any, format string, args ...any) error {
	if a.json {
		return a.printJSON(v)
	}
	_, err := fmt.Fprintf(a.out, format, args...)
	return err
}

func (a *app) printRotation(old unleashadmin.APIToken, r *unleashadmin.Rotation) error {
	retired := "still live"
	switch {
	case r.OldDeleted:
		retired = "deleted"
	case r.OldExpiresAt != nil:
		retired = "expires " + r.OldExpiresAt.UTC().Format(time.RFC3339)
	}
	if a.json {
		return a.printJSON(struct {
			New          unleashadmin.APIToken `json:"new"`
			OldSecret    string                `json:"oldSecret"`
			OldDeleted   bool                  `json:"oldDeleted"`
			OldExpiresAt *time.Time            `json:"oldExpiresAt"`
		}{*r.New, unleashadmin.RedactSecret(old.Secret), r.OldDeleted, r.OldExpiresAt})
	}
	if err := a.printTokens(true, *r.New); err != nil {
		return err
	}
	_, err := fmt.Fprintf(a.out, "old token %s: %s\n", unleashadmin.RedactSecret(old.Secret), retired)
	return err
}

func (a *app) printEvents(events []unleashadmin.Event) error {
	if a.json {
		// Event data never holds a secret, but redact defensively: an older
		// server or a future one might put it there.
		// The tokens are copied: the caller's stay as they are.
		shown := slices.Clone(events)
		for i := range shown {
			shown[i].Data, shown[i].PreData = redactedCopy(shown[i].Data), redactedCopy(shown[i].PreData)
		}
		return a.printJSON(shown)
	}
	w := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTIME\tEVENT\tBY\tTOKEN\tTYPE\tENVIRONMENT\tPROJECT\tEXPIRES")
	for _, e := range events {
		t := e.Token()
		if t == nil {
			t = &unleashadmin.APIToken{}
		}
		projects := t.Projects
		if e.PreData != nil {
			// Unleash records an update of a project token with projects
			// ["*"] in data; preData has the real ones.
			projects = e.PreData.Projects
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.CreatedAt.UTC().Format(time.RFC3339),
			strings.TrimPrefix(string(e.Type), "api-token-"), e.CreatedBy, t.TokenName, t.Type, t.Environment,
			strings.Join(projects, ","), when(t.ExpiresAt, "never"))
	}
	return w.Flush()
}

func when(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}
