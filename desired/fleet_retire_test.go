package desired_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// TestForInstanceKeepsTheRetirePolicy: each instance's file carries the
// file's own retire policy, so that a fleet waits as one instance would.
func TestForInstanceKeepsTheRetirePolicy(t *testing.T) {
	t.Parallel()
	f, err := desired.Parse([]byte(`instances:
  eu: {url: "https://unleash.eu.example.com", tokenEnv: UNLEASH_TOKEN_EU}
retire: {when: unused, quiet: 30m, within: 3d}
tokens:
  - name: checkout
    type: client
    environment: production
`))
	if err != nil {
		t.Fatal(err)
	}
	eu, err := f.ForInstance("eu")
	if err != nil {
		t.Fatal(err)
	}
	if eu.Retire != f.Retire || eu.Retire.When == "" {
		t.Errorf("the instance's policy is %+v, the file's %+v", eu.Retire, f.Retire)
	}
}

// TestInstanceNamesOfTheSinksOwnFiles: D/<instance> must not be the lock
// or a temporary file of a directory sink in D.
func TestInstanceNamesOfTheSinksOwnFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{".unleash-tokens.lock", ".unleash-tokens-x.tmp"} {
		_, err := desired.Parse([]byte("instances:\n  \"" + name + "\": {url: \"https://u.example.com\", tokenEnv: K}\ntokens: []\n"))
		var fe *desired.FileError
		if !errors.As(err, &fe) || fe.Line != 2 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestFileEqual: a file and the same file read again are equal; a file
// whose instance points elsewhere is not (a fleet's plan is applied only
// with the file it was made from).
func TestFileEqual(t *testing.T) {
	t.Parallel()
	const text = "instances:\n  eu: {url: \"https://unleash.eu.example.com\", tokenEnv: K}\ntokens:\n  - name: checkout\n    type: client\n"
	a, err := desired.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := desired.Parse([]byte("\n" + text)) // other lines, same content
	c, _ := desired.Parse([]byte(strings.Replace(text, "unleash.eu.example.com", "evil.example.com", 1)))
	d, _ := desired.Parse([]byte(strings.Replace(text, "tokenEnv: K", "tokenEnv: OTHER", 1)))
	if !a.Equal(b) || a.Equal(c) || a.Equal(d) || a.Equal(nil) {
		t.Errorf("Equal: same %t, other URL %t, other key variable %t, nil %t", a.Equal(b), a.Equal(c), a.Equal(d), a.Equal(nil))
	}
}
