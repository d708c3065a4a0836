// Command ratios reads `go test -bench` output holding pairs of benchmarks
// named .../sdk and .../raw, takes the median of each metric over the runs,
// and prints Markdown tables of the SDK/raw ratios checked against the
// targets of BENCHMARKS.md.
//
//	go run ./benchreal/ratios bench.txt [more.txt ...]   (or standard input)
//
// Lines of BenchmarkPaired/serial/<case> and BenchmarkPaired/parallel16/<case>
// (sdk-ns/op, raw-ns/op and sdk/raw measured in alternating blocks) are
// joined to Serial/<case> and Parallel16/<case>, and those of
// BenchmarkRealPaired/<case> to Real/<case>; their median sdk/raw is the
// "interleaved" time ratio, which the time target is judged on when present.
//
// Targets apply to the in-process benchmarks (Serial/..., Parallel16/...):
// time/op at most 1.10 (Serial) and throughput at least 0.95 of raw
// (Parallel16, that is time/op at most 1/0.95), B/op and allocs/op at most
// 1.25, conns/op below 0.01 and, where measured, peak-heap/body at most 3.
// Other benchmarks (Real/...) are shown without targets, with the SDK's
// share of the round trip. With -strict the exit status is 1 when a target
// is missed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// sample holds every value seen for one metric of one side.
type sample map[string][]float64 // unit -> values

type pair struct {
	name     string
	sdk, raw sample
	// From BenchmarkPaired: per-run sdk/raw and each side's ns/op.
	paired             []float64
	pairedSDK, pairedR []float64
	// From BenchmarkRealPaired: per-run median of the SDK's minus the raw
	// time within a pair.
	pairedDiff []float64
}

// pairedName maps a BenchmarkPaired name to the case it times.
func pairedName(name string) (string, bool) {
	for prefix, to := range map[string]string{"Paired/serial/": "Serial/", "Paired/parallel16/": "Parallel16/", "RealPaired/": "Real/"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			return to + rest, true
		}
	}
	return "", false
}

var procSuffix = regexp.MustCompile(`-\d+$`)

func main() {
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	flag.Parse()
	var in []io.Reader
	for _, f := range flag.Args() {
		file, err := os.Open(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ratios:", err)
			os.Exit(2)
		}
		defer file.Close()
		in = append(in, file)
	}
	if len(in) == 0 {
		in = append(in, os.Stdin)
	}
	pairs, err := parse(io.MultiReader(in...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(2)
	}
	if len(pairs) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no .../sdk and .../raw benchmark pairs in the input")
		os.Exit(2)
	}
	if missed := report(os.Stdout, pairs); missed > 0 && *strict {
		os.Exit(1)
	}
}

// parse reads benchmark lines such as
//
//	BenchmarkSerial/create/sdk-2  17250  73477 ns/op  11087 B/op  131 allocs/op
func parse(r io.Reader) ([]*pair, error) {
	var order []*pair
	byName := map[string]*pair{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		full := strings.TrimPrefix(procSuffix.ReplaceAllString(f[0], ""), "Benchmark")
		get := func(name string) *pair {
			p := byName[name]
			if p == nil {
				p = &pair{name: name, sdk: sample{}, raw: sample{}}
				byName[name] = p
				order = append(order, p)
			}
			return p
		}
		values := sample{}
		for j := 2; j+1 < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad value %q", f[0], f[j])
			}
			values[f[j+1]] = append(values[f[j+1]], v)
		}
		if name, ok := pairedName(full); ok {
			if len(values["sdk/raw"]) == 1 && len(values["sdk-ns/op"]) == 1 && len(values["raw-ns/op"]) == 1 {
				p := get(name)
				p.paired = append(p.paired, values["sdk/raw"][0])
				p.pairedSDK = append(p.pairedSDK, values["sdk-ns/op"][0])
				p.pairedR = append(p.pairedR, values["raw-ns/op"][0])
				p.pairedDiff = append(p.pairedDiff, values["sdk-raw-ns/op"]...)
			}
			continue
		}
		i := strings.LastIndexByte(full, '/')
		if i < 0 {
			continue
		}
		name, side := full[:i], full[i+1:]
		if side != "sdk" && side != "raw" {
			continue
		}
		p := get(name)
		s := p.sdk
		if side == "raw" {
			s = p.raw
		}
		for u, v := range values {
			s[u] = append(s[u], v...)
		}
	}
	return order, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// target is an upper bound on an SDK/raw ratio (or, for absolute, on the
// SDK's own value).
type target struct {
	unit     string
	max      float64
	absolute bool
	label    string
}

func targets(name string) []target {
	common := []target{
		{unit: "B/op", max: 1.25, label: "≤ 1.25"},
		{unit: "allocs/op", max: 1.25, label: "≤ 1.25"},
		{unit: "conns/op", max: 0.01, absolute: true, label: "no new conn per call"},
		{unit: "peak-heap/body", max: 3, absolute: true, label: "≤ 3"},
	}
	switch {
	case strings.HasPrefix(name, "Serial/"):
		return append([]target{{unit: "ns/op", max: 1.10, label: "≤ 1.10"}}, common...)
	case strings.HasPrefix(name, "Parallel16/"):
		return append([]target{{unit: "ns/op", max: 1 / 0.95, label: "throughput ≥ 0.95 (time ≤ 1.053)"}}, common...)
	}
	return nil
}

var unitOrder = []string{"ns/op", "B/op", "allocs/op", "conns/op", "peak-heap/body", "alloc/body", "retained/body", "tokens"}

func units(p *pair) []string {
	var us []string
	for _, u := range unitOrder {
		if len(p.sdk[u]) > 0 || len(p.raw[u]) > 0 {
			us = append(us, u)
		}
	}
	return us
}

func ratio(sdk, raw float64) string {
	if raw == 0 {
		if sdk == 0 {
			return "1.00"
		}
		return "-"
	}
	return fmt.Sprintf("%.3f", sdk/raw)
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

// report prints a summary table and one table per case; it returns the
// number of targets missed.
func report(w io.Writer, pairs []*pair) int {
	missed := 0
	fmt.Fprintln(w, "### Summary: SDK/raw, medians")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| case | runs | time/op interleaved | time/op separate | B/op | allocs/op | other | targets |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, p := range pairs {
		cell := func(u string) string {
			if len(p.sdk[u]) == 0 || len(p.raw[u]) == 0 {
				return ""
			}
			return ratio(median(p.sdk[u]), median(p.raw[u]))
		}
		var other []string
		if strings.HasPrefix(p.name, "Parallel16/") {
			t := timeRatio(p)
			if t > 0 {
				other = append(other, fmt.Sprintf("throughput %.3f", 1/t))
			}
		}
		if v := p.sdk["conns/op"]; len(v) > 0 {
			other = append(other, "conns/op "+num(median(v)))
		}
		if v := p.sdk["peak-heap/body"]; len(v) > 0 {
			other = append(other, "peak-heap/body "+num(median(v)))
		}
		if strings.HasPrefix(p.name, "Real/") {
			if len(p.pairedDiff) > 0 {
				d, s := median(p.pairedDiff), median(p.pairedSDK)
				other = append(other, fmt.Sprintf("SDK adds %+.1f µs per call, %+.2f%% of the call (paired median)", d/1e3, 100*d/s))
			} else if s, r := median(p.sdk["ns/op"]), median(p.raw["ns/op"]); s > 0 {
				other = append(other, fmt.Sprintf("SDK share of the call %+.1f%%", 100*(s-r)/s))
			}
		}
		verdict := "-"
		if ts := targets(p.name); ts != nil {
			var bad []string
			for _, t := range ts {
				s, r := p.sdk[t.unit], p.raw[t.unit]
				if t.unit == "ns/op" {
					if v := timeRatio(p); v > t.max {
						bad = append(bad, "time/op")
					}
					continue
				}
				if len(s) == 0 || (!t.absolute && len(r) == 0) {
					continue
				}
				v := median(s)
				if !t.absolute {
					v /= median(r)
				}
				if v > t.max {
					bad = append(bad, t.unit)
				}
			}
			if len(bad) == 0 {
				verdict = "met"
			} else {
				verdict = "MISSED: " + strings.Join(bad, ", ")
				missed += len(bad)
			}
		}
		runs := fmt.Sprintf("%d/%d", len(p.sdk["ns/op"]), len(p.raw["ns/op"]))
		if len(p.paired) > 0 {
			runs += fmt.Sprintf(" +%d", len(p.paired))
		}
		inter := ""
		if len(p.paired) > 0 {
			inter = fmt.Sprintf("%.3f", median(p.paired))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", p.name, runs, inter,
			cell("ns/op"), cell("B/op"), cell("allocs/op"), strings.Join(other, ", "), verdict)
	}
	for _, p := range pairs {
		fmt.Fprintf(w, "\n### %s\n\n", p.name)
		fmt.Fprintln(w, "| metric | SDK | raw | SDK/raw | target |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, u := range units(p) {
			s, r := median(p.sdk[u]), median(p.raw[u])
			label, absolute := "", false
			for _, t := range targets(p.name) {
				if t.unit == u {
					label, absolute = t.label, t.absolute
				}
			}
			// With interleaved rounds, the time target is judged on them.
			interleaved := u == "ns/op" && len(p.paired) > 0
			rowLabel := label
			switch {
			case interleaved:
				rowLabel = ""
			case absolute:
				rowLabel += " (SDK)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", u, num(s), num(r), ratio(s, r), rowLabel)
			if interleaved {
				fmt.Fprintf(w, "| ns/op interleaved | %s | %s | %.3f | %s |\n",
					num(median(p.pairedSDK)), num(median(p.pairedR)), median(p.paired), label)
				if len(p.pairedDiff) > 0 {
					fmt.Fprintf(w, "| SDK − raw within a pair, ns | %s | | | |\n", num(median(p.pairedDiff)))
				}
			}
		}
	}
	return missed
}

// timeRatio is the SDK/raw time ratio a target is judged on: the median of
// the interleaved runs when there are any, else the ratio of the medians
// of the separate benchmarks; 0 when neither was measured.
func timeRatio(p *pair) float64 {
	if len(p.paired) > 0 {
		return median(p.paired)
	}
	s, r := p.sdk["ns/op"], p.raw["ns/op"]
	if len(s) == 0 || len(r) == 0 || median(r) == 0 {
		return 0
	}
	return median(s) / median(r)
}
