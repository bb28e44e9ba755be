package tokenizer

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

func compileRegexMatcher(regex string) (*regexMatcher, error) {
	re, err := regexp2.Compile(regex, regexp2.None)
	if err != nil {
		return nil, err
	}
	// A pattern from a downloaded file may backtrack catastrophically; past
	// the timeout the rest of the text is left as one piece.
	re.MatchTimeout = regexTimeout
	return &regexMatcher{re: re}, nil
}

// regexTimeout bounds one regular-expression search.
const regexTimeout = 2 * time.Second

type regexMatcher struct{ re *regexp2.Regexp }

func (m *regexMatcher) each(s string, fn func(start, end int)) {
	if s == "" {
		return
	}
	// regexp2 reports positions in runes; map them back to bytes.
	offs := make([]int, 0, len(s)+1)
	for i := range s {
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	match, err := m.re.FindStringMatch(s)
	for err == nil && match != nil {
		if match.Length > 0 {
			fn(offs[match.Index], offs[match.Index+match.Length])
		}
		match, err = m.re.FindNextMatch(match)
	}
}

// literalMatcher is a Split pattern given as {"String": ...}.
type literalMatcher struct{ lit string }

func (m literalMatcher) each(s string, fn func(start, end int)) {
	if m.lit == "" {
		return
	}
	for off := 0; ; {
		i := strings.Index(s[off:], m.lit)
		if i < 0 {
			return
		}
		fn(off+i, off+i+len(m.lit))
		off += i + len(m.lit)
	}
}

// digitMatcher isolates digits, one by one or in runs.
type digitMatcher struct{ individual bool }

func (d digitMatcher) each(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsNumber(r) {
			i += w
			continue
		}
		j := i + w
		for !d.individual && j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsNumber(r2) {
				break
			}
			j += w2
		}
		fn(i, j)
		i = j
	}
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
		unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

// classMatcher finds runs of non-space characters; with isWord it finds
// \w+|[^\w\s]+ (the Whitespace pre-tokenizer).
type classMatcher struct{ isWord bool }

func (c classMatcher) each(s string, fn func(start, end int)) {
	kind := func(r rune) int {
		switch {
		case unicode.IsSpace(r):
			return 0
		case c.isWord && isWordRune(r):
			return 1
		}
		return 2
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		k := kind(r)
		if k == 0 {
			i += w
			continue
		}
		j := i + w
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if kind(r2) != k {
				break
			}
			j += w2
		}
		fn(i, j)
		i = j
	}
}

// asciiPunct is Rust's is_ascii_punctuation, which also counts the ASCII
// symbols ($, +, <, ...) that Unicode files under S*.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return strings.ContainsRune(asciiPunct, r)
	}
	return isUnicodePunct(r)
}

// punctMatcher matches each punctuation character on its own.
type punctMatcher struct{}

func (punctMatcher) each(s string, fn func(start, end int)) {
	for i, r := range s {
		if isPunct(r) {
			fn(i, i+utf8.RuneLen(r))
		}
	}
}

// bertStep is BERT's pre-tokenizer: split on whitespace, isolate punctuation.
type bertStep struct{}

func (bertStep) split(s string, first bool, emit emitFunc) {
	classMatcher{}.each(s, func(start, end int) {
		emitIsolated(s[start:end], first && start == 0, punctMatcher{}, emit)
	})
}
