package main

// Fleets: a desired-state file that names its instances (package
// desired's Fleet). plan, apply, export and audit work on every instance
// it names, or on those given with --instance, several at once, each with
// its own URL, key and rules; an instance that fails, fails alone, and
// stderr names it.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
)

func init() {
	commandNotes["plan"] = fleetNote
	commandNotes["apply"] = fleetNote + `
--deliver-dir DIR writes DIR/<instance>/<name>; the --deliver-exec and
--read-exec commands get UNLEASH_INSTANCE and the instance's UNLEASH_URL, and
no key. Exit 10 when an instance or an action failed (each is named on
stderr), the rest applied. A fleet's PLANFILE (plan -f FILE -out) is checked
and applied instance by instance, --instance narrowing it: a stale instance
is refused alone (exit 11 when no instance failed).`
}

// fleetNote is what plan's and apply's help say of a fleet.
const fleetNote = `A file may name instances (instances: {eu: {url: ..., tokenEnv: VAR}, ...},
or tokenFile: PATH; bearer: true), and an entry those it is for (instances:
[eu]). The command then works on each instance, --parallel-instances at once,
each read with its own key and by its own rules; --url, --token, --token-file
and --bearer do not apply. A missing key, an unknown instance or a URL the
client refuses exits 2 before anything is sent. An instance that cannot be
read fails alone: the others are planned and applied, and stderr names it.`

// fleetFlags are the flags of a file that names its instances.
type fleetFlags struct {
	instances listFlag
	parallel  int
}

func addFleetFlags(fs *flag.FlagSet) *fleetFlags {
	ff := &fleetFlags{}
	fs.Var(&ff.instances, "instance", "with a file that names its instances: only the instance `NAME`; repeat for several (all of them by default)")
	fs.IntVar(&ff.parallel, "parallel-instances", desired.DefaultParallelInstances, "with a file that names its instances: how many instances to work on at once")
	return ff
}

// fleetRun is the fleet a command works on: the file, the instances named
// (in the file's order) and their clients.
type fleetRun struct {
	file     *desired.File
	names    []string
	fleet    desired.Fleet
	parallel int
}

// url is the URL of the instance named name.
func (fr *fleetRun) url(name string) string {
	for _, in := range fr.file.Instances {
		if in.Name == name {
			return in.URL
		}
	}
	return ""
}

// openFleet returns the fleet of f, or nil when f names no instances (the
// command then works on its client, which it must have). Keys are read
// here: a missing one is an error naming the instance's line, before
// anything is sent.
func (a *app) openFleet(f *desired.File, ff *fleetFlags) (*fleetRun, error) {
	if len(f.Instances) == 0 {
		if len(ff.instances) > 0 {
			return nil, usagef("--instance goes with a file that names its instances (an instances section)")
		}
		if a.client == nil {
			return nil, a.clientErr
		}
		return nil, nil
	}
	if len(a.serverFlags) > 0 {
		return nil, usagef("the file names its instances, each with its URL and where its key is: %s does not apply", strings.Join(a.serverFlags, ", "))
	}
	if ff.parallel < 1 {
		return nil, usagef("--parallel-instances must be at least 1")
	}
	var names []string
	if len(ff.instances) > 0 {
		all := f.InstanceNames()
		for i, name := range ff.instances {
			if !slices.Contains(all, name) {
				return nil, usagef("--instance \"%s\": the file has no such instance (it has %s)", name, strings.Join(all, ", "))
			}
			if slices.Contains(ff.instances[:i], name) {
				return nil, usagef("--instance \"%s\" is given twice", name)
			}
		}
		names = ff.instances
	}
	fleet, err := desired.NewFleet(f, names, a.getenv, a.clientOpts...)
	if err != nil {
		return nil, err
	}
	fr := &fleetRun{file: f, fleet: fleet, parallel: ff.parallel}
	for _, name := range f.InstanceNames() {
		if fleet[name] != nil {
			fr.names = append(fr.names, name)
		}
	}
	return fr, nil
}

// fleetOf is the fleet of the file at path, for the commands whose -f
// names instances only (audit, export); nil without -f, when the command
// works on its client.
func (a *app) fleetOf(path string, ff *fleetFlags) (*fleetRun, error) {
	if path == "" {
		switch {
		case len(ff.instances) > 0:
			return nil, usagef("--instance goes with -f FILE, a file that names its instances")
		case a.client == nil:
			return nil, a.clientErr
		}
		return nil, nil
	}
	f, err := desired.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, usagef("-f: %v", err)
	}
	if err != nil {
		return nil, err
	}
	if len(f.Instances) == 0 {
		return nil, usagef("-f %s names no instances (an instances section): without -f the command works on UNLEASH_URL", path)
	}
	return a.openFleet(f, ff)
}

// dir is DIR/<instance> of --deliver-dir DIR, or "" without it.
func (fr *fleetRun) dir(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// sinks are each instance's sink and reader: DIR/<instance>, or the exec
// commands with the instance's environment (desired.File.SinkEnv).
func (fr *fleetRun) sinks(a *app, dir, execCmd, readExec string) (map[string]desired.Sink, map[string]desired.SinkReader, error) {
	sinks, readers := map[string]desired.Sink{}, map[string]desired.SinkReader{}
	for _, name := range fr.names {
		var env []string
		if execCmd != "" || readExec != "" {
			var err error
			if env, err = fr.file.SinkEnv(name, nil); err != nil {
				return nil, nil, err
			}
		}
		sinks[name], readers[name] = sinkOf(a, fr.dir(dir, name), execCmd, readExec, env)
	}
	return sinks, readers, nil
}

// fleetError prints on stderr each instance's error (errs, one per
// instance, nil for those that did well) and returns the command's error:
// nil when there is none, else the exit code they share (1 when they
// differ) with the message of format, given how many failed and of how
// many.
func fleetError(a *app, cmd string, fr *fleetRun, errs []error, format string) error {
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
			fmt.Fprintf(a.errOut, "unleash-tokens %s: %s\n", cmd, printable(strings.TrimPrefix(err.Error(), "desired: ")))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	code := exitCodeOf(failed[0])
	for _, err := range failed[1:] {
		if exitCodeOf(err) != code {
			code = exitFailure
		}
	}
	return exitError{code, fmt.Errorf(format, len(failed), len(fr.names))}
}

// each calls do(i) for i in [0, n), at most limit at once.
func each(n, limit int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(limit, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				do(i)
			}
		})
	}
	wg.Wait()
}

// fleetInstanceJSON is one instance of a fleet in JSON: its name, URL,
// and why it failed (null when it did not).
type fleetInstanceJSON struct {
	Instance string  `json:"instance"`
	URL      string  `json:"url"`
	Error    *string `json:"error"`
}

func instanceOf(fr *fleetRun, name string, err error) fleetInstanceJSON {
	j := fleetInstanceJSON{Instance: name, URL: fr.url(name)}
	if err != nil {
		j.Error = text(strings.TrimPrefix(err.Error(), "desired: "))
	}
	return j
}

// fleetPlanJSON is what plan prints for a fleet.
type fleetPlanJSON struct {
	Instances []fleetInstanceJSON `json:"instances"`
	Actions   []actionJSON        `json:"actions"`
}

// fleetApplyJSON is what apply prints for a fleet.
type fleetApplyJSON struct {
	Instances []fleetInstanceJSON `json:"instances"`
	Outcomes  []outcomeJSON       `json:"outcomes"`
}

// fleetAuditJSON is what audit prints for a fleet.
type fleetAuditJSON struct {
	Instances []fleetAuditInstanceJSON `json:"instances"`
	Findings  []findingJSON            `json:"findings"`
}

// fleetAuditInstanceJSON is an instance of an audit: what audit prints
// for one instance, null where it could not be read.
type fleetAuditInstanceJSON struct {
	fleetInstanceJSON
	Tokens    *int  `json:"tokens"`
	Counted   *int  `json:"counted"`
	Limit     *int  `json:"limit"`
	NearLimit *bool `json:"nearLimit"`
}

// planFleet plans every instance of fr, by what its sink holds when it can
// be read (DIR/<instance>, or --read-exec with the instance's
// environment), and prints one table; with --detailed-exitcode a plan
// with changes, and no instance that failed, exits 8.
// With out (plan -out), it also writes the fleet's plan file, every
// instance in it, those that could not be planned marked with their error.
func (d *desiredFlags) planFleet(ctx context.Context, a *app, fr *fleetRun, out string) error {
	_, readers, err := fr.sinks(a, *d.dir, "", *d.readExec)
	if err != nil {
		return err
	}
	fp, err := desired.NewFleetPlan(ctx, fr.fleet, fr.file, desired.FleetOptions{Instances: fr.names, Parallel: fr.parallel,
		Options: func(name string) desired.Options { return d.options(readers[name]) }})
	if fp == nil {
		return err
	}
	if out != "" {
		saved, err := fp.Saved()
		if err != nil {
			return err
		}
		doc, err := indentedJSON(saved)
		if err != nil {
			return err
		}
		if err := writePlanBytes(doc, out); err != nil {
			return err
		}
	}
	if err := printFleetPlan(a, fr, fp); err != nil {
		return err
	}
	errs := make([]error, len(fp.Instances))
	for i, ip := range fp.Instances {
		errs[i] = ip.Err
	}
	if err := fleetError(a, "plan", fr, errs, "%d of %d instances could not be planned (named above); the others were"); err != nil {
		return err
	}
	if *d.detailed && !fp.Empty() {
		return exitError{exitChanges, fmt.Errorf("the plans have %d changes", fp.Changes())}
	}
	return nil
}

// printFleetPlan prints the plans of a fleet: one table, or JSON.
func printFleetPlan(a *app, fr *fleetRun, fp *desired.FleetPlan) error {
	if a.json {
		out := fleetPlanJSON{Actions: []actionJSON{}}
		for _, ip := range fp.Instances {
			out.Instances = append(out.Instances, instanceOf(fr, ip.Instance, ip.Err))
			if ip.Plan != nil {
				for _, a := range ip.Plan.Actions {
					act := actionOf(a)
					act.Instance = text(ip.Instance)
					out.Actions = append(out.Actions, act)
				}
			}
		}
		return a.printJSON(out)
	}
	return printFleetActions(a, fp)
}

// printFleetActions prints the plans of a fleet as one table with an
// INSTANCE column, then a summary line per instance.
func printFleetActions(a *app, fp *desired.FleetPlan) error {
	var toks []unleashadmin.APIToken
	var rows [][]string
	for _, ip := range fp.Instances {
		if ip.Plan == nil {
			continue
		}
		for _, act := range ip.Plan.Actions {
			var tok unleashadmin.APIToken
			if act.Token != nil {
				tok = *act.Token
			}
			toks = append(toks, tok)
			rows = append(rows, []string{ip.Instance, string(act.Kind), act.Name, "", act.Reason})
		}
	}
	for i, id := range secretIDs(toks) {
		rows[i][3] = id
	}
	if len(rows) > 0 {
		if err := a.printTable([]column{ident("INSTANCE"), ident("ACTION"), ident("NAME"), ident("TOKEN"), desc("REASON", 1)}, rows); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, ip := range fp.Instances {
		switch {
		case ip.Plan == nil:
			fmt.Fprintf(&b, "%s: not planned (see stderr).\n", printable(ip.Instance))
		case len(ip.Plan.Actions) == 0:
			fmt.Fprintf(&b, "%s: no tokens: the instance holds none of the file's names (nor of its prune prefix) and the file lists none for it.\n", printable(ip.Instance))
		default:
			fmt.Fprintf(&b, "%s: %s\n", printable(ip.Instance), summarize(ip.Plan))
		}
	}
	_, err := fmt.Fprint(a.out, b.String())
	return err
}

// fleetFlight is the key of an action's steps in app.work: the actions of
// one instance differ in kind, name or token, those of two in instance.
func fleetFlight(instance string, act desired.Action) any {
	return struct {
		instance string
		flight   any
	}{instance, flightOf(act)}
}

// applyFleet applies every instance of fr, each as soon as it is planned,
// delivering to its own sink: DIR/<instance>, or the exec commands with
// UNLEASH_INSTANCE and the instance's UNLEASH_URL.
func (d *desiredFlags) applyFleet(ctx context.Context, a *app, fr *fleetRun, execCmd string, parallel int) error {
	sinks, readers, err := fr.sinks(a, *d.dir, execCmd, *d.readExec)
	if err != nil {
		return err
	}
	opts := desired.FleetOptions{Instances: fr.names, Parallel: fr.parallel,
		Options: func(name string) desired.Options { return d.options(readers[name]) }}
	ao, settled := fleetApplyOptions(a, fr, sinks, parallel)
	var res *desired.FleetResult
	if *d.dir == "" && execCmd == "" {
		// No sink: every instance is planned first, so that a plan that
		// makes a token anywhere changes nothing anywhere.
		fp, err := desired.NewFleetPlan(ctx, fr.fleet, fr.file, opts)
		if fp == nil {
			return err
		}
		var makers []string
		for _, ip := range fp.Instances {
			if ip.Plan != nil && ip.Plan.Delivers() {
				makers = append(makers, fmt.Sprintf("%d on %s", countMakes(ip.Plan), ip.Instance))
			}
		}
		if len(makers) > 0 {
			return usagef("the plans make tokens (%s) and no sink was given for their secrets: add --deliver-dir DIR or --deliver-exec CMD (nothing was changed)", strings.Join(makers, ", "))
		}
		res, err = fp.Apply(ctx, ao)
		if res == nil {
			return err
		}
	} else if res, err = desired.ApplyFleet(ctx, fr.fleet, fr.file, opts, ao); res == nil {
		return err
	}
	return reportFleetApply(a, fr, res, settled())
}

// fleetApplyOptions are the options of an apply of fr: each instance's
// sink, what is under way (app.work) and, on a terminal, progress; and
// how many actions have settled.
func fleetApplyOptions(a *app, fr *fleetRun, sinks map[string]desired.Sink, parallel int) (desired.FleetApplyOptions, func() int) {
	var mu sync.Mutex
	settled, failed := 0, 0
	ao := desired.FleetApplyOptions{Parallel: fr.parallel, ApplyOptions: func(name string) desired.ApplyOptions {
		return desired.ApplyOptions{Sink: sinks[name], Parallel: parallel,
			Observer: func(_ context.Context, s desired.Step) {
				a.work.start(fleetFlight(name, s.Action), "instance "+name+": "+s.Action.Name, s.Kind, s.Token)
			},
			Progress: func(o desired.ActionResult) {
				a.work.done(fleetFlight(name, o.Action))
				if !a.progress {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				settled++
				if o.Err != nil {
					failed++
				}
				fmt.Fprintf(a.errOut, "\rapply: %d actions settled, %d failed", settled, failed)
			},
		}
	}}
	return ao, func() int {
		mu.Lock()
		defer mu.Unlock()
		return settled
	}
}

// reportFleetApply prints what an apply of fr did and returns its error
// (applyFleetError); settled actions were shown as progress.
func reportFleetApply(a *app, fr *fleetRun, res *desired.FleetResult, settled int) error {
	if a.progress && settled > 0 {
		fmt.Fprint(a.errOut, "\r\033[K")
	}
	if perr := printFleetOutcomes(a, fr, res); perr != nil {
		return perr
	}
	for _, ir := range res.Instances {
		if ir.Result == nil {
			continue
		}
		for _, o := range ir.Result.Outcomes {
			if o.Status() == desired.StatusNotDelivered {
				fmt.Fprintf(a.errOut, "unleash-tokens apply: instance %s: %s: not delivered: the sink holds no secret of its token and the list shows none (secure token storage); --rotate-undelivered replaces it\n",
					printable(ir.Instance), printable(o.Action.Name))
			}
		}
	}
	return applyFleetError(a, res)
}

// printFleetOutcomes prints what apply did on each instance as one table
// with an INSTANCE column, then a summary line per instance, or as JSON.
func printFleetOutcomes(a *app, fr *fleetRun, res *desired.FleetResult) error {
	if a.json {
		out := fleetApplyJSON{Outcomes: []outcomeJSON{}}
		for _, ir := range res.Instances {
			out.Instances = append(out.Instances, instanceOf(fr, ir.Instance, ir.Err))
			if ir.Result != nil {
				for _, o := range applyOf(ir.Result).Outcomes {
					o.Instance = text(ir.Instance)
					out.Outcomes = append(out.Outcomes, o)
				}
			}
		}
		return a.printJSON(out)
	}
	var toks []unleashadmin.APIToken
	var rows [][]string
	for _, ir := range res.Instances {
		if ir.Result == nil {
			continue
		}
		for _, o := range ir.Result.Outcomes {
			var old, fresh unleashadmin.APIToken
			if o.Action.Token != nil {
				old = *o.Action.Token
			}
			if o.New != nil {
				fresh = *o.New
			}
			toks = append(toks, old, fresh)
			rows = append(rows, []string{ir.Instance, string(o.Action.Kind), o.Action.Name, string(o.Status()), "", "", detail(o)})
		}
	}
	ids := secretIDs(toks)
	for i := range rows {
		rows[i][4], rows[i][5] = ids[2*i], ids[2*i+1]
	}
	if len(rows) > 0 {
		cols := []column{ident("INSTANCE"), ident("ACTION"), ident("NAME"), ident("STATUS"), ident("TOKEN"), ident("NEW"), desc("DETAIL", 1)}
		if err := a.printTable(cols, rows); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, ir := range res.Instances {
		switch {
		case ir.Result == nil:
			fmt.Fprintf(&b, "%s: not applied, nothing was changed (see stderr).\n", printable(ir.Instance))
		case len(ir.Result.Outcomes) == 0:
			fmt.Fprintf(&b, "%s: nothing to do.\n", printable(ir.Instance))
		default:
			done := len(ir.Result.Outcomes) - len(ir.Result.Failed())
			fmt.Fprintf(&b, "%s: applied: %d of %d actions done.\n", printable(ir.Instance), done, len(ir.Result.Outcomes))
		}
	}
	_, err := fmt.Fprint(a.out, b.String())
	return err
}

// applyFleetError names on stderr each instance that failed and each
// failed action, with its instance, and returns the exit code: 10 when an
// instance could not be read, refused the key, failed mid-apply or (apply
// PLANFILE) was not planned when the plan was made; else 7 when a new
// secret could not be delivered (its token deleted again); else 11 when
// the only failures are instances whose saved plan is stale (nothing
// changed there).
func applyFleetError(a *app, res *desired.FleetResult) error {
	failed := res.Failed()
	if len(failed) == 0 {
		return nil
	}
	code := 0
	actions, whole, stale := 0, 0, 0
	for _, ir := range failed {
		if ir.Result == nil {
			fmt.Fprintf(a.errOut, "unleash-tokens apply: %s; nothing was changed there\n", printable(strings.TrimPrefix(ir.Err.Error(), "desired: ")))
			if errors.Is(ir.Err, desired.ErrStalePlan) {
				stale++
				continue
			}
			whole++
			code = exitPartial
			continue
		}
		if len(ir.Result.Failed()) == 0 {
			fmt.Fprintf(a.errOut, "unleash-tokens apply: %s\n", printable(strings.TrimPrefix(ir.Err.Error(), "desired: ")))
			code = exitPartial
		}
		for _, o := range ir.Result.Failed() {
			actions++
			fmt.Fprintf(a.errOut, "unleash-tokens apply: instance %s: %s\n", printable(ir.Instance), printable(strings.TrimPrefix(o.Err.Error(), "desired: ")))
			if !errors.Is(o.Err, unleashadmin.ErrNotDelivered) || errors.Is(o.Err, desired.ErrUndeliveredLive) {
				code = exitPartial
			} else if code == 0 {
				code = exitNotDelivered
			}
		}
	}
	var what []string
	if whole > 0 {
		what = append(what, fmt.Sprintf("%d not applied", whole))
	}
	if stale > 0 {
		what = append(what, fmt.Sprintf("%d refused: the saved plan is stale there, make a new plan", stale))
	}
	if actions > 0 {
		what = append(what, fmt.Sprintf("%d actions failed", actions))
	}
	if code == 0 {
		code = exitStale
	}
	if code == exitNotDelivered {
		what = append(what, "secrets could not be delivered; new tokens were deleted again and the old ones left alone")
	}
	return exitError{code, fmt.Errorf("%d of %d instances failed (named above: %s); the rest was applied",
		len(failed), len(res.Instances), strings.Join(what, "; "))}
}

// exportFleet prints one desired-state file of every instance of fr, or
// nothing when one of them cannot be read.
func (a *app) exportFleet(ctx context.Context, fr *fleetRun, opts desired.ExportOptions) error {
	res, err := desired.ExportFleet(ctx, fr.fleet, fr.file, desired.FleetExportOptions{ExportOptions: opts, Instances: fr.names, Parallel: fr.parallel})
	if res == nil {
		return err
	}
	if err != nil {
		errs := make([]error, len(res.Instances))
		for i, ie := range res.Instances {
			errs[i] = ie.Err
		}
		return fleetError(a, "export", fr, errs,
			"%d of %d instances could not be read (named above), so no file was written: it holds every instance or none (--instance names those to export)")
	}
	var notes []string
	for _, ie := range res.Instances {
		for _, n := range exportNotes(ie.Result) {
			notes = append(notes, "instance "+printable(ie.Instance)+": "+n)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(a.errOut, "unleash-tokens export: %s\n", n)
	}
	for _, ie := range res.Instances {
		r := ie.Result
		fmt.Fprintf(a.errOut, "unleash-tokens export: instance %s: exported %d name(s); %d left out; the first apply retires %d token(s)\n",
			printable(ie.Instance), len(r.File.Tokens), len(r.LeftOut), len(r.Retires))
	}
	fmt.Fprintf(a.errOut, "unleash-tokens export: one file of %d entries for %d instances\n", len(res.File.Tokens), len(res.Instances))
	if a.json {
		return a.printJSON(res.File)
	}
	out, err := fileYAML(res.File, notes)
	if err != nil {
		return err
	}
	_, err = a.out.Write(out)
	return err
}

// auditFleet audits every instance of fr, several at once, and prints one
// report: a summary line per instance, and each kind's table with an
// INSTANCE column.
func (a *app) auditFleet(ctx context.Context, fr *fleetRun, opts hygiene.AuditOptions, failOn kindFlag) error {
	reports := make([]*hygiene.Report, len(fr.names))
	errs := make([]error, len(fr.names))
	each(len(fr.names), fr.parallel, func(i int) {
		r, err := hygiene.Audit(ctx, fr.fleet[fr.names[i]], opts)
		reports[i], errs[i] = r, err
		if err != nil {
			errs[i] = &desired.InstanceError{Instance: fr.names[i], Err: err}
		}
	})
	var err error
	if a.json {
		err = a.printJSON(fleetAuditOf(fr, reports, errs))
	} else {
		err = a.printFleetAudit(fr, reports, opts)
	}
	if err != nil {
		return err
	}
	var hit []string
	for _, k := range failOn {
		var on []string
		for i, r := range reports {
			if r != nil && (k == nearLimit && r.NearLimit() || k != nearLimit && r.Has(hygiene.FindingKind(k))) {
				on = append(on, fr.names[i])
			}
		}
		if len(on) > 0 {
			hit = append(hit, fmt.Sprintf("%s on %s", k, strings.Join(on, ", ")))
		}
	}
	found := fmt.Errorf("found %s (--fail-on)", strings.Join(hit, "; "))
	if err := fleetError(a, "audit", fr, errs, "%d of %d instances could not be audited (named above); the others were"); err != nil {
		if len(hit) > 0 {
			fmt.Fprintf(a.errOut, "unleash-tokens audit: %s\n", printable(found.Error()))
		}
		return err
	}
	if len(hit) > 0 {
		return exitError{exitFindings, found}
	}
	return nil
}

func fleetAuditOf(fr *fleetRun, reports []*hygiene.Report, errs []error) fleetAuditJSON {
	out := fleetAuditJSON{Instances: []fleetAuditInstanceJSON{}, Findings: []findingJSON{}}
	for i, name := range fr.names {
		j := fleetAuditInstanceJSON{fleetInstanceJSON: instanceOf(fr, name, errs[i])}
		if r := reports[i]; r != nil {
			one := auditOf(r)
			j.Tokens, j.Counted, j.Limit, j.NearLimit = &one.Tokens, &one.Counted, one.Limit, &one.NearLimit
			for _, f := range one.Findings {
				f.Instance = text(name)
				out.Findings = append(out.Findings, f)
			}
		}
		out.Instances = append(out.Instances, j)
	}
	return out
}

func (a *app) printFleetAudit(fr *fleetRun, reports []*hygiene.Report, opts hygiene.AuditOptions) error {
	var b strings.Builder
	var all []hygiene.Finding
	var of []string // the instance of each of all
	for i, r := range reports {
		name := printable(fr.names[i])
		if r == nil {
			fmt.Fprintf(&b, "%s: not audited (see stderr)\n", name)
			continue
		}
		for _, line := range strings.Split(strings.TrimSuffix(auditHead(r), "\n"), "\n") {
			fmt.Fprintf(&b, "%s: %s\n", name, line)
		}
		for _, f := range r.Findings {
			all = append(all, f)
			of = append(of, fr.names[i])
		}
	}
	if len(all) == 0 {
		b.WriteString("no findings\n")
	}
	if _, err := fmt.Fprint(a.out, b.String()); err != nil {
		return err
	}
	// One shown part per token in all the tables.
	toks := make([]unleashadmin.APIToken, len(all))
	for i, f := range all {
		toks[i] = f.Token
	}
	ids := secretIDs(toks)
	for _, k := range hygiene.Kinds() {
		var rows [][]string
		for i, f := range all {
			if f.Kind == k {
				rows = append(rows, append([]string{of[i]}, auditRow(k, f, ids[i])...))
			}
		}
		if len(rows) == 0 {
			continue
		}
		if _, err := fmt.Fprint(a.out, auditTitle(k, len(rows), opts)); err != nil {
			return err
		}
		if err := a.printTable(append([]column{ident("INSTANCE")}, auditColumns(k)...), rows); err != nil {
			return err
		}
	}
	return nil
}
