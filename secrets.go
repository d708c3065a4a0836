package unleashadmin

// This file is the one room for credentials: how a secret splits into the
// part that may be shown and the part that may not, the redacted form, and
// how text that came back from a server is checked and cleaned of the
// credentials a request carried. Everything that reports a server's words
// (APIError, RedirectError, the errors of net/http and of decoding) goes
// through credSet.clean or credSet.cleanErr.

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// minRandom is the shortest part after the prefix that is taken for the
// random part of a secret: Unleash's is 56 hex characters (43 base64url
// characters in a v2 secret).
const minRandom = 16

// echoRun is the length of a run of a credential's random part that counts
// as an echo of the credential wherever it appears, in any letter case, raw,
// percent-escaped or JSON-escaped.
const echoRun = 12

// minRedacted is the length below which a credential is not searched for in
// echoed text: replacing a two-letter key everywhere would garble messages
// and protect nothing.
const minRedacted = 8

// v2 secrets (Unleash's secure token storage) end in
// "v2_<22-character selector>_<43-character secret>"; the selector is not a
// credential (lists show it, and update and delete accept it).
const (
	v2Marker      = "v2_"
	v2SelectorLen = 22
	v2SecretLen   = 43
)

// splitSecret splits a secret into the part that may be shown and its
// random part; ok is false when it has no random part of at least
// minRandom characters. The shown part is "<project>:<environment>." for a
// v1 secret, "<project>:<environment>.v2_<selector>_" for a v2 secret,
// "user:" (or "user:v2_<selector>_") for a personal access token. A string
// with neither '.' nor ':' has no such split.
func splitSecret(secret string) (shown, random string, ok bool) {
	if i, ok := v2Split(secret); ok {
		return secret[:i], secret[i:], true
	}
	i := strings.LastIndexByte(secret, '.')
	if i < 0 {
		i = strings.LastIndexByte(secret, ':')
	}
	if i < 0 || len(secret)-i-1 < minRandom {
		return "", "", false
	}
	return secret[:i+1], secret[i+1:], true
}

// v2Split returns where the 43-character secret part of a v2 secret
// starts, if s is one: "...[.:]v2_<22 selector chars>_<43 secret chars>".
func v2Split(s string) (int, bool) {
	secretAt := len(s) - v2SecretLen
	selectorAt := secretAt - 1 - v2SelectorLen
	markerAt := selectorAt - len(v2Marker)
	if markerAt < 1 || s[secretAt-1] != '_' || s[markerAt:selectorAt] != v2Marker ||
		(s[markerAt-1] != '.' && s[markerAt-1] != ':') ||
		!base64URL(s[selectorAt:secretAt-1]) || !base64URL(s[secretAt:]) {
		return 0, false
	}
	return secretAt, true
}

// Selector returns the selector of a full v2 secret of Unleash's secure
// token storage: the 22 characters after "v2_". Lists show a token by its
// selector (in APIToken.Secret); it identifies the token but does not
// authenticate, and update and delete accept it. ok is false for any other
// string.
func Selector(secret string) (selector string, ok bool) {
	i, ok := v2Split(secret)
	if !ok {
		return "", false
	}
	return secret[i-1-v2SelectorLen : i-1], true
}

// isSelector reports whether s has the form of a bare selector of secure
// token storage (22 base64url characters).
func isSelector(s string) bool { return len(s) == v2SelectorLen && base64URL(s) }

// IsSelector reports whether s has the form of a selector of secure token
// storage as lists show it: 22 characters of the base64url alphabet. One
// may start with "-", which a command line would take for a flag.
func IsSelector(s string) bool { return isSelector(s) }

func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RedactSecret returns a form of a token secret (or API key) that is safe to
// print: the prefix Unleash puts in front of the random part, four
// characters of the random part, then "***":
// "default:development.d17f***". For a v2 secret of secure token storage the
// prefix includes the selector, which is not a credential:
// "default:development.v2_<selector>_Zm9v***". A secret without a random
// part of at least 16 characters prints as "***".
func RedactSecret(secret string) string {
	if secret == "" {
		return ""
	}
	prefix, random, ok := splitSecret(secret)
	if !ok {
		return "***"
	}
	return prefix + random[:4] + "***"
}

// RedactSecretN is RedactSecret showing n characters of the random part
// instead of four: "default:development.d17fe70d***" for n = 8. It is for
// a table that must tell many tokens apart by what it shows of them. n is
// raised to 4 and lowered to half the random part, so that no more than
// half of a secret's random part is ever shown. A secret without a random
// part of at least 16 characters prints as "***".
func RedactSecretN(secret string, n int) string {
	if secret == "" {
		return ""
	}
	prefix, random, ok := splitSecret(secret)
	if !ok {
		return "***"
	}
	n = max(4, min(n, len(random)/2))
	return prefix + random[:n] + "***"
}

// randomPart returns what must not be echoed of a credential: its random
// part, or the whole credential when it has no recognisable shape.
func randomPart(cred string) string {
	if _, random, ok := splitSecret(cred); ok {
		return random
	}
	return cred
}

// credSet holds the credentials of a request (the API key, and the token
// secrets in its path or body) in the forms needed to find and hide their
// echoes. The Client keeps the key's set; a request with secrets of its own
// builds one more, only when there is text to check.
type credSet struct {
	creds []string // whole credentials, at least minRedacted long
	runs  runSet   // every echoRun-long run of their random parts, normalised
}

func newCredSet(creds ...string) *credSet {
	s := &credSet{}
	for _, c := range creds {
		if len(c) < minRedacted || strings.Contains(c, "***") {
			continue
		}
		s.creds = append(s.creds, c)
		random := randomPart(c)
		s.runs.add(random)
		for _, e := range encodedForms(random) {
			s.runs.addEvery(e.form, e.step)
		}
	}
	return s
}

// encodedForm is a credential's random part in an encoding, with the step
// between the places in it where a byte (hex) or a 3-byte group (base64)
// of the random part starts.
type encodedForm struct {
	form string
	step int
}

// encodedForms returns the forms of a credential's random part that an
// echo in hex or base64 shows whatever surrounds it: its hex digits (in
// lower case; a byte every 2 digits), and for each of the three places
// where it may start within base64's 3-byte groups, the base64 of the whole
// groups it fills (a group every 4 characters), in the standard and the URL
// alphabet. Padding and the groups that it shares with what surrounds it
// fall outside these forms, so an echo of the credential alone, of "Bearer
// <key>" or of a whole header holds one.
func encodedForms(random string) []encodedForm {
	forms := []encodedForm{{hex.EncodeToString([]byte(random)), 2}}
	for lead := range 3 {
		n := (len(random) - lead) / 3 * 3
		if n <= 0 {
			continue
		}
		std := base64.StdEncoding.EncodeToString([]byte(random[lead : lead+n]))
		forms = append(forms, encodedForm{std, 4})
		if u := base64URLAlphabet.Replace(std); u != std {
			forms = append(forms, encodedForm{u, 4})
		}
	}
	return forms
}

var base64URLAlphabet = strings.NewReplacer("+", "-", "/", "_")

// echoedIn reports whether body shows a credential of sets.
func echoedIn(sets []*credSet, body []byte) bool {
	for _, s := range sets {
		if s != nil && !s.runs.empty() && foundIn(&s.runs, body) {
			return true
		}
	}
	return false
}

// echoed reports whether any of texts shows a credential of sets.
func echoed(sets []*credSet, texts ...string) bool {
	for _, s := range sets {
		if s == nil || s.runs.empty() {
			continue
		}
		for _, t := range texts {
			if s.runs.foundIn(t) {
				return true
			}
		}
	}
	return false
}

// replacer hides the exact forms of the credentials of sets: each whole
// credential and its random part, raw, path- and query-escaped, and in
// upper and lower case, and the hex (either case) and base64 forms of the
// random part (encodedForms), which become "***". Whole credentials come
// first, so that at one position the whole form wins.
func replacer(sets []*credSet) *strings.Replacer {
	var whole, parts []string
	for _, s := range sets {
		if s == nil {
			continue
		}
		for _, c := range s.creds {
			for _, f := range forms(c) {
				whole = append(whole, f, RedactSecret(c))
			}
			if _, random, ok := splitSecret(c); ok {
				for _, f := range forms(random) {
					parts = append(parts, f, random[:4]+"***")
				}
			}
			encoded := encodedForms(randomPart(c))
			parts = append(parts, strings.ToUpper(encoded[0].form), "***")
			for _, e := range encoded {
				parts = append(parts, e.form, "***")
			}
		}
	}
	return strings.NewReplacer(append(whole, parts...)...)
}

func forms(s string) []string {
	return []string{s, url.PathEscape(s), url.QueryEscape(s), strings.ToUpper(s), strings.ToLower(s)}
}

// clean returns text with every exact echo of the credentials of sets
// replaced by its redacted form. ok is false when a credential still shows
// (split, cut, escaped another way or in mixed case): then the text must be
// dropped.
func clean(sets []*credSet, text string) (cleaned string, ok bool) {
	if !echoed(sets, text) {
		return text, true
	}
	cleaned = replacer(sets).Replace(text)
	return cleaned, !echoed(sets, cleaned)
}

// droppedText stands for a text that repeated a credential in a form that
// could not be cleaned.
const droppedText = "[removed: it repeated a credential]"

// cleanErr returns err, or a stand-in with the credentials of sets removed
// from its text when it showed one.
func cleanErr(sets []*credSet, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	cleaned, ok := clean(sets, msg)
	if ok && cleaned == msg {
		return err
	}
	if !ok {
		cleaned = "unleashadmin: error text " + droppedText
	}
	return &redactedError{msg: cleaned, orig: err}
}

// RedactText returns text with every echo of creds taken out, by the same
// check the Client applies to what servers answer: each credential's random
// part is found in any letter case, cut to 12 characters, split by line
// breaks or invisible characters, and under percent, JSON, HTML and octal
// escapes. Exact echoes are replaced by the redacted form (RedactSecret);
// when a credential still shows after that, the whole text is replaced by
// a note that it was removed. Credentials shorter than 8 characters are not
// searched for.
func RedactText(text string, creds ...string) string {
	cleaned, ok := clean([]*credSet{newCredSet(creds...)}, text)
	if !ok {
		return droppedText
	}
	return cleaned
}

// RedactError returns err, or when its text shows one of creds (by the
// check of RedactText) an error with the credentials taken out of its text,
// which answers errors.Is and errors.As as err does but does not unwrap to
// it, so that code walking the chain cannot print the original text.
func RedactError(err error, creds ...string) error {
	return cleanErr([]*credSet{newCredSet(creds...)}, err)
}

// RedactError is the package's RedactError with c's API key added to creds.
func (c *Client) RedactError(err error, creds ...string) error {
	return cleanErr(append([]*credSet{newCredSet(creds...)}, c.keyCreds...), err)
}

// redactedError stands for an error whose text held a credential. It gives
// the redacted text and answers errors.Is and errors.As as the original
// does (a context's deadline, ErrUnexpectedResponse, *RedirectError), but
// does not unwrap to the original: code that walks the chain, such as an
// error reporter, would print its text.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

func (e *redactedError) As(target any) bool { return errors.As(e.orig, target) }

// runSet is a set of normalised echoRun-long strings with a filter in
// front, so that checking a text costs a few nanoseconds a byte and no
// allocation unless the text holds escapes. The filter holds every 4-byte
// piece of the runs: only where echoRun-3 pieces in a row pass it can a
// run end, and only there is the set itself asked.
type runSet struct {
	filter *[filterBits / 64]uint64
	runs   map[[echoRun]byte]struct{} // arrays: a key costs no allocation
	// short holds random parts shorter than echoRun (but at least
	// minRedacted long), which must appear whole.
	short []string
}

const filterBits = 1 << 16

func (r *runSet) empty() bool { return len(r.runs) == 0 && len(r.short) == 0 }

// add adds every echoRun-long run of random, normalised. A random part
// shorter than echoRun is kept to be looked for whole, when at least
// minRedacted long.
func (r *runSet) add(random string) { r.addEvery(random, 1) }

// addEvery is add with only the runs that start every step characters: an
// encoded form of a credential, in which a text that holds an echo holds
// those runs too, at every place where a character (hex) or a group
// (base64) of the credential starts. Any echo of echoRun+step-1 characters
// of the form holds one of them, and the set is step times smaller.
func (r *runSet) addEvery(random string, step int) {
	n := []byte(normalize(random))
	if len(n) < minRedacted {
		return
	}
	if len(n) < echoRun {
		r.short = append(r.short, string(n))
		return
	}
	if r.runs == nil {
		r.runs = map[[echoRun]byte]struct{}{}
		r.filter = new([filterBits / 64]uint64)
	}
	for i := 0; i+echoRun <= len(n); i += step {
		r.runs[[echoRun]byte(n[i:i+echoRun])] = struct{}{}
	}
	for i := 0; i+4 <= len(n); i++ {
		slot := pieceSlot(uint32(n[i])<<24 | uint32(n[i+1])<<16 | uint32(n[i+2])<<8 | uint32(n[i+3]))
		r.filter[slot/64] |= 1 << (slot % 64)
	}
}

// pieceSlot is the filter bit of a 4-byte piece.
func pieceSlot(piece uint32) uint32 { return (piece * 2654435761) >> (32 - 16) }

// foundIn reports whether text, normalised, holds a run of the set.
func (r *runSet) foundIn(text string) bool { return foundIn(r, text) }

// foundIn is runSet.foundIn for a string or a byte slice (an error body,
// which is then not copied).
func foundIn[T string | []byte](r *runSet, text T) bool {
	// Normalising only shortens a text: one shorter than a run cannot
	// hold one (a credential too short for runs must appear whole).
	if r.empty() || len(text) < echoRun && (len(r.short) == 0 || len(text) < minRedacted) {
		return false
	}
	if len(r.short) > 0 || hasEscape(text) {
		// The slow path, for texts with escapes: undo them first.
		t := normalize(string(text))
		if r.runs != nil && scan(r, t, false) {
			return true
		}
		for _, s := range r.short {
			if strings.Contains(t, s) {
				return true
			}
		}
		return false
	}
	return r.runs != nil && scan(r, text, true)
}

// hasEscape reports whether text holds something normalize undoes: the
// start of an escape, or a character past ASCII.
func hasEscape[T string | []byte](text T) bool {
	for i := 0; i < len(text); i++ {
		// Any byte past ASCII too: an invisible character (a no-break or
		// zero-width space) may split an echo, and normalize drops it.
		if c := text[i]; c == '%' || c == '\\' || c == '&' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// scan slides over text, folding case and skipping white space on the
// fly when fold is set (text is already normalised otherwise). It keeps the
// last echoRun bytes in a ring and counts how many 4-byte pieces in a row
// passed the filter; from echoRun-3 on, the window may be a run, and the
// set is asked.
func scan[T string | []byte](r *runSet, text T, fold bool) bool {
	var ring, run [echoRun]byte
	var piece uint32
	n, slot, streak := 0, 0, 0
	for i := 0; i < len(text); i++ {
		b := text[i]
		if fold {
			if b <= ' ' && isSpace(b) {
				continue
			}
			if b-'A' < 26 {
				b += 'a' - 'A'
			}
		}
		ring[slot] = b
		if slot++; slot == echoRun {
			slot = 0
		}
		piece = piece<<8 | uint32(b)
		if n++; n < 4 {
			continue
		}
		if s := pieceSlot(piece); r.filter[s/64]&(1<<(s%64)) == 0 {
			streak = 0
			continue
		}
		if streak++; streak >= echoRun-3 {
			copy(run[:], ring[slot:])
			copy(run[echoRun-slot:], ring[:slot])
			if _, ok := r.runs[run]; ok {
				return true
			}
		}
	}
	return false
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// normalize undoes the escapes a credential may be echoed in (percent
// escapes, JSON's \uXXXX and \x escapes, HTML's &#NN; references),
// repeatedly for text escaped several times over, then folds case and
// drops white space and the invisible characters that may split an echo.
func normalize(s string) string {
	for range maxUnescape {
		u := unescapeOnce(s)
		if u == s {
			break
		}
		s = u
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && isSpace(byte(r)), r == '\f', r == '\v', invisible(r):
		case r < utf8.RuneSelf:
			b.WriteByte(lower(byte(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maxUnescape bounds the rounds of unescaping: each round shortens the
// text, so a text needs at most this many to be plain in practice, and a
// hostile one cannot make the check run long.
const maxUnescape = 8

// invisible reports whether r shows nothing: a no-break or zero-width space
// and the like, which a page may put between the characters of an echo.
func invisible(r rune) bool {
	switch r {
	case 0xa0, 0xad, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x2028, 0x2029, 0x85:
		return true
	}
	return false
}

func unescapeOnce(s string) string {
	if !strings.ContainsAny(s, `%\&`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case c == '\\' && i+5 < len(s) && s[i+1] == 'u' && isHex(s[i+2]) && isHex(s[i+3]) && isHex(s[i+4]) && isHex(s[i+5]):
			r := rune(unhex(s[i+2]))<<12 | rune(unhex(s[i+3]))<<8 | rune(unhex(s[i+4]))<<4 | rune(unhex(s[i+5]))
			b.WriteRune(r)
			i += 5
		case c == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]):
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 3
		case c == '\\' && i+3 < len(s) && s[i+1] == 'u' && s[i+2] == '{':
			// \u{39}, as JavaScript writes code points.
			v, k := 0, i+3
			for k < len(s) && isHex(s[k]) {
				v = min(v*16+int(unhex(s[k])), utf8.MaxRune+1)
				k++
			}
			if k < len(s) && s[k] == '}' && k > i+3 {
				b.WriteRune(rune(v))
				i = k
			} else {
				b.WriteByte(c)
			}
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7':
			// Octal: \71 is '9'.
			v, k := 0, i+1
			for k < len(s) && k < i+4 && s[k] >= '0' && s[k] <= '7' {
				v = v*8 + int(s[k]-'0')
				k++
			}
			b.WriteByte(byte(v))
			i = k - 1
		case c == '\\' && i+1 < len(s):
			// \/, \", \\ and the letter escapes: keep the escaped byte;
			// \n and \t become white space, which normalize drops.
			switch n := s[i+1]; n {
			case 'n', 't', 'r':
				b.WriteByte(' ')
			default:
				b.WriteByte(n)
			}
			i++
		case c == '&' && strings.HasPrefix(s[i:], "&nbsp;"):
			b.WriteRune(0xa0) // dropped with the other invisible characters
			i += len("&nbsp;") - 1
		case c == '&' && i+3 < len(s) && s[i+1] == '#':
			j := i + 2
			hex := j < len(s) && (s[j] == 'x' || s[j] == 'X')
			if hex {
				j++
			}
			v, k := 0, j
			for k < len(s) && (hex && isHex(s[k]) || !hex && s[k] >= '0' && s[k] <= '9') {
				if hex {
					v = v*16 + int(unhex(s[k]))
				} else {
					v = v*10 + int(s[k]-'0')
				}
				v = min(v, utf8.MaxRune+1) // many digits: no overflow
				k++
			}
			switch {
			case k == j:
				b.WriteByte(c)
			case k < len(s) && s[k] == ';':
				b.WriteRune(rune(v))
				i = k
			default:
				// Browsers read a reference without its ';' too.
				b.WriteRune(rune(v))
				i = k - 1
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
