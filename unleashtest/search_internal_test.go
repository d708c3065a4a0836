package unleashtest

import (
	"math"
	"reflect"
	"testing"
)

func TestJSToNumber(t *testing.T) {
	for in, want := range map[string]float64{
		"": 0, "  ": 0, "5": 5, " 5\n": 5, "\u00a05\ufeff": 5, "+5": 5, "-5": -5, "5.": 5, ".5": 0.5,
		"1e3": 1000, "1E-2": 0.01, "0x1F": 31, "0o17": 15, "0b101": 5, "007": 7,
		"Infinity": math.Inf(1), "-Infinity": math.Inf(-1), "1e400": math.Inf(1),
	} {
		if got := jsToNumber(in); got != want {
			t.Errorf("jsToNumber(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"abc", "5px", ".", "1e", "0x", "-0x10", "0x1_0", "1_000", "inf", "NaN", "infinity", "1,5", "0x+1"} {
		if got := jsToNumber(in); !math.IsNaN(got) {
			t.Errorf("jsToNumber(%q) = %v, want NaN", in, got)
		}
	}
}

func TestJSParseInt(t *testing.T) {
	for in, want := range map[float64]float64{
		5: 5, 2.7: 2, 0.5: 0, 1e-7: 1, 1e21: 1, 1.5e21: 1, 123456: 123456, -3.5: -3,
	} {
		if got, ok := jsParseInt(in); !ok || got != want {
			t.Errorf("jsParseInt(%v) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []float64{math.NaN(), math.Inf(1)} {
		if _, ok := jsParseInt(in); ok {
			t.Errorf("jsParseInt(%v) ok", in)
		}
	}
}

func TestILike(t *testing.T) {
	cases := []struct {
		pattern, text string
		want          bool
	}{
		{"%abc%", "xxABCxx", true},
		{"%abc%", "ab", false},
		{"%a_c%", "abc", true},
		{"%a_c%", "ac", false},
		{"%a%c%", "a--c", true},
		{`%a\_c%`, "a_c", true},
		{`%a\_c%`, "abc", false},
		{`%a\%%`, "a%", true},
		{`%\\%`, `x\y`, true},
		{"%%", "", true},
		{"%é%", "CAFÉ", true},
		{"%ab%ab%", "abab", true},
		{"%ab%ab%", "aab", false},
	}
	for _, c := range cases {
		if got := compileLike(c.pattern).match(c.text); got != c.want {
			t.Errorf("compileLike(%q).match(%q) = %v", c.pattern, c.text, got)
		}
	}
}

func TestPGInt4(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "-42": -42, "+7": 7, " 12 ": 12, "\t3\n": 3, "2147483647": 2147483647, "-2147483648": -2147483648, "007": 7,
	} {
		if got, err := pgInt4(in); err != "" || got != want {
			t.Errorf("pgInt4(%q) = %d, %q", in, got, err)
		}
	}
	for in, want := range map[string]string{
		"":                         `invalid input syntax for type integer: ""`,
		"admin":                    `invalid input syntax for type integer: "admin"`,
		"1.0":                      `invalid input syntax for type integer: "1.0"`,
		"+-1":                      `invalid input syntax for type integer: "+-1"`,
		"1 2":                      `invalid input syntax for type integer: "1 2"`,
		"2147483648":               `value "2147483648" is out of range for type integer`,
		"-99999999999999999999999": `value "-99999999999999999999999" is out of range for type integer`,
	} {
		if _, err := pgInt4(in); err != want {
			t.Errorf("pgInt4(%q) error %q, want %q", in, err, want)
		}
	}
}

func TestParseQueryString(t *testing.T) {
	got := parseQueryString("a=1&b=x+y&a=2&c&=skip&d=%41%zz&e=%E2%82%AC&&f=a=b")
	want := map[string][]string{
		"a": {"1", "2"}, "b": {"x y"}, "c": {""}, "d": {"%41%zz"}, "e": {"€"}, "f": {"a=b"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseQueryString = %v", got)
	}
}

func TestMatchesOperator(t *testing.T) {
	for s, want := range map[string]bool{
		"IS:a": true, "IS_ANY_OF:a,b": true, "IS:": true, "IS:a b/c": true, "IS:a\u00e9": true,
		"is:a": false, "IS_NOT:a": false, "a": false, "IS:a\nb": false, "IS:a\rb": false, "IS:a\u2028": false,
	} {
		if got := matchesOperator(s); got != want {
			t.Errorf("matchesOperator(%q) = %v", s, got)
		}
	}
}

func TestJSONObjectText(t *testing.T) {
	o := jsonObject{{"tokenName", "a\"b"}, {"type", "client"}, {"projects", []string{"x", "y"}}, {"alias", nil}, {"secure", false}}
	if got := o.text(false); got != `{"tokenName":"a\"b","type":"client","projects":["x","y"],"alias":null,"secure":false}` {
		t.Errorf("json text %s", got)
	}
	if got := o.jsonbOrder().text(true); got != `{"type": "client", "alias": null, "secure": false, "projects": ["x", "y"], "tokenName": "a\"b"}` {
		t.Errorf("jsonb text %s", got)
	}
	b, _ := jsonObject(nil).MarshalJSON()
	if string(b) != "null" {
		t.Errorf("nil marshals as %s", b)
	}
}
