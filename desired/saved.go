package desired

// Saved plans: a plan written down (Plan.Saved, json.Marshal), reviewed,
// and carried out later exactly as it was written (SavedPlan.Apply), or
// not at all when what it relied on has changed.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
)

// PlanFormatVersion is the formatVersion of the plan files this package
// writes. ReadPlan reads this version and refuses any other, a newer one
// with a message that says so.
const PlanFormatVersion = 1

// MaxPlanBytes bounds the size of a plan file that ReadPlan and LoadPlan
// accept: a plan of 10,000 entries takes about 10 MiB.
const MaxPlanBytes = 32 << 20

var (
	// ErrStalePlan is matched by the error of SavedPlan.Apply and
	// SavedPlan.Check when something the saved plan relied on has changed
	// since it was made: a token of one of its names (or of its prune
	// prefix) was made, deleted, rotated or had its expiry moved, what the
	// sink holds for an entry changed, the plan retires the token of the
	// key in use, or the client is for another instance than the plan's.
	// Nothing was changed; make a new plan.
	ErrStalePlan = errors.New("the saved plan is stale")
	// ErrInvalidPlanFile is matched, together with
	// unleashadmin.ErrInvalidArgument, by the error of ReadPlan and
	// LoadPlan for data that is not a plan file this version can apply:
	// not JSON, cut short, of another formatVersion, changed after it was
	// written (its checksum does not match), or inconsistent.
	ErrInvalidPlanFile = errors.New("not a plan file this version can apply")
)

// planFileError is a plan file that cannot be applied. Its text names the
// file and the field, never a value of the file.
type planFileError struct {
	path, msg string
}

func (e *planFileError) Error() string {
	if e.path != "" {
		return "desired: plan file " + e.path + ": " + e.msg
	}
	return "desired: plan file: " + e.msg
}

func (e *planFileError) Is(target error) bool {
	return target == ErrInvalidPlanFile || target == unleashadmin.ErrInvalidArgument
}

func badPlan(format string, args ...any) error {
	return &planFileError{msg: fmt.Sprintf(format, args...)}
}

// What a sink held for an entry when the plan read it.
const (
	holdsNothing = "nothing" // no secret
	holdsToken   = "token"   // the secret of a listed token of the entry's name
	holdsOther   = "other"   // a secret of no listed token of the entry's name
)

// observed is what a plan relied on besides its file and options: the
// instance, every token of the plan's names and prune prefix (by
// fingerprint), and what the sink held for each entry.
type observed struct {
	baseURL string
	seen    []seenDoc // sorted by name, then fingerprint
	read    bool      // the sink was read
	held    []heldDoc // one per entry when read
	// holders are the tokens the sink held, one per entry (nil where it
	// held none of them), to bind a saved plan's actions.
	holders []*unleashadmin.APIToken
}

// inScope reports whether a token named name is one a plan of f looks at:
// one of its entries' names, or one with its prune prefix.
func inScope(f *File, listed map[string]bool, name string) bool {
	return listed[name] || f.Prune.NamePrefix != "" && strings.HasPrefix(name, f.Prune.NamePrefix)
}

func listedNames(f *File) map[string]bool {
	listed := make(map[string]bool, len(f.Tokens))
	for i := range f.Tokens {
		listed[f.Tokens[i].Name] = true
	}
	return listed
}

// observe records what a plan of f made from toks and held (nil when the
// sink was not read) relies on.
func observe(c *unleashadmin.Client, f *File, toks []unleashadmin.APIToken, held []heldSecret) *observed {
	o := &observed{baseURL: c.BaseURL(), read: held != nil, seen: []seenDoc{}}
	listed := listedNames(f)
	byName := map[string][]*unleashadmin.APIToken{}
	for i := range toks {
		t := &toks[i]
		if inScope(f, listed, t.TokenName) {
			o.seen = append(o.seen, seenDoc{Name: t.TokenName, Fingerprint: fingerprint(t)})
			byName[t.TokenName] = append(byName[t.TokenName], t)
		}
	}
	slices.SortFunc(o.seen, func(a, b seenDoc) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	if held == nil {
		o.held = []heldDoc{}
		return o
	}
	o.held = make([]heldDoc, len(f.Tokens))
	o.holders = make([]*unleashadmin.APIToken, len(f.Tokens))
	for i := range f.Tokens {
		name := f.Tokens[i].Name
		o.held[i] = heldDoc{Name: name, Holds: holdsNothing}
		if i >= len(held) || !held[i].ok {
			continue
		}
		o.held[i].Holds = holdsOther
		for _, t := range byName[name] {
			if sinkHolds(t, held[i].secret) {
				o.held[i].Holds, o.held[i].Fingerprint, o.holders[i] = holdsToken, unleashadmin.Ptr(fingerprint(t)), t
				break
			}
		}
	}
	return o
}

// fingerprint identifies a listed token, and what a plan saw of it,
// without anything that authenticates: the first 128 bits, in hex, of the
// SHA-256 of its name, type, environment, projects, creation and expiry,
// and of what tells it from a token alike in all these: its selector under
// secure token storage (not a credential), or a secret Unleash made (its
// random part 32 or more hex digits; Unleash's have 56, 224 random bits,
// which no one can guess to check against the hash). A secret of another
// shape (one chosen by hand, such as those INIT_ADMIN_API_TOKENS seeds)
// may be guessable and is left out.
func fingerprint(t *unleashadmin.APIToken) string {
	id := ""
	switch sel, ok := unleashadmin.Selector(t.Secret); {
	case ok:
		id = "selector " + sel
	case t.Secure:
		id = "selector " + t.Secret
	case madeSecret(t.Secret):
		id = "secret " + t.Secret
	}
	expires := ""
	if t.ExpiresAt != nil {
		expires = t.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	fields, _ := json.Marshal([]string{"unleash-tokens token fingerprint 1", t.TokenName, strings.ToLower(string(t.Type)),
		t.Environment, strings.Join(t.ProjectIDs(), ","), t.CreatedAt.UTC().Format(time.RFC3339Nano), expires, id})
	sum := sha256.Sum256(fields)
	return hex.EncodeToString(sum[:16])
}

// madeSecret reports whether secret has the shape of one Unleash made
// (default storage): a random part of 32 or more hex digits after the
// last dot.
func madeSecret(secret string) bool {
	random := secret[strings.LastIndexByte(secret, '.')+1:]
	if len(random) < 32 {
		return false
	}
	for i := 0; i < len(random); i++ {
		if c := random[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// The plan file: docs/JSON.md's plan shape, which plan -o json prints too.

type savedDoc struct {
	FormatVersion int             `json:"formatVersion"`
	BaseURL       string          `json:"baseURL"`
	PlannedAt     time.Time       `json:"plannedAt"`
	Options       optionsDoc      `json:"options"`
	File          json.RawMessage `json:"file"`
	TokensSeen    []seenDoc       `json:"tokensSeen"`
	Sink          sinkDoc         `json:"sink"`
	Actions       []actionDoc     `json:"actions"`
	Checksum      string          `json:"checksum"`
}

type optionsDoc struct {
	GracePeriod        *string `json:"gracePeriod"`
	Settle             string  `json:"settle"`
	RotateUndelivered  bool    `json:"rotateUndelivered"`
	DefaultEnvironment *string `json:"defaultEnvironment"`
}

type seenDoc struct {
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
}

type sinkDoc struct {
	Read bool      `json:"read"`
	Held []heldDoc `json:"held"`
}

type heldDoc struct {
	Name        string  `json:"name"`
	Holds       string  `json:"holds"`
	Fingerprint *string `json:"fingerprint"`
}

type actionDoc struct {
	Action          ActionKind `json:"action"`
	Name            string     `json:"name"`
	Reason          string     `json:"reason"`
	Token           *tokenDoc  `json:"token"`
	New             *tokenDoc  `json:"new"`
	RetireExpiresAt *time.Time `json:"retireExpiresAt"`
	Protection      *string    `json:"protection"`
	Fingerprint     *string    `json:"fingerprint"`
	Undelivered     bool       `json:"undelivered"`
	// StillInUse is, under a retire policy of when: unused, that the token
	// was used within its quiet period (a wait, or a retire past within).
	StillInUse bool `json:"stillInUse"`
}

// tokenDoc is the token object of docs/JSON.md, which every command of
// unleash-tokens prints: every key present, null where the token has no
// such value, the secret redacted (a selector, which is not a credential,
// in full).
type tokenDoc struct {
	Secret      *string    `json:"secret"`
	TokenName   *string    `json:"tokenName"`
	Type        *string    `json:"type"`
	Environment *string    `json:"environment"`
	Project     *string    `json:"project"`
	Projects    []string   `json:"projects"`
	CreatedAt   *time.Time `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	SeenAt      *time.Time `json:"seenAt"`
	Alias       *string    `json:"alias"`
	Secure      *bool      `json:"secure"`
}

func textOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func tokenDocOf(t *unleashadmin.APIToken) *tokenDoc {
	if t == nil {
		return nil
	}
	r := t.Redacted()
	d := &tokenDoc{Secret: textOrNull(r.Secret), TokenName: textOrNull(r.TokenName), Type: textOrNull(string(r.Type)),
		Environment: textOrNull(r.Environment), Project: textOrNull(r.Project), Projects: r.ProjectIDs(),
		ExpiresAt: r.ExpiresAt, SeenAt: r.SeenAt, Alias: r.Alias, Secure: &r.Secure}
	if len(d.Projects) == 0 {
		d.Projects = nil
	}
	if !r.CreatedAt.IsZero() {
		d.CreatedAt = &r.CreatedAt
	}
	return d
}

func actionDocOf(a Action) actionDoc {
	d := actionDoc{Action: a.Kind, Name: a.Name, Reason: a.Reason, Token: tokenDocOf(a.Token), RetireExpiresAt: a.ExpiresAt,
		Protection: textOrNull(string(a.Protected)), Undelivered: a.Undelivered, StillInUse: a.Decision != nil && a.Decision.StillInUse}
	if a.Token != nil {
		d.Fingerprint = unleashadmin.Ptr(fingerprint(a.Token))
	}
	if a.Makes() && a.Entry != nil {
		projects := a.Entry.projectIDs()
		if len(projects) == 0 {
			projects = []string{"*"}
		}
		d.New = &tokenDoc{TokenName: textOrNull(a.Name), Type: textOrNull(string(a.Entry.Type)), Environment: textOrNull(a.Environment), Projects: projects}
	}
	return d
}

// SavedPlan is a plan as a file holds it: made by Plan.Saved, written with
// json.Marshal, read back with ReadPlan, LoadPlan or json.Unmarshal, and
// carried out by Apply exactly as it was made, or not at all when what it
// relied on has changed (ErrStalePlan).
//
// Its JSON form is the plan shape of docs/JSON.md, which `unleash-tokens
// plan -o json` prints too: formatVersion, the instance's base URL, the
// time and options of the plan, the desired-state file it was made from,
// a fingerprint of every token of the file's names and prune prefix (see
// below), what the sink held for each entry (as the fingerprint of the
// listed token whose secret it held), the actions, and a checksum.
//
// It holds no secret and nothing that authenticates. A token is named by
// its redacted form (a selector of secure token storage, which is not a
// credential, in full) and by a fingerprint: 128 bits of a SHA-256 of what
// the plan saw of it, including its selector or, for a secret Unleash
// made, the secret itself. A hash of a secret cannot be turned back into
// it; it only lets someone who already has a secret tell which token it
// is. Secrets of another shape, which may be guessable, are left out.
//
// The checksum is the SHA-256 of the rest of the document in a canonical
// form (compact JSON, keys sorted): it finds a file changed by hand or cut
// short. It is integrity, not authenticity: anyone who can write the file
// can write a matching checksum, so keep plan files where only the
// pipeline that made them writes.
type SavedPlan struct {
	// Reader is the sink Apply and Check read, to see whether what it
	// holds is what the plan saw; nil for ApplyOptions.Sink when that is
	// a SinkReader that can be read. A plan made with a sink that can be
	// read must be applied with one, and one made without, without.
	Reader SinkReader
	// Now reads the time for what Apply computes when it acts: the expiry
	// of a new token (the entry's expiresIn) and of a token retired with
	// a grace period. Nil for time.Now.
	Now func() time.Time

	doc  savedDoc
	file *File
	opts Options
}

// Saved returns the plan as a file holds it. The plan must come from
// NewPlan (or be Result.Plan, or SavedPlan.Check's).
func (p *Plan) Saved() (*SavedPlan, error) {
	if p == nil || p.seen == nil || p.file == nil {
		return nil, fmt.Errorf("desired: Saved: %w: a plan made by NewPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	file, err := json.Marshal(p.file)
	if err != nil {
		return nil, fmt.Errorf("desired: Saved: %w", err)
	}
	opts := optionsDoc{Settle: durations.Format(p.opts.settle()), RotateUndelivered: p.opts.RotateUndelivered,
		DefaultEnvironment: textOrNull(p.DefaultEnvironment)}
	if p.opts.GracePeriod > 0 {
		opts.GracePeriod = unleashadmin.Ptr(durations.Format(p.opts.GracePeriod))
	}
	doc := savedDoc{FormatVersion: PlanFormatVersion, BaseURL: p.seen.baseURL, PlannedAt: p.Now.UTC(), Options: opts, File: file,
		TokensSeen: p.seen.seen, Sink: sinkDoc{Read: p.seen.read, Held: p.seen.held}, Actions: make([]actionDoc, len(p.Actions))}
	for i, a := range p.Actions {
		doc.Actions[i] = actionDocOf(a)
	}
	so := Options{GracePeriod: p.opts.GracePeriod, Settle: p.opts.Settle, RotateUndelivered: p.opts.RotateUndelivered, DefaultEnvironment: p.DefaultEnvironment}
	return &SavedPlan{Reader: p.opts.Reader, Now: p.opts.Now, doc: doc, file: p.file, opts: so}, nil
}

// BaseURL is the base URL of the instance the plan was made for, as
// unleashadmin.Client.BaseURL gives it.
func (s *SavedPlan) BaseURL() string { return s.doc.BaseURL }

// PlannedAt is the time the plan was made at (Plan.Now).
func (s *SavedPlan) PlannedAt() time.Time { return s.doc.PlannedAt }

// File returns a copy of the desired-state file the plan was made from.
func (s *SavedPlan) File() *File {
	if s.file == nil {
		return nil
	}
	f := *s.file
	f.Tokens = slices.Clone(f.Tokens)
	for i := range f.Tokens {
		f.Tokens[i].Projects = slices.Clone(f.Tokens[i].Projects)
	}
	return &f
}

// MarshalJSON writes the plan file, with its checksum.
func (s SavedPlan) MarshalJSON() ([]byte, error) {
	if s.file == nil {
		return nil, fmt.Errorf("desired: SavedPlan: %w: a plan from Plan.Saved or ReadPlan is needed", unleashadmin.ErrInvalidArgument)
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
	doc.Checksum, err = checksumOf(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// UnmarshalJSON reads a plan file as ReadPlan does.
func (s *SavedPlan) UnmarshalJSON(data []byte) error {
	got, err := ReadPlan(data)
	if err != nil {
		return err
	}
	*s = *got
	return nil
}

// checksumOf is the checksum of a plan document: "sha256:" and the hex
// SHA-256 of its canonical form, the compact JSON of every key but
// "checksum", keys sorted, numbers as written.
func checksumOf(v map[string]any) (string, error) {
	rest := make(map[string]any, len(v))
	for k, x := range v {
		if k != "checksum" {
			rest[k] = x
		}
	}
	canonical, err := json.Marshal(rest)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// decodeJSON decodes data, one JSON value and nothing after it, into v,
// numbers as json.Number, unknown keys refused when strict.
func decodeJSON(data []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more data after the JSON value")
	}
	return nil
}

// LoadPlan reads the plan file at path (ReadPlan). An error names the
// file; one about its content matches ErrInvalidPlanFile.
func LoadPlan(path string) (*SavedPlan, error) { return loadPlanFile(path, ReadPlan) }

// loadPlanFile reads the plan file at path, at most MaxPlanBytes and one
// byte more (so that read can refuse a larger one), with read; an error
// about its content names the file.
func loadPlanFile[T any](path string, read func([]byte) (T, error)) (T, error) {
	var none T
	f, err := os.Open(path)
	if err != nil {
		return none, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPlanBytes+1))
	if err != nil {
		return none, fmt.Errorf("desired: reading the plan file %s: %w", path, err)
	}
	s, err := read(data)
	var pe *planFileError
	if errors.As(err, &pe) {
		pe.path = path
	}
	return s, err
}

// ReadPlan reads a plan file, as json.Marshal of a SavedPlan (or
// `unleash-tokens plan -o json`, or -out) wrote it. It sends nothing. It
// refuses, with an error matching ErrInvalidPlanFile and
// unleashadmin.ErrInvalidArgument, data over MaxPlanBytes, data that is
// not one JSON object (a file cut short), another formatVersion than
// PlanFormatVersion, a checksum that does not match the content (a file
// changed after it was written), an unknown key, and a plan whose parts
// do not fit together (an action of no entry, a token it never saw). Its
// messages name the field, never a value of the file.
func ReadPlan(data []byte) (*SavedPlan, error) {
	v, err := readPlanHead(data)
	if err != nil {
		return nil, err
	}
	if _, fleet := v["instances"]; fleet {
		return nil, badPlan("a fleet's plan (it has instances): read it with ReadFleetPlan")
	}
	var doc savedDoc
	if err := decodeJSON(data, &doc, true); err != nil {
		return nil, badPlan("not a plan file of format %d: %s", PlanFormatVersion, jsonProblem(err))
	}
	s := &SavedPlan{doc: doc}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// readPlanHead reads what every plan file starts with: one JSON object,
// of formatVersion PlanFormatVersion, whose checksum matches.
func readPlanHead(data []byte) (map[string]any, error) {
	if len(data) > MaxPlanBytes {
		return nil, badPlan("larger than %d bytes", MaxPlanBytes)
	}
	var v map[string]any
	if err := decodeJSON(data, &v, false); err != nil || v == nil {
		return nil, badPlan("not a JSON object: cut short, or not a plan file")
	}
	fv, ok := v["formatVersion"].(json.Number)
	if !ok {
		return nil, badPlan("no formatVersion number: not a plan file")
	}
	switch n, err := fv.Int64(); {
	case err != nil || n < 1:
		return nil, badPlan("formatVersion is not a version")
	case n > PlanFormatVersion:
		return nil, badPlan("formatVersion %d is newer than this version reads (%d): apply it with the release that made it, or a newer one", n, PlanFormatVersion)
	case n < PlanFormatVersion:
		return nil, badPlan("formatVersion %d is older than this version reads (%d): make the plan again", n, PlanFormatVersion)
	}
	sum, err := checksumOf(v)
	if err != nil {
		return nil, badPlan("not a plan file: %v", err)
	}
	if got, _ := v["checksum"].(string); got != sum {
		return nil, badPlan("the checksum does not match the content: the file was changed after it was written (or is not whole)")
	}
	return v, nil
}

// jsonProblem says what encoding/json found wrong, without a value of the
// file: the field, or the kind of mistake.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf("%s is a JSON %s, not the type it must be", cmp.Or(typeErr.Field, "a value"), typeErr.Value)
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return "an unknown key"
	}
	return "a value that does not decode"
}

// anchorKinds are the kinds of an entry's first action.
var anchorKinds = []ActionKind{ActionCreate, ActionRotate, ActionReplace, ActionKeep, ActionDeliver}

// load checks the decoded document and fills in the file and options.
func (s *SavedPlan) load() error {
	d := &s.doc
	if d.BaseURL == "" {
		return badPlan("baseURL is empty")
	}
	if d.PlannedAt.IsZero() {
		return badPlan("plannedAt is missing")
	}
	var raw bytes.Buffer
	if err := json.Compact(&raw, d.File); err != nil {
		return badPlan("file is not JSON")
	}
	f, err := Parse(raw.Bytes())
	if err != nil {
		return badPlan("file is not a desired-state file: %v", err)
	}
	s.file = f
	opts, err := d.Options.options(f)
	if err != nil {
		return err
	}
	s.opts = opts
	listed := listedNames(f)
	entry := make(map[string]int, len(f.Tokens))
	for i := range f.Tokens {
		entry[f.Tokens[i].Name] = i
	}
	// How many tokens of each fingerprint the plan saw, and their name.
	seen := map[string]int{}
	seenName := map[string]string{}
	for i, t := range d.TokensSeen {
		switch {
		case !isFingerprint(t.Fingerprint):
			return badPlan("tokensSeen[%d]: fingerprint is not one", i)
		case !inScope(f, listed, t.Name):
			return badPlan("tokensSeen[%d]: a token of a name the file neither lists nor prunes", i)
		case seen[t.Fingerprint] > 0 && seenName[t.Fingerprint] != t.Name:
			return badPlan("tokensSeen[%d]: one fingerprint of two names", i)
		}
		seen[t.Fingerprint]++
		seenName[t.Fingerprint] = t.Name
	}
	if d.TokensSeen == nil {
		d.TokensSeen = []seenDoc{}
	}
	if d.Sink.Held == nil {
		d.Sink.Held = []heldDoc{}
	}
	switch {
	case !d.Sink.Read && len(d.Sink.Held) > 0:
		return badPlan("sink: held without read")
	case d.Sink.Read && len(d.Sink.Held) != len(f.Tokens):
		return badPlan("sink: held has %d items, the file %d entries", len(d.Sink.Held), len(f.Tokens))
	}
	for i, h := range d.Sink.Held {
		switch {
		case h.Name != f.Tokens[i].Name:
			return badPlan("sink.held[%d]: not the file's entry %d", i, i+1)
		case h.Holds == holdsToken && (h.Fingerprint == nil || seen[*h.Fingerprint] == 0 || seenName[*h.Fingerprint] != h.Name):
			return badPlan("sink.held[%d]: the fingerprint of no token of its name the plan saw", i)
		case h.Holds != holdsToken && h.Fingerprint != nil:
			return badPlan("sink.held[%d]: a fingerprint with holds other than token", i)
		case h.Holds != holdsToken && h.Holds != holdsNothing && h.Holds != holdsOther:
			return badPlan("sink.held[%d]: holds is not one of nothing, token, other", i)
		}
	}
	// The actions: each entry's in the file's order, its first an anchor,
	// then the pruned tokens; each token acted on at most once.
	used := map[string]int{}
	lastEntry, pruning := -1, false
	for i, a := range d.Actions {
		if err := checkAction(a); err != nil {
			return badPlan("actions[%d]: %v", i, err)
		}
		if a.Fingerprint != nil {
			fp := *a.Fingerprint
			if used[fp]++; used[fp] > seen[fp] || seenName[fp] != a.Name {
				return badPlan("actions[%d]: a token the plan did not see, or acted on twice", i)
			}
		}
		e, isEntry := entry[a.Name]
		switch {
		case isEntry && (pruning || e < lastEntry):
			return badPlan("actions[%d]: not in the order of the file's entries", i)
		case isEntry && e > lastEntry:
			if e != lastEntry+1 {
				return badPlan("actions[%d]: the entries before it have no action", i)
			}
			if !slices.Contains(anchorKinds, a.Action) {
				return badPlan("actions[%d]: an entry's first action cannot be %s", i, a.Action)
			}
			lastEntry = e
		case isEntry && (a.Action != ActionRetire && a.Action != ActionLeave && (a.Action != ActionKeep || a.Protection == nil)):
			return badPlan("actions[%d]: after an entry's first action only retire, leave and a protected keep", i)
		case !isEntry && (f.Prune.NamePrefix == "" || !strings.HasPrefix(a.Name, f.Prune.NamePrefix)):
			return badPlan("actions[%d]: of a name the file neither lists nor prunes", i)
		case !isEntry && a.Action != ActionRetire && (a.Action != ActionKeep || a.Protection == nil):
			return badPlan("actions[%d]: a pruned token can only be retired, or kept as protected", i)
		case !isEntry:
			pruning = true
		}
	}
	if lastEntry != len(f.Tokens)-1 {
		return badPlan("actions: an entry of the file has none")
	}
	if d.Actions == nil {
		d.Actions = []actionDoc{}
	}
	return nil
}

// checkAction checks one action of a plan file on its own.
func checkAction(a actionDoc) error {
	kinds := append(slices.Clone(anchorKinds), ActionRetire, ActionLeave, ActionWait)
	switch {
	case !slices.Contains(kinds, a.Action):
		return errors.New("action is not one this version knows")
	case a.Name == "":
		return errors.New("name is empty")
	case (a.Action == ActionCreate) != (a.Fingerprint == nil):
		return errors.New("a create has no fingerprint, every other action one")
	case a.Fingerprint != nil && !isFingerprint(*a.Fingerprint):
		return errors.New("fingerprint is not one")
	case a.Undelivered && a.Action != ActionKeep:
		return errors.New("undelivered on an action other than keep")
	case a.StillInUse && a.Action != ActionWait && a.Action != ActionRetire:
		return errors.New("stillInUse on an action that retires nothing")
	}
	if a.Protection != nil {
		switch unleashadmin.Protection(*a.Protection) {
		case unleashadmin.ProtectedKeyInUse, unleashadmin.ProtectedAdmin:
		default:
			return errors.New("protection is not one this version knows")
		}
		if a.Action != ActionKeep && a.Action != ActionRotate && a.Action != ActionReplace {
			return errors.New("protection on an action that retires nothing")
		}
	}
	return nil
}

func isFingerprint(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// options are the plan's options as the file gives them.
func (o optionsDoc) options(f *File) (Options, error) {
	var opts Options
	if o.GracePeriod != nil {
		g, err := durations.Parse(*o.GracePeriod)
		if err != nil || g <= 0 {
			return opts, badPlan("options.gracePeriod is not a duration above 0")
		}
		opts.GracePeriod = g
	}
	settle, err := durations.Parse(o.Settle)
	if err != nil || settle <= 0 {
		return opts, badPlan("options.settle is not a duration above 0")
	}
	opts.Settle, opts.RotateUndelivered = settle, o.RotateUndelivered
	if o.DefaultEnvironment != nil {
		opts.DefaultEnvironment = *o.DefaultEnvironment
	}
	if opts.DefaultEnvironment == "" && slices.ContainsFunc(f.Tokens, func(e Entry) bool { return e.Environment == "" }) {
		return opts, badPlan("options.defaultEnvironment is missing, and an entry names no environment")
	}
	return opts, nil
}

// delivers reports whether the plan hands a secret to a sink.
func (s *SavedPlan) delivers() bool {
	return slices.ContainsFunc(s.doc.Actions, func(a actionDoc) bool { return Action{Kind: a.Action}.Delivers() })
}

// Check reads the token list once (one request) and, when the plan read
// the sink, what the sink holds for each entry, and returns the plan
// Apply would carry out: the saved actions, each with the listed token it
// acts on. It changes nothing and takes no lock. ao.Sink is only looked
// at to be read (see SavedPlan.Reader).
//
// The error matches ErrStalePlan when something the plan relied on has
// changed (see Apply); unleashadmin.ErrInvalidArgument when the plan read
// the sink and there is none to read, or the other way round.
func (s *SavedPlan) Check(ctx context.Context, c *unleashadmin.Client, ao ApplyOptions) (*Plan, error) {
	p, _, _, unlock, err := s.bind(ctx, c, ao, false)
	if err != nil {
		return nil, err
	}
	unlock()
	return p, nil
}

// Apply carries out the saved plan's actions, exactly those and in the
// same way as Plan.Apply would carry out the plan it was saved from, on
// the instance of c, which must be the one it was made for (the same
// base URL). It does not plan again.
//
// First, before anything is sent, it checks the client's base URL, the
// sink (a plan made reading the sink needs one that can be read, one made
// without needs one that cannot: SavedPlan.Reader, else ao.Sink) and that
// there is a Sink when the plan delivers (ErrNoSink). Then it takes the
// sink's lock (SinkLocker), reads the token list once and, when the plan
// read the sink, what the sink holds for each entry, and refuses the plan,
// changing nothing, with an error matching ErrStalePlan when:
//
//   - the tokens of the plan's names and prune prefix are not those it saw
//     (by fingerprint): one was made, deleted, rotated, or had its expiry
//     moved since; tokens of other names do not matter;
//   - the sink holds for an entry another secret than it did (by the
//     token it is the secret of: nothing, a token, none of them);
//   - the plan retires a token the client protects (Client.Protection:
//     the plan was made with another key);
//   - c is for another instance.
//
// Otherwise it carries out the actions, each on the listed token of its
// fingerprint, as Plan.Apply does: every new token delivered before
// anything of its entry is retired, read back when the sink can be read.
// Times are taken when acting (SavedPlan.Now): a new token expires the
// entry's expiresIn after it is made, and a grace period runs from the
// retire (never extending an expiry), not from the plan.
func (s *SavedPlan) Apply(ctx context.Context, c *unleashadmin.Client, ao ApplyOptions) (*Result, error) {
	ao, err := ao.check()
	if err != nil {
		return nil, err
	}
	p, reader, toks, unlock, err := s.bind(ctx, c, ao, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return p.carryOut(ctx, ao, reader, toks)
}

// bind checks the plan against c and the sink and returns it as a Plan
// whose actions hold the listed tokens, with the sink that is read, the
// list, and the function that lets the sink's lock go (taken when lock is
// set).
func (s *SavedPlan) bind(ctx context.Context, c *unleashadmin.Client, ao ApplyOptions, lock bool) (*Plan, SinkReader, []unleashadmin.APIToken, func(), error) {
	fail := func(err error) (*Plan, SinkReader, []unleashadmin.APIToken, func(), error) {
		return nil, nil, nil, nil, err
	}
	switch {
	case s == nil || s.file == nil:
		return fail(fmt.Errorf("desired: SavedPlan: %w: a plan from Plan.Saved or ReadPlan is needed", unleashadmin.ErrInvalidArgument))
	case c == nil:
		return fail(fmt.Errorf("desired: SavedPlan: %w: no client", unleashadmin.ErrInvalidArgument))
	case c.BaseURL() != s.doc.BaseURL:
		return fail(fmt.Errorf("desired: %w: it was made for %s, and the client is for %s; nothing was sent", ErrStalePlan, s.doc.BaseURL, c.BaseURL()))
	}
	reader := sinkReader(s.Reader, ao.Sink)
	switch {
	case s.doc.Sink.Read && reader == nil:
		return fail(fmt.Errorf("desired: SavedPlan: %w: the plan was made reading the sink, and there is no sink that can be read: give the same sink; nothing was sent", unleashadmin.ErrInvalidArgument))
	case !s.doc.Sink.Read && reader != nil:
		return fail(fmt.Errorf("desired: SavedPlan: %w: the plan was made without reading the sink, and this sink can be read: make the plan reading it, so that it keeps the tokens whose secrets the sink holds; nothing was sent", unleashadmin.ErrInvalidArgument))
	case lock && ao.Sink == nil && s.delivers():
		return fail(fmt.Errorf("desired: Apply: %w", ErrNoSink))
	}
	unlock := func() {}
	if lock {
		var err error
		if unlock, err = lockSink(ctx, c, ao.Sink, reader); err != nil {
			return fail(err)
		}
	}
	toks, held, err := readState(ctx, c, s.file, s.opts.DefaultEnvironment, reader)
	if err != nil {
		unlock()
		return fail(err)
	}
	now := observe(c, s.file, toks, held)
	p, reasons := s.bound(c, toks, now)
	if len(reasons) > 0 {
		unlock()
		return fail(fmt.Errorf("desired: %w, and nothing was changed: %s; make a new plan", ErrStalePlan, strings.Join(reasons, "; ")))
	}
	return p, reader, toks, unlock, nil
}

// maxShown bounds how many tokens a stale plan's error names of each kind.
const maxShown = 5

// bound compares what the plan saw with now, seen in toks, and returns
// the plan with its actions on the listed tokens, or why it is stale.
func (s *SavedPlan) bound(c *unleashadmin.Client, toks []unleashadmin.APIToken, now *observed) (*Plan, []string) {
	var reasons []string
	// The tokens: those the plan saw and no longer are, those that are
	// and it did not see.
	count := map[string]int{}
	for _, t := range s.doc.TokensSeen {
		count[t.Fingerprint]++
	}
	for _, t := range now.seen {
		count[t.Fingerprint]--
	}
	pools := map[string][]*unleashadmin.APIToken{}
	listed := listedNames(s.file)
	var made []string
	for i := range toks {
		t := &toks[i]
		if !inScope(s.file, listed, t.TokenName) {
			continue
		}
		fp := fingerprint(t)
		pools[fp] = append(pools[fp], t)
		if count[fp] < 0 {
			count[fp]++
			made = append(made, fmt.Sprintf("%s (%s, made %s%s)", quote(t.TokenName), scopeOf(t), t.CreatedAt.UTC().Format(time.RFC3339), expiryOf(t)))
		}
	}
	var gone []string
	for _, t := range s.doc.TokensSeen {
		if count[t.Fingerprint] > 0 {
			count[t.Fingerprint]--
			gone = append(gone, quote(t.Name))
		}
	}
	if len(gone) > 0 {
		reasons = append(reasons, fmt.Sprintf("%d token(s) the plan saw are gone or changed (deleted, rotated, or their expiry moved): of %s", len(gone), shown(gone)))
	}
	if len(made) > 0 {
		reasons = append(reasons, fmt.Sprintf("%d token(s) of its names are new or changed: %s", len(made), shown(made)))
	}
	for i, h := range s.doc.Sink.Held {
		if i < len(now.held) && (h.Holds != now.held[i].Holds || h.Holds == holdsToken && *h.Fingerprint != *now.held[i].Fingerprint) {
			reasons = append(reasons, fmt.Sprintf("what the sink holds for %s changed: it held %s, and holds %s", quote(h.Name), heldWords(h), heldWords(now.held[i])))
		}
	}
	if len(reasons) > 0 {
		return nil, reasons
	}
	for _, pool := range pools {
		slices.SortFunc(pool, olderFirst)
	}
	entry := make(map[string]int, len(s.file.Tokens))
	for i := range s.file.Tokens {
		entry[s.file.Tokens[i].Name] = i
	}
	defEnv := s.opts.DefaultEnvironment
	p := &Plan{Now: s.doc.PlannedAt, DefaultEnvironment: defEnv, file: s.file, client: c, seen: now, Actions: make([]Action, len(s.doc.Actions))}
	p.opts = s.opts
	p.opts.Now, p.opts.Reader = s.Now, s.Reader
	pruned, lastEntry := 0, -1
	for i, d := range s.doc.Actions {
		a := Action{Kind: d.Action, Name: d.Name, Reason: d.Reason, ExpiresAt: d.RetireExpiresAt, Undelivered: d.Undelivered}
		if d.StillInUse {
			a.Decision = &unleashadmin.RetireDecision{Retire: d.Action == ActionRetire, StillInUse: true, Reason: d.Reason}
		}
		if d.Protection != nil {
			a.Protected = unleashadmin.Protection(*d.Protection)
		}
		e, isEntry := entry[d.Name]
		if isEntry {
			a.Entry, a.unit = &s.file.Tokens[e], e
			if e != lastEntry {
				// The entry's first action: the one planned with its
				// scope, as the planner's.
				a.Environment, lastEntry = cmp.Or(a.Entry.Environment, defEnv), e
			}
		} else {
			a.unit = len(s.file.Tokens) + pruned
			pruned++
		}
		if d.Fingerprint != nil {
			pool := pools[*d.Fingerprint]
			k := 0
			if isEntry && now.holders != nil && now.holders[e] != nil {
				// Of tokens alike in all the plan saw, the one the sink
				// holds is the one the plan's action on the held token
				// is about.
				if j := slices.Index(pool, now.holders[e]); j >= 0 && fingerprint(now.holders[e]) == *d.Fingerprint && s.doc.Sink.Held[e].Holds == holdsToken {
					k = j
				}
			}
			if len(pool) == 0 {
				return nil, []string{fmt.Sprintf("the token of action %d is not listed", i+1)}
			}
			a.Token = pool[k]
			pools[*d.Fingerprint] = slices.Delete(pool, k, k+1)
			if why := usedSincePlan(s.file, a, d); why != "" {
				reasons = append(reasons, why)
			}
		}
		a.retireOld = a.Makes() && a.Token != nil && a.Protected == unleashadmin.Unprotected && (s.opts.GracePeriod == 0 || a.ExpiresAt != nil)
		if a.Kind == ActionRetire || a.retireOld {
			if why := c.Protection(*a.Token, false); why != unleashadmin.Unprotected {
				reasons = append(reasons, fmt.Sprintf("it retires %s, which is %s: never retired (was the plan made with another key?)", shownSecret(*a.Token), why))
			}
		}
		if a.Kind == ActionDeliver && !listedSecret(a.Token) {
			reasons = append(reasons, fmt.Sprintf("the list no longer shows the secret %s delivers", quote(a.Name)))
		}
		p.Actions[i] = a
	}
	if len(reasons) > 0 {
		return nil, reasons
	}
	return p, nil
}

// usedSincePlan says why the retire a of a saved plan no longer holds, or
// "": under a retire policy of when: unused, the plan retired a token that
// nobody had used for the quiet period, and the token has been used since
// the plan (its seenAt moved), so the decision that it is unused is old.
func usedSincePlan(f *File, a Action, d actionDoc) string {
	if a.Kind != ActionRetire || a.Entry == nil || a.Token == nil || a.Token.SeenAt == nil {
		return ""
	}
	if _, waits := f.retireOf(a.Entry).unused(); !waits {
		return ""
	}
	if d.Token != nil && d.Token.SeenAt != nil && !a.Token.SeenAt.After(*d.Token.SeenAt) {
		return ""
	}
	return fmt.Sprintf("%s was used since the plan (last at %s), and %s retires only what nobody uses: decide again",
		shownSecret(*a.Token), a.Token.SeenAt.UTC().Format(time.RFC3339), quote(a.Entry.Name))
}

// shown joins at most maxShown items, saying how many more there are.
func shown(items []string) string {
	if len(items) <= maxShown {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:maxShown], ", ") + fmt.Sprintf(" and %d more", len(items)-maxShown)
}

func expiryOf(t *unleashadmin.APIToken) string {
	if t.ExpiresAt == nil {
		return ""
	}
	return ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
}

func heldWords(h heldDoc) string {
	switch h.Holds {
	case holdsToken:
		return "the secret of token " + (*h.Fingerprint)[:8] + "…"
	case holdsOther:
		return "a secret of no token of its name"
	}
	return "no secret"
}
