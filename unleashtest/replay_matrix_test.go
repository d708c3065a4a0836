package unleashtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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

// The captures below were recorded against real Unleash 8.2.0 servers, in
// default mode and with UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true, each on a
// fresh database holding the projects default and second and the admin key
// of INIT_ADMIN_API_TOKENS. They are replayed in their order against one
// stand-in per directory, secrets of the real server swapped for the
// stand-in's in every request and back in every response.

// replayRun is one directory of captures and how to replay it.
type replayRun struct {
	dir  string
	opts []unleashtest.Option
	// restart names cases before which the real server was restarted with
	// other settings: the replay goes on with a new stand-in holding the
	// tokens so far, made with opts and these options too.
	restart map[string][]unleashtest.Option
	// other makes the stand-in for a case sent to another port: a second
	// real server with settings of its own.
	other func(t *testing.T) *unleashtest.Server
	// skip names cases that are not compared, and why.
	skip map[string]string
	// cleanUp names cases before which the capture deleted, without
	// recording it, every token it had made.
	cleanUp []string
}

// notServed are the cases every run skips: calls the stand-in does not
// serve, and answers that depend on the real server's token cache.
var notServed = map[string]string{
	"406-environments":                     "GET /api/admin/environments is not served",
	"442-events-legacy":                    "GET /api/admin/events is not served",
	"493-edge-validate-right-after-delete": "the real server's token cache still reports the deleted token",
	"495-edge-validate-later":              "the real server's token cache still reports the deleted token",
	"498-edge-validate-much-later":         "the real server's token cache still reports the deleted token",
}

func withSkips(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range notServed {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// limitServer is the second server of the token-limit cases: started with
// UNLEASH_API_TOKENS_LIMIT=3 on an empty database, holding the admin key
// and the tokens l1 and l2.
func limitServer(secure bool) func(t *testing.T) *unleashtest.Server {
	return func(t *testing.T) *unleashtest.Server {
		opts := []unleashtest.Option{unleashtest.WithTokenLimit(3), unleashtest.WithTokens(
			unleashtest.Token{TokenName: "l1", Type: "client"},
			unleashtest.Token{TokenName: "l2", Type: "client"},
		)}
		if secure {
			opts = append(opts, unleashtest.WithSecureTokens())
		}
		return unleashtest.NewTestServer(t, opts...)
	}
}

func TestReplayMatrixCaptures(t *testing.T) {
	projects := unleashtest.WithProjects("default", "second")
	runs := []replayRun{
		{
			dir:   "../testdata/captures-8.2.0/matrix",
			opts:  []unleashtest.Option{projects},
			other: limitServer(false),
			skip: withSkips(map[string]string{
				"494-client-api-right-after-delete": "the real server's token cache still accepts the deleted token",
			}),
			cleanUp: []string{"499-list-at-end"},
		},
		{
			dir:     "../testdata/captures-8.2.0-secure",
			opts:    []unleashtest.Option{projects, unleashtest.WithSecureTokens()},
			other:   limitServer(true),
			skip:    withSkips(nil),
			cleanUp: []string{"499-list-at-end"},
		},
		{
			dir:     "../testdata/captures-8.2.0-standin",
			opts:    []unleashtest.Option{projects},
			restart: map[string][]unleashtest.Option{"640-limit-create-bad-env": {unleashtest.WithTokenLimit(6)}},
			skip: withSkips(map[string]string{
				"624-edge-validate-get": "the real server answers a GET outside /api with its web UI",
			}),
		},
		{
			dir:  "../testdata/captures-8.2.0-secure-standin",
			opts: []unleashtest.Option{projects, unleashtest.WithSecureTokens()},
			restart: map[string][]unleashtest.Option{
				"640-limit-ui-config":   {unleashtest.WithTokenLimit(6)},
				"650-create-seen-probe": {}, // without the limit again
			},
			skip: withSkips(nil),
		},
	}
	for _, run := range runs {
		t.Run(filepath.Base(run.dir), func(t *testing.T) {
			t.Parallel()
			replayDir(t, run)
		})
	}
}

// secretPieces splits a secret into the parts that are random, which the
// replay maps between the real server and the stand-in: the hex of a
// legacy secret, or the selector and the secret part of a v2 one.
var (
	legacyRandomRE = regexp.MustCompile(`\.([0-9a-f]{56})$`)
	v2RandomRE     = regexp.MustCompile(`\.v2_([A-Za-z0-9_-]{22})_([A-Za-z0-9_-]{43})$`)
)

func secretPieces(secret string) []string {
	if m := v2RandomRE.FindStringSubmatch(secret); m != nil {
		return m[1:]
	}
	if m := legacyRandomRE.FindStringSubmatch(secret); m != nil {
		return m[1:]
	}
	return nil
}

// secretMap holds the random parts of the secrets both servers made, in
// both directions.
type secretMap struct {
	realToOurs, oursToReal []string // replacer pairs
}

func (m *secretMap) add(t *testing.T, name, real, ours string) {
	r, o := secretPieces(real), secretPieces(ours)
	if len(r) == 0 || len(r) != len(o) {
		t.Fatalf("%s: secrets of different forms: real %q, stand-in %s", name, redactForLog(real), redactForLog(ours))
	}
	for i := range r {
		m.realToOurs = append(m.realToOurs, r[i], o[i])
		m.oursToReal = append(m.oursToReal, o[i], r[i])
	}
}

func (m *secretMap) toOurs(s string) string { return strings.NewReplacer(m.realToOurs...).Replace(s) }
func (m *secretMap) toReal(s string) string { return strings.NewReplacer(m.oursToReal...).Replace(s) }

func redactForLog(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

func replayDir(t *testing.T, run replayRun) {
	index, err := os.ReadFile(filepath.Join(run.dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
		names = append(names, strings.SplitN(line, "\t", 2)[0])
	}
	srv := unleashtest.NewTestServer(t, run.opts...)
	var mainPort string
	var other *unleashtest.Server
	var secrets secretMap
	compared := 0
	for _, name := range names {
		c := readCapture(t, run.dir, name)
		if mainPort == "" {
			mainPort = c.port
		}
		if extra, ok := run.restart[name]; ok {
			var seeds []unleashtest.Token
			for _, tok := range srv.Tokens() {
				if tok.Secret != srv.AdminKey() {
					seeds = append(seeds, tok)
				}
			}
			opts := append(slices.Clone(run.opts), extra...)
			srv = unleashtest.NewTestServer(t, append(opts, unleashtest.WithTokens(seeds...))...)
		}
		if slices.Contains(run.cleanUp, name) {
			for _, tok := range srv.Tokens() {
				if tok.Type != "admin" {
					r := admin(t, srv, "DELETE", "/api/admin/api-tokens/"+url.PathEscape(tok.Secret))
					wantStatus(t, r, http.StatusOK)
				}
			}
		}
		target := srv
		if c.port != mainPort {
			if run.other == nil {
				t.Fatalf("%s: sent to port %s, and the run has no second server", name, c.port)
			}
			if other == nil {
				other = run.other(t)
			}
			target = other
		}

		var body io.Reader
		if c.body != nil {
			body = strings.NewReader(secrets.toOurs(*c.body))
		}
		req, err := http.NewRequest(c.method, target.URL()+secrets.toOurs(c.target), body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, vs := range c.header {
			for _, v := range vs {
				req.Header.Add(k, secrets.toOurs(v))
			}
		}
		res, err := target.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if c.status == http.StatusCreated && res.StatusCode == http.StatusCreated {
			var ours, real struct{ Secret string }
			_ = json.Unmarshal(got, &ours)
			_ = json.Unmarshal(c.rBody, &real)
			secrets.add(t, name, real.Secret, ours.Secret)
		}
		if why, ok := run.skip[name]; ok {
			t.Logf("%s: not compared: %s", name, why)
			continue
		}
		compared++
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, real server %d; body %s", name, res.StatusCode, c.status, got)
			continue
		}
		for _, h := range []string{"Content-Type", "Location"} {
			if want := c.rHeader.Get(h); res.Header.Get(h) != want {
				t.Errorf("%s: %s %q, real server %q", name, h, res.Header.Get(h), want)
			}
		}
		ours := []byte(secrets.toReal(string(got)))
		// The real server's log also holds the creation of the admin key
		// (by unleash_system_user) and events that are not about tokens,
		// which the stand-in does not record: an event total is compared
		// only where none of those can count.
		q := c.target
		totalComparable := strings.Contains(q, "query=") ||
			strings.Contains(q, "type=") && !strings.Contains(q, "api-token-created")
		want := normaliseMatrix(t, name, c.rBody, totalComparable)
		have := normaliseMatrix(t, name, ours, totalComparable)
		trimFlags(want, have)
		if !reflect.DeepEqual(have, want) {
			w, _ := json.Marshal(want)
			h, _ := json.Marshal(have)
			t.Errorf("%s: body differs\n got: %s\nwant: %s", name, h, w)
			continue
		}
		if c.status/100 == 2 {
			if w, h := keyOrders(c.rBody), keyOrders(ours); !reflect.DeepEqual(w, h) {
				t.Errorf("%s: key order differs\n got: %q\nwant: %q", name, h, w)
			}
		}
	}
	if compared < len(names)/2 {
		t.Errorf("only %d of %d exchanges compared", compared, len(names))
	}
	t.Logf("%d of %d exchanges compared", compared, len(names))
}

var (
	timeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	ulidRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
)

// normaliseMatrix makes a body comparable: ids, times and the like become
// placeholders (after a check of their form), token lists are sorted by
// secret, and what the real server fills in from elsewhere is dropped: the
// seenAt of legacy tokens (a background job writes it), the event ids and,
// unless keepTotal, the event total (its log holds other events).
func normaliseMatrix(t *testing.T, name string, body []byte, keepTotal bool) any {
	t.Helper()
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] == '<' {
		return string(body) // HTML
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: body %q is not JSON: %v", name, body, err)
		return nil
	}
	check := func(re *regexp.Regexp, key string, val any) {
		if s, _ := val.(string); !re.MatchString(s) {
			t.Errorf("%s: %s %v", name, key, val)
		}
	}
	var walk func(v any, parent string) any
	walk = func(v any, parent string) any {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				switch k {
				case "id":
					if s, ok := val.(string); ok {
						check(uuidRE, k, s)
						x[k] = "<uuid>"
					} else if parent == "events" {
						x[k] = "<event id>"
					}
				case "instanceId":
					check(uuidRE, k, val)
					x[k] = "<uuid>"
				case "unleashUrl":
					x[k] = "<url>"
				case "createdAt":
					check(timeRE, k, val)
					x[k] = "<time>"
				case "seenAt":
					if val != nil {
						check(timeRE, k, val)
						x[k] = "<time>"
					}
				case "groupId":
					check(ulidRE, k, val)
					x[k] = "<ulid>"
				case "total":
					if !keepTotal {
						x[k] = "<total>"
					}
				default:
					x[k] = walk(val, k)
				}
			}
			if _, ok := x["seenAt"]; ok && x["secure"] != true {
				x["seenAt"] = nil
			}
			if list, ok := x["tokens"].([]any); ok && len(list) > 0 {
				if _, listed := list[0].(map[string]any)["secret"]; listed {
					sort.SliceStable(list, func(i, j int) bool {
						a, _ := list[i].(map[string]any)["secret"].(string)
						b, _ := list[j].(map[string]any)["secret"].(string)
						return a < b
					})
				}
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(x[i], parent)
			}
			return x
		}
		return v
	}
	return walk(v, "")
}

// trimFlags keeps of the real server's ui-config flags those the stand-in
// sends (it sends one of about ninety); a flag the stand-in sends that the
// real server lacks stays, so that the comparison fails.
func trimFlags(want, have any) {
	w, _ := want.(map[string]any)
	h, _ := have.(map[string]any)
	wf, _ := w["flags"].(map[string]any)
	hf, _ := h["flags"].(map[string]any)
	if wf == nil || hf == nil {
		return
	}
	for k := range wf {
		if _, ok := hf[k]; !ok {
			delete(wf, k)
		}
	}
}

// keyOrders returns the key sequence of every object in a JSON document
// but the ui-config flags, sorted, so that two documents whose objects
// hold their keys in the same order compare equal whatever the order of
// the items of their lists.
func keyOrders(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object  bool
		keys    []string
		wantKey bool
		under   string // the key this object or list is the value of
		inFlags bool   // inside the ui-config flags
	}
	var stack []frame
	var out []string
	lastKey := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				under := lastKey
				if top >= 0 && !stack[top].object {
					under = stack[top].under
				}
				inFlags := under == "flags" || top >= 0 && stack[top].inFlags
				stack = append(stack, frame{object: d == '{', wantKey: d == '{', under: under, inFlags: inFlags})
			case '}', ']':
				f := stack[top]
				stack = stack[:top]
				if f.object && !f.inFlags {
					out = append(out, strings.Join(f.keys, ","))
				}
				if top > 0 && stack[top-1].object {
					stack[top-1].wantKey = true
				}
			}
			continue
		}
		if top >= 0 && stack[top].object {
			if stack[top].wantKey {
				lastKey = tok.(string)
				stack[top].keys = append(stack[top].keys, lastKey)
				stack[top].wantKey = false
			} else {
				stack[top].wantKey = true
			}
		}
	}
	sort.Strings(out)
	return out
}
