package desired

// A fleet: one file, many Unleash instances. The file's instances section,
// the clients made from it, and what each instance is given.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/seed8b9e94f4/unleashadmin"
	"go.yaml.in/yaml/v3"
)

// Instance is one Unleash instance a file names in its instances section:
// where it is and where its key is read from. The key itself is never in
// the file.
type Instance struct {
	// Name names the instance in the file, in --instance and in reports,
	// and is its directory under a fleet's delivery directory: a name
	// File.Validate accepts for a token (no slash, nothing that does not
	// print), unique up to case and Unicode form.
	Name string `json:"name"`
	// URL is the instance's base URL, as unleashadmin.NewClient takes it
	// (http or https, no user name, password, query or fragment).
	URL string `json:"url"`
	// TokenEnv names the environment variable that holds the instance's
	// API key. Exactly one of TokenEnv and TokenFile is set.
	TokenEnv string `json:"tokenEnv,omitempty"`
	// TokenFile is the file that holds the instance's API key alone on
	// one line; a relative path is read from the current directory.
	TokenFile string `json:"tokenFile,omitempty"`
	// Bearer sends the key as "Bearer <key>" (unleashadmin.WithBearerAuth).
	Bearer bool `json:"bearer,omitempty"`
	// Line is the line of the instance in the file it was read from; zero
	// for an instance built in code.
	Line int `json:"-"`
}

// instanceJSON is an Instance in the file format, under its name.
type instanceJSON struct {
	URL       string `json:"url" yaml:"url"`
	TokenEnv  string `json:"tokenEnv,omitempty" yaml:"tokenEnv,omitempty"`
	TokenFile string `json:"tokenFile,omitempty" yaml:"tokenFile,omitempty"`
	Bearer    bool   `json:"bearer,omitempty" yaml:"bearer,omitempty"`
}

func (in Instance) format() instanceJSON {
	return instanceJSON{URL: in.URL, TokenEnv: in.TokenEnv, TokenFile: in.TokenFile, Bearer: in.Bearer}
}

// instancesJSON writes a file's instances as the file format has them: an
// object of names, in the file's order.
type instancesJSON []Instance

func (is instancesJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, in := range is {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(in.Name)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(in.format())
		if err != nil {
			return nil, err
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// instancesYAML is a file's instances as a YAML mapping, in the file's
// order, each instance on one line.
func instancesYAML(is []Instance) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, in := range is {
		var v yaml.Node
		if err := v.Encode(in.format()); err != nil {
			return nil, err
		}
		v.Style = yaml.FlowStyle
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: in.Name}
		m.Content = append(m.Content, k, &v)
	}
	return m, nil
}

var instanceKeys = []string{"url", "tokenEnv", "tokenFile", "bearer"}

// decodeInstances reads a file's instances section: a mapping of names to
// {url, tokenEnv or tokenFile, bearer}. File.Validate checks the rest.
func decodeInstances(n *yaml.Node) ([]Instance, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nodeErr(n, "instances must be a mapping of names to {url, tokenEnv or tokenFile}, not %s", describe(n))
	}
	if len(n.Content) == 0 {
		return nil, nodeErr(n, "instances is empty: leave it out for a file applied to one instance")
	}
	var out []Instance
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, nodeErr(k, "an instance's name must be a string, not %s", describe(k))
		}
		in := Instance{Name: k.Value, Line: k.Line}
		what := "the instance " + k.Value
		if checkName(k.Value) != nil {
			what = "an instance" // Validate says what is wrong with the name
		}
		err := fields(v, what, instanceKeys, func(key string, _, v *yaml.Node) error {
			var err error
			switch key {
			case "url":
				in.URL, err = str(v, key)
			case "tokenEnv":
				in.TokenEnv, err = str(v, key)
			case "tokenFile":
				in.TokenFile, err = str(v, key)
			case "bearer":
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
					return nodeErr(v, "bearer must be true or false, not %s", describe(v))
				}
				err = v.Decode(&in.Bearer)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// instanceNames reads an entry's instances: a list of names.
func instanceNames(n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, nodeErr(n, "instances must be a list of the file's instance names, such as [eu, us], not %s", describe(n))
	}
	if len(n.Content) == 0 {
		return nil, nodeErr(n, "instances is an empty list: leave it out for all instances")
	}
	names := []string{}
	for _, item := range n.Content {
		name, err := str(item, "an instance name")
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// envName is what a tokenEnv may be: a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateInstances checks the instances section: names, URLs and where
// each key is read from. Its errors name the instance, never a value.
func (f *File) validateInstances() error {
	seen := make(map[string]int, len(f.Instances)) // nameKey to index
	for i := range f.Instances {
		in := &f.Instances[i]
		fail := func(format string, args ...any) error {
			msg := fmt.Sprintf(format, args...)
			if in.Line == 0 {
				msg = fmt.Sprintf("instance %d: %s", i+1, msg)
			}
			return &FileError{Line: in.Line, Msg: msg}
		}
		if err := checkName(in.Name); err != nil {
			return fail("an instance's name %v", err)
		}
		if strings.HasPrefix(in.Name, dirOwnPrefix) {
			// D/<instance> would be the lock or a temporary file of a
			// directory sink in D.
			return fail("an instance's name must not start with %q, which the directory sink keeps for its own files", dirOwnPrefix)
		}
		if j, dup := seen[nameKey(in.Name)]; dup {
			first := f.Instances[j]
			on := fmt.Sprintf("instance %d", j+1)
			if first.Line > 0 {
				on = fmt.Sprintf("line %d", first.Line)
			}
			if first.Name == in.Name {
				return fail("instance %s repeated (first on %s)", in.Name, on)
			}
			return fail("instance %s is the name of the instance on %s but for case or Unicode form: "+
				"their directories under --deliver-dir would be one on a case-insensitive file system", in.Name, on)
		}
		seen[nameKey(in.Name)] = i
		switch {
		case strings.TrimSpace(in.URL) == "":
			return fail("instance %s has no url", in.Name)
		case urlProblem(in.URL) != "":
			return fail("instance %s: url %s", in.Name, urlProblem(in.URL))
		case in.TokenEnv != "" && in.TokenFile != "":
			return fail("instance %s has tokenEnv and tokenFile: give one, where its key is read from", in.Name)
		case in.TokenEnv == "" && in.TokenFile == "":
			return fail("instance %s has neither tokenEnv nor tokenFile: give one, where its key is read from (the key is never in the file)", in.Name)
		case in.TokenEnv != "" && !envName.MatchString(in.TokenEnv):
			return fail("instance %s: tokenEnv must name an environment variable (letters, digits and _, not first a digit)", in.Name)
		case in.TokenFile != "" && strings.TrimSpace(in.TokenFile) != in.TokenFile:
			return fail("instance %s: tokenFile has surrounding spaces", in.Name)
		}
	}
	return nil
}

// urlProblem says why unleashadmin.NewClient refuses u as a base URL, in
// words that quote nothing of it (a key pasted into the wrong place stays
// out of logs), or "" when it takes it.
func urlProblem(u string) string {
	if _, err := unleashadmin.NewClientWithoutKey(u); err == nil {
		return ""
	}
	p, err := url.Parse(strings.TrimSpace(u))
	switch {
	case err != nil:
		return "is not a valid URL"
	case p.Scheme != "http" && p.Scheme != "https":
		return "must start with http:// or https://"
	case p.Hostname() == "":
		return "has no host name"
	case p.User != nil:
		return "must not carry a user name or password (the part before '@'): the key is read from tokenEnv or tokenFile"
	case strings.ContainsAny(u, "?#"):
		return "must not have a query or fragment"
	}
	return "is refused by unleashadmin.NewClient"
}

// entryInstances checks the instances e names against the file's and puts
// them in the file's order, without repeats. Its errors follow "token N: "
// or the entry's line.
func (f *File) entryInstances(e *Entry) error {
	if e.Instances == nil {
		return nil
	}
	if len(f.Instances) == 0 {
		return errors.New("instances: the file has no instances section to name them from")
	}
	if len(e.Instances) == 0 {
		return errors.New("instances is an empty list: leave it out for all instances")
	}
	var names []string
	for n, name := range e.Instances {
		if f.instance(name) < 0 {
			return fmt.Errorf("instances: item %d names no instance of the file (it has %s)", n+1, strings.Join(f.InstanceNames(), ", "))
		}
	}
	for _, in := range f.Instances {
		if slices.Contains(e.Instances, in.Name) {
			names = append(names, in.Name)
		}
	}
	e.Instances = names
	return nil
}

// instance returns the index of the instance named name, or -1.
func (f *File) instance(name string) int {
	return slices.IndexFunc(f.Instances, func(in Instance) bool { return in.Name == name })
}

// InstanceNames returns the names of the file's instances, in its order;
// nil for a file without instances.
func (f *File) InstanceNames() []string {
	var names []string
	for _, in := range f.Instances {
		names = append(names, in.Name)
	}
	return names
}

// sharesInstance reports whether two entries are for an instance both are
// for; an entry without instances is for all of them.
func sharesInstance(a, b *Entry) bool {
	return len(a.Instances) == 0 || len(b.Instances) == 0 || slices.ContainsFunc(a.Instances, func(n string) bool { return slices.Contains(b.Instances, n) })
}

// ForInstance returns the file as the instance named name sees it: the
// entries for it (those that name it, and those that name no instance),
// without their instances, and the prune rule; no instances section. For a
// file without instances it is a copy of the file, whatever the name. An
// instance the file does not name is an error matching
// unleashadmin.ErrInvalidArgument.
func (f *File) ForInstance(name string) (*File, error) {
	if len(f.Instances) > 0 && f.instance(name) < 0 {
		return nil, fmt.Errorf("desired: %w: the file has no instance %s (it has %s)", unleashadmin.ErrInvalidArgument, quote(name), strings.Join(f.InstanceNames(), ", "))
	}
	out := &File{Prune: f.Prune, Retire: f.Retire, Tokens: []Entry{}, path: f.path}
	for _, e := range f.Tokens {
		if len(e.Instances) == 0 || slices.Contains(e.Instances, name) {
			e.Instances = nil
			e.Projects = slices.Clone(e.Projects)
			out.Tokens = append(out.Tokens, e)
		}
	}
	return out, nil
}

// Fleet is a set of named clients: the Unleash instances one file is
// applied to, each with its own URL, key, version, default environment
// and token storage mode. NewFleet makes one from a file's instances; a
// Fleet built in code works as well (NewFleetPlan, ApplyFleet,
// ExportFleet).
type Fleet map[string]*unleashadmin.Client

// CloseIdleConnections closes the idle connections of every client.
func (fl Fleet) CloseIdleConnections() {
	for _, c := range fl {
		if c != nil {
			c.CloseIdleConnections()
		}
	}
}

// maxKeyBytes bounds what a tokenFile may hold: no key comes near it.
const maxKeyBytes = 64 << 10

// NewFleet makes a client for each of the file's instances named in names
// (nil for all of them), with opts and, for an instance with bearer,
// unleashadmin.WithBearerAuth. Each key is read from the instance's
// tokenEnv, through getenv (nil for os.Getenv), or its tokenFile. It sends
// nothing.
//
// An instance whose key is missing (the variable unset or empty, the file
// missing, unreadable, empty or of several lines) is a *FileError naming
// the instance's line and never the key; a name the file does not have,
// or a file without instances, is an error matching
// unleashadmin.ErrInvalidArgument. Either way no client is made.
func NewFleet(f *File, names []string, getenv func(string) string, opts ...unleashadmin.Option) (Fleet, error) {
	if f == nil {
		return nil, fmt.Errorf("desired: NewFleet: %w: no file", unleashadmin.ErrInvalidArgument)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("desired: NewFleet: %w", err)
	}
	if len(f.Instances) == 0 {
		return nil, fmt.Errorf("desired: NewFleet: %w: the file names no instances", unleashadmin.ErrInvalidArgument)
	}
	names, err := f.selectInstances(names)
	if err != nil {
		return nil, err
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	fleet := make(Fleet, len(names))
	for _, name := range names {
		in := f.Instances[f.instance(name)]
		fail := func(format string, args ...any) error {
			return &FileError{Path: f.path, Line: in.Line, Msg: "instance " + in.Name + ": " + fmt.Sprintf(format, args...)}
		}
		var key string
		if in.TokenEnv != "" {
			key = strings.TrimSpace(getenv(in.TokenEnv))
			if key == "" {
				return nil, fail("its key is missing: tokenEnv names %s, which is not set or empty", in.TokenEnv)
			}
		} else {
			key, err = readKeyFile(in.TokenFile)
			if err != nil {
				return nil, fail("its key is missing: tokenFile %v", err)
			}
		}
		o := slices.Clone(opts)
		if in.Bearer {
			o = append(o, unleashadmin.WithBearerAuth())
		}
		c, err := unleashadmin.NewClient(in.URL, key, o...)
		if err != nil {
			// NewClient's words quote no key.
			return nil, fail("%v", err)
		}
		fleet[name] = c
	}
	return fleet, nil
}

// readKeyFile reads a key from path: alone on one line. Its errors quote
// neither the path nor what the file holds.
func readKeyFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", errors.New("cannot be opened: " + pathErr(err))
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyBytes+1))
	if err != nil {
		return "", errors.New("cannot be read: " + pathErr(err))
	}
	key := strings.TrimSpace(string(data))
	switch {
	case len(data) > maxKeyBytes:
		return "", fmt.Errorf("is larger than any key (%d bytes)", maxKeyBytes)
	case key == "":
		return "", errors.New("is empty")
	case strings.ContainsAny(key, "\r\n"):
		return "", errors.New("must hold the key alone on one line")
	}
	return key, nil
}

// pathErr is what went wrong with a file, without its path.
func pathErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// selectInstances returns names (nil for all of the file's instances) in
// the file's order, checking each is the file's, once.
func (f *File) selectInstances(names []string) ([]string, error) {
	if names == nil {
		return f.InstanceNames(), nil
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("desired: %w: no instances named", unleashadmin.ErrInvalidArgument)
	}
	for i, name := range names {
		if f.instance(name) < 0 {
			return nil, fmt.Errorf("desired: %w: the file has no instance %s (it has %s)", unleashadmin.ErrInvalidArgument, quote(name), strings.Join(f.InstanceNames(), ", "))
		}
		if slices.Contains(names[:i], name) {
			return nil, fmt.Errorf("desired: %w: instance %s named twice", unleashadmin.ErrInvalidArgument, name)
		}
	}
	var out []string
	for _, in := range f.Instances {
		if slices.Contains(names, in.Name) {
			out = append(out, in.Name)
		}
	}
	return out, nil
}

// SinkEnv returns the environment an ExecSink of the instance named name
// is given (ExecSink.Env): environ (os.Environ() when nil) without the
// variables that hold the keys of the file's instances (their tokenEnv)
// and with UNLEASH_INSTANCE set to the instance's name and UNLEASH_URL to
// its URL. No key is handed on.
func (f *File) SinkEnv(name string, environ []string) ([]string, error) {
	i := f.instance(name)
	if i < 0 {
		return nil, fmt.Errorf("desired: SinkEnv: %w: the file has no instance %s", unleashadmin.ErrInvalidArgument, quote(name))
	}
	if environ == nil {
		environ = os.Environ()
	}
	drop := map[string]bool{"UNLEASH_INSTANCE": true, "UNLEASH_URL": true}
	for _, in := range f.Instances {
		if in.TokenEnv != "" {
			drop[in.TokenEnv] = true
		}
	}
	env := make([]string, 0, len(environ)+2)
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, "UNLEASH_INSTANCE="+name, "UNLEASH_URL="+strings.TrimSpace(f.Instances[i].URL)), nil
}

// fleetNames returns the instances a fleet operation works on, in order:
// names when given (each must be the file's when the file has instances,
// and have a client), else the file's instances, else every client of the
// fleet by name; and each one's file (File.ForInstance).
func fleetNames(fleet Fleet, f *File, names []string) ([]string, []*File, error) {
	if f == nil {
		return nil, nil, fmt.Errorf("desired: %w: no file", unleashadmin.ErrInvalidArgument)
	}
	if err := f.Validate(); err != nil {
		return nil, nil, fmt.Errorf("desired: %w", err)
	}
	var err error
	switch {
	case len(f.Instances) > 0:
		names, err = f.selectInstances(names)
	case names == nil:
		names = slices.Sorted(maps.Keys(fleet))
	default:
		for i, name := range names {
			if slices.Contains(names[:i], name) {
				err = fmt.Errorf("desired: %w: instance %s named twice", unleashadmin.ErrInvalidArgument, name)
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("desired: %w: no instances", unleashadmin.ErrInvalidArgument)
	}
	files := make([]*File, len(names))
	for i, name := range names {
		if fleet[name] == nil {
			return nil, nil, fmt.Errorf("desired: %w: the fleet has no client for instance %s", unleashadmin.ErrInvalidArgument, quote(name))
		}
		if files[i], err = f.ForInstance(name); err != nil {
			return nil, nil, err
		}
	}
	return names, files, nil
}

// InstanceError is the error of one instance of a fleet: it could not be
// read, refused the key, or some of its actions failed. The other
// instances are not held up by it.
type InstanceError struct {
	// Instance is the instance's name.
	Instance string
	// Err is what went wrong there.
	Err error
}

// Error reads "desired: instance eu: reading the tokens: ...".
func (e *InstanceError) Error() string {
	return "desired: instance " + e.Instance + ": " + strings.TrimPrefix(e.Err.Error(), "desired: ")
}

// Unwrap returns Err.
func (e *InstanceError) Unwrap() error { return e.Err }

// instanceErr wraps err, when not nil, as the error of instance name.
func instanceErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return &InstanceError{Instance: name, Err: err}
}
