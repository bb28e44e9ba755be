package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	id         int32
	content    string
	singleWord bool
	lstrip     bool
	rstrip     bool
	normalized bool
	special    bool
}

// trie finds added tokens in text, leftmost first and longest at that
// position, like the reference's Aho-Corasick LeftmostLongest matcher.
type trie struct {
	first [256]bool
	edges map[uint64]int32 // node<<8 | byte -> child node
	tok   []int32          // node -> index into the token list, or -1
}

func newTrie() *trie {
	return &trie{edges: map[uint64]int32{}, tok: []int32{-1}}
}

func (t *trie) add(s string, idx int32) {
	if s == "" {
		return
	}
	t.first[s[0]] = true
	node := int32(0)
	for i := 0; i < len(s); i++ {
		key := uint64(node)<<8 | uint64(s[i])
		child, ok := t.edges[key]
		if !ok {
			child = int32(len(t.tok))
			t.tok = append(t.tok, -1)
			t.edges[key] = child
		}
		node = child
	}
	t.tok[node] = idx
}

// longest returns the token index and end of the longest token at i.
func (t *trie) longest(s string, i int) (idx int32, end int) {
	idx, node := -1, int32(0)
	for j := i; j < len(s); j++ {
		child, ok := t.edges[uint64(node)<<8|uint64(s[j])]
		if !ok {
			break
		}
		node = child
		if k := t.tok[node]; k >= 0 {
			idx, end = k, j+1
		}
	}
	return idx, end
}

// part is a piece of input: either text to run through the model or an
// added token that was matched.
type part struct {
	text  string
	tok   int32 // added token id, or -1 for text
	parse bool  // text that may contain added tokens (normalized ones)
}

// splitAdded appends the parts of s, matching the tokens of t. It follows
// the reference: a single_word token must not touch word characters,
// lstrip/rstrip swallow the whitespace beside a token, and a rejected
// match is skipped, not retried at a shorter length.
func splitAdded(dst []part, s string, t *trie, tokens []addedToken) []part {
	textStart := 0
	for i := 0; i < len(s); {
		if !t.first[s[i]] {
			i++
			continue
		}
		idx, end := t.longest(s, i)
		if idx < 0 {
			i++
			continue
		}
		tok := &tokens[idx]
		if tok.singleWord && (endsWithWord(s[:i]) || startsWithWord(s[end:])) {
			i = end
			continue
		}
		start := i
		if tok.lstrip {
			start = max(len(strings.TrimRightFunc(s[:i], unicode.IsSpace)), textStart)
		}
		if tok.rstrip {
			end = len(s) - len(strings.TrimLeftFunc(s[end:], unicode.IsSpace))
		}
		if start > textStart {
			dst = append(dst, part{text: s[textStart:start], tok: -1, parse: true})
		}
		dst = append(dst, part{tok: tok.id})
		textStart, i = end, end
	}
	if textStart < len(s) {
		dst = append(dst, part{text: s[textStart:], tok: -1, parse: true})
	}
	return dst
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordRune(r)
}
