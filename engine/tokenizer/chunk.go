package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// metaspace is SentencePiece's space marker.
const metaspace = "▁"

// safeToChunk reports whether text can be cut before every "▁" that follows
// another character without changing the result. That holds when no merge
// builds a token with "▁" right after something other than "▁" (runs of
// "▁" do merge), and no merge involves byte or unk tokens, whose spelling is
// not the text they cover. SentencePiece vocabularies satisfy it, which
// lets the legacy Llama-2 layout (no pre-tokenizer) use the word cache
// instead of running BPE over a whole paragraph.
func (b *bpeModel) safeToChunk(merges mergesJSON) bool {
	// ignore_merges looks the whole piece up first, so cutting it changes
	// which pieces are looked up.
	if b.byteLevel || b.ignoreMerges || b.prefix != "" || b.suffix != "" {
		return false
	}
	special := func(tok string) bool {
		_, isByte := parseByteToken(tok)
		id, ok := b.vocab[tok]
		return isByte || (ok && id == b.unk)
	}
	for _, m := range merges {
		if special(m[0]) || special(m[1]) {
			return false
		}
		r := m[0] + m[1]
		for k := strings.Index(r, metaspace); k >= 0; {
			if k > 0 {
				if prev, _ := utf8.DecodeLastRuneInString(r[:k]); prev != '▁' {
					return false
				}
			}
			next := strings.Index(r[k+len(metaspace):], metaspace)
			if next < 0 {
				break
			}
			k += len(metaspace) + next
		}
	}
	return true
}

// spaceChunker cuts text before each "▁" that follows another character.
type spaceChunker struct{}

func (spaceChunker) split(s string, first bool, emit emitFunc) {
	start := 0
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], metaspace)
		if k < 0 {
			break
		}
		at := i + k
		if at > start {
			if prev, _ := utf8.DecodeLastRuneInString(s[:at]); prev != '▁' {
				emit(s[start:at], first && start == 0)
				start = at
			}
		}
		i = at + len(metaspace)
	}
	if start < len(s) {
		emit(s[start:], first && start == 0)
	}
}
