package unleashtest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// captureDir holds request/response pairs recorded against a real Unleash
// 8.2.0 server, kept by the parent module. TestReplayCaptures replays them
// in their original order against the stand-in.
const captureDir = "../testdata/captures-8.2.0"

// capture is one recorded exchange.
type capture struct {
	name    string
	method  string
	target  string // path and query
	port    string
	header  http.Header
	body    *string
	status  int
	rHeader http.Header
	rBody   []byte
}

// shellWords splits a command line the way a POSIX shell would for the
// quoting forms used in the capture files.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\"\\$`", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			inWord = true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

var urlRE = regexp.MustCompile(`^http://127\.0\.0\.1:(\d+)(/.*)$`)

func readCapture(t *testing.T, dir, name string) capture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	lines := strings.SplitN(text, "\n", 4) // comment, command, blank, response
	if len(lines) < 4 || !strings.HasPrefix(lines[1], "$ curl ") {
		t.Fatalf("%s: unexpected layout", name)
	}
	c := capture{name: name, header: http.Header{}}
	command := strings.TrimPrefix(lines[1], "$ ")
	// One capture shows its JSON body unquoted; take it verbatim.
	var verbatim *string
	if before, after, ok := strings.Cut(command, " -d {"); ok {
		command = before
		b := "{" + after
		verbatim = &b
	}
	words := shellWords(command)
	hasData := false
	for i := 1; i < len(words); i++ {
		switch w := words[i]; w {
		case "-sS", "-i":
		case "--max-time":
			i++
		case "-X":
			i++
			c.method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ":")
			v = strings.TrimSpace(v)
			if v == "" {
				c.header.Del(k) // curl: "Name:" removes the header
				c.header.Set("X-Replay-No-"+k, "1")
			} else {
				c.header.Set(k, v)
			}
		case "-d", "--data-binary":
			i++
			b := words[i]
			c.body = &b
			hasData = true
		default:
			m := urlRE.FindStringSubmatch(w)
			if m == nil {
				t.Fatalf("%s: cannot read %q", name, w)
			}
			c.port, c.target = m[1], m[2]
		}
	}
	if verbatim != nil {
		c.body, hasData = verbatim, true
	}
	if hasData && c.header.Get("Content-Type") == "" && c.header.Get("X-Replay-No-Content-Type") == "" {
		c.header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default
	}
	c.header.Del("X-Replay-No-Content-Type")

	res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(lines[3])), nil)
	if err != nil {
		t.Fatalf("%s: response: %v", name, err)
	}
	c.status = res.StatusCode
	c.rHeader = res.Header
	c.rBody, _ = io.ReadAll(res.Body)
	c.rBody = bytes.TrimSpace(c.rBody)
	return c
}

var hexRE = regexp.MustCompile(`[0-9a-f]{56}`)

// normalise makes a response body comparable: secrets are mapped through
// rename, ids and timestamps become placeholders, lists are sorted.
func normalise(t *testing.T, name string, body []byte, rename func(string) string) any {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(rename(string(body))), &v); err != nil {
		t.Errorf("%s: body %q is not JSON: %v", name, body, err)
		return nil
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "id":
					if s, ok := val.(string); ok && uuidRE.MatchString(s) {
						x[k] = "<uuid>"
					} else {
						t.Errorf("%s: id %v is not a uuid", name, val)
					}
				case "createdAt":
					if s, _ := val.(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
						t.Errorf("%s: createdAt %v", name, val)
					}
					x[k] = "<time>"
				case "seenAt":
					x[k] = nil // filled in by a background job on the real server
				default:
					x[k] = walk(val)
				}
			}
			if list, ok := x["tokens"].([]any); ok {
				sort.Slice(list, func(i, j int) bool {
					a, _ := list[i].(map[string]any)["secret"].(string)
					b, _ := list[j].(map[string]any)["secret"].(string)
					return a < b
				})
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
			return x
		}
		return v
	}
	return walk(v)
}

// tokenCacheCases are the captures of the client API whose answer comes
// from the real server's token cache, which the stand-in does not have.
var tokenCacheCases = map[string]string{
	"808-use-after-expire":       "the real server's token cache still accepts the token expired by PUT",
	"903-use-right-after-delete": "the real server's token cache still accepts the deleted token",
}

func TestReplayCaptures(t *testing.T) {
	index, err := os.ReadFile(filepath.Join(captureDir, "index.tsv"))
	if os.IsNotExist(err) {
		t.Skip("captures not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	realToOurs := map[string]string{}
	oursToReal := map[string]string{}
	mapHex := func(m map[string]string) func(string) string {
		return func(s string) string {
			return hexRE.ReplaceAllStringFunc(s, func(h string) string {
				if r, ok := m[h]; ok {
					return r
				}
				return h
			})
		}
	}
	// index.tsv gives the order the exchanges happened in; a few later
	// ones are only present as files.
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
		names = append(names, strings.SplitN(line, "\t", 2)[0])
	}
	files, _ := filepath.Glob(filepath.Join(captureDir, "*.txt"))
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".txt"); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	replayed := 0
	for _, name := range names {
		c := readCapture(t, captureDir, name)
		auth := strings.TrimPrefix(c.header.Get("Authorization"), "Bearer ")
		target := s
		switch {
		case c.port == "4244":
			// The token-limit case ran on a second instance started with a
			// limit of 3 and holding the admin token plus two others.
			target = unleashtest.NewTestServer(t, unleashtest.WithTokenLimit(3))
			for _, n := range []string{"l1", "l2"} {
				create(t, target, `{"tokenName":"`+n+`","type":"backend"}`)
			}
		case tokenCacheCases[name] != "":
			continue
		case strings.HasPrefix(auth, "user:") || strings.HasPrefix(auth, "<"):
			// Personal access tokens do not exist here. A token a PAT
			// created must still exist for the later lists, so replay
			// successful creates with the admin key.
			if c.method != "POST" || c.status != http.StatusCreated {
				continue
			}
			c.header.Set("Authorization", s.AdminKey())
		}

		toOurs := mapHex(realToOurs)
		var body io.Reader
		if c.body != nil {
			body = strings.NewReader(toOurs(*c.body))
		}
		req, err := http.NewRequest(c.method, target.URL()+toOurs(c.target), body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, vs := range c.header {
			for _, v := range vs {
				req.Header.Add(k, toOurs(v))
			}
		}
		res, err := target.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		replayed++

		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, real server %d; body %s", name, res.StatusCode, c.status, got)
			continue
		}
		for _, h := range []string{"Content-Type", "Location"} {
			if want := c.rHeader.Get(h); res.Header.Get(h) != want {
				t.Errorf("%s: %s %q, real server %q", name, h, res.Header.Get(h), want)
			}
		}
		if c.status == http.StatusCreated {
			var ours, real struct{ Secret string }
			_ = json.Unmarshal(got, &ours)
			_ = json.Unmarshal(c.rBody, &real)
			o, r := hexRE.FindString(ours.Secret), hexRE.FindString(real.Secret)
			if o == "" || r == "" {
				t.Fatalf("%s: no secret in %s", name, got)
			}
			realToOurs[r], oursToReal[o] = o, r
		}
		want := normalise(t, name, c.rBody, func(s string) string { return s })
		have := normalise(t, name, got, mapHex(oursToReal))
		if !reflect.DeepEqual(have, want) {
			w, _ := json.Marshal(want)
			h, _ := json.Marshal(have)
			t.Errorf("%s: body differs\n got: %s\nwant: %s", name, h, w)
		}
	}
	if replayed < 100 {
		t.Errorf("only %d exchanges replayed", replayed)
	}
	t.Logf("%d exchanges replayed", replayed)
}
