package main

// The plan and apply commands: the desired-state file of package desired.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// progressAbove is how many actions an apply needs before it shows
// progress on a terminal.
const progressAbove = 3

// desiredFlags are the flags plan and apply share.
type desiredFlags struct {
	file     *string
	grace    time.Duration
	detailed *bool
	// dir and readExec name the sink that records what was delivered.
	dir, readExec     *string
	settle            time.Duration
	rotateUndelivered *bool
	// fleet are the flags of a file that names its instances.
	fleet *fleetFlags
}

func addDesiredFlags(fs *flag.FlagSet, detailedHelp, dirHelp, readHelp string) *desiredFlags {
	d := &desiredFlags{file: fs.String("f", "", "the desired-state `FILE` (YAML or JSON); required"), settle: desired.DefaultSettle}
	fs.Var((*durationFlag)(&d.grace), "grace", "retire by moving the expiry to now + this, such as 24h or 7d, instead of deleting")
	d.detailed = fs.Bool("detailed-exitcode", false, detailedHelp)
	d.dir = fs.String("deliver-dir", "", dirHelp)
	d.readExec = fs.String("read-exec", "", readHelp)
	fs.Var((*durationFlag)(&d.settle), "settle", "with a sink that can be read: retire a token it does not hold, newer than the one it holds, once older than this")
	d.rotateUndelivered = fs.Bool("rotate-undelivered", false, "with a sink that can be read: rotate an entry's token that the sink does not hold and whose secret the list does not show (secure token storage), instead of reporting it not delivered")
	d.fleet = addFleetFlags(fs)
	return d
}

// read checks the flags and reads the file.
func (d *desiredFlags) read(cmd string, args []string) (*desired.File, error) {
	if len(args) > 0 {
		return nil, usagef("%s takes no arguments (the file goes in -f)", cmd)
	}
	if *d.file == "" && cmd == "apply" {
		return nil, usagef("-f FILE or a PLANFILE (from plan -out) is required")
	}
	if *d.file == "" {
		return nil, usagef("-f FILE is required")
	}
	if d.grace < 0 {
		return nil, usagef("--grace must not be negative")
	}
	if d.settle <= 0 {
		return nil, usagef("--settle must be longer than 0")
	}
	f, err := desired.ReadFile(*d.file)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, usagef("-f: %v", err)
	}
	return f, err
}

// options are the plan's options with a sink that can be read (reader).
func (d *desiredFlags) options(reader desired.SinkReader) desired.Options {
	return desired.Options{GracePeriod: d.grace, Reader: reader, Settle: d.settle, RotateUndelivered: *d.rotateUndelivered}
}

// plan makes the plan of f: one list request, one read of the server's
// settings when an entry names no environment, and with a sink that can
// be read (reader), what it holds for each entry.
func (d *desiredFlags) plan(ctx context.Context, a *app, f *desired.File, reader desired.SinkReader) (*desired.Plan, error) {
	if a.client == nil {
		return nil, a.clientErr
	}
	return desired.NewPlan(ctx, a.client, f, d.options(reader))
}

// sinkOf is the sink of --deliver-dir dir, or of --deliver-exec execCmd
// and --read-exec readExec (an exec sink whose commands get env, nil for
// this process's), and the reader of what it holds (nil when it cannot be
// read).
func sinkOf(a *app, dir, execCmd, readExec string, env []string) (desired.Sink, desired.SinkReader) {
	switch {
	case dir != "":
		s := desired.DirSink{Dir: dir}
		return s, s
	case execCmd != "" || readExec != "":
		// The commands' output goes to stderr: stdout is the report.
		s := desired.ExecSink{Command: execCmd, ReadCommand: readExec, Stdout: a.errOut, Stderr: a.errOut, Env: env}
		var r desired.SinkReader
		if s.Readable() {
			r = s
		}
		if execCmd == "" {
			return nil, r
		}
		return s, r
	}
	return nil, nil
}

// printPlan prints the plan as a table with a summary line, or as the
// plan document (planDocument); with --detailed-exitcode a plan with
// changes exits 8.
func (d *desiredFlags) printPlan(a *app, p *desired.Plan) error {
	if a.json {
		doc, err := planDocument(p)
		if err != nil {
			return err
		}
		if _, err := a.out.Write(doc); err != nil {
			return err
		}
	} else if err := printActions(a, p); err != nil {
		return err
	}
	if *d.detailed && !p.Empty() {
		return exitError{exitChanges, fmt.Errorf("the plan has %d changes", p.Changes())}
	}
	return nil
}

func printActions(a *app, p *desired.Plan) error {
	if len(p.Actions) == 0 {
		_, err := fmt.Fprintln(a.out, "No tokens: the server holds none of the file's names (nor of its prune prefix) and the file lists none.")
		return err
	}
	toks := make([]unleashadmin.APIToken, len(p.Actions))
	for i, act := range p.Actions {
		if act.Token != nil {
			toks[i] = *act.Token
		}
	}
	ids := secretIDs(toks)
	rows := make([][]string, len(p.Actions))
	for i, act := range p.Actions {
		rows[i] = []string{string(act.Kind), act.Name, ids[i], act.Reason}
	}
	if err := a.printTable([]column{ident("ACTION"), ident("NAME"), ident("TOKEN"), desc("REASON", 1)}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(a.out, summarize(p))
	return err
}

// summarize counts the plan's actions by kind: "Plan: 1 to create, 2 to
// retire, 3 kept."
func summarize(p *desired.Plan) string {
	counts := map[desired.ActionKind]int{}
	for _, act := range p.Actions {
		counts[act.Kind]++
	}
	left := ""
	if n := counts[desired.ActionLeave]; n > 0 {
		left = fmt.Sprintf(", %d left for now", n)
	}
	if n := counts[desired.ActionWait]; n > 0 {
		left += fmt.Sprintf(", %d waiting to go unused", n)
	}
	if p.Empty() {
		return fmt.Sprintf("No changes: %d kept%s.", counts[desired.ActionKeep], left)
	}
	var parts []string
	for _, k := range []desired.ActionKind{desired.ActionCreate, desired.ActionRotate, desired.ActionReplace, desired.ActionDeliver, desired.ActionRetire} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", counts[k], k))
		}
	}
	return fmt.Sprintf("Plan: %s, %d kept%s.", strings.Join(parts, ", "), counts[desired.ActionKeep], left)
}

func setupPlan(fs *flag.FlagSet) runFunc {
	d := addDesiredFlags(fs, "exit 8 when the plan has changes (0 when it has none; a token waiting to go unused is no change)",
		"plan by what `DIR`/<name> holds, as apply --deliver-dir would (read only)",
		"plan by what sh -c `CMD` prints for UNLEASH_TOKEN_NAME, as apply --read-exec would (read only)")
	out := addPlanOut(fs)
	return func(ctx context.Context, a *app, args []string) error {
		if *d.dir != "" && *d.readExec != "" {
			return usagef("give --deliver-dir or --read-exec, not both")
		}
		f, err := d.read("plan", args)
		if err != nil {
			return err
		}
		if fr, err := a.openFleet(f, d.fleet); fr != nil || err != nil {
			if err != nil {
				return err
			}
			defer fr.fleet.CloseIdleConnections()
			return d.planFleet(ctx, a, fr, *out)
		}
		_, reader := sinkOf(a, *d.dir, "", *d.readExec, nil)
		p, err := d.plan(ctx, a, f, reader)
		if err != nil {
			return err
		}
		if err := writePlanFile(p, *out); err != nil {
			return err
		}
		return d.printPlan(a, p)
	}
}

func setupApply(fs *flag.FlagSet) runFunc {
	d := addDesiredFlags(fs, "with --dry-run: exit 8 when the plan has changes",
		"write each new secret to `DIR`/<name> (mode 0600; DIR made 0700), the record of what was delivered; one apply at a time (DIR/.unleash-tokens.lock)",
		"with --deliver-exec: sh -c `CMD` prints the secret the sink holds for UNLEASH_TOKEN_NAME (nothing when none), to plan by it and read each delivery back")
	dir := d.dir
	execCmd := fs.String("deliver-exec", "", "run sh -c `CMD` for each new secret, the secret on its standard input (which it must read whole), UNLEASH_TOKEN_NAME, _TYPE, _ENVIRONMENT and _PROJECTS of the entry in its environment; its output goes to stderr, secrets taken out")
	parallel := fs.Int("parallel", unleashadmin.DefaultParallel, "how many entries to work on at once")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing (as plan does)")
	return func(ctx context.Context, a *app, args []string) error {
		switch {
		case *dir != "" && *execCmd != "":
			return usagef("give --deliver-dir or --deliver-exec, not both")
		case *d.readExec != "" && *execCmd == "":
			return usagef("--read-exec goes with --deliver-exec")
		}
		if *parallel < 1 {
			return usagef("--parallel must be at least 1")
		}
		if *d.detailed && !*dryRun {
			return usagef("--detailed-exitcode goes with --dry-run (or use plan)")
		}
		if len(args) > 0 {
			return applyPlanFile(ctx, a, fs, d, args, *execCmd, *parallel, *dryRun)
		}
		f, err := d.read("apply", args)
		if err != nil {
			return err
		}
		if fr, err := a.openFleet(f, d.fleet); fr != nil || err != nil {
			if err != nil {
				return err
			}
			defer fr.fleet.CloseIdleConnections()
			if *dryRun {
				return d.planFleet(ctx, a, fr, "")
			}
			return d.applyFleet(ctx, a, fr, *execCmd, *parallel)
		}
		sink, reader := sinkOf(a, *dir, *execCmd, *d.readExec, nil)
		ao := desired.ApplyOptions{Sink: sink, Parallel: *parallel}
		p, err := d.plan(ctx, a, f, reader)
		if err != nil {
			return err
		}
		if *dryRun {
			return d.printPlan(a, p)
		}
		if sink == nil && p.Delivers() {
			return usagef("the plan makes %d token(s) and no sink was given for their secrets: add --deliver-dir DIR or --deliver-exec CMD (nothing was changed)", countMakes(p))
		}
		return runApply(a, ao, len(p.Actions), p.Changes(), func(ao desired.ApplyOptions) (*desired.Result, error) { return p.Apply(ctx, ao) })
	}
}

// runApply carries out an apply of actions actions, changes of which
// change something, by apply: it tells app.work what is under way, shows
// progress on a terminal, prints the outcomes and names the failures.
func runApply(a *app, ao desired.ApplyOptions, actions, changes int, apply func(desired.ApplyOptions) (*desired.Result, error)) error {
	var progress func(desired.ActionResult)
	if a.progress && changes > progressAbove {
		progress = progressReporter(a, actions)
	}
	// What is under way, for a second signal: each action from its
	// first step until it is settled.
	ao.Observer = func(_ context.Context, s desired.Step) {
		a.work.start(flightOf(s.Action), s.Action.Name, s.Kind, s.Token)
	}
	ao.Progress = func(o desired.ActionResult) {
		a.work.done(flightOf(o.Action))
		if progress != nil {
			progress(o)
		}
	}
	res, err := apply(ao)
	if progress != nil {
		fmt.Fprint(a.errOut, "\r\033[K")
	}
	if res == nil {
		return err
	}
	if perr := printOutcomes(a, res); perr != nil && err == nil {
		return perr
	}
	for _, o := range res.Outcomes {
		if o.Status() == desired.StatusNotDelivered {
			fmt.Fprintf(a.errOut, "unleash-tokens apply: %s: not delivered: the sink holds no secret of its token and the list shows none (secure token storage); --rotate-undelivered replaces it\n", printable(o.Action.Name))
		}
		if d := o.Action.Decision; d != nil && d.StillInUse && o.Retired && o.Action.Token != nil {
			fmt.Fprintf(a.errOut, "unleash-tokens apply: %s: %s was retired although still in use: its replacement is older than retire.within\n",
				printable(o.Action.Name), printable(o.Action.Token.Redacted().Secret))
		}
	}
	return applyError(a, res)
}

// flightOf is the key of an action's steps in app.work: the actions of a
// plan differ in kind, name or token.
func flightOf(act desired.Action) any {
	return struct {
		kind desired.ActionKind
		name string
		tok  *unleashadmin.APIToken
	}{act.Kind, act.Name, act.Token}
}

func countMakes(p *desired.Plan) int {
	n := 0
	for _, act := range p.Actions {
		if act.Makes() {
			n++
		}
	}
	return n
}

// progressReporter shows "apply: 12/40 actions settled" on one line of
// stderr, rewritten as actions finish.
func progressReporter(a *app, total int) func(desired.ActionResult) {
	var mu sync.Mutex
	done, failed := 0, 0
	return func(o desired.ActionResult) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if o.Err != nil {
			failed++
		}
		fmt.Fprintf(a.errOut, "\rapply: %d/%d actions settled, %d failed", done, total, failed)
	}
}

// printOutcomes prints what apply did, one line per action, or as
// {"outcomes":[...]}. No secret is printed.
func printOutcomes(a *app, res *desired.Result) error {
	if a.json {
		return a.printJSON(applyOf(res))
	}
	if len(res.Outcomes) == 0 {
		_, err := fmt.Fprintln(a.out, "Nothing to do.")
		return err
	}
	// The old and the new tokens of one table: their shown parts differ.
	n := len(res.Outcomes)
	toks := make([]unleashadmin.APIToken, 2*n)
	for i, o := range res.Outcomes {
		if o.Action.Token != nil {
			toks[i] = *o.Action.Token
		}
		if o.New != nil {
			toks[n+i] = *o.New
		}
	}
	ids := secretIDs(toks)
	rows := make([][]string, n)
	done := 0
	for i, o := range res.Outcomes {
		if o.Err == nil {
			done++
		}
		rows[i] = []string{string(o.Action.Kind), o.Action.Name, string(o.Status()), ids[i], ids[n+i], detail(o)}
	}
	cols := []column{ident("ACTION"), ident("NAME"), ident("STATUS"), ident("TOKEN"), ident("NEW"), desc("DETAIL", 1)}
	if err := a.printTable(cols, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(a.out, "Applied: %d of %d actions done.\n", done, n)
	return err
}

// detail says what an action did to its tokens (TOKEN, the one acted on,
// and NEW, the one made), without naming them.
func detail(o desired.ActionResult) string {
	var parts []string
	if o.New != nil {
		switch {
		case o.Delivered:
			parts = append(parts, "new delivered")
		case o.Revoked:
			parts = append(parts, "new not delivered, deleted again")
		default:
			parts = append(parts, "new NOT delivered and still live")
		}
	}
	if o.Action.Kind == desired.ActionDeliver && o.Delivered {
		parts = append(parts, "delivered as it is")
	}
	if o.Action.Token != nil && o.Action.Changes() && o.Action.Kind != desired.ActionDeliver {
		old := "old "
		if o.Action.Kind == desired.ActionRetire {
			old = ""
		}
		switch {
		case o.Deleted:
			parts = append(parts, old+"deleted")
		case o.Retired && o.ExpiresAt != nil:
			parts = append(parts, old+"expires "+o.ExpiresAt.UTC().Format(time.RFC3339))
		case o.Action.Makes() && o.Err == nil:
			parts = append(parts, old+"left as it is")
		default:
			parts = append(parts, old+"left as it was")
		}
	}
	if o.Err != nil {
		parts = append(parts, "see stderr")
	}
	if len(parts) == 0 {
		return o.Action.Reason
	}
	return strings.Join(parts, "; ")
}

// applyError names each failed action on stderr and returns the exit
// code: 7 when every failure is a new secret that could not be delivered
// (its token deleted again, the old ones left alone), 10 otherwise.
func applyError(a *app, res *desired.Result) error {
	failed := res.Failed()
	if len(failed) == 0 {
		return nil
	}
	code := exitNotDelivered
	for _, o := range failed {
		fmt.Fprintf(a.errOut, "unleash-tokens apply: %s\n", printable(o.Err.Error()))
		if !errors.Is(o.Err, unleashadmin.ErrNotDelivered) || errors.Is(o.Err, desired.ErrUndeliveredLive) {
			code = exitPartial
		}
	}
	what := "some actions failed"
	if code == exitNotDelivered {
		what = "secrets could not be delivered; new tokens were deleted again and the old ones left alone"
	}
	return exitError{code, fmt.Errorf("%d of %d actions failed (%s); the others were done", len(failed), len(res.Outcomes), what)}
}
