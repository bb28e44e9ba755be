package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNesting bounds Sequence recursion in untrusted tokenizer.json files.
const maxNesting = 16

// preTokenizer cuts a piece of normalized text into smaller pieces that the
// model encodes independently. first reports that the piece starts the
// input (Metaspace's "first" prepend scheme needs it).
type preTokenizer interface {
	split(dst []string, s string, first bool, sc *scratch) []string
}

type behavior uint8

const (
	isolated behavior = iota
	removed
	mergedWithPrevious
	mergedWithNext
	contiguous
)

func parseBehavior(s string) (behavior, error) {
	switch strings.ToLower(s) {
	case "isolated", "":
		return isolated, nil
	case "removed":
		return removed, nil
	case "mergedwithprevious", "merged_with_previous":
		return mergedWithPrevious, nil
	case "mergedwithnext", "merged_with_next":
		return mergedWithNext, nil
	case "contiguous":
		return contiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// preTokenizerSpec is the flattened pre-tokenizer chain and whether the
// model works on raw bytes (a ByteLevel step was present).
type preTokenizerSpec struct {
	steps     []preTokenizer
	byteLevel bool
}

func buildPreTokenizers(c *componentJSON, spec *preTokenizerSpec, depth int) error {
	if c == nil {
		return nil
	}
	if depth > maxNesting {
		return fmt.Errorf("pre-tokenizers nested deeper than %d", maxNesting)
	}
	if spec.byteLevel && c.Type != "Digits" && c.Type != "Sequence" {
		// Later steps would see the byte-level alphabet instead of text; only
		// Digits is unaffected (digits map to themselves).
		return fmt.Errorf("%w: pre-tokenizer %q after ByteLevel", ErrUnsupported, c.Type)
	}
	step, err := buildPreTokenizer(c, spec, depth)
	if err != nil {
		return err
	}
	if step != nil {
		spec.steps = append(spec.steps, step)
	}
	return nil
}

func buildPreTokenizer(c *componentJSON, spec *preTokenizerSpec, depth int) (preTokenizer, error) {
	switch c.Type {
	case "Sequence":
		for i, raw := range c.Pretokenizers {
			sub, err := parseComponent(raw)
			if err == nil {
				err = buildPreTokenizers(sub, spec, depth+1)
			}
			if err != nil {
				return nil, fmt.Errorf("pre-tokenizer %d: %w", i, err)
			}
		}
		return nil, nil
	case "Split":
		return buildSplit(c)
	case "ByteLevel":
		spec.byteLevel = true
		step := &byteLevelStep{addPrefixSpace: c.AddPrefixSpace != nil && *c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex {
			step.m = &fastSplitter{gpt2: true}
		}
		return step, nil
	case "Metaspace":
		return buildMetaspace(c)
	case "Digits":
		return &splitStep{m: digitMatcher{individual: c.IndividualDigits}}, nil
	case "Whitespace":
		return &splitStep{m: classMatcher{isWord: true}, invert: true, behavior: removed}, nil
	case "WhitespaceSplit":
		return &splitStep{m: classMatcher{}, invert: true, behavior: removed}, nil
	case "Punctuation":
		b, err := parseBehavior(c.Behavior)
		if err != nil {
			return nil, err
		}
		return &splitStep{m: punctMatcher{}, behavior: b}, nil
	case "BertPreTokenizer":
		return bertStep{}, nil
	}
	return nil, fmt.Errorf("%w: pre-tokenizer %q", ErrUnsupported, c.Type)
}

func buildSplit(c *componentJSON) (preTokenizer, error) {
	b, err := parseBehavior(c.Behavior)
	if err != nil {
		return nil, err
	}
	step := &splitStep{behavior: b, invert: c.Invert}
	switch {
	case c.Pattern == nil:
		return nil, fmt.Errorf("split without a pattern")
	case c.Pattern.String != nil:
		step.m = literalMatcher{lit: *c.Pattern.String}
	case c.Pattern.Regex != nil:
		m, err := newMatcher(*c.Pattern.Regex)
		if err != nil {
			return nil, fmt.Errorf("split pattern %q: %w", *c.Pattern.Regex, err)
		}
		step.m = m
	default:
		return nil, fmt.Errorf("split pattern has neither String nor Regex")
	}
	return step, nil
}

// splitStep applies a matcher with one of the split behaviors.
type splitStep struct {
	m        matcher
	behavior behavior
	invert   bool
}

func (p *splitStep) split(dst []string, s string, _ bool, sc *scratch) []string {
	sc.spans = p.m.findAll(s, sc.spans[:0])
	if p.behavior == isolated && !p.invert {
		return appendIsolated(dst, s, sc.spans)
	}
	return applyBehavior(dst, s, sc.spans, p.behavior, p.invert)
}

// appendIsolated is the common case: matches and the gaps between them all
// become pieces.
func appendIsolated(dst []string, s string, matches []span) []string {
	prev := 0
	for _, m := range matches {
		if m.start > prev {
			dst = append(dst, s[prev:m.start])
		}
		if m.end > m.start {
			dst = append(dst, s[m.start:m.end])
		}
		prev = m.end
	}
	if prev < len(s) {
		dst = append(dst, s[prev:])
	}
	return dst
}

type seg struct {
	start, end int
	match      bool
}

// applyBehavior mirrors the reference's split behaviors: it tiles s with
// gaps and matches, then merges or drops delimiters.
func applyBehavior(dst []string, s string, matches []span, b behavior, invert bool) []string {
	segs := make([]seg, 0, 2*len(matches)+1)
	prev := 0
	for _, m := range matches {
		if m.start > prev {
			segs = append(segs, seg{prev, m.start, invert})
		}
		if m.end > m.start {
			segs = append(segs, seg{m.start, m.end, !invert})
		}
		prev = m.end
	}
	if prev < len(s) {
		segs = append(segs, seg{prev, len(s), invert})
	}
	var out []seg
	prevMatch := false
	switch b {
	case isolated, removed:
		out = segs
	case mergedWithPrevious:
		for _, g := range segs {
			if g.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = g.end
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
	case mergedWithNext:
		for i := len(segs) - 1; i >= 0; i-- {
			g := segs[i]
			if g.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = g.start
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case contiguous:
		for _, g := range segs {
			if g.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = g.end
			} else {
				out = append(out, g)
			}
			prevMatch = g.match
		}
	}
	for _, g := range out {
		if b == removed && g.match {
			continue
		}
		if g.end > g.start {
			dst = append(dst, s[g.start:g.end])
		}
	}
	return dst
}

// byteLevelStep is the ByteLevel pre-tokenizer. The byte-to-rune mapping
// itself is implicit: the BPE model of a byte-level tokenizer works on raw
// bytes, which saves re-encoding every piece.
type byteLevelStep struct {
	addPrefixSpace bool
	m              matcher // nil when use_regex is false
}

func (p *byteLevelStep) split(dst []string, s string, _ bool, sc *scratch) []string {
	if p.addPrefixSpace && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	if p.m == nil {
		return append(dst, s)
	}
	sc.spans = p.m.findAll(s, sc.spans[:0])
	return appendIsolated(dst, s, sc.spans)
}

type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

// metaspaceStep replaces spaces by the meta character (▁), prepends one
// and cuts the text before each ▁.
type metaspaceStep struct {
	rep        string
	scheme     prependScheme
	splitOnRep bool
}

func buildMetaspace(c *componentJSON) (preTokenizer, error) {
	rep := c.Replacement
	if utf8.RuneCountInString(rep) != 1 {
		return nil, fmt.Errorf("metaspace replacement %q is not one character", rep)
	}
	step := &metaspaceStep{rep: rep, splitOnRep: c.Split == nil || *c.Split}
	switch c.PrependScheme {
	case "always":
		step.scheme = prependAlways
	case "first":
		step.scheme = prependFirst
	case "never":
		step.scheme = prependNever
	case "":
		// Files older than prepend_scheme only have add_prefix_space.
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			step.scheme = prependNever
		}
	default:
		return nil, fmt.Errorf("unknown metaspace prepend_scheme %q", c.PrependScheme)
	}
	return step, nil
}

func (p *metaspaceStep) split(dst []string, s string, first bool, _ *scratch) []string {
	if strings.IndexByte(s, ' ') >= 0 {
		s = strings.ReplaceAll(s, " ", p.rep)
	}
	if p.scheme == prependAlways || (p.scheme == prependFirst && first) {
		if !strings.HasPrefix(s, p.rep) {
			s = p.rep + s
		}
	}
	if !p.splitOnRep {
		return append(dst, s)
	}
	// Merged with next: every ▁ opens a new piece.
	start := 0
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], p.rep)
		if k < 0 {
			break
		}
		if at := i + k; at > start {
			dst = append(dst, s[start:at])
			start = at
		}
		i += k + len(p.rep)
	}
	if start < len(s) {
		dst = append(dst, s[start:])
	}
	return dst
}

// digitMatcher isolates digits, one by one or in runs.
type digitMatcher struct{ individual bool }

func (d digitMatcher) findAll(s string, dst []span) []span {
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
		dst = append(dst, span{i, j})
		i = j
	}
	return dst
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
		unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

// classMatcher finds runs of non-space characters; with isWord it finds
// \w+|[^\w\s]+ (the Whitespace pre-tokenizer).
type classMatcher struct{ isWord bool }

func (c classMatcher) findAll(s string, dst []span) []span {
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
		dst = append(dst, span{i, j})
		i = j
	}
	return dst
}

// asciiPunct is Rust's is_ascii_punctuation, which also counts the ASCII
// symbols ($, +, <, ...) that Unicode files under S*.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return strings.ContainsRune(asciiPunct, r)
	}
	return unicode.IsPunct(r)
}

// punctMatcher matches each punctuation character on its own.
type punctMatcher struct{}

func (punctMatcher) findAll(s string, dst []span) []span {
	for i, r := range s {
		if isPunct(r) {
			dst = append(dst, span{i, i + utf8.RuneLen(r)})
		}
	}
	return dst
}

// bertStep is BERT's pre-tokenizer: split on whitespace, isolate punctuation.
type bertStep struct{}

func (bertStep) split(dst []string, s string, _ bool, sc *scratch) []string {
	words := classMatcher{}.findAll(s, nil)
	for _, w := range words {
		word := s[w.start:w.end]
		sc.spans = punctMatcher{}.findAll(word, sc.spans[:0])
		dst = appendIsolated(dst, word, sc.spans)
	}
	return dst
}
