package unleashtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonKind tells which JSON type a jsonValue holds.
type jsonKind int

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// jsonValue is a parsed JSON document that keeps object keys in the order the
// client sent them, so that values echoed back in error messages ("You sent
// ...") look like what Node's JSON.stringify would print.
type jsonValue struct {
	kind    jsonKind
	boolean bool
	number  float64
	str     string
	items   []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// get returns the value of key in an object, or nil when it is absent.
func (v *jsonValue) get(key string) *jsonValue {
	if v == nil || v.kind != kindObject {
		return nil
	}
	for _, m := range v.members {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

// parseJSON parses a request body. On a syntax error it returns a message
// worded like the one Node.js gives for JSON.parse, which is what the real
// server sends back.
func parseJSON(body []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readValue(dec)
	if err == nil {
		// Anything but whitespace after the document is an error.
		end := int(dec.InputOffset())
		if _, terr := dec.Token(); terr != io.EOF {
			return nil, errors.New(nodeTrailingMessage(body, end))
		}
		return v, nil
	}
	return nil, errors.New(nodeSyntaxMessage(body, err))
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// nodeTrailingMessage words the error for extra data after a complete JSON
// document that ends at offset end.
func nodeTrailingMessage(body []byte, end int) string {
	pos := end
	for pos < len(body) && isJSONSpace(body[pos]) {
		pos++
	}
	return fmt.Sprintf("Unexpected non-whitespace character after JSON at position %d", pos)
}

// nodeSyntaxMessage turns a Go decoding error into a message close to V8's.
func nodeSyntaxMessage(body []byte, err error) string {
	var se *json.SyntaxError
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "Unexpected end of JSON input"
	}
	if !errors.As(err, &se) {
		return "Unexpected end of JSON input"
	}
	if strings.Contains(se.Error(), "unexpected end") {
		return "Unexpected end of JSON input"
	}
	pos := int(se.Offset) - 1
	if pos < 0 {
		pos = 0
	}
	for pos < len(body) && isJSONSpace(body[pos]) {
		pos++
	}
	if pos >= len(body) {
		return "Unexpected end of JSON input"
	}
	r, _ := utf8.DecodeRune(body[pos:])
	src := string(body)
	const context = 10
	if utf8.RuneCountInString(src) <= 2*context {
		return fmt.Sprintf("Unexpected token '%c', \"%s\" is not valid JSON", r, src)
	}
	start := max(pos-context, 0)
	end := min(pos+context, len(body))
	for start > 0 && !utf8.RuneStart(body[start]) {
		start--
	}
	for end < len(body) && !utf8.RuneStart(body[end]) {
		end++
	}
	snippet := string(body[start:end])
	prefix, suffix := "", ""
	if start > 0 {
		prefix = "..."
	}
	if end < len(body) {
		suffix = "..."
	}
	return fmt.Sprintf("Unexpected token '%c', %s\"%s\"%s is not valid JSON", r, prefix, snippet, suffix)
}

// readValue reads one JSON value from the token stream.
func readValue(dec *json.Decoder) (*jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	return valueFromToken(dec, tok)
}

func valueFromToken(dec *json.Decoder, tok json.Token) (*jsonValue, error) {
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: kindNull}, nil
	case bool:
		return &jsonValue{kind: kindBool, boolean: t}, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			// Out of range: JSON.parse yields ±Infinity.
			if strings.HasPrefix(string(t), "-") {
				f = math.Inf(-1)
			} else {
				f = math.Inf(1)
			}
		}
		return &jsonValue{kind: kindNumber, number: f}, nil
	case string:
		return &jsonValue{kind: kindString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := &jsonValue{kind: kindArray}
			for dec.More() {
				item, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, item)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		case '{':
			v := &jsonValue{kind: kindObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, &json.SyntaxError{Offset: dec.InputOffset()}
				}
				item, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				replaced := false
				for i := range v.members {
					if v.members[i].key == key {
						// JSON.parse keeps the last value for a repeated key.
						v.members[i].value = item
						replaced = true
						break
					}
				}
				if !replaced {
					v.members = append(v.members, jsonMember{key: key, value: item})
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// stringify prints v the way JavaScript's JSON.stringify does.
func (v *jsonValue) stringify() string {
	var b strings.Builder
	v.writeTo(&b)
	return b.String()
}

func (v *jsonValue) writeTo(b *strings.Builder) {
	if v == nil {
		b.WriteString("undefined")
		return
	}
	switch v.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool:
		b.WriteString(strconv.FormatBool(v.boolean))
	case kindNumber:
		if math.IsInf(v.number, 0) || math.IsNaN(v.number) {
			b.WriteString("null")
		} else {
			b.WriteString(jsNumber(v.number))
		}
	case kindString:
		writeJSString(b, v.str)
	case kindArray:
		b.WriteByte('[')
		for i, item := range v.items {
			if i > 0 {
				b.WriteByte(',')
			}
			item.writeTo(b)
		}
		b.WriteByte(']')
	case kindObject:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSString(b, m.key)
			b.WriteByte(':')
			m.value.writeTo(b)
		}
		b.WriteByte('}')
	}
}

// writeJSString quotes s like JSON.stringify: only quotes, backslashes and
// control characters are escaped.
func writeJSString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// jsNumber formats f like JavaScript's Number.prototype.toString.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	sign := ""
	if f < 0 {
		sign = "-"
		f = -f
	}
	// Shortest round-trip digits and the decimal exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expStr)
	n := exp + 1 // position of the decimal point relative to the digits
	k := len(digits)
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	absExp := n - 1
	if absExp < 0 {
		absExp = -absExp
	}
	m := digits[:1]
	if k > 1 {
		m += "." + digits[1:]
	}
	return sign + m + "e" + expSign + strconv.Itoa(absExp)
}

// coerceString applies Ajv's coerceTypes rule for a property of type string:
// numbers and booleans become their text, null becomes "". It reports false
// for arrays and objects, which cannot be coerced.
func coerceString(v *jsonValue) (string, bool) {
	switch v.kind {
	case kindString:
		return v.str, true
	case kindNumber:
		return jsNumber(v.number), true
	case kindBool:
		return strconv.FormatBool(v.boolean), true
	case kindNull:
		return "", true
	}
	return "", false
}
