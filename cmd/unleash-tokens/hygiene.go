package main

// The hygiene commands: audit, prune and check, on package hygiene.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
)

// nearLimit is the --fail-on name of the token-limit warning.
const nearLimit = "near-limit"

// cacheNote is what check's help says about Unleash's caches.
const cacheNote = `Unleash caches the tokens it has looked up, for about a minute, so a token
deleted or expired a moment ago may still be reported live. On Unleash 7
and 8, POST /edge/validate keeps its own cache, which the server does not
refresh: a token it once found live can be reported live until the server
restarts. "not live" is reliable; "live" is not proof.`

func init() {
	commandNotes["audit"] = `kinds: never-seen (seenAt null, created over a day ago), unused (last seen
longer ago than --unused-for), expired, expiring (within --expiring-within),
duplicate (live tokens of one name, type, environment and projects; backend
and client count as one type), all-projects (client, backend and frontend
tokens for "*"; admin tokens are not reported), stalled-rotation (a token
still used longer than --stalled-after after a newer live token of its name
and scope was made: a service still reads the old secret). --fail-on also
takes near-limit: the instance holds 80 % of its token limit or more.
Unleash writes seenAt every few minutes (at each use under secure token
storage); check does not count as a use.`
	commandNotes["prune"] = `Without --yes nothing is deleted: the tokens that would be are listed.
--expired, --unused-for and --never-seen choose what audit reports as
expired, unused (judged with this --unused-for, at least 1d) and never-seen.
Protected, and never retired: the token of the API key in use, and admin
tokens unless --include-admin is given (Unleash 7 and later cannot make an
admin token again). Deletes go out --parallel at a time; a token is
reported retired only when Unleash answered success. Progress goes to
stderr when it is a terminal.`
	commandNotes["check"] = `Secrets come from the arguments, from standard input with "-" (one a line),
or with --dir from every regular file of DIR (one secret and a newline in
each, as apply --deliver-dir writes them; dot-files are left out). Prefer
- or --dir: arguments show in ps. Needs only UNLEASH_URL, no API token.

` + cacheNote
}

// kindFlag collects --fail-on: finding kinds and near-limit.
type kindFlag []string

func (k *kindFlag) String() string { return strings.Join(*k, ",") }

func (k *kindFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if part != nearLimit {
			if _, err := hygiene.ParseKind(part); err != nil {
				return fmt.Errorf("unknown kind \"%s\" (kinds: %s, %s)", part, kindNames(), nearLimit)
			}
		}
		*k = append(*k, part)
	}
	return nil
}

func kindNames() string {
	var names []string
	for _, k := range hygiene.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func setupAudit(fs *flag.FlagSet) runFunc {
	unused := hygiene.DefaultUnusedFor
	expiring := hygiene.DefaultExpiringWithin
	stalledAfter := hygiene.DefaultStalledAfter
	fs.Var((*durationFlag)(&unused), "unused-for", "report tokens last seen longer ago than this")
	fs.Var((*durationFlag)(&expiring), "expiring-within", "report tokens that expire within this")
	fs.Var((*durationFlag)(&stalledAfter), "stalled-after", "report tokens still used this long after a newer one of their name and scope was made")
	var failOn kindFlag
	fs.Var(&failOn, "fail-on", "exit 9 when there are findings of these kinds (comma-separated; see below)")
	file := fs.String("f", "", "audit every instance the desired-state `FILE` names (its instances section)")
	ff := addFleetFlags(fs)
	return func(ctx context.Context, a *app, args []string) error {
		if len(args) > 0 {
			return usagef("audit takes no arguments")
		}
		if unused <= 0 || expiring <= 0 || stalledAfter <= 0 {
			return usagef("--unused-for, --expiring-within and --stalled-after must be positive")
		}
		opts := hygiene.AuditOptions{UnusedFor: unused, ExpiringWithin: expiring, StalledAfter: stalledAfter}
		if fr, err := a.fleetOf(*file, ff); fr != nil || err != nil {
			if err != nil {
				return err
			}
			defer fr.fleet.CloseIdleConnections()
			return a.auditFleet(ctx, fr, opts, failOn)
		}
		r, err := hygiene.Audit(ctx, a.client, opts)
		if err != nil {
			return err
		}
		if a.json {
			err = a.printJSON(auditOf(r))
		} else {
			err = a.printAudit(r, opts)
		}
		if err != nil {
			return err
		}
		var hit []string
		for _, k := range failOn {
			if k == nearLimit && r.NearLimit() || k != nearLimit && r.Has(hygiene.FindingKind(k)) {
				hit = append(hit, k)
			}
		}
		if len(hit) > 0 {
			return exitError{exitFindings, fmt.Errorf("found %s (--fail-on)", strings.Join(hit, ", "))}
		}
		return nil
	}
}

// auditTitles say what each kind's table holds, and its date column.
var auditTitles = map[hygiene.FindingKind]struct{ title, date string }{
	hygiene.FindingNeverSeen:       {"seenAt is null, created over a day ago", "CREATED"},
	hygiene.FindingUnused:          {"last seen over %s ago", "LAST SEEN"},
	hygiene.FindingExpired:         {"past their expiry, still counted against the limit", "EXPIRED"},
	hygiene.FindingExpiring:        {"expire within %s", "EXPIRES"},
	hygiene.FindingDuplicate:       {"live tokens sharing name, type, environment and projects", "CREATED"},
	hygiene.FindingAllProjects:     {"client, backend or frontend tokens for all projects", "CREATED"},
	hygiene.FindingStalledRotation: {"still used over %s after a newer one of their scope", "LAST SEEN"},
}

// auditHead is the lines an audit starts with: how many tokens, and the
// warning near the limit.
func auditHead(r *hygiene.Report) string {
	var b strings.Builder
	switch {
	case r.Limit == 0:
		fmt.Fprintf(&b, "tokens: %d (the server does not say its limit); dates in UTC\n", r.Tokens)
	case r.Counted != r.Tokens:
		fmt.Fprintf(&b, "tokens: %d, of which %d count against the limit of %d (%d %%); dates in UTC\n", r.Tokens, r.Counted, r.Limit, r.Counted*100/r.Limit)
	default:
		fmt.Fprintf(&b, "tokens: %d of %d (%d %%); dates in UTC\n", r.Tokens, r.Limit, r.Tokens*100/r.Limit)
	}
	if r.NearLimit() {
		fmt.Fprintf(&b, "warning: %d %% or more of the token limit is used; Unleash refuses new tokens at the limit\n", hygiene.LimitWarningPercent)
	}
	return b.String()
}

// auditTitle is the line above the table of a kind's n findings.
func auditTitle(k hygiene.FindingKind, n int, opts hygiene.AuditOptions) string {
	title := auditTitles[k].title
	switch k {
	case hygiene.FindingUnused:
		title = fmt.Sprintf(title, durations.Format(opts.UnusedFor))
	case hygiene.FindingExpiring:
		title = fmt.Sprintf(title, durations.Format(opts.ExpiringWithin))
	case hygiene.FindingStalledRotation:
		title = fmt.Sprintf(title, durations.Format(opts.StalledAfter))
	}
	return fmt.Sprintf("\n%s (%d): %s\n", k, n, title)
}

// auditRow is a finding's row of its kind's table, its secret shown as id.
func auditRow(k hygiene.FindingKind, f hygiene.Finding, id string) []string {
	tok := f.Token
	date := tok.CreatedAt
	switch k {
	case hygiene.FindingUnused, hygiene.FindingStalledRotation:
		date = *tok.SeenAt
	case hygiene.FindingExpired, hygiene.FindingExpiring:
		date = *tok.ExpiresAt
	}
	// The day is enough for thresholds of days; -o json has the exact
	// times.
	return []string{tok.TokenName, string(tok.Type), tok.Environment, strings.Join(tok.ProjectIDs(), ","), id, date.UTC().Format(time.DateOnly)}
}

// auditColumns are the columns of a kind's table.
func auditColumns(k hygiene.FindingKind) []column {
	return []column{ident("NAME"), ident("TYPE"), desc("ENV", 2), desc("PROJECTS", 1), ident("SECRET"), ident(auditTitles[k].date)}
}

func (a *app) printAudit(r *hygiene.Report, opts hygiene.AuditOptions) error {
	var b strings.Builder
	b.WriteString(auditHead(r))
	if len(r.Findings) == 0 {
		b.WriteString("no findings\n")
	}
	if _, err := fmt.Fprint(a.out, b.String()); err != nil {
		return err
	}
	// One shown part per token in all the tables: a token with several
	// findings shows the same in each, and no two tokens the same.
	toks := make([]unleashadmin.APIToken, len(r.Findings))
	for i, f := range r.Findings {
		toks[i] = f.Token
	}
	ids := map[string]string{}
	for i, id := range secretIDs(toks) {
		ids[toks[i].Secret] = id
	}
	for _, k := range hygiene.Kinds() {
		fs := r.Of(k)
		if len(fs) == 0 {
			continue
		}
		if _, err := fmt.Fprint(a.out, auditTitle(k, len(fs), opts)); err != nil {
			return err
		}
		rows := make([][]string, len(fs))
		for i, f := range fs {
			rows[i] = auditRow(k, f, ids[f.Token.Secret])
		}
		if err := a.printTable(auditColumns(k), rows); err != nil {
			return err
		}
	}
	return nil
}

func setupPrune(fs *flag.FlagSet) runFunc {
	expired := fs.Bool("expired", false, "retire expired tokens")
	var unused time.Duration
	fs.Var((*durationFlag)(&unused), "unused-for", "retire tokens last seen longer ago than this, such as 90d (at least 1d)")
	neverSeen := fs.Bool("never-seen", false, "retire tokens never seen and created over a day ago")
	prefix := fs.String("name-prefix", "", "only tokens whose name starts with this")
	includeAdmin := fs.Bool("include-admin", false, "retire admin tokens too (never the key in use)")
	yes := fs.Bool("yes", false, "delete for real (without it, a dry run)")
	parallel := fs.Int("parallel", unleashadmin.DefaultParallel, fmt.Sprintf("deletes sent at once, 1 to %d", hygiene.MaxParallel))
	return func(ctx context.Context, a *app, args []string) error {
		switch {
		case len(args) > 0:
			return usagef("prune takes no arguments")
		case !*expired && unused == 0 && !*neverSeen:
			return usagef("nothing to prune: give --expired, --unused-for or --never-seen")
		case unused < 0 || unused != 0 && unused < hygiene.MinPruneUnusedFor:
			return usagef("--unused-for %s is shorter than a day: Unleash records use only every few minutes (did you mean days, such as 90d?)", durations.Format(unused))
		case *parallel < 1 || *parallel > hygiene.MaxParallel:
			return usagef("--parallel must be 1 to %d", hygiene.MaxParallel)
		}
		// a.client knows its key: Prune asks it which token that is.
		opts := hygiene.PruneOptions{Expired: *expired, UnusedFor: unused, NeverSeen: *neverSeen,
			NamePrefix: *prefix, IncludeAdmin: *includeAdmin, Apply: *yes, Parallel: *parallel}
		if a.progress && *yes {
			var mu sync.Mutex
			n := 0
			opts.Progress = func(r hygiene.PruneResult) {
				mu.Lock()
				defer mu.Unlock()
				n++
				fmt.Fprintf(a.errOut, "%d: %s %s (%s)\n", n, r.Status, printable(r.Token.TokenName), printable(shownSecret(r.Token)))
			}
		}
		r, err := hygiene.Prune(ctx, a.client, opts)
		if r == nil {
			return err
		}
		var perr error
		if a.json {
			perr = a.printJSON(pruneOf(r))
		} else {
			perr = a.printPrune(r)
		}
		if errors.Is(err, hygiene.ErrPruneIncomplete) {
			for _, res := range r.Results {
				if res.Status == hygiene.StatusFailed {
					fmt.Fprintf(a.errOut, "unleash-tokens prune: not retired: %s (%s): %s\n", printable(res.Token.TokenName),
						printable(shownSecret(res.Token)), printable(res.Err.Error()))
				}
			}
			return exitError{exitPartial, fmt.Errorf("%d of %d tokens not retired (named above); %d retired",
				r.Count(hygiene.StatusFailed), r.Count(hygiene.StatusFailed)+r.Count(hygiene.StatusRetired), r.Count(hygiene.StatusRetired))}
		}
		if err != nil {
			return err
		}
		return perr
	}
}

func (a *app) printPrune(r *hygiene.PruneReport) error {
	if len(r.Results) > 0 {
		toks := make([]unleashadmin.APIToken, len(r.Results))
		for i, res := range r.Results {
			toks[i] = res.Token
		}
		ids := secretIDs(toks)
		rows := make([][]string, len(r.Results))
		for i, res := range r.Results {
			var kinds []string
			for _, k := range res.Kinds {
				kinds = append(kinds, string(k))
			}
			what := strings.Join(kinds, ",")
			switch res.Status {
			case hygiene.StatusProtected: // what protects it first: the column may be cut
				what = fmt.Sprintf("%s (%s)", res.Protection, what)
			case hygiene.StatusSkipped:
				what += ": " + strings.SplitN(res.Reason, ";", 2)[0]
			}
			rows[i] = []string{string(res.Status), res.Token.TokenName, string(res.Token.Type), res.Token.Environment, ids[i], what}
		}
		cols := []column{ident("STATUS"), ident("NAME"), ident("TYPE"), desc("ENV", 2), ident("SECRET"), desc("WHY", 1)}
		if err := a.printTable(cols, rows); err != nil {
			return err
		}
	}
	var summary string
	if r.DryRun {
		summary = fmt.Sprintf("dry run: would retire %d, skipped %d, protected %d\n",
			r.Count(hygiene.StatusWouldRetire), r.Count(hygiene.StatusSkipped), r.Count(hygiene.StatusProtected))
		if r.Count(hygiene.StatusWouldRetire) > 0 {
			summary = strings.TrimSuffix(summary, "\n") + "; give --yes to retire them\n"
		}
	} else {
		summary = fmt.Sprintf("retired %d, failed %d, skipped %d, protected %d\n",
			r.Count(hygiene.StatusRetired), r.Count(hygiene.StatusFailed), r.Count(hygiene.StatusSkipped), r.Count(hygiene.StatusProtected))
	}
	if slices.ContainsFunc(r.Results, func(res hygiene.PruneResult) bool { return res.Protection == unleashadmin.ProtectedAdmin }) {
		summary += "admin tokens are protected; give --include-admin to retire them\n"
	}
	_, err := fmt.Fprint(a.out, summary)
	return err
}

func setupCheck(fs *flag.FlagSet) runFunc {
	dir := fs.String("dir", "", "check the secret in every regular file of this directory")
	return func(ctx context.Context, a *app, args []string) error {
		var secrets, sources []string
		for i, arg := range args {
			if arg != "-" {
				secrets, sources = append(secrets, arg), append(sources, fmt.Sprintf("argument %d", i+1))
				continue
			}
			if a.stdinUsed {
				return usagef("standard input (-) can be read once")
			}
			a.stdinUsed = true
			lines, err := hygiene.ReadSecrets(a.in)
			if err != nil {
				return fmt.Errorf("standard input: %w", err)
			}
			for n, s := range lines {
				secrets, sources = append(secrets, s), append(sources, fmt.Sprintf("stdin %d", n+1))
			}
		}
		if *dir != "" {
			files, err := hygiene.ReadSecretDir(*dir)
			if err != nil {
				// Nothing was sent: a bad --dir is a bad argument.
				return usagef("--dir: %v", err)
			}
			if len(files) == 0 {
				return usagef("--dir %s holds no secret files", *dir)
			}
			for _, f := range files {
				secrets, sources = append(secrets, f.Secret), append(sources, f.Name)
			}
		}
		if len(secrets) == 0 {
			return usagef("no secrets: give SECRET arguments, - to read them from standard input, or --dir DIR")
		}
		r, err := hygiene.Check(ctx, a.client, secrets)
		if err != nil {
			return err
		}
		if a.json {
			err = a.printJSON(checkOf(r, sources))
		} else {
			err = a.printCheck(r, sources, *dir != "")
		}
		if err != nil {
			return err
		}
		if dead := len(r.NotLive()); dead > 0 {
			return exitError{exitFindings, fmt.Errorf("%d of %d secrets not live", dead, len(r.Results))}
		}
		return nil
	}
}

func (a *app) printCheck(r *hygiene.CheckReport, sources []string, withSource bool) error {
	cols := []column{ident("SECRET"), ident("LIVE"), ident("TYPE"), desc("ENV", 2), desc("PROJECTS", 1)}
	if withSource {
		cols = append([]column{ident("SOURCE")}, cols...)
	}
	// A v2 secret shows as its selector, as list shows the token.
	toks := make([]unleashadmin.APIToken, len(r.Results))
	for i, c := range r.Results {
		toks[i] = unleashadmin.APIToken{Secret: c.Secret}
	}
	ids := secretIDs(toks)
	rows := make([][]string, len(r.Results))
	for i, c := range r.Results {
		row := []string{ids[i], "no", "", "", ""}
		if c.Live {
			row = []string{ids[i], "yes", string(c.Type), c.Environment, strings.Join(c.Projects, ",")}
		}
		if withSource {
			row = append([]string{sources[i]}, row...)
		}
		rows[i] = row
	}
	return a.printTable(cols, rows)
}
