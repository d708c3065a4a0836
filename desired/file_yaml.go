package desired

// The file format as YAML, for writing a file: Export's, or one built in
// code.

import "go.yaml.in/yaml/v3"

// entryYAML is an Entry in the file format, as YAML: projects on one line
// ("projects: [default, payments]"), as the format's example writes them.
type entryYAML struct {
	Name        string        `yaml:"name"`
	Type        string        `yaml:"type"`
	Environment string        `yaml:"environment,omitempty"`
	Projects    []string      `yaml:"projects,omitempty,flow"`
	ExpiresIn   string        `yaml:"expiresIn,omitempty"`
	RenewBefore string        `yaml:"renewBefore,omitempty"`
	MaxAge      string        `yaml:"maxAge,omitempty"`
	Instances   []string      `yaml:"instances,omitempty,flow"`
	Retire      *RetirePolicy `yaml:"retire,omitempty"`
}

type pruneYAML struct {
	NamePrefix string `yaml:"namePrefix,omitempty"`
}

type fileYAML struct {
	Instances *yaml.Node    `yaml:"instances,omitempty"`
	Tokens    []entryYAML   `yaml:"tokens"`
	Prune     *pruneYAML    `yaml:"prune,omitempty"`
	Retire    *RetirePolicy `yaml:"retire,omitempty"`
}

// MarshalYAML makes yaml.Marshal (go.yaml.in/yaml/v3) write the file
// format, which Parse reads: the keys of the format, durations as text
// ("90d"), zero ones, an empty prune rule and Line left out, the
// instances in their order, each on one line, and a value
// that YAML would read as another type (a name "true" or "0x1f") quoted.
// An empty file is "tokens: []".
func (f File) MarshalYAML() (any, error) {
	y := fileYAML{Tokens: make([]entryYAML, len(f.Tokens))}
	if len(f.Instances) > 0 {
		var err error
		if y.Instances, err = instancesYAML(f.Instances); err != nil {
			return nil, err
		}
	}
	for i, e := range f.Tokens {
		y.Tokens[i] = e.yaml()
	}
	if f.Prune != (PruneRule{}) {
		y.Prune = &pruneYAML{NamePrefix: f.Prune.NamePrefix}
	}
	if f.Retire.When != "" {
		y.Retire = &f.Retire
	}
	return y, nil
}

// MarshalYAML writes the entry in the file format, as File.MarshalYAML
// does.
func (e Entry) MarshalYAML() (any, error) { return e.yaml(), nil }

func (e Entry) yaml() entryYAML {
	return entryYAML{Name: e.Name, Type: string(e.Type), Environment: e.Environment, Projects: e.Projects,
		ExpiresIn: durationText(e.ExpiresIn), RenewBefore: durationText(e.RenewBefore), MaxAge: durationText(e.MaxAge),
		Instances: e.Instances, Retire: e.Retire}
}
