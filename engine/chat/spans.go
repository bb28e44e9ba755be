package chat

import (
	"strings"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// Content spans are found by rendering twice: once for real, once with each
// message text replaced by a marker made of private-use runes, then walking
// both outputs side by side. Leading and trailing whitespace and a few tags
// templates split on (<think>, </think>, ...) stay outside the markers, so
// templates that trim content or split off reasoning still line up. A
// marker that does not line up (the template transformed the text some
// other way) is dropped and the marked render retried; after maxSpanTries
// the spans found so far are returned.

const maxSpanTries = 4

// verbatim are substrings kept literal in marked text because templates
// test for them or split on them.
var verbatim = []string{"<think>", "</think>", "<tool_response>", "</tool_response>"}

// marker replaces texts with numbered markers: start rune, hex digit runes,
// end rune, all from a private-use block absent from the real output.
type marker struct {
	base  rune
	cores []string     // marked text by marker number
	skip  map[int]bool // marker numbers to leave unmarked
	next  int
}

const markerRunes = 18 // start, end, 16 digits

func (m *marker) mark(s string) string {
	var b strings.Builder
	eachPlain(s, func(plain, tag string) bool {
		m.markPlain(&b, plain)
		b.WriteString(tag)
		return true
	})
	return b.String()
}

// eachPlain calls f with each piece of s before a verbatim tag (or the end)
// and that tag ("" at the end), in order, until f returns false; it reports
// whether f never did. mark and allInert both walk s this way, so the pieces
// allInert checks are the ones mark would mark.
func eachPlain(s string, f func(plain, tag string) bool) bool {
	for s != "" {
		i, tagLen := nextVerbatim(s)
		if !f(s[:i], s[i:i+tagLen]) {
			return false
		}
		s = s[i+tagLen:]
	}
	return true
}

func nextVerbatim(s string) (int, int) {
	best, n := len(s), 0
	for _, v := range verbatim {
		if i := strings.Index(s, v); i >= 0 && i < best {
			best, n = i, len(v)
		}
	}
	return best, n
}

func (m *marker) markPlain(b *strings.Builder, s string) {
	core := strings.TrimLeft(s, pyWhitespace)
	lead := s[:len(s)-len(core)]
	core = strings.TrimRight(core, pyWhitespace)
	trail := s[len(lead)+len(core):]
	b.WriteString(lead)
	if core != "" {
		id := m.next
		m.next++
		m.cores = append(m.cores, core)
		if m.skip[id] {
			b.WriteString(core)
		} else {
			b.WriteRune(m.base)
			for _, d := range hexDigits(id) {
				b.WriteRune(m.base + 2 + rune(d))
			}
			b.WriteRune(m.base + 1)
		}
	}
	b.WriteString(trail)
}

// pyWhitespace is what Python's str.strip() and Jinja's trim remove for
// the characters that occur in practice.
const pyWhitespace = " \t\n\r\v\f"

func hexDigits(n int) []int {
	if n == 0 {
		return []int{0}
	}
	var d []int
	for ; n > 0; n /= 16 {
		d = append([]int{n % 16}, d...)
	}
	return d
}

// pickBase returns the first private-use block none of whose runes occur
// in any of the texts.
func pickBase(texts ...string) rune {
	for base := rune(0xF0000); base+markerRunes < 0xFFFFE; base += 0x100 {
		clash := false
		for _, t := range texts {
			if strings.IndexFunc(t, func(r rune) bool { return r >= base && r < base+markerRunes }) >= 0 {
				clash = true
				break
			}
		}
		if !clash {
			return base
		}
	}
	return -1
}

// contentSpans finds the message texts in text, the real render.
func (c *compiled) contentSpans(in Input, base map[string]jinja.Value, text string) []Span {
	if !hasContent(in.Messages) || (in.Inert != nil && allInert(in.Messages, in.Inert)) {
		return nil
	}
	b := pickBase(text, c.src)
	if b < 0 {
		return nil
	}
	skip := map[int]bool{}
	var spans []Span
	for try := 0; try < maxSpanTries; try++ {
		m := &marker{base: b, skip: skip}
		marked, err := c.render(in, base, m)
		if err != nil {
			return spans
		}
		var bad int
		var ok bool
		spans, bad, ok = align(marked, text, m)
		if ok || bad < 0 {
			return spans
		}
		skip[bad] = true
	}
	return spans
}

// allInert reports whether inert holds for every text a marker would stand
// for: the pieces of each message text between verbatim tags, trimmed as
// markPlain trims them.
func allInert(msgs []Message, inert func(string) bool) bool {
	ok := func(s string) bool {
		return eachPlain(s, func(plain, _ string) bool {
			core := strings.Trim(plain, pyWhitespace)
			return core == "" || inert(core)
		})
	}
	for _, m := range msgs {
		if !ok(m.Content) || !ok(m.Reasoning) {
			return false
		}
		for _, p := range m.Parts {
			if !ok(p.Text) {
				return false
			}
		}
	}
	return true
}

func hasContent(msgs []Message) bool {
	for _, m := range msgs {
		if strings.Trim(m.Content, pyWhitespace) != "" || m.Reasoning != "" || len(m.Parts) > 0 {
			return true
		}
	}
	return false
}

// align walks the marked render against the real one. It returns the spans
// that lined up, and on failure the number of the marker to blame (-1 when
// none can be).
func align(marked, text string, m *marker) ([]Span, int, bool) {
	var spans []Span
	pos, last := 0, -1
	for {
		i := strings.IndexFunc(marked, func(r rune) bool { return r >= m.base && r < m.base+markerRunes })
		lit := marked
		if i >= 0 {
			lit = marked[:i]
		}
		if !strings.HasPrefix(text[pos:], lit) {
			return spans, blame(last, marked, m), false
		}
		pos += len(lit)
		if i < 0 {
			return spans, last, pos == len(text)
		}
		id, n, ok := readMarker(marked[i:], m.base)
		if !ok || id >= len(m.cores) {
			return spans, last, false
		}
		core := m.cores[id]
		if !strings.HasPrefix(text[pos:], core) {
			return spans, id, false
		}
		spans = append(spans, Span{Start: pos, End: pos + len(core)})
		pos += len(core)
		last = id
		marked = marked[i+n:]
	}
}

// blame picks the marker responsible for a literal mismatch: the one just
// passed, or else the next one in the marked text.
func blame(last int, rest string, m *marker) int {
	if last >= 0 {
		return last
	}
	i := strings.IndexRune(rest, m.base)
	if i < 0 {
		return -1
	}
	id, _, ok := readMarker(rest[i:], m.base)
	if !ok {
		return -1
	}
	return id
}

// readMarker parses a marker at the start of s, returning its number and
// byte length.
func readMarker(s string, base rune) (int, int, bool) {
	r, n := utf8.DecodeRuneInString(s)
	if r != base {
		return 0, 0, false
	}
	id, digits := 0, 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		n += size
		switch {
		case r == base+1:
			return id, n, digits > 0
		case r >= base+2 && r < base+markerRunes && digits < 8:
			id = id*16 + int(r-base-2)
			digits++
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}
