package main

// Saved plans: plan -out PLANFILE writes the plan that plan prints, and
// apply PLANFILE carries out exactly its actions, or refuses the plan,
// changing nothing, when it has gone stale (exitStale).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// exitStale is an apply PLANFILE refused because something the plan
// relied on changed since it was made, or it is another instance's:
// nothing was changed, and a new plan is needed.
const exitStale = 11

// savedNote is the help of plan and apply about saved plans.
const savedNote = `plan -out PLANFILE writes the plan, as -o json prints it, to PLANFILE (JSON,
no secret: docs/JSON.md); apply PLANFILE carries out exactly its actions,
with the same sink flags as apply -f. It reads the token list once (and the
sink, when the plan did) and refuses the plan, changing nothing (exit 11),
when a token of the plan's names or prune prefix was made, deleted, rotated
or had its expiry moved since, when the sink holds another secret than the
plan saw, or when the plan is another instance's. --grace, --settle and
--rotate-undelivered are the plan's; -f FILE with a PLANFILE refuses it
(exit 11) unless it was made from FILE's entries. A PLANFILE changed by hand,
cut short or of a newer format exits 2 before anything is sent.`

func addPlanOut(flags *flag.FlagSet) *string {
	return flags.String("out", "", "also write the plan to `PLANFILE`, for apply PLANFILE: JSON, what -o json prints (no secret)")
}

// planDocument is the plan as plan -o json prints it and -out writes it:
// package desired's plan file (docs/JSON.md), indented and escaped as all
// the command's JSON.
func planDocument(p *desired.Plan) ([]byte, error) {
	saved, err := p.Saved()
	if err != nil {
		return nil, err
	}
	return indentedJSON(saved)
}

// writePlanFile writes p's plan document to path ("": nothing), mode
// 0600, through a temporary file beside it that is synced and renamed
// into place: path holds a whole plan, or what it held before.
func writePlanFile(p *desired.Plan, path string) error {
	if path == "" {
		return nil
	}
	doc, err := planDocument(p)
	if err != nil {
		return err
	}
	return writePlanBytes(doc, path)
}

// writePlanBytes writes a plan document to path, as writePlanFile does.
func writePlanBytes(doc []byte, path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".unleash-tokens-plan-*.tmp")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return usagef("-out: %v", err)
	}
	if err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(doc); err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the plan file: %w", err)
	}
	done = true
	return nil
}

// readPlanFile reads a PLANFILE, at most what desired.ReadPlan accepts
// and one byte more.
func readPlanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, usagef("PLANFILE: %v", err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, desired.MaxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading PLANFILE %s: %w", path, err)
	}
	return data, nil
}

// applyPlanFile is apply PLANFILE: the saved plan's actions carried out
// with the sink of --deliver-dir, or --deliver-exec execCmd and
// --read-exec, or with dryRun checked and printed. A fleet's PLANFILE is
// applyFleetPlanFile's.
func applyPlanFile(ctx context.Context, a *app, flags *flag.FlagSet, d *desiredFlags, args []string, execCmd string, parallel int, dryRun bool) error {
	if len(args) != 1 {
		return usagef("apply takes one PLANFILE (from plan -out), or -f FILE")
	}
	var fixed []string
	flags.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "grace", "settle", "rotate-undelivered":
			fixed = append(fixed, "--"+f.Name)
		}
	})
	if len(fixed) > 0 {
		return usagef("%s: a PLANFILE is applied with the options it was made with; give them to plan", strings.Join(fixed, ", "))
	}
	path := args[0]
	data, err := readPlanFile(path)
	if err != nil {
		return err
	}
	if desired.IsFleetPlan(data) {
		return applyFleetPlanFile(ctx, a, d, path, data, execCmd, parallel, dryRun)
	}
	if len(d.fleet.instances) > 0 {
		return usagef("--instance goes with a fleet's PLANFILE (made from a file that names its instances)")
	}
	if a.client == nil {
		return a.clientErr
	}
	sink, reader := sinkOf(a, *d.dir, execCmd, *d.readExec, nil)
	ao, readable := desired.ApplyOptions{Sink: sink, Parallel: parallel}, reader != nil
	saved, err := desired.ReadPlan(data)
	if err != nil {
		return fmt.Errorf("PLANFILE %s: %w", path, err)
	}
	if *d.file != "" {
		f, err := desired.ReadFile(*d.file)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return usagef("-f: %v", err)
		}
		if err != nil {
			return err
		}
		if !f.Equal(saved.File()) {
			return exitError{exitStale, fmt.Errorf("%w: it was made from another version of %s (its entries or prune rule differ); nothing was sent: make a new plan", desired.ErrStalePlan, *d.file)}
		}
	}
	// The shape is docs/JSON.md's, which ReadPlan has just checked.
	var doc struct {
		Sink struct {
			Read bool `json:"read"`
		} `json:"sink"`
		Actions []struct {
			Action desired.ActionKind `json:"action"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	switch {
	case doc.Sink.Read && !readable:
		return usagef("the plan was made reading the sink (plan --deliver-dir or --read-exec): apply it with that sink, --deliver-dir DIR or --deliver-exec CMD with --read-exec CMD (nothing was sent)")
	case !doc.Sink.Read && readable:
		return usagef("the plan was made without reading the sink: make it with the sink this apply uses (plan --deliver-dir DIR, or plan --read-exec CMD), so that it keeps the tokens whose secrets the sink holds (nothing was sent)")
	}
	if dryRun {
		p, err := saved.Check(ctx, a.client, ao)
		if err != nil {
			return staleExit(err)
		}
		return d.printPlan(a, p)
	}
	changes := 0
	for _, act := range doc.Actions {
		if (desired.Action{Kind: act.Action}).Changes() {
			changes++
		}
	}
	return runApply(a, ao, len(doc.Actions), changes, func(ao desired.ApplyOptions) (*desired.Result, error) {
		res, err := saved.Apply(ctx, a.client, ao)
		if errors.Is(err, desired.ErrNoSink) {
			return nil, usagef("the plan makes tokens and no sink was given for their secrets: add --deliver-dir DIR or --deliver-exec CMD (nothing was changed)")
		}
		if res == nil {
			return nil, staleExit(err)
		}
		return res, err
	})
}

// staleExit gives a stale plan's error its exit code.
func staleExit(err error) error {
	if errors.Is(err, desired.ErrStalePlan) {
		return exitError{exitStale, err}
	}
	return err
}
