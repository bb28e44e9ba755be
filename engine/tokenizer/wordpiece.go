package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenModel turns one pre-tokenized piece into ids.
type tokenModel interface {
	encode(dst []int32, piece string, sc *scratch) []int32
	lookup(tok string) (int32, bool)
}

// wordPieceModel is BERT's greedy longest-match-first subword model.
type wordPieceModel struct {
	vocab    map[string]int32
	unk      int32
	prefix   string // continuing_subword_prefix, "##" in every BERT vocab
	maxChars int    // longer words become unk without being split
}

func newWordPiece(m *modelJSON, vocab map[string]int32) (*wordPieceModel, error) {
	w := &wordPieceModel{vocab: vocab, prefix: "##", maxChars: 100}
	if m.ContinuingSubwordPrefix != nil {
		w.prefix = *m.ContinuingSubwordPrefix
	}
	if m.MaxInputCharsPerWord != nil {
		w.maxChars = *m.MaxInputCharsPerWord
	}
	unk := "[UNK]"
	if m.UnkToken != nil {
		unk = *m.UnkToken
	}
	// A word with no split in the vocabulary becomes unk; without one HF
	// fails the whole encode, so refuse the file rather than drop text.
	id, ok := vocab[unk]
	if !ok {
		return nil, fmt.Errorf("WordPiece unk token %q is not in the vocabulary", unk)
	}
	w.unk = id
	return w, nil
}

func (w *wordPieceModel) lookup(tok string) (int32, bool) {
	id, ok := w.vocab[tok]
	return id, ok
}

// encode follows the tokenizers crate: at each position take the longest
// vocabulary entry (prefixed after the first), shrinking one character at a
// time; if any position has no match the whole word is a single unk.
func (w *wordPieceModel) encode(dst []int32, word string, _ *scratch) []int32 {
	if utf8.RuneCountInString(word) > w.maxChars {
		return append(dst, w.unk)
	}
	base := len(dst)
	var key strings.Builder
	for start := 0; start < len(word); {
		end, found := len(word), int32(-1)
		for start < end {
			key.Reset()
			if start > 0 {
				key.WriteString(w.prefix)
			}
			key.WriteString(word[start:end])
			if id, ok := w.vocab[key.String()]; ok {
				found = id
				break
			}
			_, size := utf8.DecodeLastRuneInString(word[start:end])
			end -= size
		}
		if found < 0 {
			return append(dst[:base], w.unk)
		}
		dst = append(dst, found)
		start = end
	}
	return dst
}

// wordPieceDecoder is HF's WordPiece decoder, applied per token as HF does:
// every token but the first loses its prefix or gains a leading space, and
// cleanup then undoes the tokenizer's spacing around punctuation and
// English contractions within that token's text.
func wordPieceDecoder(c *componentJSON) tokenOp {
	prefix := "##"
	if c.Prefix != nil {
		prefix = *c.Prefix
	}
	cleanup := c.Cleanup
	return func(tok string, first bool) string {
		if !first {
			if strings.HasPrefix(tok, prefix) {
				tok = tok[len(prefix):]
			} else {
				tok = " " + tok
			}
		}
		if cleanup {
			tok = cleanupSpacing(tok)
		}
		return tok
	}
}

// cleanupPairs is the tokenizers crate's decoders::wordpiece::cleanup, a
// chain of replace-all calls run in this order (not one simultaneous pass).
var cleanupPairs = [...][2]string{
	{" .", "."},
	{" ?", "?"},
	{" !", "!"},
	{" ,", ","},
	{" ' ", "'"},
	{" n't", "n't"},
	{" 'm", "'m"},
	{" do not", " don't"},
	{" 's", "'s"},
	{" 've", "'ve"},
	{" 're", "'re"},
}

func cleanupSpacing(s string) string {
	for _, p := range cleanupPairs {
		s = strings.ReplaceAll(s, p[0], p[1])
	}
	return s
}
