package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is a piece of input with its own trust level. Added and special
// tokens are recognised only inside segments with ParseSpecial; the text of
// neighbouring segments is joined before pre-tokenization, so splitting a
// text into segments changes nothing unless a look-alike of a token occurs
// in a segment without ParseSpecial.
type Segment struct {
	Text         string
	ParseSpecial bool
}

// Encode tokenizes text. Added tokens written in the text ("<|im_start|>")
// become their ids, as the reference tokenizers do by default; addSpecial
// adds what the post-processor adds (BOS for Llama-2 and Mistral, nothing
// for Qwen). Use EncodeUntrusted or EncodeSegments for text from users.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	return t.EncodeSegments([]Segment{{Text: text, ParseSpecial: true}}, addSpecial)
}

// EncodeUntrusted tokenizes text in which token look-alikes stay text.
func (t *Tokenizer) EncodeUntrusted(text string, addSpecial bool) []int32 {
	return t.EncodeSegments([]Segment{{Text: text}}, addSpecial)
}

// EncodeSegments tokenizes the concatenation of segs; see Segment. Invalid
// UTF-8 in the input is replaced by U+FFFD first.
func (t *Tokenizer) EncodeSegments(segs []Segment, addSpecial bool) []int32 {
	sc := t.scratch.Get().(*scratch)
	defer t.putScratch(sc)
	n := 0
	for _, s := range segs {
		n += len(s.Text)
	}
	ids := make([]int32, 0, n/3+len(t.post.prefix)+len(t.post.suffix)+1)
	if addSpecial {
		ids = append(ids, t.post.prefix...)
	}
	sc.parts = t.partition(sc.parts[:0], segs)
	for i, p := range sc.parts {
		if p.tok >= 0 {
			ids = append(ids, p.tok)
			continue
		}
		ids = t.encodeText(ids, p.text, i == 0, p.parse, sc)
	}
	if addSpecial {
		ids = append(ids, t.post.suffix...)
	}
	return ids
}

// partition cuts the segments into text and added tokens, joins adjacent
// text and applies the tokens' lstrip/rstrip to their neighbours.
func (t *Tokenizer) partition(dst []part, segs []Segment) []part {
	for _, s := range segs {
		text := s.Text
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, "\uFFFD")
		}
		if text == "" {
			continue
		}
		start := len(dst)
		if s.ParseSpecial && t.rawTrie != nil {
			dst = splitAdded(dst, text, t.rawTrie, t.added)
		} else {
			dst = append(dst, part{text: text, tok: -1})
		}
		// Join with the previous segment's trailing text.
		if start > 0 && dst[start-1].tok < 0 && dst[start].tok < 0 {
			dst[start-1].text += dst[start].text
			dst[start-1].parse = dst[start-1].parse && dst[start].parse
			dst = append(dst[:start], dst[start+1:]...)
		}
	}
	return t.stripAround(dst)
}

// stripAround applies lstrip/rstrip and drops text left empty.
func (t *Tokenizer) stripAround(parts []part) []part {
	if len(t.strips) == 0 {
		return parts
	}
	for i, p := range parts {
		a, ok := t.strips[p.tok]
		if p.tok < 0 || !ok {
			continue
		}
		if a.lstrip && i > 0 && parts[i-1].tok < 0 {
			parts[i-1].text = strings.TrimRightFunc(parts[i-1].text, unicode.IsSpace)
		}
		if a.rstrip && i+1 < len(parts) && parts[i+1].tok < 0 {
			parts[i+1].text = strings.TrimLeftFunc(parts[i+1].text, unicode.IsSpace)
		}
	}
	out := parts[:0]
	for _, p := range parts {
		if p.tok >= 0 || p.text != "" {
			out = append(out, p)
		}
	}
	return out
}

// encodeText normalizes one run of text, matches normalized added tokens
// in it, and encodes the rest.
func (t *Tokenizer) encodeText(dst []int32, text string, atStart, parse bool, sc *scratch) []int32 {
	if t.norm != nil {
		text = t.norm(text)
	}
	if !parse || t.normTrie == nil {
		return t.encodePieces(dst, text, atStart, sc)
	}
	sub := t.stripAround(splitAdded(nil, text, t.normTrie, t.added))
	for i, p := range sub {
		if p.tok >= 0 {
			dst = append(dst, p.tok)
		} else {
			dst = t.encodePieces(dst, p.text, atStart && i == 0, sc)
		}
	}
	return dst
}

// encodePieces pre-tokenizes s and runs the model on each piece.
func (t *Tokenizer) encodePieces(dst []int32, s string, first bool, sc *scratch) []int32 {
	if s == "" {
		return dst
	}
	if len(t.pre) == 0 {
		return t.model.encode(dst, s, sc)
	}
	emit := func(p string, _ bool) { dst = t.model.encode(dst, p, sc) }
	for i := len(t.pre) - 1; i >= 0; i-- {
		step, next := t.pre[i], emit
		emit = func(p string, first bool) { step.split(p, first, next) }
	}
	emit(s, first)
	return dst
}

// scratch holds the buffers of one Encode call; they are pooled so that
// encoding does not allocate per token.
type scratch struct {
	parts            []part
	syms             []symbol
	heap             []candidate
	ids, ranks, next []int32       // mergeSmall
	lattice          []latticeNode // unigram Viterbi
	path             []int32       // unigram best path, ends backwards
}

// maxPooled bounds the buffers kept for reuse after a huge input.
const maxPooled = 1 << 16

func (t *Tokenizer) putScratch(sc *scratch) {
	if cap(sc.syms) > maxPooled || cap(sc.heap) > maxPooled || cap(sc.parts) > maxPooled || cap(sc.lattice) > maxPooled {
		return
	}
	// Drop references into the input so the pool does not keep it alive.
	clear(sc.parts[:cap(sc.parts)])
	t.scratch.Put(sc)
}
