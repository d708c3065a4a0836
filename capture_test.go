package unleashadmin

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// capture is one request/response pair recorded from a real Unleash server
// (testdata/captures-<version>/NNN-name.txt: a comment, the curl command, a
// blank line, then the raw HTTP response).
type capture struct {
	name    string
	request string // "METHOD /path"
	status  int
	header  http.Header
	body    []byte
}

func loadCaptures(t testing.TB, version string) []capture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "captures-"+version, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures for %s: %v", version, err)
	}
	var out []capture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := parseCapture(data)
		if !ok {
			continue // a capture of something other than one HTTP exchange
		}
		c.name = strings.TrimSuffix(filepath.Base(f), ".txt")
		out = append(out, c)
	}
	return out
}

func parseCapture(data []byte) (capture, bool) {
	var c capture
	i := bytes.Index(data, []byte("\nHTTP/1.1 "))
	if i < 0 {
		return c, false
	}
	if j := bytes.Index(data, []byte("-X ")); j >= 0 && j < i {
		f := strings.Fields(string(data[j+3 : i]))
		if len(f) >= 2 {
			path := f[1]
			if k := strings.Index(path, "//"); k >= 0 {
				if s := strings.Index(path[k+2:], "/"); s >= 0 {
					path = path[k+2+s:]
				}
			}
			c.request = f[0] + " " + path
		}
	}
	r := bufio.NewReader(bytes.NewReader(data[i+1:]))
	status, _ := r.ReadString('\n')
	parts := strings.Fields(status)
	if len(parts) < 2 {
		return c, false
	}
	c.status, _ = strconv.Atoi(parts[1])
	c.header = http.Header{}
	for {
		line, err := r.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" || err != nil {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			c.header.Add(k, strings.TrimSpace(v))
		}
	}
	rest, _ := r.ReadBytes(0)
	c.body = bytes.TrimSpace(rest)
	return c, true
}
