package tokenizer

import "fmt"

// EncodeTruncated tokenizes text as one sequence with the post-processor's
// special tokens, cutting the text's tokens from the right so that the
// result holds at most maxLen ids, special tokens included (as the
// tokenizers crate does with max_length). truncated reports a cut, so that
// callers can warn instead of embedding part of a text silently. When the
// special tokens alone exceed maxLen, only they remain. Token look-alikes
// in text stay text, as in EncodeUntrusted.
func (t *Tokenizer) EncodeTruncated(text string, maxLen int) (ids []int32, truncated bool) {
	seq := t.EncodeUntrusted(text, false)
	budget := max(0, maxLen-len(t.post.prefix)-len(t.post.suffix))
	if len(seq) > budget {
		seq, truncated = seq[:budget], true
	}
	ids = make([]int32, 0, len(t.post.prefix)+len(seq)+len(t.post.suffix))
	ids = append(ids, t.post.prefix...)
	ids = append(ids, seq...)
	return append(ids, t.post.suffix...), truncated
}

// EncodePairTruncated is EncodePair with the result held to maxLen ids,
// special tokens included. It follows the tokenizers crate's longest_first
// strategy: only the longer sequence is cut while that suffices, otherwise
// both are cut to half the room each (the second gets the odd token).
func (t *Tokenizer) EncodePairTruncated(a, b string, maxLen int) (ids, typeIDs []int32, truncated bool, err error) {
	if t.post.pair == nil {
		return nil, nil, false, fmt.Errorf("%w: the post-processor defines no sentence-pair layout", ErrUnsupported)
	}
	seqs := [2][]int32{t.EncodeUntrusted(a, false), t.EncodeUntrusted(b, false)}
	added := 0
	for _, it := range t.post.pair {
		added += len(it.ids)
	}
	n1, n2 := longestFirst(len(seqs[0]), len(seqs[1]), max(0, maxLen-added))
	truncated = n1 < len(seqs[0]) || n2 < len(seqs[1])
	seqs[0], seqs[1] = seqs[0][:n1], seqs[1][:n2]
	ids, typeIDs = t.layoutPair(seqs)
	return ids, typeIDs, truncated, nil
}

// longestFirst returns the lengths two sequences keep within room tokens.
func longestFirst(len1, len2, room int) (n1, n2 int) {
	if len1+len2 <= room {
		return len1, len2
	}
	short, long := len1, len2
	swapped := short > long
	if swapped {
		short, long = long, short
	}
	if short > room {
		long = short
	} else {
		long = max(short, room-short)
	}
	if short+long > room {
		short = room / 2
		long = short + room%2
	}
	if swapped {
		short, long = long, short
	}
	return min(short, len1), min(long, len2)
}
