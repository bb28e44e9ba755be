package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Inert reports whether s encodes the same as untrusted text (a Segment
// without ParseSpecial) and as template text, wherever it sits in a prompt:
// no added token can overlap it. A chat prompt whose message texts are all
// inert needs no content spans, which saves the template's second render.
//
// A token overlapping s either starts or ends inside it, so s would hold the
// token's first or last byte, or it covers s, so s would be a substring of
// it. Normalized added tokens and single_word ones depend on the text around
// them in ways this does not follow, so with them nothing is inert.
func (t *Tokenizer) Inert(s string) bool {
	if t.rawTrie == nil && t.normTrie == nil {
		return utf8.ValidString(s)
	}
	x := t.inertIndex()
	if !x.usable || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if x.edge[s[i]] {
			return false
		}
	}
	return len(s) >= x.longest || !strings.Contains(x.joined, s)
}

// inertIndex is what Inert needs of the added tokens, built on first use.
type inertIndex struct {
	usable  bool      // no normalized or single_word added tokens
	edge    [256]bool // first and last bytes of the added tokens
	joined  string    // the added tokens, NUL-separated, for the substring test
	longest int       // the longest added token's length
}

func (t *Tokenizer) inertIndex() *inertIndex {
	t.inertOnce.Do(func() {
		x := &inertIndex{usable: t.normTrie == nil}
		var b strings.Builder
		for _, a := range t.added {
			if a.content == "" {
				continue
			}
			if a.singleWord {
				x.usable = false
			}
			x.edge[a.content[0]] = true
			x.edge[a.content[len(a.content)-1]] = true
			x.longest = max(x.longest, len(a.content))
			b.WriteString(a.content)
			b.WriteByte(0)
		}
		x.joined = b.String()
		t.inert = x
	})
	return t.inert
}
