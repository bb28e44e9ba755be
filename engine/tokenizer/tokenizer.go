package tokenizer

import (
	"errors"
	"sync"
)

// ErrUnsupported reports a tokenizer.json component this package does not
// implement (a Unigram model, BPE dropout, ...).
var ErrUnsupported = errors.New("unsupported tokenizer feature")

// Tokenizer encodes text to token ids and back. It is immutable after
// loading and safe for concurrent use.
type Tokenizer struct {
	vocab   []string // id -> token as spelled in tokenizer.json; "" for gaps
	special []bool   // id -> special token (skipped by Decode on request)
	added   []addedToken
	ids     map[string]int32     // added tokens by content
	strips  map[int32]addedToken // added tokens with lstrip or rstrip

	rawTrie  *trie // added tokens matched in raw text (nil if none)
	normTrie *trie // normalized added tokens, matched after normalization
	norm     normalizer
	pre      []preTokenizer
	model    tokenModel
	post     postProcessor

	dec      decoderPlan
	bytes    []byte   // what each token decodes to mid-sequence, back to back
	bytesOff []uint32 // id -> start in bytes; bytesOff[id+1] is the end

	specials specialTokens
	scratch  sync.Pool // *scratch

	inertOnce sync.Once
	inert     *inertIndex // see Inert
}

// specialTokens are the roles named by tokenizer_config.json.
type specialTokens struct {
	bos, eos string
	bosID    int32
	hasBOS   bool
	eosIDs   []int32
}

// VocabSize is one more than the largest token id, added tokens included.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// TokenID returns the id of a token spelled as in tokenizer.json (for
// byte-level vocabularies that is the mapped spelling, e.g. "Ġthe").
func (t *Tokenizer) TokenID(s string) (int32, bool) {
	if id, ok := t.ids[s]; ok {
		return id, true
	}
	return t.model.lookup(s)
}

// TokenString returns the spelling of id in tokenizer.json, or "".
func (t *Tokenizer) TokenString(id int32) string {
	if id < 0 || int(id) >= len(t.vocab) {
		return ""
	}
	return t.vocab[id]
}

// TokenBytes returns the bytes id contributes when decoded in the middle of
// a sequence: raw bytes for byte-level tokens (possibly part of a UTF-8
// character), a space for "▁", the byte of "<0xNN>", and the text of added
// and special tokens. The slice is shared: do not modify it.
func (t *Tokenizer) TokenBytes(id int32) []byte {
	if id < 0 || int(id) >= len(t.vocab) {
		return nil
	}
	return t.tokenBytes(id)
}

func (t *Tokenizer) tokenBytes(id int32) []byte {
	a, b := t.bytesOff[id], t.bytesOff[id+1]
	return t.bytes[a:b:b]
}

// IsSpecial reports whether id is a special token.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.special) && t.special[id]
}

// BOS returns the beginning-of-sequence token, when the tokenizer has one.
func (t *Tokenizer) BOS() (int32, bool) { return t.specials.bosID, t.specials.hasBOS }

// AddsBOS reports whether Encode with addSpecial puts BOS first.
func (t *Tokenizer) AddsBOS() bool {
	return t.specials.hasBOS && len(t.post.prefix) > 0 && t.post.prefix[0] == t.specials.bosID
}

// EOS returns the ids that end generation: tokenizer_config.json's
// eos_token followed by generation_config.json's eos_token_id, when known.
func (t *Tokenizer) EOS() []int32 { return append([]int32(nil), t.specials.eosIDs...) }

// BOSToken and EOSToken are the token strings chat templates refer to as
// bos_token and eos_token ("" when unknown).
func (t *Tokenizer) BOSToken() string { return t.specials.bos }

// EOSToken is tokenizer_config.json's eos_token ("" when unknown).
func (t *Tokenizer) EOSToken() string { return t.specials.eos }
