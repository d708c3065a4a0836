package desired

// Plans, applies and exports over a fleet: each instance on its own, as
// for one, several at once; one that fails holds up no other.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/seed8b9e94f4/unleashadmin"
)

// DefaultParallelInstances is how many instances of a fleet are worked on
// at once when the Parallel of FleetOptions, FleetApplyOptions or
// FleetExportOptions is zero. Within an instance, ApplyOptions.Parallel
// bounds the entries.
const DefaultParallelInstances = 8

// FleetOptions says how a fleet is planned.
type FleetOptions struct {
	// Instances are the instances planned; nil for all: the file's
	// instances, in its order, or for a file without instances every
	// client of the fleet, by name. Either way they are planned (and
	// reported) in the file's order.
	Instances []string
	// Parallel bounds how many instances are planned at once; zero for
	// DefaultParallelInstances.
	Parallel int
	// Options returns the options of one instance's plan (its sink's
	// Reader, say); nil for the zero Options everywhere. Each instance
	// keeps its own rules all the same: the default environment is read
	// from each (unless Options.DefaultEnvironment says it), its version
	// and storage mode are its own.
	Options func(instance string) Options
}

func (o FleetOptions) options(name string) Options {
	if o.Options == nil {
		return Options{}
	}
	return o.Options(name)
}

// parallel is n, or DefaultParallelInstances for zero; negative is an
// error.
func parallel(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("desired: %w: Parallel %d is negative", unleashadmin.ErrInvalidArgument, n)
	}
	return cmp.Or(n, DefaultParallelInstances), nil
}

// each calls do(i) for i in [0, n), at most limit at once, and returns
// when all have returned.
func each(n, limit int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(limit, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		})
	}
	wg.Wait()
}

// InstancePlan is the plan of one instance of a fleet, or why there is
// none.
type InstancePlan struct {
	// Instance is the instance's name.
	Instance string
	// Plan is its plan; nil when Err is set.
	Plan *Plan
	// Err is why the instance could not be planned (it could not be
	// reached, refused the key, ...): an *InstanceError.
	Err error
}

// FleetPlan is what applying a file would do to each instance of a fleet:
// one plan per instance, in the order of FleetOptions.Instances (the
// file's). Its printed form (every fmt verb, slog and json.Marshal)
// redacts every secret.
type FleetPlan struct {
	Instances []InstancePlan

	fleet Fleet
	file  *File // the fleet's file, for Saved
}

// NewFleetPlan plans f for each instance of fleet (FleetOptions.Instances),
// up to FleetOptions.Parallel at once: NewPlan of the instance's file
// (File.ForInstance) with its client, which reads it once (one list
// request, and its settings when an entry names no environment).
//
// f is checked first (File.Validate), and the instances named: a mistake
// is an error matching unleashadmin.ErrInvalidArgument, with a nil plan,
// and nothing is sent. An instance that cannot be planned fails alone:
// its InstancePlan holds the error, the others are planned, and the error
// returned joins the failures (each an *InstanceError); nil when every
// instance was planned.
func NewFleetPlan(ctx context.Context, fleet Fleet, f *File, opts FleetOptions) (*FleetPlan, error) {
	names, files, err := fleetNames(fleet, f, opts.Instances)
	if err != nil {
		return nil, fmt.Errorf("desired: NewFleetPlan: %w", err)
	}
	limit, err := parallel(opts.Parallel)
	if err != nil {
		return nil, fmt.Errorf("desired: NewFleetPlan: %w", err)
	}
	fp := &FleetPlan{Instances: make([]InstancePlan, len(names)), fleet: fleet, file: cloneFile(f)}
	each(len(names), limit, func(i int) {
		p, err := NewPlan(ctx, fleet[names[i]], files[i], opts.options(names[i]))
		fp.Instances[i] = InstancePlan{Instance: names[i], Plan: p, Err: instanceErr(names[i], err)}
	})
	return fp, fp.Err()
}

// Err joins the errors of the instances that could not be planned; nil
// when every one was.
func (fp *FleetPlan) Err() error {
	var errs []error
	for _, ip := range fp.Instances {
		errs = append(errs, ip.Err)
	}
	return errors.Join(errs...)
}

// Changes returns how many actions of all the plans change something.
func (fp *FleetPlan) Changes() int {
	n := 0
	for _, ip := range fp.Instances {
		if ip.Plan != nil {
			n += ip.Plan.Changes()
		}
	}
	return n
}

// Empty reports whether no plan changes anything.
func (fp *FleetPlan) Empty() bool { return fp.Changes() == 0 }

// Format prints each instance's plan, each action on a line after its
// instance's name ("eu: create checkout: ..."), secrets redacted.
func (fp FleetPlan) Format(f fmt.State, verb rune) {
	for i, ip := range fp.Instances {
		if i > 0 {
			_, _ = f.Write([]byte("\n"))
		}
		if ip.Plan == nil {
			fmt.Fprintf(f, "%s: not planned: %v", ip.Instance, ip.Err)
			continue
		}
		if len(ip.Plan.Actions) == 0 {
			fmt.Fprintf(f, "%s: no tokens", ip.Instance)
		}
		for j, a := range ip.Plan.Actions {
			if j > 0 {
				_, _ = f.Write([]byte("\n"))
			}
			fmt.Fprintf(f, "%s: ", ip.Instance)
			a.Format(f, verb)
		}
	}
}

// LogValue logs each instance's plan, secrets redacted.
func (fp FleetPlan) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(fp.Instances))
	for _, ip := range fp.Instances {
		if ip.Plan == nil {
			attrs = append(attrs, slog.String(ip.Instance, fmt.Sprint("not planned: ", ip.Err)))
			continue
		}
		attrs = append(attrs, slog.Any(ip.Instance, *ip.Plan))
	}
	return slog.GroupValue(attrs...)
}

// fleetPartJSON is one instance of a fleet's plan, result or export in
// JSON.
type fleetPartJSON struct {
	Instance string          `json:"instance"`
	Actions  []Action        `json:"actions,omitempty"`
	Outcomes *[]ActionResult `json:"outcomes,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// MarshalJSON writes {"instances":[{"instance":"eu","actions":[...]},
// {"instance":"us","error":"..."}]}, secrets redacted.
func (fp FleetPlan) MarshalJSON() ([]byte, error) {
	out := make([]fleetPartJSON, len(fp.Instances))
	for i, ip := range fp.Instances {
		out[i].Instance = ip.Instance
		if ip.Err != nil {
			out[i].Error = ip.Err.Error()
		}
		if ip.Plan != nil {
			out[i].Actions = ip.Plan.Actions
			if out[i].Actions == nil {
				out[i].Actions = []Action{}
			}
		}
	}
	return json.Marshal(struct {
		Instances []fleetPartJSON `json:"instances"`
	}{out})
}

// FleetApplyOptions says how a fleet is applied.
type FleetApplyOptions struct {
	// Parallel bounds how many instances are applied at once; zero for
	// DefaultParallelInstances.
	Parallel int
	// ApplyOptions returns the ApplyOptions of one instance: its Sink
	// above all (a DirSink of a directory of its own, an ExecSink with
	// the instance's environment: File.SinkEnv), and its Observer and
	// Progress, which are told of that instance's steps and results.
	ApplyOptions func(instance string) ApplyOptions
}

func (o FleetApplyOptions) applyOptions(name string) ApplyOptions {
	if o.ApplyOptions == nil {
		return ApplyOptions{}
	}
	return o.ApplyOptions(name)
}

// InstanceResult is what Apply did on one instance of a fleet.
type InstanceResult struct {
	// Instance is the instance's name.
	Instance string
	// Result is what Plan.Apply did there; nil when nothing was changed
	// (the instance could not be planned or re-read, no sink, ...).
	Result *Result
	// Err is the instance's error, nil when every action was done: an
	// *InstanceError holding Plan.Apply's error (or the plan's).
	Err error
}

// FleetResult is what applying a fleet did, one InstanceResult per
// instance, in the plan's order. Its printed form redacts every secret.
type FleetResult struct {
	Instances []InstanceResult
}

// Failed returns the results of the instances that failed, wholly or in
// part.
func (r *FleetResult) Failed() []InstanceResult {
	var out []InstanceResult
	for _, ir := range r.Instances {
		if ir.Err != nil {
			out = append(out, ir)
		}
	}
	return out
}

// Err joins the errors of the instances; nil when every action of every
// instance was done.
func (r *FleetResult) Err() error {
	var errs []error
	for _, ir := range r.Instances {
		errs = append(errs, ir.Err)
	}
	return errors.Join(errs...)
}

// Format prints each action's result on a line after its instance's name,
// secrets redacted.
func (r FleetResult) Format(f fmt.State, verb rune) {
	for i, ir := range r.Instances {
		if i > 0 {
			_, _ = f.Write([]byte("\n"))
		}
		if ir.Result == nil {
			fmt.Fprintf(f, "%s: nothing changed: %v", ir.Instance, ir.Err)
			continue
		}
		if len(ir.Result.Outcomes) == 0 {
			fmt.Fprintf(f, "%s: nothing to do", ir.Instance)
		}
		for j, o := range ir.Result.Outcomes {
			if j > 0 {
				_, _ = f.Write([]byte("\n"))
			}
			fmt.Fprintf(f, "%s: ", ir.Instance)
			o.Format(f, verb)
		}
	}
}

// LogValue logs each instance's results, secrets redacted.
func (r FleetResult) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(r.Instances))
	for _, ir := range r.Instances {
		if ir.Result == nil {
			attrs = append(attrs, slog.String(ir.Instance, fmt.Sprint("nothing changed: ", ir.Err)))
			continue
		}
		attrs = append(attrs, slog.Any(ir.Instance, *ir.Result))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes {"instances":[{"instance":"eu","outcomes":[...],
// "error":"..."}]}, secrets redacted; "outcomes" is left out for an
// instance where nothing was changed.
func (r FleetResult) MarshalJSON() ([]byte, error) {
	out := make([]fleetPartJSON, len(r.Instances))
	for i, ir := range r.Instances {
		out[i].Instance = ir.Instance
		if ir.Err != nil {
			out[i].Error = ir.Err.Error()
		}
		if ir.Result != nil {
			outcomes := ir.Result.Outcomes
			if outcomes == nil {
				outcomes = []ActionResult{}
			}
			out[i].Outcomes = &outcomes
		}
	}
	return json.Marshal(struct {
		Instances []fleetPartJSON `json:"instances"`
	}{out})
}

// Apply applies each instance's plan (Plan.Apply, which re-reads the
// instance and plans again), up to FleetApplyOptions.Parallel instances at
// once; an instance that was not planned is not applied, and keeps its
// error. Each instance fails alone: one that cannot be re-read, refuses
// the key or fails mid-apply fails its own actions only.
//
// The error is nil when every action of every instance was done;
// otherwise it joins the instances' errors (each an *InstanceError), and
// FleetResult says what was done where. A bad option is an error matching
// unleashadmin.ErrInvalidArgument, with a nil FleetResult.
func (fp *FleetPlan) Apply(ctx context.Context, ao FleetApplyOptions) (*FleetResult, error) {
	if fp == nil || fp.fleet == nil {
		return nil, fmt.Errorf("desired: FleetPlan.Apply: %w: a plan made by NewFleetPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	limit, err := parallel(ao.Parallel)
	if err != nil {
		return nil, fmt.Errorf("desired: FleetPlan.Apply: %w", err)
	}
	res := &FleetResult{Instances: make([]InstanceResult, len(fp.Instances))}
	each(len(fp.Instances), limit, func(i int) {
		ip := fp.Instances[i]
		res.Instances[i] = InstanceResult{Instance: ip.Instance, Err: ip.Err}
		if ip.Plan == nil {
			return
		}
		r, err := ip.Plan.Apply(ctx, ao.applyOptions(ip.Instance))
		res.Instances[i].Result, res.Instances[i].Err = r, instanceErr(ip.Instance, err)
	})
	return res, res.Err()
}

// ApplyFleet applies f on each instance of fleet, each on its own, so that
// one that is slow to answer holds up no other: it is NewFleetPlan and
// FleetPlan.Apply without waiting for every plan, and reading each
// instance once: Plan.Apply's read of the tokens (and of the sink), under
// the sink's lock, which the plan it carries out is made from
// (InstanceResult.Result.Plan); the server's settings are read before it
// when an entry names no environment. Up to FleetApplyOptions.Parallel
// instances (zero: the Parallel of opts, else DefaultParallelInstances)
// are worked on at once. It returns as FleetPlan.Apply does.
func ApplyFleet(ctx context.Context, fleet Fleet, f *File, opts FleetOptions, ao FleetApplyOptions) (*FleetResult, error) {
	names, files, err := fleetNames(fleet, f, opts.Instances)
	if err != nil {
		return nil, fmt.Errorf("desired: ApplyFleet: %w", err)
	}
	if _, err := parallel(opts.Parallel); err != nil {
		return nil, fmt.Errorf("desired: ApplyFleet: %w", err)
	}
	limit, err := parallel(cmp.Or(ao.Parallel, opts.Parallel))
	if err != nil {
		return nil, fmt.Errorf("desired: ApplyFleet: %w", err)
	}
	res := &FleetResult{Instances: make([]InstanceResult, len(names))}
	each(len(names), limit, func(i int) {
		name := names[i]
		res.Instances[i].Instance = name
		p, err := unreadPlan(ctx, fleet[name], files[i], opts.options(name))
		if err != nil {
			res.Instances[i].Err = instanceErr(name, err)
			return
		}
		r, err := p.Apply(ctx, ao.applyOptions(name))
		res.Instances[i].Result, res.Instances[i].Err = r, instanceErr(name, err)
	})
	return res, res.Err()
}

// unreadPlan is the plan ApplyFleet hands Plan.Apply for one instance:
// checked as NewPlan checks it, with the server's default environment when
// an entry needs it, and no actions yet: Apply reads the tokens and plans
// from what it finds.
func unreadPlan(ctx context.Context, c *unleashadmin.Client, f *File, opts Options) (*Plan, error) {
	switch {
	case opts.GracePeriod < 0:
		return nil, fmt.Errorf("desired: NewPlan: %w: GracePeriod %s is negative", unleashadmin.ErrInvalidArgument, opts.GracePeriod)
	case opts.Settle < 0:
		return nil, fmt.Errorf("desired: NewPlan: %w: Settle %s is negative", unleashadmin.ErrInvalidArgument, opts.Settle)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("desired: NewPlan: %w", err)
	}
	p := &Plan{file: f, client: c, opts: opts, DefaultEnvironment: opts.DefaultEnvironment}
	if err := p.readSettings(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// FleetExportOptions says which tokens ExportFleet writes into a file, and
// from which instances.
type FleetExportOptions struct {
	// ExportOptions are each instance's (Export).
	ExportOptions
	// Instances are the instances exported; nil for all of the file's.
	Instances []string
	// Parallel bounds how many instances are read at once; zero for
	// DefaultParallelInstances.
	Parallel int
}

// InstanceExport is what Export made of one instance of a fleet.
type InstanceExport struct {
	// Instance is the instance's name.
	Instance string
	// Result is Export's result for the instance: its own file, the names
	// it left out, and the tokens the first apply retires there. Nil when
	// Err is set.
	Result *ExportResult
	// Err is why the instance could not be read: an *InstanceError.
	Err error
}

// FleetExportResult is what ExportFleet made of a fleet's tokens.
type FleetExportResult struct {
	// File is the one file of every exported instance, or nil when one
	// of them could not be read: its instances section holds those
	// instances, as the given file names them; an entry stands for each
	// name and scope, with the instances that have it (none when every
	// instance has it). A name with different scopes on different
	// instances has one entry per scope. Backend and client are one type,
	// as for a plan: where instances list a name as both, its entry is
	// backend.
	File *File
	// Instances are each instance's export, in the file's order.
	Instances []InstanceExport
}

// ExportFleet exports each instance of fleet named by f's instances
// section (FleetExportOptions.Instances, else all of them), up to
// FleetExportOptions.Parallel at once (Export: one list request each), and
// merges the files into one: per-instance entries where the instances
// differ. A plan of File against each instance, as against the instance
// alone with its own Export, creates, rotates and replaces nothing, and
// retires what that instance's Retires name.
//
// The file is whole or missing: when an instance cannot be read, File is
// nil, the error joins the failures (each an *InstanceError), and
// Instances says what was read where. f is read for its instances alone,
// which it must have (an error matching unleashadmin.ErrInvalidArgument
// otherwise). It changes nothing.
func ExportFleet(ctx context.Context, fleet Fleet, f *File, opts FleetExportOptions) (*FleetExportResult, error) {
	if f != nil && len(f.Instances) == 0 {
		return nil, fmt.Errorf("desired: ExportFleet: %w: the file names no instances", unleashadmin.ErrInvalidArgument)
	}
	names, _, err := fleetNames(fleet, f, opts.Instances)
	if err != nil {
		return nil, fmt.Errorf("desired: ExportFleet: %w", err)
	}
	limit, err := parallel(opts.Parallel)
	if err != nil {
		return nil, fmt.Errorf("desired: ExportFleet: %w", err)
	}
	res := &FleetExportResult{Instances: make([]InstanceExport, len(names))}
	each(len(names), limit, func(i int) {
		r, err := Export(ctx, fleet[names[i]], opts.ExportOptions)
		res.Instances[i] = InstanceExport{Instance: names[i], Result: r, Err: instanceErr(names[i], err)}
	})
	var errs []error
	for _, ie := range res.Instances {
		errs = append(errs, ie.Err)
	}
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	instances := make([]Instance, len(names))
	for i, name := range names {
		instances[i] = f.Instances[f.instance(name)]
		instances[i].Line = 0
	}
	if res.File, err = mergeExports(instances, res.Instances); err != nil {
		return nil, err
	}
	return res, nil
}

// mergeExports makes one file of the exports of instances: for each name,
// in byte order, one entry per scope, in the order of the first instance
// that has it, naming the instances that have it unless all do.
func mergeExports(instances []Instance, exports []InstanceExport) (*File, error) {
	type group struct {
		entry     Entry
		instances []string
	}
	byName := map[string][]*group{}
	var order []string
	for i, ie := range exports {
		for _, e := range ie.Result.File.Tokens {
			groups := byName[e.Name]
			if groups == nil {
				order = append(order, e.Name)
			}
			k := slices.IndexFunc(groups, func(g *group) bool { return sameScope(&g.entry, &e) })
			if k < 0 {
				groups = append(groups, &group{entry: e})
				k = len(groups) - 1
			}
			g := groups[k]
			if e.Type == unleashadmin.TokenTypeBackend {
				g.entry.Type = e.Type // a backend token is listed as client but under secure storage
			}
			g.instances = append(g.instances, instances[i].Name)
			byName[e.Name] = groups
		}
	}
	slices.Sort(order)
	out := &File{Instances: instances, Tokens: []Entry{}}
	for _, name := range order {
		for _, g := range byName[name] {
			e := g.entry
			e.Line, e.Instances = 0, nil
			if len(g.instances) < len(instances) {
				e.Instances = g.instances
			}
			out.Tokens = append(out.Tokens, e)
		}
	}
	if err := out.Validate(); err != nil {
		// Each export validates, and scopes of one name are on different
		// instances: this is a bug.
		return nil, fmt.Errorf("desired: ExportFleet: the merged file does not validate: %w", err)
	}
	return out, nil
}

// sameScope reports whether two exported entries of one name have one
// scope, backend and client being one type.
func sameScope(a, b *Entry) bool {
	class := func(t unleashadmin.TokenType) unleashadmin.TokenType {
		if t == unleashadmin.TokenTypeBackend {
			return unleashadmin.TokenTypeClient
		}
		return t
	}
	return class(a.Type) == class(b.Type) && a.Environment == b.Environment && slices.Equal(a.Projects, b.Projects)
}
