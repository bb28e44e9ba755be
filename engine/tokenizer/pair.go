package tokenizer

import "fmt"

// EncodePair tokenizes a sentence pair (a cross-encoder's query and
// document) the way the file's post-processor lays pairs out, and returns
// each token's type id alongside (0 for the first sentence, 1 for the
// second in BERT; all 0 in RoBERTa-style files).
func (t *Tokenizer) EncodePair(a, b string) (ids, typeIDs []int32, err error) {
	if t.post.pair == nil {
		return nil, nil, fmt.Errorf("%w: the post-processor defines no sentence-pair layout", ErrUnsupported)
	}
	seqs := [2][]int32{t.EncodeUntrusted(a, false), t.EncodeUntrusted(b, false)}
	for _, it := range t.post.pair {
		part := it.ids
		if it.seq >= 0 {
			part = seqs[it.seq]
		}
		ids = append(ids, part...)
		for range part {
			typeIDs = append(typeIDs, it.typeID)
		}
	}
	return ids, typeIDs, nil
}
