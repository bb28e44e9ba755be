package grammar

import (
	"fmt"
	"slices"
	"strings"
)

// textChar is one character of free text: printable ASCII, tab, newline and
// carriage return, or a valid multi-byte UTF-8 sequence (as in strChar).
var textChar = alt{
	bytesIn('\t', '\n', '\r', '\r', 0x20, 0x7e),
	strChar[1],
}

// TextWithout matches UTF-8 text that contains none of stops, such as a
// Qwen3-Coder parameter value, which ends at the first "</parameter>",
// "<parameter=" or "</function>". Every stop must start with the same byte
// (the opener, '<' above) and contain it nowhere else. The language is exact:
// every such text without a stop. What follows the text must not complete a
// stop that its end began (Qwen3-Coder's "\n</parameter>" cannot: no stop
// contains a newline).
func TextWithout(stops ...string) (*Grammar, error) {
	if len(stops) == 0 {
		return nil, fmt.Errorf("%w: text without stops: no stops", ErrInvalid)
	}
	open := stops[0][0]
	tails := make([]string, len(stops))
	for i, s := range stops {
		if len(s) < 2 || s[0] != open || strings.IndexByte(s[1:], open) >= 0 || s[0] >= 0x80 {
			return nil, fmt.Errorf("%w: text without stops: %q must be ASCII, start with %q and not contain it again", ErrInvalid, s, open)
		}
		tails[i] = s[1:]
	}
	plain := without(textChar, open)
	run := rep{n: plain, min: 0, max: -1}
	// Text is a run without the opener, then runs that each follow an opener
	// and do not start with any stop's tail. Each run is maximal: it ends at
	// the next opener or at the end, so a stop could only lie inside one.
	body := seq{run, rep{n: seq{lit{open}, notStarting(tails, plain, run)}, min: 0, max: -1}}
	return newGrammar(fmt.Sprintf("text without %q", stops), body), nil
}

// without is the character alternatives of chars minus the ASCII byte b.
func without(chars alt, b byte) alt {
	out := make(alt, len(chars))
	copy(out, chars)
	ascii := chars[0].(class)
	bs := byteSet(ascii)
	bs[b>>6] &^= 1 << (b & 63)
	out[0] = class(bs)
	return out
}

// notStarting matches runs of plain characters that do not start with any of
// tails (which contain no non-ASCII bytes), by walking the tails' trie.
func notStarting(tails []string, plain alt, run node) node {
	next := map[byte][]string{}
	for _, t := range tails {
		next[t[0]] = append(next[t[0]], t[1:])
	}
	// The empty run, or a first character no tail starts with and any run after it.
	free := byteSet(plain[0].(class))
	for c := range next {
		free[c>>6] &^= 1 << (c & 63)
	}
	alts := alt{seq{}, seq{alt{class(free), plain[1]}, run}}
	firsts := make([]byte, 0, len(next))
	for c := range next {
		firsts = append(firsts, c)
	}
	slices.Sort(firsts) // the same grammar, state for state, every time
	for _, c := range firsts {
		rest := next[c]
		complete := false
		for _, r := range rest {
			complete = complete || r == ""
		}
		if complete {
			continue // c ends a stop: never allowed here
		}
		alts = append(alts, seq{lit{c}, notStarting(rest, plain, run)})
	}
	return alts
}
