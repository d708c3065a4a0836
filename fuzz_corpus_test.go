package unleashadmin

// The seed corpora of the fuzz targets (testdata/fuzz/Fuzz*/) are generated
// from the captured exchanges in testdata/captures-*. TestFuzzCorpus fails
// when a generated seed is missing or differs; regenerate them with
//
//	UPDATE_FUZZ_CORPUS=1 go test -run '^TestFuzzCorpus$' .
//
// Other files in those folders (inputs that once made a target fail, which
// go test -fuzz writes there) are left alone.

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fuzzFile encodes one input in the "go test fuzz v1" format.
func fuzzFile(vals ...any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		default:
			panic(fmt.Sprintf("no fuzz encoding for %T", v))
		}
	}
	return b.String()
}

var secretField = regexp.MustCompile(`"secret":"([^"]*)"`)

// fuzzSeeds returns, per target, the seed files to write: file name to
// content. Seeds with the same content are kept once, under the first name.
func fuzzSeeds(t testing.TB) map[string]map[string]string {
	seeds := map[string]map[string]string{"FuzzDecode": {}, "FuzzAPIError": {}, "FuzzPath": {}}
	seen := map[string]bool{}
	add := func(target, name, content string) {
		if seen[target+content] {
			return
		}
		seen[target+content] = true
		seeds[target][name] = content
	}
	var params, secrets []string
	addUnique := func(list *[]string, v string) {
		if !slices.Contains(*list, v) {
			*list = append(*list, v)
		}
	}
	for _, version := range []string{"8.2.0", "6.10.1", "8.2.0-secure"} {
		for _, c := range loadCaptures(t, version) {
			name := version + "-" + c.name
			ctype := c.header.Get("Content-Type")
			knownLength := c.header.Get("Content-Length") != ""
			// Every body goes to both readers: success bodies are what
			// decodeBody is for, the others test its refusals; error
			// bodies are what newAPIError is for, the others test it on
			// shapes it never expects.
			add("FuzzDecode", name, fuzzFile(ctype, c.body, knownLength))
			add("FuzzAPIError", name, fuzzFile(c.status, ctype, c.body))

			for _, m := range secretField.FindAllSubmatch(c.body, -1) {
				addUnique(&secrets, string(m[1]))
			}
			_, path, _ := strings.Cut(c.request, " ")
			segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
			for i, s := range segs {
				v, err := url.PathUnescape(s)
				if err != nil {
					continue
				}
				switch {
				case i == 3 && segs[2] == "projects", i == 3 && segs[2] == "api-tokens" && strings.HasPrefix(c.request, "GET"):
					addUnique(&params, v)
				case i == 3 && segs[2] == "api-tokens", i == 5 && segs[4] == "api-tokens":
					addUnique(&secrets, v)
				}
			}
		}
	}
	// Each secret once, with the names and project IDs taken in turn.
	sort.Strings(secrets)
	for i, s := range secrets {
		p := ""
		if len(params) > 0 {
			p = params[i%len(params)]
		}
		add("FuzzPath", fmt.Sprintf("capture-secret-%03d", i), fuzzFile(p, s))
	}
	for i, p := range params {
		add("FuzzPath", fmt.Sprintf("capture-param-%03d", i), fuzzFile(p, ""))
	}
	return seeds
}

func TestFuzzCorpus(t *testing.T) {
	t.Parallel()
	update := os.Getenv("UPDATE_FUZZ_CORPUS") != ""
	stale := 0
	for target, files := range fuzzSeeds(t) {
		if len(files) < 10 {
			t.Errorf("%s: only %d seeds from the captures", target, len(files))
		}
		dir := filepath.Join("testdata", "fuzz", target)
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, want := range files {
			path := filepath.Join(dir, name)
			if update {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				if stale++; stale <= 5 {
					t.Errorf("seed %s is missing or out of date (%v)", path, err)
				}
			}
		}
	}
	if stale > 0 {
		t.Errorf("%d seeds are missing or out of date; run: UPDATE_FUZZ_CORPUS=1 go test -run '^TestFuzzCorpus$' .", stale)
	}
}
