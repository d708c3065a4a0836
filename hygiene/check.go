package hygiene

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/seed8b9e94f4/unleashadmin"
)

// MaxSecretLen is the longest secret Check, ReadSecrets and ReadSecretDir
// accept. Unleash's longest secrets (a v2 secret with long project and
// environment names) stay well under it.
const MaxSecretLen = 1024

// Validator is what Check asks: a *unleashadmin.Client satisfies it, also
// one made with unleashadmin.NewClientWithoutKey, since Unleash answers
// POST /edge/validate without a key.
type Validator interface {
	ValidateTokens(ctx context.Context, secrets []string) ([]unleashadmin.TokenCheck, error)
}

// CheckReport is what Check found: one result per secret, in the order
// given.
//
// Its printed form (every fmt verb, and slog) and its JSON form,
// {"results":[{"secret","live","type","environment","projects"}]}, show
// every secret redacted; Results hold them as given.
type CheckReport struct {
	Results []unleashadmin.TokenCheck
}

// AllLive reports whether every secret checked is live.
func (r CheckReport) AllLive() bool {
	return !slices.ContainsFunc(r.Results, func(c unleashadmin.TokenCheck) bool { return !c.Live })
}

// NotLive returns the results of the secrets that are not live.
func (r CheckReport) NotLive() []unleashadmin.TokenCheck {
	var out []unleashadmin.TokenCheck
	for _, c := range r.Results {
		if !c.Live {
			out = append(out, c)
		}
	}
	return out
}

// Format prints the report with every secret redacted, for every verb.
func (r CheckReport) Format(s fmt.State, _ rune) {
	fmt.Fprint(s, "{Results:[")
	for i, c := range r.Results {
		if i > 0 {
			fmt.Fprint(s, " ")
		}
		fmt.Fprintf(s, "%v", c) // TokenCheck redacts its secret
	}
	fmt.Fprint(s, "]}")
}

// LogValue logs how many secrets were checked and how many are live, and
// no secret.
func (r CheckReport) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("checked", len(r.Results)),
		slog.Int("live", len(r.Results)-len(r.NotLive())),
	)
}

// checkJSON is the JSON form of one result.
type checkJSON struct {
	Secret      string   `json:"secret"`
	Live        bool     `json:"live"`
	Type        *string  `json:"type"`
	Environment *string  `json:"environment"`
	Projects    []string `json:"projects"`
}

// MarshalJSON writes the report as {"results":[...]}, each result with its
// secret redacted. Every result has the same keys; type, environment and
// projects are null for a secret that is not live.
func (r CheckReport) MarshalJSON() ([]byte, error) {
	out := make([]checkJSON, len(r.Results))
	for i, c := range r.Results {
		out[i] = checkJSON{Secret: unleashadmin.RedactSecret(c.Secret), Live: c.Live}
		if c.Live {
			typ := string(c.Type)
			out[i].Type, out[i].Environment, out[i].Projects = &typ, &c.Environment, c.Projects
			if out[i].Projects == nil {
				out[i].Projects = []string{}
			}
		}
	}
	return json.Marshal(struct {
		Results []checkJSON `json:"results"`
	}{out})
}

// Check asks Unleash which of secrets are live (POST /edge/validate) and
// returns one result per secret, in the order given, a repeated secret
// once for each time it was given. Live tells whether Unleash accepts it;
// type, environment and projects come with a live one.
//
// Unleash caches the tokens it has looked up, so a token deleted or expired
// a moment ago may still be reported live: for about a minute on Unleash 6,
// and on Unleash 7 and 8, where this endpoint keeps a cache the server
// never refreshes, until the server restarts if it was checked before. A
// "not live" answer is reliable; "live" is not proof. A check is not a use:
// it does not change the token's seenAt.
//
// An empty secret, one with spaces or line breaks in it, or one longer than
// MaxSecretLen is refused before anything is sent; the error says which
// (by position, never by its text).
func Check(ctx context.Context, v Validator, secrets []string) (*CheckReport, error) {
	if v == nil {
		return nil, fmt.Errorf("hygiene: %w: no Validator", unleashadmin.ErrInvalidArgument)
	}
	for i, s := range secrets {
		if err := checkSecret(s); err != nil {
			return nil, fmt.Errorf("hygiene: %w: secret %d %s", unleashadmin.ErrInvalidArgument, i+1, err)
		}
	}
	if len(secrets) == 0 {
		return &CheckReport{Results: []unleashadmin.TokenCheck{}}, nil
	}
	res, err := v.ValidateTokens(ctx, secrets)
	if err != nil {
		return nil, err
	}
	if len(res) != len(secrets) {
		return nil, fmt.Errorf("hygiene: %w: %d results for %d secrets", unleashadmin.ErrUnexpectedResponse, len(res), len(secrets))
	}
	return &CheckReport{Results: res}, nil
}

// checkSecret says what is wrong with s as a secret, without quoting it.
func checkSecret(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > MaxSecretLen:
		return fmt.Errorf("is longer than %d bytes", MaxSecretLen)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return errors.New("holds a space or a control character")
	}
	return nil
}

// ReadSecrets reads secrets one per line, as a shell pipeline gives them:
// spaces around a secret and blank lines are dropped. A line longer than
// MaxSecretLen, or one with a space inside, is an error naming its line
// number (never its text).
func ReadSecrets(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxSecretLen+2) // the secret, "\r\n"
	var out []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := checkSecret(line); err != nil {
			return nil, fmt.Errorf("hygiene: %w: line %d %s", unleashadmin.ErrInvalidArgument, n, err)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("hygiene: %w: line %d is longer than %d bytes", unleashadmin.ErrInvalidArgument, len(out)+1, MaxSecretLen)
		}
		return nil, fmt.Errorf("hygiene: reading secrets: %w", err)
	}
	return out, nil
}

// SecretFile is one secret read by ReadSecretDir, with the name of the
// file it came from. Its printed form (every fmt verb, and slog) and its
// JSON form redact the secret.
type SecretFile struct {
	Name   string
	Secret string
}

// Format prints the file's name and its secret redacted, for every verb.
func (f SecretFile) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{Name:%q Secret:%s}", f.Name, unleashadmin.RedactSecret(f.Secret))
}

// LogValue logs the file's name and its secret redacted.
func (f SecretFile) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", f.Name), slog.String("secret", unleashadmin.RedactSecret(f.Secret)))
}

// MarshalJSON writes {"name","secret"} with the secret redacted.
func (f SecretFile) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name   string `json:"name"`
		Secret string `json:"secret"`
	}{f.Name, unleashadmin.RedactSecret(f.Secret)})
}

// ReadSecretDir reads one secret from every regular file of dir, by file
// name: the layout in which each file holds one secret and a newline, as
// unleash-tokens apply --deliver-dir writes it and as a Kubernetes secret
// mounted as a volume looks. A symbolic link to a regular file counts as
// one. Files whose names start with "." (such as Kubernetes' "..data"),
// subdirectories and other non-regular files are left out. A file that is
// empty, holds more than one line, or is larger than MaxSecretLen plus its
// line break is an error naming the file (never its contents).
func ReadSecretDir(dir string) ([]SecretFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("hygiene: reading secrets: %w", err)
	}
	var out []SecretFile
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := os.Stat(path) // follows a symbolic link
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a dangling link
				continue
			}
			return nil, fmt.Errorf("hygiene: reading secrets: %w", err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		secret, err := readSecretFile(path)
		if err != nil {
			return nil, fmt.Errorf("hygiene: %w: file %s %s", unleashadmin.ErrInvalidArgument, e.Name(), err)
		}
		out = append(out, SecretFile{Name: e.Name(), Secret: secret})
	}
	return out, nil
}

func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSecretLen+3))
	if err != nil {
		return "", err
	}
	if len(data) > MaxSecretLen+2 {
		return "", fmt.Errorf("is larger than %d bytes", MaxSecretLen+2)
	}
	data = bytes.TrimRight(data, "\r\n")
	secret := strings.TrimSpace(string(data))
	if strings.ContainsAny(secret, "\r\n") {
		return "", errors.New("holds more than one line")
	}
	if err := checkSecret(secret); err != nil {
		return "", err
	}
	return secret, nil
}
