package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxNesting bounds Sequence recursion in untrusted tokenizer.json files.
const maxNesting = 16

// emitFunc receives the pieces of a pre-tokenizer. first reports that the
// piece starts the input (Metaspace's "first" prepend scheme needs it).
type emitFunc func(piece string, first bool)

// preTokenizer cuts a piece of normalized text into smaller pieces that the
// model encodes independently. Pieces are streamed to emit rather than
// collected, so a large input needs no piece list.
type preTokenizer interface {
	split(s string, first bool, emit emitFunc)
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

func (p *splitStep) split(s string, first bool, emit emitFunc) {
	if p.behavior == isolated && !p.invert {
		emitIsolated(s, first, p.m, emit)
		return
	}
	applyBehavior(s, first, findAll(p.m, s), p.behavior, p.invert, emit)
}

// emitIsolated is the common case: matches and the gaps between them all
// become pieces.
func emitIsolated(s string, first bool, m matcher, emit emitFunc) {
	prev := 0
	m.each(s, func(start, end int) {
		if start > prev {
			emit(s[prev:start], first && prev == 0)
		}
		if end > start {
			emit(s[start:end], first && start == 0)
		}
		prev = end
	})
	if prev < len(s) {
		emit(s[prev:], first && prev == 0)
	}
}

type seg struct {
	start, end int
	match      bool
}

// applyBehavior mirrors the reference's split behaviors: it tiles s with
// gaps and matches, then merges or drops delimiters.
func applyBehavior(s string, first bool, matches []span, b behavior, invert bool, emit emitFunc) {
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
			emit(s[g.start:g.end], first && g.start == 0)
		}
	}
}

// byteLevelStep is the ByteLevel pre-tokenizer. The byte-to-rune mapping
// itself is implicit: the BPE model of a byte-level tokenizer works on raw
// bytes, which saves re-encoding every piece.
type byteLevelStep struct {
	addPrefixSpace bool
	m              matcher // nil when use_regex is false
}

func (p *byteLevelStep) split(s string, first bool, emit emitFunc) {
	if p.addPrefixSpace && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	if p.m == nil {
		emit(s, first)
		return
	}
	emitIsolated(s, first, p.m, emit)
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

func (p *metaspaceStep) split(s string, first bool, emit emitFunc) {
	if strings.IndexByte(s, ' ') >= 0 {
		s = strings.ReplaceAll(s, " ", p.rep)
	}
	if p.scheme == prependAlways || (p.scheme == prependFirst && first) {
		if !strings.HasPrefix(s, p.rep) {
			s = p.rep + s
		}
	}
	if !p.splitOnRep {
		emit(s, first)
		return
	}
	splitBefore(s, p.rep, first, emit)
}

// splitBefore cuts s before each occurrence of rep (merged with next).
func splitBefore(s, rep string, first bool, emit emitFunc) {
	start := 0
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], rep)
		if k < 0 {
			break
		}
		if at := i + k; at > start {
			emit(s[start:at], first && start == 0)
			start = at
		}
		i += k + len(rep)
	}
	if start < len(s) {
		emit(s[start:], first && start == 0)
	}
}
