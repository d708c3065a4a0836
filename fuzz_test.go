package unleashadmin

// Fuzz targets for the code that reads what a server sends (decodeBody,
// newAPIError) and for the code that puts caller input into a URL (apiPath).
// Their seed corpora in testdata/fuzz are made from the real captures in
// testdata/captures-* (see fuzz_corpus_test.go). Run one for a while with
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 30s .
//
// A plain go test runs each seed once.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// response builds a success or error response around body.
func response(status int, contentType string, body []byte, knownLength bool) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	length := int64(-1)
	if knownLength {
		length = int64(len(body))
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: length}
}

// FuzzDecode decodes arbitrary bodies the way a list and a create response
// are decoded. Nothing may panic, every failure must be
// ErrUnexpectedResponse, and what decodes must be what Unleash always sends
// (a "tokens" list; a created token with its secret) and print without it.
func FuzzDecode(f *testing.F) {
	f.Add("application/json; charset=utf-8", []byte(`{"tokens":[]}`), true)
	f.Fuzz(func(t *testing.T, contentType string, body []byte, knownLength bool) {
		var list tokenList
		err := decodeBody("GET", "/api/admin/api-tokens", response(200, contentType, body, knownLength), &list)
		switch {
		case err != nil && !errors.Is(err, ErrUnexpectedResponse):
			t.Fatalf("list: error %v is not ErrUnexpectedResponse", err)
		case err == nil && list.Tokens == nil:
			t.Fatalf("list: decoded without a tokens list: %s", body)
		case err == nil:
			for _, tok := range list.Tokens {
				checkPrinted(t, tok)
			}
		}

		var got created
		err = decodeBody("POST", "/api/admin/api-tokens", response(201, contentType, body, knownLength), &got)
		switch {
		case err != nil && !errors.Is(err, ErrUnexpectedResponse):
			t.Fatalf("create: error %v is not ErrUnexpectedResponse", err)
		case err == nil && got.tok.Secret == "":
			t.Fatalf("create: decoded without a secret: %s", body)
		}
		checkPrinted(t, got.tok)
	})
}

// checkPrinted prints tok with the verbs and handlers a caller would use and
// fails if what shows depends on more of its secret than the redacted form
// keeps. It prints a twin whose secret differs only past the first four
// characters of the random part: the two outputs must be the same. (Searching
// the output for the random part instead misfires whenever a name or the
// prefix happens to contain it.)
func checkPrinted(t *testing.T, tok APIToken) {
	t.Helper()
	prefix, random := secretModel(tok.Secret)
	if len(random) < minRandom {
		return
	}
	fill := "Z"
	if strings.Trim(random[4:], "Z") == "" {
		fill = "Y"
	}
	twin := tok
	twin.Secret = prefix + random[:4] + strings.Repeat(fill, len(random)-4)
	if got, other := printToken(tok), printToken(twin); got != other {
		t.Fatalf("printing a token shows more of its secret than %q:\n%s\nwith secret %q instead:\n%s",
			RedactSecret(tok.Secret), got, twin.Secret, other)
	}
}

// printToken prints tok with fmt's verbs and both slog handlers (without
// their timestamps).
func printToken(tok APIToken) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%v %+v %#v %s %q", tok, tok, &tok, []APIToken{tok}, tok)
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	slog.New(slog.NewJSONHandler(&b, noTime)).Info("t", "token", tok)
	slog.New(slog.NewTextHandler(&b, noTime)).Info("t", "token", &tok)
	return b.String()
}

// FuzzAPIError parses arbitrary error responses. Nothing may panic; the
// error must keep at most MaxErrorBodyBytes of the body, match the sentinel
// of its status and no other, and after redaction show neither the API key
// nor the token secret of the request, wherever the body repeats them.
func FuzzAPIError(f *testing.F) {
	f.Add(404, "application/json; charset=utf-8", []byte(`{"name":"NotFoundError","message":"The path you were looking for (/api/admin/projects/default/api-tokens/`+faultSecret+`) is not available."}`))
	c, err := NewClient("http://unleash.test", faultKey)
	if err != nil {
		f.Fatal(err)
	}
	p := projectTokens("default").secret(faultSecret)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		e := newAPIError("DELETE", "http://unleash.test", p.shown, response(status, contentType, body, true))
		if len(e.Body) > MaxErrorBodyBytes || !bytes.HasPrefix(body, e.Body) || (len(body) > 0) != (len(e.Body) > 0) {
			t.Fatalf("Body holds %d bytes of %d", len(e.Body), len(body))
		}
		for code, s := range sentinels {
			if errors.Is(e, s) != (code == status) {
				t.Fatalf("status %d: errors.Is(%v) = %v", status, s, errors.Is(e, s))
			}
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "unleashadmin: DELETE /api/admin/projects/default/api-tokens/default:development.4f3c***: "+strconv.Itoa(status)) {
			t.Fatalf("Error() = %q", msg)
		}

		e.clean(c.credSets(p))
		shown := strings.Join([]string{e.Error(), string(e.Body), e.ID, e.Name, e.Message, fmt.Sprintf("%+v", e.Details), fmt.Sprint(e.Header)}, "\n")
		for _, random := range []string{randomOf(faultKey), randomOf(faultSecret)} {
			if run, ok := showsRun(shown, random); ok {
				t.Fatalf("cleaned error shows %q of %q:\n%s", run, random, shown)
			}
		}
	})
}

// FuzzPath builds the paths of the endpoints that take caller input. Each
// argument must stay one path segment that decodes back to itself, and the
// reported form must never show the random part of the secret.
func FuzzPath(f *testing.F) {
	f.Add("default", faultSecret)
	f.Fuzz(func(t *testing.T, param, secret string) {
		byName := route(apiTokens).param(param)
		checkSegments(t, byName.wire, "api", "admin", "api-tokens", param)
		if byName.shown != byName.wire {
			t.Fatalf("a name path is shown as %q, sent as %q", byName.shown, byName.wire)
		}

		bySecret := route(apiTokens).secret(secret)
		checkSegments(t, bySecret.wire, "api", "admin", "api-tokens", secret)
		inProject := projectTokens(param).secret(secret)
		checkSegments(t, inProject.wire, "api", "admin", "projects", param, "api-tokens", secret)
		if !slices.Equal(bySecret.creds, []string{secret}) || !slices.Equal(inProject.creds, []string{secret}) {
			t.Fatalf("the path forgot its secret")
		}

		// The shown path must be a path too: the same segments, the
		// secret's one redacted.
		shownSegs := strings.Split(inProject.shown, "/")
		if len(shownSegs) != 7 {
			t.Fatalf("shown path %q has %d segments", inProject.shown, len(shownSegs)-1)
		}
		// It must read back as the secret's prefix, at most four characters
		// of its random part and "***". Comparing the decoded form (rather
		// than searching the escaped one for the random part) keeps an
		// escaped prefix such as "%20000…" from looking like a leak.
		last, err := url.PathUnescape(shownSegs[6])
		if err != nil {
			t.Fatalf("shown segment %q does not decode: %v", shownSegs[6], err)
		}
		var want string
		prefix, random := secretModel(secret)
		switch {
		case secret == "":
			want = ""
		case len(random) < minRandom:
			want = "***"
		default:
			want = prefix + random[:4] + "***"
		}
		if last != want {
			t.Fatalf("secret %q is shown as %q (decoded %q), want %q", secret, shownSegs[6], last, want)
		}
	})
}

// v2Secret is the shape of a secret of Unleash's secure token storage
// ((?s): the prefix before it may hold a line break, as a fuzzed one does).
var v2Secret = regexp.MustCompile(`(?s)^(.*[.:]v2_[A-Za-z0-9_-]{22}_)([A-Za-z0-9_-]{43})$`)

// secretModel splits a secret as the documentation of RedactSecret says:
// a v2 secret after its selector, else after the last dot, else after the
// last colon (a personal access token), else not at all (no random part
// to show four characters of).
func secretModel(secret string) (prefix, random string) {
	if m := v2Secret.FindStringSubmatch(secret); m != nil {
		return m[1], m[2]
	}
	if i := strings.LastIndexByte(secret, '.'); i >= 0 {
		return secret[:i+1], secret[i+1:]
	}
	if i := strings.LastIndexByte(secret, ':'); i >= 0 {
		return secret[:i+1], secret[i+1:]
	}
	return "", "" // no shape: shown as "***" whatever its length
}

// showsRun reports the first run of 12 characters of secret that text
// holds in any letter case, raw or escaped (percent, \uXXXX, \u{X}, octal,
// HTML numeric references with or without ';', several times over), split
// by white space or by invisible characters.
func showsRun(text, secret string) (string, bool) {
	unescaped := text
	for range 6 {
		for _, e := range testEscapes {
			unescaped = e.re.ReplaceAllStringFunc(unescaped, e.decode)
		}
	}
	invisible := strings.NewReplacer("\u00a0", "", "\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "")
	ls := strings.ToLower(secret)
	for _, form := range []string{text, unescaped, strings.Join(strings.Fields(invisible.Replace(unescaped)), ""), strings.ReplaceAll(unescaped, `\n`, "")} {
		lt := strings.ToLower(form)
		for i := 0; i+12 <= len(ls); i++ {
			if strings.Contains(lt, ls[i:i+12]) {
				return secret[i : i+12], true
			}
		}
	}
	return "", false
}

// testEscapes are the escapes showsRun undoes, written independently of
// the code under test.
var testEscapes = []struct {
	re     *regexp.Regexp
	decode func(string) string
}{
	{regexp.MustCompile(`\\u[0-9a-fA-F]{4}`), func(m string) string { return codePoint(m[2:], 16) }},
	{regexp.MustCompile(`\\u\{[0-9a-fA-F]+\}`), func(m string) string { return codePoint(m[3:len(m)-1], 16) }},
	{regexp.MustCompile(`\\[0-7]{1,3}`), func(m string) string { v, _ := strconv.ParseUint(m[1:], 8, 8); return string([]byte{byte(v)}) }},
	{regexp.MustCompile(`%[0-9a-fA-F]{2}`), func(m string) string { v, _ := strconv.ParseUint(m[1:], 16, 8); return string([]byte{byte(v)}) }},
	{regexp.MustCompile(`&#[xX][0-9a-fA-F]+;?`), func(m string) string { return codePoint(strings.TrimSuffix(m[3:], ";"), 16) }},
	{regexp.MustCompile(`&#[0-9]+;?`), func(m string) string { return codePoint(strings.TrimSuffix(m[2:], ";"), 10) }},
	{regexp.MustCompile(`&nbsp;`), func(string) string { return "" }},
}

func codePoint(digits string, base int) string {
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || v > 0x10ffff {
		return "\ufffd"
	}
	return string(rune(v))
}

// checkSegments parses the wire path as the request URL would be parsed and
// checks that it splits into want, each segment decoding to its value.
func checkSegments(t *testing.T, wire string, want ...string) {
	t.Helper()
	u, err := url.Parse("https://unleash.example.com/unleash" + wire)
	if err != nil {
		t.Fatalf("path %q does not parse: %v", wire, err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.Host != "unleash.example.com" {
		t.Fatalf("path %q spilled into the URL: host %q query %q fragment %q", wire, u.Host, u.RawQuery, u.Fragment)
	}
	got := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/unleash/"), "/")
	if len(got) != len(want) {
		t.Fatalf("path %q has %d segments, want %d: %q", wire, len(got), len(want), got)
	}
	for i, seg := range got {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec != want[i] {
			t.Fatalf("segment %d of %q decodes to %q (%v), want %q", i, wire, dec, err, want[i])
		}
		if seg == "." || seg == ".." {
			t.Fatalf("segment %d of %q is a dot segment", i, wire)
		}
	}
	// What net/http puts on the request line is the same path.
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil || req.URL.RequestURI() != u.EscapedPath() {
		t.Fatalf("request line of %q is %q (%v)", wire, req.URL.RequestURI(), err)
	}
}
