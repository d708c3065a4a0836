// Package durations reads and writes durations the way operators write
// token lifetimes: Go's units (h, m, s, ...) and days ("90d", "1d12h").
package durations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Parse reads a duration such as "90d", "36h", "1d12h" or "-2h30m": Go's
// time.ParseDuration with one more unit, "d" for 24 hours.
//
// Its errors say what is wrong without repeating any of s: durations are
// read from files and flags that may hold a credential by mistake.
func Parse(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, errors.New("empty duration")
	}
	neg := strings.HasPrefix(in, "-")
	rest := in
	if neg || strings.HasPrefix(in, "+") {
		rest = in[1:]
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		if i == 0 || j == i {
			return 0, errors.New("bad duration: want a number and a unit (d, h, m, s, ms), such as 90d or 36h")
		}
		num, unit := rest[:i], rest[i:j]
		var part time.Duration
		switch unit {
		case "d":
			days, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errors.New("bad duration: a number such as 90 or 1.5 goes before the d")
			}
			if days*24 > float64(1<<63-1)/float64(time.Hour) {
				return 0, errOutOfRange
			}
			part = time.Duration(days * float64(24*time.Hour))
		case "h", "m", "s", "ms", "us", "µs", "μs", "ns":
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				if _, ferr := strconv.ParseFloat(num, 64); ferr != nil {
					return 0, fmt.Errorf("bad duration: a number such as 90 or 1.5 goes before the %s", unit)
				}
				return 0, errOutOfRange
			}
			part = d
		default:
			return 0, errors.New("bad duration: unknown unit (want d, h, m, s or ms)")
		}
		if total > 1<<63-1-part {
			return 0, errOutOfRange
		}
		total += part
		rest = rest[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}

var errOutOfRange = errors.New("bad duration: out of range (at most about 106751d)")

// Format writes d in whole days when it is a whole number of days ("90d"),
// and as Go does otherwise ("36h0m0s" is written "36h", "1h30m0s" "1h30m").
func Format(d time.Duration) string {
	const day = 24 * time.Hour
	if d != 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
