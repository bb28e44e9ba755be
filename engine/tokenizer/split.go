package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The split patterns of the byte-level BPE families. Matching them with a
// backtracking engine costs more than the BPE itself, so these exact strings
// are recognised and run by a hand-written scanner (fastSplitter) that is
// fuzzed against regexp2 on the same patterns.
const (
	patternGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	patternLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patternQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

type span struct{ start, end int }

// matcher finds the non-overlapping matches of a split pattern and calls
// fn for each, in order.
type matcher interface {
	each(s string, fn func(start, end int))
}

// findAll collects the matches of m in s.
func findAll(m matcher, s string) []span {
	var out []span
	m.each(s, func(start, end int) { out = append(out, span{start, end}) })
	return out
}

// newMatcher picks the fast scanner for known patterns and regexp2 (default
// options, i.e. .NET-style with look-around) for anything else.
func newMatcher(regex string) (matcher, error) {
	switch regex {
	case patternGPT2:
		return &fastSplitter{gpt2: true}, nil
	case patternLlama3:
		return &fastSplitter{maxDigits: 3}, nil
	case patternQwen2:
		return &fastSplitter{maxDigits: 1}, nil
	}
	return compileRegexMatcher(regex)
}

// Character classes of the split patterns, precomputed for ASCII.
const (
	clsOther   = iota // [^\s\p{L}\p{N}]
	clsLetter         // \p{L}
	clsNumber         // \p{N}
	clsSpace          // \s other than \r and \n
	clsNewline        // \r or \n
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = classOf(rune(c))
	}
	return t
}()

func classOf(r rune) uint8 {
	switch {
	case r == '\r' || r == '\n':
		return clsNewline
	case unicode.IsSpace(r):
		return clsSpace
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	}
	return clsOther
}

// runeAt decodes the rune at byte i with its class and width.
func runeAt(s string, i int) (r rune, cls uint8, w int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), asciiClass[c], 1
	}
	r, w = utf8.DecodeRuneInString(s[i:])
	return r, classOf(r), w
}

// runEnd returns the end of the run of runes of class cls starting at i.
func runEnd(s string, i int, cls uint8) int {
	for i < len(s) {
		_, c, w := runeAt(s, i)
		if c != cls {
			break
		}
		i += w
	}
	return i
}

func isSpaceClass(c uint8) bool { return c == clsSpace || c == clsNewline }

// fastSplitter runs the GPT-2 pattern (gpt2) or the Llama-3 pattern, where
// maxDigits is the bound of \p{N}{1,n} (3 for Llama-3, 1 for Qwen2).
// Every position of the input matches one alternative of these patterns, so
// the matches tile the input.
type fastSplitter struct {
	gpt2      bool
	maxDigits int
}

func (f *fastSplitter) each(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		var j int
		if f.gpt2 {
			j = f.nextGPT2(s, i)
		} else {
			j = f.nextLlama3(s, i)
		}
		fn(i, j)
		i = j
	}
}

// contraction reports the length of 's|'t|'re|'ve|'m|'ll|'d at i (which
// holds the apostrophe), or 0.
func contraction(s string, i int, foldCase bool) int {
	lower := func(k int) byte {
		if k >= len(s) {
			return 0
		}
		c := s[k]
		if foldCase && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		return c
	}
	switch lower(i + 1) {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if lower(i+2) == 'e' {
			return 3
		}
	case 'l':
		if lower(i+2) == 'l' {
			return 3
		}
	}
	return 0
}

// spaceTail handles the whitespace alternatives shared by both patterns,
// \s+(?!\S)|\s+, for a whitespace run [i, e).
func spaceTail(s string, i, e int) int {
	if e == len(s) {
		return e
	}
	// Before a non-space, \s+(?!\S) backtracks one rune so that the last
	// space can start the next word.
	_, w := utf8.DecodeLastRuneInString(s[i:e])
	if e-w > i {
		return e - w
	}
	return e
}

func spaceRunEnd(s string, i int) int {
	for i < len(s) {
		_, c, w := runeAt(s, i)
		if !isSpaceClass(c) {
			break
		}
		i += w
	}
	return i
}

func (f *fastSplitter) nextGPT2(s string, i int) int {
	r, cls, w := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s, i, false); n > 0 {
			return i + n
		}
	}
	start := i
	if r == ' ' && i+w < len(s) {
		// " ?X+": the optional space joins a following run of X.
		_, c2, _ := runeAt(s, i+w)
		if c2 == clsLetter || c2 == clsNumber || c2 == clsOther {
			return runEnd(s, i+w, c2)
		}
	}
	switch cls {
	case clsLetter, clsNumber, clsOther:
		return runEnd(s, start, cls)
	}
	return spaceTail(s, i, spaceRunEnd(s, i))
}

func (f *fastSplitter) nextLlama3(s string, i int) int {
	r, cls, w := runeAt(s, i)
	if r == '\'' {
		if n := contraction(s, i, true); n > 0 {
			return i + n
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if cls == clsLetter {
		return runEnd(s, i, clsLetter)
	}
	if (cls == clsOther || cls == clsSpace) && i+w < len(s) {
		if _, c2, _ := runeAt(s, i+w); c2 == clsLetter {
			return runEnd(s, i+w, clsLetter)
		}
	}
	// \p{N}{1,n}
	if cls == clsNumber {
		j := i
		for n := 0; n < f.maxDigits && j < len(s); n++ {
			_, c, w := runeAt(s, j)
			if c != clsNumber {
				break
			}
			j += w
		}
		return j
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	j := i
	if r == ' ' {
		j = i + w
	}
	if j < len(s) {
		if _, c2, _ := runeAt(s, j); c2 == clsOther {
			return runEnd(s, runEnd(s, j, clsOther), clsNewline)
		}
	}
	// Here r is whitespace. \s*[\r\n]+ ends after the run's last newline.
	e := spaceRunEnd(s, i)
	if k := strings.LastIndexAny(s[i:e], "\r\n"); k >= 0 {
		return i + k + 1
	}
	return spaceTail(s, i, e)
}
