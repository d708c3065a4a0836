package main

// A fleet's saved plan: plan -f FLEETFILE -out PLANFILE writes one plan of
// every instance planned, and apply PLANFILE carries out each instance's
// saved actions where nothing it relied on changed, and refuses, alone,
// each instance where something did.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// applyFleetPlanFile is apply PLANFILE of a fleet's plan (data, read from
// path): each instance's section checked against the instance under its
// own sink's lock, applied when fresh, refused when stale; or, with
// dryRun, checked and printed. Exit 10 when an instance failed (or was not
// planned), else 11 when one was stale.
func applyFleetPlanFile(ctx context.Context, a *app, d *desiredFlags, path string, data []byte, execCmd string, parallel int, dryRun bool) error {
	saved, err := desired.ReadFleetPlan(data)
	if err != nil {
		return fmt.Errorf("PLANFILE %s: %w", path, err)
	}
	// Where each key goes is never taken from a plan file, which anyone who
	// can write it can change (its checksum is integrity, not
	// authenticity): the instances (URLs, and where their keys are read
	// from) come from the desired-state file, which must match the plan's.
	if *d.file == "" {
		return usagef("a fleet's PLANFILE is applied with -f FILE, the desired-state file it was made from: the instances and where their keys are read from are taken from that file, never from the plan file")
	}
	{
		f, err := desired.ReadFile(*d.file)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return usagef("-f: %v", err)
		}
		if err != nil {
			return err
		}
		if !f.Equal(saved.File()) {
			return exitError{exitStale, fmt.Errorf("%w: it was made from another version of %s (its instances, entries or prune rule differ); nothing was sent: make a new plan", desired.ErrStalePlan, *d.file)}
		}
	}
	all := saved.Instances()
	names := all
	if len(d.fleet.instances) > 0 {
		for i, name := range d.fleet.instances {
			if !slices.Contains(all, name) {
				return usagef("--instance \"%s\": the plan has no such instance (it has %s)", name, strings.Join(all, ", "))
			}
			if slices.Contains(d.fleet.instances[:i], name) {
				return usagef("--instance \"%s\" is given twice", name)
			}
		}
		names = slices.DeleteFunc(slices.Clone(all), func(n string) bool { return !slices.Contains(d.fleet.instances, n) })
	}
	// The shape is docs/JSON.md's, which ReadFleetPlan has just checked.
	var doc struct {
		Instances []struct {
			Instance string  `json:"instance"`
			Error    *string `json:"error"`
			Sink     *struct {
				Read bool `json:"read"`
			} `json:"sink"`
			Actions []struct {
				Action desired.ActionKind `json:"action"`
			} `json:"actions"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	readable := *d.dir != "" || *d.readExec != ""
	var planned, makers []string
	for _, sec := range doc.Instances {
		if sec.Error != nil || !slices.Contains(names, sec.Instance) {
			continue
		}
		planned = append(planned, sec.Instance)
		switch {
		case sec.Sink.Read && !readable:
			return usagef("the plan was made reading the sink (plan --deliver-dir or --read-exec): apply it with that sink, --deliver-dir DIR or --deliver-exec CMD with --read-exec CMD (nothing was sent)")
		case !sec.Sink.Read && readable:
			return usagef("the plan was made without reading the sink: make it with the sink this apply uses (plan --deliver-dir DIR, or plan --read-exec CMD), so that it keeps the tokens whose secrets the sink holds (nothing was sent)")
		}
		makes := 0
		for _, act := range sec.Actions {
			if (desired.Action{Kind: act.Action}).Makes() {
				makes++
			}
		}
		if makes > 0 {
			makers = append(makers, fmt.Sprintf("%d on %s", makes, sec.Instance))
		}
	}
	if !dryRun && len(makers) > 0 && *d.dir == "" && execCmd == "" {
		return usagef("the plan makes tokens (%s) and no sink was given for their secrets: add --deliver-dir DIR or --deliver-exec CMD (nothing was changed)", strings.Join(makers, ", "))
	}
	// Clients for the instances planned: keys read now, from where the
	// plan's file says; one missing exits 2 before anything is sent.
	fr := &fleetRun{file: saved.File(), fleet: desired.Fleet{}, parallel: d.fleet.parallel}
	if len(planned) > 0 {
		if fr, err = a.openFleet(saved.File(), &fleetFlags{instances: planned, parallel: d.fleet.parallel}); err != nil {
			return err
		}
		defer fr.fleet.CloseIdleConnections()
	}
	fr.names = names
	sinks, _, err := fr.sinks(a, *d.dir, execCmd, *d.readExec)
	if err != nil {
		return err
	}
	ao, settled := fleetApplyOptions(a, fr, sinks, parallel)
	if dryRun {
		fp, err := saved.Check(ctx, fr.fleet, names, desired.FleetApplyOptions{Parallel: fr.parallel,
			ApplyOptions: func(name string) desired.ApplyOptions { return desired.ApplyOptions{Sink: sinks[name]} }})
		if fp == nil {
			return err
		}
		if err := printFleetPlan(a, fr, fp); err != nil {
			return err
		}
		return checkFleetError(a, d, fp)
	}
	res, err := saved.Apply(ctx, fr.fleet, names, ao)
	if res == nil {
		return err
	}
	return reportFleetApply(a, fr, res, settled())
}

// checkFleetError names on stderr each instance of apply --dry-run
// PLANFILE that would not be applied, and returns the exit code: 10 when
// one was not planned or could not be read, else 11 when one is stale;
// else, with --detailed-exitcode, 8 when the plans have changes.
func checkFleetError(a *app, d *desiredFlags, fp *desired.FleetPlan) error {
	code, failed := 0, 0
	for _, ip := range fp.Instances {
		if ip.Err == nil {
			continue
		}
		failed++
		fmt.Fprintf(a.errOut, "unleash-tokens apply: %s\n", printable(strings.TrimPrefix(ip.Err.Error(), "desired: ")))
		if !errors.Is(ip.Err, desired.ErrStalePlan) {
			code = exitPartial
		} else if code == 0 {
			code = exitStale
		}
	}
	if code != 0 {
		return exitError{code, fmt.Errorf("%d of %d instances would not be applied (named above)", failed, len(fp.Instances))}
	}
	if *d.detailed && !fp.Empty() {
		return exitError{exitChanges, fmt.Errorf("the plans have %d changes", fp.Changes())}
	}
	return nil
}
