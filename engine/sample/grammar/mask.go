package grammar

import (
	"fmt"
	"slices"
	"sync"
)

// Bitset is a set of token ids, one bit per id (bit id%64 of word id/64), the
// same layout as sample.Mask, so sample.Mask(b) converts it without copying.
type Bitset []uint64

// NewBitset returns an empty set for n tokens.
func NewBitset(n int) Bitset { return make(Bitset, (n+63)/64) }

// Has reports whether id is in the set.
func (b Bitset) Has(id int32) bool {
	w := int(id) >> 6
	return id >= 0 && w < len(b) && b[w]&(1<<(uint(id)&63)) != 0
}

// Set adds id to the set.
func (b Bitset) Set(id int32) { b[id>>6] |= 1 << (uint(id) & 63) }

// Count returns the number of ids in the set.
func (b Bitset) Count() int {
	n := 0
	for _, w := range b {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

// Masker holds a vocabulary's byte trie. Build it once per model and share it:
// it is immutable and safe for concurrent use.
type Masker struct {
	vocab   [][]byte
	special []bool
	eos     []int32
	trie    *trie

	plainOnce sync.Once
	plain     Bitset // the text tokens (Plain), built on first use
}

// NewMasker indexes the vocabulary: vocab[id] is the bytes token id adds to the
// text, special marks control tokens (never allowed by a grammar), and eos
// lists the end-of-sequence ids that are allowed exactly when the grammar accepts.
func NewMasker(vocab [][]byte, special []bool, eos ...int32) (*Masker, error) {
	if special != nil && len(special) != len(vocab) {
		return nil, fmt.Errorf("new masker: %d special flags for %d tokens", len(special), len(vocab))
	}
	for _, id := range eos {
		if id < 0 || int(id) >= len(vocab) {
			return nil, fmt.Errorf("new masker: eos token %d outside vocabulary of %d", id, len(vocab))
		}
	}
	// EOS stays out of the trie even if its bytes are ordinary text: it is
	// allowed exactly when the output is complete, never as text.
	skip := func(id int) bool { return (special != nil && special[id]) || slices.Contains(eos, int32(id)) }
	return &Masker{vocab: vocab, special: special, eos: slices.Clone(eos), trie: buildTrie(vocab, skip)}, nil
}

// Size is the vocabulary size.
func (m *Masker) Size() int { return len(m.vocab) }

// Plain fills dst (at least Size bits) with every token that is text: not a
// control token, not EOS, not empty. It is the mask of free text in an output
// whose structure is made of control tokens, such as the reasoning of a
// harmony (gpt-oss) message between its header and <|end|>.
func (m *Masker) Plain(dst Bitset) {
	m.plainOnce.Do(func() {
		b := NewBitset(len(m.vocab))
		for id, v := range m.vocab {
			if len(v) > 0 && (m.special == nil || !m.special[id]) && !slices.Contains(m.eos, int32(id)) {
				b.Set(int32(id))
			}
		}
		m.plain = b
	})
	clear(dst)
	copy(dst, m.plain)
}

// maxCached bounds the per-matcher mask cache (each entry is vocab/8 bytes).
const maxCached = 256

// Matcher constrains one generation to a grammar: Mask gives the allowed next
// tokens, Accept records the chosen one. Not safe for concurrent use.
type Matcher struct {
	m      *Masker
	p      *Parser
	ended  bool // an EOS token was accepted
	cache  map[string]Bitset
	keyBuf []byte
	levels []state // per trie depth, reused by the walk
	front  state   // frontier start state, reused
	tables *progTables
}

// NewMatcher starts matching g (compiling it if needed).
func (m *Masker) NewMatcher(g *Grammar) (*Matcher, error) {
	p, err := NewParser(g)
	if err != nil {
		return nil, err
	}
	return &Matcher{m: m, p: p, cache: map[string]Bitset{}, levels: make([]state, m.trie.maxDepth+2), tables: p.prog.tablesFor(m)}, nil
}

// Mask fills dst (at least Size bits) with the tokens allowed next: those
// whose bytes continue the input validly, plus the EOS tokens when the input
// so far is complete. Masks are cached by parser state.
func (mt *Matcher) Mask(dst Bitset) error {
	if len(dst) < (len(mt.m.vocab)+63)/64 {
		return fmt.Errorf("mask: bitset of %d words is too short for %d tokens", len(dst), len(mt.m.vocab))
	}
	clear(dst)
	if mt.ended {
		return nil
	}
	mt.keyBuf = appendKey(mt.keyBuf[:0], mt.p.cur)
	if c, ok := mt.cache[string(mt.keyBuf)]; ok {
		copy(dst, c)
		return nil
	}
	for _, t := range mt.p.cur.threads {
		tab := mt.tables.table(mt.p.prog, mt.m, t.st)
		tab.addTo(dst)
		for _, f := range tab.frontier {
			s := mt.p.closeInto(state{threads: mt.front.threads[:0]}, []thread{{f.st, t.tail}})
			mt.front = s
			if s.dead() {
				continue
			}
			tr := mt.m.trie
			for _, id := range tr.toks[tr.tokFirst[f.node]:tr.tokFirst[f.node+1]] {
				dst.Set(id)
			}
			if len(s.threads) > 0 && tr.first[f.node] < tr.first[f.node+1] {
				mt.walk(f.node, int(f.depth), s, dst)
			}
		}
	}
	if mt.p.cur.accept {
		for _, id := range mt.m.eos {
			dst.Set(id)
		}
	}
	if len(mt.cache) >= maxCached {
		clear(mt.cache)
	}
	mt.cache[string(mt.keyBuf)] = slices.Clone(dst[:(len(mt.m.vocab)+63)/64])
	return nil
}

// walk visits the trie below node n with parser state s, setting the bits of
// every token whose bytes the grammar accepts and skipping dead subtrees.
func (mt *Matcher) walk(n int32, depth int, s state, dst Bitset) {
	t := mt.m.trie
	for e := t.first[n]; e < t.first[n+1]; e++ {
		next := mt.p.step(s, t.edgeByte[e], mt.levels[depth+1])
		mt.levels[depth+1] = next
		if next.dead() {
			continue
		}
		child := t.edgeNode[e]
		for _, id := range t.toks[t.tokFirst[child]:t.tokFirst[child+1]] {
			dst.Set(id)
		}
		if len(next.threads) > 0 && t.first[child] < t.first[child+1] {
			mt.walk(child, depth+1, next, dst)
		}
	}
}

// Accept advances past token id. EOS is accepted only when the input is complete;
// afterwards nothing more is.
func (mt *Matcher) Accept(id int32) error {
	if id < 0 || int(id) >= len(mt.m.vocab) {
		return fmt.Errorf("accept: token %d outside vocabulary of %d", id, len(mt.m.vocab))
	}
	if mt.ended {
		return fmt.Errorf("accept token %d: %w: generation already ended", id, ErrRejected)
	}
	if slices.Contains(mt.m.eos, id) {
		if !mt.p.Accepting() {
			return fmt.Errorf("accept end of sequence: %w: output is incomplete", ErrRejected)
		}
		mt.ended = true
		return nil
	}
	if mt.m.special != nil && mt.m.special[id] {
		return fmt.Errorf("accept token %d: %w: special token", id, ErrRejected)
	}
	if len(mt.m.vocab[id]) == 0 {
		return fmt.Errorf("accept token %d: %w: empty token", id, ErrRejected)
	}
	if err := mt.p.Advance(mt.m.vocab[id]); err != nil {
		return fmt.Errorf("accept token %d: %w", id, err)
	}
	return nil
}

// AcceptText advances past bytes that are not a whole token: the rest of the
// token in which a lazily applied grammar starts (a tool call marker followed
// by more text). Rejected text leaves the matcher as it was.
func (mt *Matcher) AcceptText(b []byte) error {
	if mt.ended {
		return fmt.Errorf("accept text: %w: generation already ended", ErrRejected)
	}
	if err := mt.p.Advance(b); err != nil {
		return fmt.Errorf("accept text: %w", err)
	}
	return nil
}

// Done reports whether the output so far is complete (EOS would be allowed).
func (mt *Matcher) Done() bool { return mt.ended || mt.p.Accepting() }

// Complete reports whether the output is complete and nothing can extend it,
// so the caller may stop without waiting for EOS.
func (mt *Matcher) Complete() bool { return mt.ended || mt.p.Complete() }
