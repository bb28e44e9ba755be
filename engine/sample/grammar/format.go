package grammar

import (
	"strconv"
	"strings"
)

func digits(n int) node { return rep{n: digit, min: n, max: n} }

func oneOf(chars string) class {
	var s byteSet
	for i := 0; i < len(chars); i++ {
		s.add(chars[i])
	}
	return class(s)
}

// String formats, as the text between the quotes. They are stricter than the
// RFCs where that keeps them regular and always valid: dates never name a day
// a month lacks (February stops at 28), times use 'T' and 'Z' in upper case.
var formats = func() map[string]node {
	day := func(last node) node {
		return alt{seq{lit("0"), bytesIn('1', '9')}, seq{lit("1"), digit}, last}
	}
	date := seq{digits(4), lit("-"), alt{
		seq{alt{seq{lit("0"), oneOf("13578")}, seq{lit("1"), oneOf("02")}}, lit("-"),
			day(alt{seq{lit("2"), digit}, seq{lit("3"), oneOf("01")}})},
		seq{alt{seq{lit("0"), oneOf("469")}, lit("11")}, lit("-"),
			day(alt{seq{lit("2"), digit}, lit("30")})},
		seq{lit("02-"), day(seq{lit("2"), bytesIn('0', '8')})},
	}}
	hh := alt{seq{oneOf("01"), digit}, seq{lit("2"), bytesIn('0', '3')}}
	mm := seq{bytesIn('0', '5'), digit}
	timeOfDay := seq{hh, lit(":"), mm, lit(":"), mm,
		opt(seq{lit("."), rep{n: digit, min: 1, max: 9}}),
		alt{lit("Z"), seq{oneOf("+-"), hh, lit(":"), mm}}}
	hexN := func(n int) node { return rep{n: hex, min: n, max: n} }
	atom := rep{n: bytesIn('a', 'z', 'A', 'Z', '0', '9', '_', '_', '+', '+', '-', '-'), min: 1, max: -1}
	alnum := bytesIn('a', 'z', 'A', 'Z', '0', '9')
	label := seq{alnum, opt(seq{rep{n: bytesIn('a', 'z', 'A', 'Z', '0', '9', '-', '-'), min: 0, max: 61}, alnum})}
	return map[string]node{
		"date":      date,
		"time":      timeOfDay,
		"date-time": seq{date, lit("T"), timeOfDay},
		"uuid":      seq{hexN(8), lit("-"), hexN(4), lit("-"), hexN(4), lit("-"), hexN(4), lit("-"), hexN(12)},
		"email": seq{atom, rep{n: seq{lit("."), atom}, min: 0, max: -1}, lit("@"),
			rep{n: seq{label, lit(".")}, min: 1, max: -1}, rep{n: bytesIn('a', 'z', 'A', 'Z'), min: 2, max: 24}},
	}
}()

// intRange matches the decimal integers in [lo, hi] (no leading zeros, no -0).
func intRange(lo, hi int64) node {
	var alts alt
	if lo < 0 {
		nhi := min(hi, -1)
		alts = append(alts, seq{lit("-"), natRange(-nhi, -lo)})
	}
	if hi >= 0 {
		alts = append(alts, natRange(max(lo, 0), hi))
	}
	return alts
}

// natRange matches the naturals in [lo, hi], split by number of digits.
func natRange(lo, hi int64) node {
	var alts alt
	for n := len(strconv.FormatInt(lo, 10)); n <= len(strconv.FormatInt(hi, 10)); n++ {
		first, last := int64(1), int64(9)
		for range n - 1 {
			first, last = first*10, last*10+9
		}
		if n == 1 {
			first = 0
		}
		a, b := max(lo, first), min(hi, last)
		if a <= b {
			alts = append(alts, sameLen(strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)))
		}
	}
	return alts
}

// sameLen matches the digit strings between lo and hi, which have equal length.
func sameLen(lo, hi string) node {
	if lo == "" {
		return seq{}
	}
	if lo[0] == hi[0] {
		return seq{lit(lo[:1]), sameLen(lo[1:], hi[1:])}
	}
	rest := len(lo) - 1
	if strings.Trim(lo[1:], "0") == "" && strings.Trim(hi[1:], "9") == "" {
		return seq{bytesIn(lo[0], hi[0]), digits(rest)}
	}
	alts := alt{seq{lit(lo[:1]), sameLen(lo[1:], strings.Repeat("9", rest))}}
	if lo[0]+1 <= hi[0]-1 {
		alts = append(alts, seq{bytesIn(lo[0]+1, hi[0]-1), digits(rest)})
	}
	return append(alts, seq{lit(hi[:1]), sameLen(strings.Repeat("0", rest), hi[1:])})
}
