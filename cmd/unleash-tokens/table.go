package main

// The one table renderer of the command, and what a table shows of a
// secret. Every table (list, get, events, plan, apply, audit, prune,
// check) goes through printTable.

import (
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/seed8b9e94f4/unleashadmin"
)

// tableWidth is the width tables keep to when neither $COLUMNS nor a
// terminal says another.
const tableWidth = 80

// minCut is the narrowest a descriptive column is cut to, "…" included.
const minCut = 6

// column is a column of a table. An identifier (a name, the shown part of
// a secret or a selector, a file name) and a short word of a fixed
// vocabulary (a type, a status, a date) are never cut. A descriptive
// column (reasons, project lists, environments) is cut, with "…", when the
// table would be wider than the output: cut says in which order, 1 first.
type column struct {
	title string
	cut   int
}

// ident and desc make the two kinds of column.
func ident(title string) column           { return column{title: title} }
func desc(title string, order int) column { return column{title: title, cut: order} }

// cell makes a cell's text printable: a server's text cannot add a row or
// move the cursor. It is the one place every table's text goes through.
func cell(s string) string { return printable(s) }

// outputWidth is the width tables fit: $COLUMNS when it is set, the
// terminal's when stdout is one, else tableWidth.
func outputWidth(stdout io.Writer, getenv env) int {
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return tableWidth
}

// printTable prints an aligned table, two spaces between columns. It fits
// the output's width by cutting descriptive columns, in their order, each
// down to minCut characters; a line is longer only when its identifiers
// need it. With -o wide nothing is cut.
func (a *app) printTable(cols []column, rows [][]string) error {
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	all := append([][]string{header}, rows...)
	for _, r := range all {
		for i := range r {
			r[i] = cell(r[i])
		}
	}
	widths := layout(cols, all, a.tableWidth(), a.wide)
	var b strings.Builder
	for _, r := range all {
		var line strings.Builder
		for i, c := range r {
			c = cut(c, widths[i])
			line.WriteString(c)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(a.out, b.String())
	return err
}

// tableWidth is the width this run's tables fit.
func (a *app) tableWidth() int {
	if a.width > 0 {
		return a.width
	}
	return tableWidth
}

// layout returns each column's width: its widest cell, but for the
// descriptive columns of a table wider than width, which are cut in their
// order, each as far as needed and no further than minCut.
func layout(cols []column, rows [][]string, width int, wide bool) []int {
	widths := make([]int, len(cols))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	if wide {
		return widths
	}
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for order := 1; total > width; order++ {
		more := false
		for i, c := range cols {
			if c.cut < order {
				continue
			}
			more = true
			if c.cut != order || widths[i] <= minCut {
				continue
			}
			less := min(total-width, widths[i]-minCut)
			widths[i] -= less
			total -= less
		}
		if !more {
			break
		}
	}
	return widths
}

// cut shortens s, a printable text, to n characters, ending in "…" when
// it was longer. An escape is kept whole or left out: a cut one could read
// as another character.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	var b strings.Builder
	for width := 0; s != ""; {
		k := unitLen(s)
		w := utf8.RuneCountInString(s[:k])
		if width+w > n-1 {
			break
		}
		b.WriteString(s[:k])
		width += w
		s = s[k:]
	}
	return b.String() + "…"
}

// unitLen is the length in bytes of what printable text s starts with: an
// escape (printable's forms), or one character.
func unitLen(s string) int {
	if len(s) > 1 && s[0] == '\\' {
		switch s[1] {
		case '\\', 'n', 'r', 't':
			return 2
		case 'x':
			return min(len(s), 4)
		case 'u':
			return min(len(s), 6)
		case 'U':
			return min(len(s), 10)
		}
	}
	_, n := utf8.DecodeRuneInString(s)
	return n
}

// minShown is how many characters of a secret's random part a table shows
// at least: four collide too often in an instance of 2,000 tokens.
const minShown = 8

// secretIDs returns what a table shows of each token's secret (the
// shown part): the selector of a token listed under secure token storage,
// or of a full v2 secret, whole, as expire, delete and rotate take it
// (it is not a credential); otherwise the redacted secret with its
// project, environment and minShown characters of the random part, or
// more where two tokens would still show the same. "-" for a token without
// a secret.
func secretIDs(toks []unleashadmin.APIToken) []string {
	ids := make([]string, len(toks))
	for n := minShown; ; n++ {
		shown := map[string]string{} // shown part -> the token it is of
		collide, grew := false, false
		for i, t := range toks {
			id, whole := secretID(t, n)
			grew = grew || id != ids[i]
			ids[i] = id
			token := t.Secret
			if whole {
				token = id // a selector is the token's, however it was given
			}
			if other, ok := shown[id]; ok && other != token {
				collide = true
			}
			shown[id] = token
		}
		// RedactSecretN shows at most half a random part: past that, more
		// characters change nothing.
		if !collide || !grew {
			return ids
		}
	}
}

// secretID is the shown part of one token's secret, with n characters of
// its random part; whole is true when it is shown whole (a selector, or
// "-" for no secret).
func secretID(t unleashadmin.APIToken, n int) (id string, whole bool) {
	switch {
	case t.Secret == "":
		return "-", true
	case t.Secure && t.Redacted().Secret == t.Secret:
		return t.Secret, true // a listed selector
	}
	if sel, ok := unleashadmin.Selector(t.Secret); ok {
		return sel, true
	}
	return unleashadmin.RedactSecretN(t.Secret, n), false
}

// shownSecret is the shown part of one token's secret, outside a table.
func shownSecret(t unleashadmin.APIToken) string {
	id, _ := secretID(t, minShown)
	return id
}
