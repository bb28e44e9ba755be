package tokenizer

import "fmt"

// EncodePair tokenizes a sentence pair (a cross-encoder's query and
// document) the way the file's post-processor lays pairs out, and returns
// each token's type id alongside (0 for the first sentence, 1 for the
// second in BERT; all 0 in RoBERTa-style files). Token look-alikes in the
// texts stay text.
func (t *Tokenizer) EncodePair(a, b string) (ids, typeIDs []int32, err error) {
	if t.post.pair == nil {
		return nil, nil, fmt.Errorf("%w: the post-processor defines no sentence-pair layout", ErrUnsupported)
	}
	ids, typeIDs = t.layoutPair([2][]int32{t.EncodeUntrusted(a, false), t.EncodeUntrusted(b, false)})
	return ids, typeIDs, nil
}

// layoutPair places two encoded sequences and the special tokens in the
// post-processor's pair layout.
func (t *Tokenizer) layoutPair(seqs [2][]int32) (ids, typeIDs []int32) {
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
	return ids, typeIDs
}
