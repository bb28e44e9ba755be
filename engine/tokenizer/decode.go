package tokenizer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokenOp is one decoder step applied to a single token's text. first is
// true for the first token of the sequence (Metaspace treats it apart).
type tokenOp func(tok string, first bool) string

// decoderPlan is the decoder chain split into what can be done per token
// (precomputed for the whole vocabulary) and what acts on the start of the
// fused text (Strip after Fuse).
type decoderPlan struct {
	ops        []tokenOp
	firstAware bool   // an op treats the first token differently
	leadStrip  int    // strip up to this many leadContent from the start
	leadText   string // the Strip decoder's content
}

func buildDecoder(c *componentJSON) (decoderPlan, error) {
	var p decoderPlan
	if c == nil {
		return p, nil
	}
	fused := false
	var add func(c *componentJSON, depth int) error
	add = func(c *componentJSON, depth int) error {
		if depth > maxNesting {
			return fmt.Errorf("decoders nested deeper than %d", maxNesting)
		}
		switch c.Type {
		case "Sequence":
			for i, raw := range c.Decoders {
				sub, err := parseComponent(raw)
				if err == nil && sub != nil {
					err = add(sub, depth+1)
				}
				if err != nil {
					return fmt.Errorf("decoder %d: %w", i, err)
				}
			}
		case "Fuse":
			fused = true
		case "Strip":
			if c.Start < 0 || c.Stop < 0 {
				return fmt.Errorf("strip decoder with negative count")
			}
			if !fused {
				p.ops = append(p.ops, stripOp(c.Content, c.Start, c.Stop))
				return nil
			}
			if c.Stop > 0 {
				// Trailing strip needs the end of the text, which a stream
				// never knows.
				return fmt.Errorf("%w: strip decoder with stop > 0 after fuse", ErrUnsupported)
			}
			if p.leadStrip > 0 && p.leadText != c.Content {
				return fmt.Errorf("%w: two strip decoders with different content", ErrUnsupported)
			}
			p.leadStrip += c.Start
			p.leadText = c.Content
		default:
			op, firstAware, err := tokenDecoder(c)
			if err != nil {
				return err
			}
			p.ops = append(p.ops, op)
			p.firstAware = p.firstAware || firstAware
		}
		return nil
	}
	if err := add(c, 0); err != nil {
		return p, err
	}
	if p.leadText == "" {
		p.leadStrip = 0
	}
	return p, nil
}

func tokenDecoder(c *componentJSON) (tokenOp, bool, error) {
	switch c.Type {
	case "ByteLevel":
		return func(tok string, _ bool) string {
			if raw, ok := byteLevelDecode(tok); ok {
				return string(raw)
			}
			return tok
		}, false, nil
	case "ByteFallback":
		return func(tok string, _ bool) string {
			if b, ok := parseByteToken(tok); ok {
				return string([]byte{b})
			}
			return tok
		}, false, nil
	case "Replace":
		if c.Pattern == nil || c.Pattern.String == nil {
			return nil, false, fmt.Errorf("%w: replace decoder without a string pattern", ErrUnsupported)
		}
		old, content := *c.Pattern.String, c.Content
		return func(tok string, _ bool) string {
			if old == "" {
				return tok
			}
			return strings.ReplaceAll(tok, old, content)
		}, false, nil
	case "WordPiece":
		return wordPieceDecoder(c), true, nil
	case "Metaspace":
		return metaspaceDecoder(c)
	}
	return nil, false, fmt.Errorf("%w: decoder %q", ErrUnsupported, c.Type)
}

// metaspaceDecoder turns ▁ into spaces, except in the first token, where
// the reference drops every ▁ (the prepended one being among them).
func metaspaceDecoder(c *componentJSON) (tokenOp, bool, error) {
	rep := c.Replacement
	if utf8.RuneCountInString(rep) != 1 {
		return nil, false, fmt.Errorf("metaspace replacement %q is not one character", rep)
	}
	prepend := c.PrependScheme != "never"
	if c.PrependScheme == "" && c.AddPrefixSpace != nil {
		prepend = *c.AddPrefixSpace
	}
	return func(tok string, first bool) string {
		if first && prepend {
			return strings.ReplaceAll(tok, rep, "")
		}
		return strings.ReplaceAll(tok, rep, " ")
	}, prepend, nil
}

func stripOp(content string, start, stop int) tokenOp {
	return func(tok string, _ bool) string {
		if content == "" {
			return tok
		}
		for i := 0; i < start && strings.HasPrefix(tok, content); i++ {
			tok = tok[len(content):]
		}
		for i := 0; i < stop && strings.HasSuffix(tok, content); i++ {
			tok = tok[:len(tok)-len(content)]
		}
		return tok
	}
}

// parseByteToken recognises SentencePiece byte tokens such as <0x0A>.
func parseByteToken(tok string) (byte, bool) {
	if len(tok) != 6 || tok[:3] != "<0x" || tok[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(tok[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

func (p *decoderPlan) apply(tok string, first bool) string {
	for _, op := range p.ops {
		tok = op(tok, first)
	}
	return tok
}

// decodeState tracks what the start of a sequence still owes the decoder.
type decodeState struct {
	started  bool // a token has been decoded
	stripped int  // lead characters stripped so far
	leadDone bool // the fused text has started: no more stripping
}

// appendToken appends what one token contributes to a decoded sequence.
func (t *Tokenizer) appendToken(dst []byte, id int32, skipSpecial bool, st *decodeState) []byte {
	if id < 0 || int(id) >= len(t.vocab) || t.vocab[id] == "" {
		return dst // unknown id, or a gap in the id space
	}
	if skipSpecial && t.special[id] {
		return dst
	}
	b := t.tokenBytes(id)
	if !st.started && t.dec.firstAware {
		b = []byte(t.dec.apply(t.vocab[id], true))
	}
	st.started = true
	if !st.leadDone && t.dec.leadStrip > 0 {
		lead := t.dec.leadText
		for st.stripped < t.dec.leadStrip && len(b) >= len(lead) && string(b[:len(lead)]) == lead {
			b = b[len(lead):]
			st.stripped++
		}
		// Stripping ends at the first kept byte or when the budget is spent;
		// a token that was stripped away entirely leaves it open.
		st.leadDone = len(b) > 0 || st.stripped == t.dec.leadStrip
	}
	return append(dst, b...)
}

// Decode turns ids back into text. Ids out of range are ignored; with
// skipSpecial, special tokens are too. Invalid UTF-8 (a sequence cut inside
// a character) becomes U+FFFD. clean_up_tokenization_spaces is not applied:
// it is lossy and would break streaming.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	var st decodeState
	buf := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		buf = t.appendToken(buf, id, skipSpecial, &st)
	}
	return string(appendLossy(make([]byte, 0, len(buf)), buf))
}

// appendLossy appends src with each maximal invalid UTF-8 subpart replaced
// by one U+FFFD, as Rust's from_utf8_lossy does.
func appendLossy(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(src[i:])
		if r != utf8.RuneError || w == 3 {
			dst = append(dst, src[i:i+w]...)
			i += w
			continue
		}
		dst = append(dst, "\uFFFD"...)
		i += validPrefix(src[i:])
	}
	return dst
}

// validPrefix returns how many leading bytes of b could start a UTF-8
// sequence (at least 1), and so form one maximal invalid subpart when the
// sequence is cut short.
func validPrefix(b []byte) int {
	need, lo, hi := seqShape(b[0])
	if need == 0 {
		return 1
	}
	n := 1
	for n <= need && n < len(b) {
		c := b[n]
		if n == 1 && (c < lo || c > hi) || n > 1 && (c < 0x80 || c > 0xBF) {
			break
		}
		n++
	}
	return n
}

// seqShape gives the continuation bytes a lead byte needs and the range
// allowed for the first of them (0 for a byte that cannot lead).
func seqShape(c byte) (need int, lo, hi byte) {
	switch {
	case c >= 0xC2 && c <= 0xDF:
		return 1, 0x80, 0xBF
	case c == 0xE0:
		return 2, 0xA0, 0xBF
	case c == 0xED:
		return 2, 0x80, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		return 2, 0x80, 0xBF
	case c == 0xF0:
		return 3, 0x90, 0xBF
	case c >= 0xF1 && c <= 0xF3:
		return 3, 0x80, 0xBF
	case c == 0xF4:
		return 3, 0x80, 0x8F
	}
	return 0, 0, 0
}

// incompleteTail returns how many trailing bytes of b are the valid start of
// a character that is not finished yet (0 to 3).
func incompleteTail(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 {
			need, _, _ := seqShape(c)
			if need >= k && validPrefix(b[len(b)-k:]) == k {
				return k
			}
			return 0
		}
	}
	return 0
}
