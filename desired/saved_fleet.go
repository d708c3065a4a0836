package desired

// Saved plans of a fleet: one file for every instance planned, each
// instance's section a saved plan of its own, carried out exactly as it
// was made where nothing changed and refused, alone, where something did.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// ErrInstanceNotPlanned is matched by the error of an instance of a saved
// fleet plan that could not be planned (SavedFleetPlan.Apply and Check):
// the plan holds no actions for it, and nothing is sent to it.
var ErrInstanceNotPlanned = errors.New("the instance could not be planned when the plan was made")

// savedFleetDoc is a fleet's plan file: docs/JSON.md's plan shape over a
// fleet.
type savedFleetDoc struct {
	FormatVersion int               `json:"formatVersion"`
	File          json.RawMessage   `json:"file"`
	Instances     []fleetSectionDoc `json:"instances"`
	Checksum      string            `json:"checksum"`
}

// fleetSectionDoc is one instance's section of a fleet's plan file: the
// keys of a plan file of that instance (without the file, which is the
// fleet's as the instance sees it), or its error.
type fleetSectionDoc struct {
	Instance   string      `json:"instance"`
	BaseURL    string      `json:"baseURL"`
	PlannedAt  *time.Time  `json:"plannedAt"`
	Options    *optionsDoc `json:"options"`
	TokensSeen []seenDoc   `json:"tokensSeen"`
	Sink       *sinkDoc    `json:"sink"`
	Actions    []actionDoc `json:"actions"`
	Error      *string     `json:"error"`
}

// SavedFleetPlan is a fleet's plan as a file holds it: made by
// FleetPlan.Saved, written with json.Marshal, read back with
// ReadFleetPlan, LoadFleetPlan or json.Unmarshal, and carried out by
// Apply, each instance exactly as it was planned or, where something it
// relied on changed since, not at all (ErrStalePlan, that instance
// alone).
//
// Its JSON form (docs/JSON.md) holds formatVersion (PlanFormatVersion),
// the fleet's desired-state file with its instances section (URLs and
// where each key is read from, never a key), one section per instance
// planned, in the file's order, and a checksum of the whole, as a
// SavedPlan's. A section holds what a SavedPlan of that instance holds
// (its base URL, time, options, the fingerprints of the tokens it saw,
// what its sink held, its actions), or, for an instance that could not be
// planned, its error. Like a SavedPlan it holds no secret and nothing
// that authenticates.
type SavedFleetPlan struct {
	// Now reads the time for what Apply computes when it acts (see
	// SavedPlan.Now). Nil for time.Now.
	Now func() time.Time

	doc   savedFleetDoc
	file  *File
	plans []*SavedPlan // one per section; nil where it has an error
}

// Saved returns the fleet's plan as a file holds it, with each instance
// that could not be planned marked with its error. The plan must come
// from NewFleetPlan (or SavedFleetPlan.Check).
func (fp *FleetPlan) Saved() (*SavedFleetPlan, error) {
	if fp == nil || fp.file == nil || fp.fleet == nil {
		return nil, fmt.Errorf("desired: FleetPlan.Saved: %w: a plan made by NewFleetPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	if len(fp.file.Instances) == 0 {
		return nil, fmt.Errorf("desired: FleetPlan.Saved: %w: the file names no instances: save each instance's plan (Plan.Saved)", unleashadmin.ErrInvalidArgument)
	}
	file, err := json.Marshal(fp.file)
	if err != nil {
		return nil, fmt.Errorf("desired: FleetPlan.Saved: %w", err)
	}
	s := &SavedFleetPlan{doc: savedFleetDoc{FormatVersion: PlanFormatVersion, File: file, Instances: make([]fleetSectionDoc, len(fp.Instances))},
		file: fp.file, plans: make([]*SavedPlan, len(fp.Instances))}
	for i, ip := range fp.Instances {
		sec := fleetSectionDoc{Instance: ip.Instance}
		if ip.Plan == nil {
			msg := "not planned"
			if err := ip.Err; err != nil {
				var ie *InstanceError
				if errors.As(err, &ie) && ie.Instance == ip.Instance {
					err = ie.Err
				}
				msg = strings.TrimPrefix(err.Error(), "desired: ")
			}
			sec.Error = &msg
			if c := fp.fleet[ip.Instance]; c != nil {
				sec.BaseURL = c.BaseURL()
			}
			s.doc.Instances[i] = sec
			continue
		}
		sp, err := ip.Plan.Saved()
		if err != nil {
			return nil, fmt.Errorf("desired: FleetPlan.Saved: instance %s: %w", ip.Instance, err)
		}
		d := sp.doc
		sec.BaseURL, sec.PlannedAt, sec.Options, sec.TokensSeen, sec.Sink, sec.Actions = d.BaseURL, &d.PlannedAt, &d.Options, d.TokensSeen, &d.Sink, d.Actions
		s.doc.Instances[i], s.plans[i] = sec, sp
	}
	return s, nil
}

// File returns a copy of the fleet's desired-state file, with its
// instances section, to compare with your own copy of that file. Do not
// make the Fleet that applies the plan from it: a plan file's checksum is
// integrity, not authenticity, and whoever can write the file could point
// an instance's key at another URL. Make the Fleet from the desired-state
// file you trust (NewFleet), after checking that it is the plan's, as
// `unleash-tokens apply -f FILE PLANFILE` does.
func (s *SavedFleetPlan) File() *File {
	if s == nil {
		return nil
	}
	return cloneFile(s.file)
}

// cloneFile is a copy of f that shares nothing with it.
func cloneFile(f *File) *File {
	if f == nil {
		return nil
	}
	c := *f
	c.Instances = slices.Clone(f.Instances)
	c.Tokens = slices.Clone(f.Tokens)
	for i := range c.Tokens {
		c.Tokens[i].Projects = slices.Clone(c.Tokens[i].Projects)
		c.Tokens[i].Instances = slices.Clone(c.Tokens[i].Instances)
		if r := c.Tokens[i].Retire; r != nil {
			rr := *r
			c.Tokens[i].Retire = &rr
		}
	}
	return &c
}

// Instances returns the names of the instances the plan covers, in the
// file's order, those that could not be planned included.
func (s *SavedFleetPlan) Instances() []string {
	if s == nil {
		return nil
	}
	names := make([]string, len(s.doc.Instances))
	for i, sec := range s.doc.Instances {
		names[i] = sec.Instance
	}
	return names
}

// Plan returns the saved plan of the instance named name. For an instance
// that could not be planned the error matches ErrInstanceNotPlanned and
// says why; for a name the plan does not cover,
// unleashadmin.ErrInvalidArgument.
func (s *SavedFleetPlan) Plan(name string) (*SavedPlan, error) {
	i := s.section(name)
	switch {
	case i < 0:
		return nil, fmt.Errorf("desired: %w: the plan has no instance %s (it has %s)", unleashadmin.ErrInvalidArgument, quote(name), strings.Join(s.Instances(), ", "))
	case s.plans[i] == nil:
		return nil, fmt.Errorf("desired: %w (%s); nothing is sent to it: make a new plan", ErrInstanceNotPlanned, *s.doc.Instances[i].Error)
	}
	sp := *s.plans[i]
	sp.Now = s.Now
	return &sp, nil
}

func (s *SavedFleetPlan) section(name string) int {
	if s == nil {
		return -1
	}
	return slices.IndexFunc(s.doc.Instances, func(sec fleetSectionDoc) bool { return sec.Instance == name })
}

// MarshalJSON writes the plan file, with its checksum.
func (s SavedFleetPlan) MarshalJSON() ([]byte, error) {
	if s.file == nil {
		return nil, fmt.Errorf("desired: SavedFleetPlan: %w: a plan from FleetPlan.Saved or ReadFleetPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	doc := s.doc
	doc.Checksum = ""
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	if err := decodeJSON(data, &v, false); err != nil {
		return nil, err
	}
	if doc.Checksum, err = checksumOf(v); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// UnmarshalJSON reads a fleet's plan file as ReadFleetPlan does.
func (s *SavedFleetPlan) UnmarshalJSON(data []byte) error {
	got, err := ReadFleetPlan(data)
	if err != nil {
		return err
	}
	*s = *got
	return nil
}

// LoadFleetPlan reads the fleet's plan file at path (ReadFleetPlan). An
// error names the file; one about its content matches ErrInvalidPlanFile.
func LoadFleetPlan(path string) (*SavedFleetPlan, error) { return loadPlanFile(path, ReadFleetPlan) }

// IsFleetPlan reports whether data is a fleet's plan file, by its shape
// alone (an object with instances): ReadFleetPlan is for those, ReadPlan
// for the others. It checks nothing else.
func IsFleetPlan(data []byte) bool {
	var v map[string]json.RawMessage
	if json.Unmarshal(data, &v) != nil {
		return false
	}
	_, ok := v["instances"]
	return ok
}

// ReadFleetPlan reads a fleet's plan file, as json.Marshal of a
// SavedFleetPlan (or `unleash-tokens plan -f FLEETFILE -out`) wrote it.
// It sends nothing. It refuses what ReadPlan refuses, with the same
// errors (ErrInvalidPlanFile), and a file whose sections do not fit its
// file: an instance the file does not name, or named twice, or out of the
// file's order, a base URL that is not the instance's URL, a section with
// both actions and an error. A plan of one instance is refused: read it
// with ReadPlan. The instances to apply it to come from the caller's own
// desired-state file, never from the plan file (see File).
func ReadFleetPlan(data []byte) (*SavedFleetPlan, error) {
	v, err := readPlanHead(data)
	if err != nil {
		return nil, err
	}
	if _, fleet := v["instances"]; !fleet {
		return nil, badPlan("a plan of one instance (it has no instances): read it with ReadPlan")
	}
	var doc savedFleetDoc
	if err := decodeJSON(data, &doc, true); err != nil {
		return nil, badPlan("not a fleet's plan file of format %d: %s", PlanFormatVersion, jsonProblem(err))
	}
	s := &SavedFleetPlan{doc: doc}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// load checks the decoded document and loads each section as a plan file
// of its instance.
func (s *SavedFleetPlan) load() error {
	d := &s.doc
	var raw bytes.Buffer
	if err := json.Compact(&raw, d.File); err != nil {
		return badPlan("file is not JSON")
	}
	f, err := Parse(raw.Bytes())
	if err != nil {
		return badPlan("file is not a desired-state file: %v", err)
	}
	if len(f.Instances) == 0 {
		return badPlan("file names no instances")
	}
	if len(d.Instances) == 0 {
		return badPlan("instances is empty")
	}
	s.file, s.plans = f, make([]*SavedPlan, len(d.Instances))
	last := -1
	for i, sec := range d.Instances {
		at := f.instance(sec.Instance)
		switch {
		case at < 0:
			return badPlan("instances[%d]: an instance the file does not name", i)
		case at <= last:
			return badPlan("instances[%d]: named twice, or not in the file's order", i)
		}
		last = at
		c, err := unleashadmin.NewClientWithoutKey(f.Instances[at].URL)
		if err != nil || c.BaseURL() != sec.BaseURL {
			return badPlan("instances[%d]: baseURL is not the URL of its instance in the file", i)
		}
		if sec.Error != nil {
			if *sec.Error == "" || sec.PlannedAt != nil || sec.Options != nil || sec.TokensSeen != nil || sec.Sink != nil || sec.Actions != nil {
				return badPlan("instances[%d]: an error must be alone, and not empty", i)
			}
			continue
		}
		if sec.PlannedAt == nil || sec.Options == nil || sec.Sink == nil {
			return badPlan("instances[%d]: plannedAt, options or sink is missing", i)
		}
		one, err := f.ForInstance(sec.Instance)
		if err != nil {
			return badPlan("instances[%d]: %v", i, err)
		}
		file, err := json.Marshal(one)
		if err != nil {
			return badPlan("instances[%d]: %v", i, err)
		}
		sp := &SavedPlan{doc: savedDoc{FormatVersion: PlanFormatVersion, BaseURL: sec.BaseURL, PlannedAt: *sec.PlannedAt, Options: *sec.Options,
			File: file, TokensSeen: sec.TokensSeen, Sink: *sec.Sink, Actions: sec.Actions}}
		if err := sp.load(); err != nil {
			var pe *planFileError
			if errors.As(err, &pe) {
				return badPlan("instances[%d]: %s", i, pe.msg)
			}
			return err
		}
		s.plans[i] = sp
	}
	return nil
}

// pick returns the sections of names (nil for all) in the plan's order,
// each with a client in fleet when it was planned.
func (s *SavedFleetPlan) pick(fleet Fleet, names []string) ([]int, error) {
	if s == nil || s.file == nil {
		return nil, fmt.Errorf("%w: a plan from FleetPlan.Saved or ReadFleetPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	if names != nil && len(names) == 0 {
		return nil, fmt.Errorf("%w: no instances named", unleashadmin.ErrInvalidArgument)
	}
	for i, name := range names {
		if s.section(name) < 0 {
			return nil, fmt.Errorf("%w: the plan has no instance %s (it has %s)", unleashadmin.ErrInvalidArgument, quote(name), strings.Join(s.Instances(), ", "))
		}
		if slices.Contains(names[:i], name) {
			return nil, fmt.Errorf("%w: instance %s named twice", unleashadmin.ErrInvalidArgument, name)
		}
	}
	var out []int
	for i, sec := range s.doc.Instances {
		if names != nil && !slices.Contains(names, sec.Instance) {
			continue
		}
		if s.plans[i] != nil && fleet[sec.Instance] == nil {
			return nil, fmt.Errorf("%w: the fleet has no client for instance %s", unleashadmin.ErrInvalidArgument, quote(sec.Instance))
		}
		out = append(out, i)
	}
	return out, nil
}

// Check checks each instance of names (nil for all the plan covers) as
// SavedPlan.Check does, up to ao.Parallel at once, with the sink of
// ao.ApplyOptions, and returns the plans Apply would carry out. It changes
// nothing. An instance that is stale has an error matching ErrStalePlan,
// one that could not be planned ErrInstanceNotPlanned (and nothing is
// sent to it); the error returned joins them. A mistake (a name the plan
// does not cover, a planned instance without a client) is an error
// matching unleashadmin.ErrInvalidArgument, with a nil plan.
func (s *SavedFleetPlan) Check(ctx context.Context, fleet Fleet, names []string, ao FleetApplyOptions) (*FleetPlan, error) {
	picked, err := s.pick(fleet, names)
	if err != nil {
		return nil, fmt.Errorf("desired: SavedFleetPlan.Check: %w", err)
	}
	limit, err := parallel(ao.Parallel)
	if err != nil {
		return nil, fmt.Errorf("desired: SavedFleetPlan.Check: %w", err)
	}
	fp := &FleetPlan{Instances: make([]InstancePlan, len(picked)), fleet: fleet, file: s.file}
	each(len(picked), limit, func(k int) {
		name := s.doc.Instances[picked[k]].Instance
		fp.Instances[k].Instance = name
		sp, err := s.Plan(name)
		if err == nil {
			fp.Instances[k].Plan, err = sp.Check(ctx, fleet[name], ao.applyOptions(name))
		}
		fp.Instances[k].Err = instanceErr(name, err)
	})
	return fp, fp.Err()
}

// Apply carries out the saved plan on each instance of names (nil for all
// the plan covers), up to ao.Parallel at once, each as SavedPlan.Apply
// does with its client in fleet and its ApplyOptions (its own sink, and
// that sink's lock): an instance where nothing the plan relied on changed
// gets exactly its saved actions; one where something changed is refused
// alone, nothing changed there, with an error matching ErrStalePlan; one
// that could not be planned when the plan was made is skipped, nothing
// sent to it, with an error matching ErrInstanceNotPlanned.
//
// It returns as FleetPlan.Apply does: the error joins the instances'
// errors (each an *InstanceError), and InstanceResult.Result is nil
// where nothing was changed. A mistake (a name the plan does not cover,
// a planned instance without a client, a bad option) is an error matching
// unleashadmin.ErrInvalidArgument, with a nil FleetResult, and nothing is
// sent anywhere.
func (s *SavedFleetPlan) Apply(ctx context.Context, fleet Fleet, names []string, ao FleetApplyOptions) (*FleetResult, error) {
	picked, err := s.pick(fleet, names)
	if err != nil {
		return nil, fmt.Errorf("desired: SavedFleetPlan.Apply: %w", err)
	}
	limit, err := parallel(ao.Parallel)
	if err != nil {
		return nil, fmt.Errorf("desired: SavedFleetPlan.Apply: %w", err)
	}
	res := &FleetResult{Instances: make([]InstanceResult, len(picked))}
	each(len(picked), limit, func(k int) {
		name := s.doc.Instances[picked[k]].Instance
		res.Instances[k].Instance = name
		sp, err := s.Plan(name)
		if err != nil {
			res.Instances[k].Err = instanceErr(name, err)
			return
		}
		r, err := sp.Apply(ctx, fleet[name], ao.applyOptions(name))
		res.Instances[k].Result, res.Instances[k].Err = r, instanceErr(name, err)
	})
	return res, res.Err()
}
