package tokenizer

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

type merge struct{ rank, id int32 }

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// bpeModel applies merges by rank to one pre-tokenized word. A byte-level
// model sees the word as raw bytes (each byte is one initial symbol, the
// vocabulary's alphabet rune for that byte); other models see runes.
type bpeModel struct {
	vocab     map[string]int32
	merges    map[uint64]merge
	byteLevel bool

	byteIDs  [256]int32       // byte-level: id of each byte's rune, -1 if absent
	charIDs  map[rune]int32   // otherwise: ids of one-rune tokens
	rawVocab map[string]int32 // byte-level: vocabulary keyed by raw bytes
	fallback [256]int32       // <0xNN> token ids, -1 if absent

	unk          int32 // -1 when there is no unk token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix

	cache wordCache
}

func newBPE(m *modelJSON, vocab map[string]int32, byteLevel bool) (*bpeModel, error) {
	b := &bpeModel{
		vocab:        vocab,
		byteLevel:    byteLevel,
		unk:          -1,
		fuseUnk:      m.FuseUnk,
		byteFallback: m.ByteFallback,
		ignoreMerges: m.IgnoreMerges,
		merges:       make(map[uint64]merge, len(m.Merges)),
		cache:        wordCache{m: map[string][]int32{}, limit: 1 << 16},
	}
	if m.ContinuingSubwordPrefix != nil {
		b.prefix = *m.ContinuingSubwordPrefix
	}
	if m.EndOfWordSuffix != nil {
		b.suffix = *m.EndOfWordSuffix
	}
	if m.UnkToken != nil {
		if id, ok := vocab[*m.UnkToken]; ok {
			b.unk = id
		}
	}
	b.indexUnits()
	if err := b.indexMerges(m.Merges); err != nil {
		return nil, err
	}
	return b, nil
}

// indexUnits finds the ids of the initial symbols: bytes (byte-level),
// single runes, and <0xNN> fallback tokens.
func (b *bpeModel) indexUnits() {
	for i := range b.fallback {
		b.fallback[i] = -1
		if id, ok := b.vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			b.fallback[i] = id
		}
	}
	if !b.byteLevel {
		b.charIDs = map[rune]int32{}
		for tok, id := range b.vocab {
			if r, n := utf8.DecodeRuneInString(tok); n == len(tok) && (r != utf8.RuneError || n == 3) {
				b.charIDs[r] = id
			}
		}
		return
	}
	b.rawVocab = make(map[string]int32, len(b.vocab))
	for tok, id := range b.vocab {
		if raw, ok := byteLevelDecode(tok); ok {
			b.rawVocab[string(raw)] = id
		}
	}
	for i := range b.byteIDs {
		b.byteIDs[i] = -1
		if id, ok := b.vocab[string(byteToRune[i])]; ok {
			b.byteIDs[i] = id
		}
	}
}

// indexMerges maps each merge's pair of ids to its rank and result, as the
// reference does (a later duplicate wins).
func (b *bpeModel) indexMerges(merges mergesJSON) error {
	for rank, pair := range merges {
		a, okA := b.vocab[pair[0]]
		c, okC := b.vocab[pair[1]]
		if !okA || !okC {
			return fmt.Errorf("merge %d (%q %q) uses a token outside the vocabulary", rank, pair[0], pair[1])
		}
		right := strings.TrimPrefix(pair[1], b.prefix)
		id, ok := b.vocab[pair[0]+right]
		if !ok {
			return fmt.Errorf("merge %d (%q %q) makes a token outside the vocabulary", rank, pair[0], pair[1])
		}
		b.merges[pairKey(a, c)] = merge{rank: int32(rank), id: id}
	}
	return nil
}

// maxCachedWord bounds the words kept in the cache: long ones rarely repeat.
const maxCachedWord = 256

// encode appends the ids of one word.
func (b *bpeModel) encode(dst []int32, word string, sc *scratch) []int32 {
	if word == "" {
		return dst
	}
	if b.ignoreMerges {
		v := b.vocab
		if b.byteLevel {
			v = b.rawVocab
		}
		if id, ok := v[word]; ok {
			return append(dst, id)
		}
	}
	cacheable := len(word) <= maxCachedWord
	if cacheable {
		if ids, ok := b.cache.get(word); ok {
			return append(dst, ids...)
		}
	}
	syms := b.initialSymbols(word, sc.syms[:0])
	sc.syms = syms
	start := len(dst)
	dst = b.merge(dst, syms, sc)
	if cacheable {
		b.cache.put(word, dst[start:])
	}
	return dst
}

type symbol struct {
	id         int32
	prev, next int32
}

// symbolBuilder collects initial symbols, turning unknown units into byte
// fallback tokens or (fused) unk tokens the way the reference does.
type symbolBuilder struct {
	b       *bpeModel
	syms    []symbol
	pending bool // an unk symbol waits to be emitted
}

func (sb *symbolBuilder) push(id int32) {
	n := int32(len(sb.syms))
	sb.syms = append(sb.syms, symbol{id: id, prev: n - 1, next: n + 1})
}

func (sb *symbolBuilder) flushUnk() {
	if sb.pending {
		sb.push(sb.b.unk)
		sb.pending = false
	}
}

// unit adds one initial unit: its id when known, else the byte fallback of
// its spelling in the vocabulary's alphabet, else unk.
func (sb *symbolBuilder) unit(id int32, spelling string) {
	if id >= 0 {
		sb.flushUnk()
		sb.push(id)
		return
	}
	if sb.b.byteFallback {
		ok := true
		for i := 0; i < len(spelling); i++ {
			ok = ok && sb.b.fallback[spelling[i]] >= 0
		}
		if ok {
			sb.flushUnk()
			for i := 0; i < len(spelling); i++ {
				sb.push(sb.b.fallback[spelling[i]])
			}
			return
		}
	}
	if sb.b.unk < 0 {
		return // the reference drops the unit when there is no unk token
	}
	if sb.pending && !sb.b.fuseUnk {
		sb.flushUnk()
	}
	sb.pending = true
}

func (b *bpeModel) initialSymbols(word string, syms []symbol) []symbol {
	sb := symbolBuilder{b: b, syms: syms}
	affixes := b.prefix != "" || b.suffix != ""
	if b.byteLevel {
		for i := 0; i < len(word); i++ {
			spelling := ""
			id := b.byteIDs[word[i]]
			if affixes || id < 0 {
				spelling = string(byteToRune[word[i]])
			}
			if affixes {
				id = b.affixedID(spelling, i == 0, i == len(word)-1)
			}
			sb.unit(id, spelling)
		}
	} else {
		for i, r := range word {
			w := utf8.RuneLen(r)
			spelling := word[i : i+w]
			id, ok := b.charIDs[r]
			if affixes {
				id = b.affixedID(spelling, i == 0, i+w == len(word))
			} else if !ok {
				id = -1
			}
			sb.unit(id, spelling)
		}
	}
	sb.flushUnk()
	if n := len(sb.syms); n > 0 {
		sb.syms[n-1].next = -1
	}
	return sb.syms
}

func (b *bpeModel) affixedID(s string, first, last bool) int32 {
	if !first {
		s = b.prefix + s
	}
	if last {
		s += b.suffix
	}
	if id, ok := b.vocab[s]; ok {
		return id
	}
	return -1
}

// candidate is a possible merge of the symbol at pos with its successor.
type candidate struct {
	rank, pos   int32
	left, right int32 // the pair it was computed for, to detect stale entries
	id          int32
}

func (c candidate) less(o candidate) bool {
	return c.rank < o.rank || (c.rank == o.rank && c.pos < o.pos)
}

// smallWord is the symbol count up to which a linear scan for the best
// pair beats a heap.
const smallWord = 48

// noMerge marks a pair without a merge in mergeSmall.
const noMerge = int32(1<<31 - 1)

// merge applies the merges to the initial symbols and appends the ids.
func (b *bpeModel) merge(dst []int32, syms []symbol, sc *scratch) []int32 {
	if len(syms) <= smallWord {
		return b.mergeSmall(dst, syms, sc)
	}
	syms = b.mergeAll(syms, sc)
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		dst = append(dst, syms[i].id)
	}
	return dst
}

// mergeSmall is mergeAll for short words: ranks of adjacent pairs live in
// an array and each step scans it for the lowest, leftmost one.
func (b *bpeModel) mergeSmall(dst []int32, syms []symbol, sc *scratch) []int32 {
	ids, ranks, next := sc.ids[:0], sc.ranks[:0], sc.next[:0]
	for _, s := range syms {
		ids = append(ids, s.id)
	}
	pair := func(i int) (int32, int32) {
		if m, ok := b.merges[pairKey(ids[i], ids[i+1])]; ok {
			return m.rank, m.id
		}
		return noMerge, -1
	}
	for i := 0; i+1 < len(ids); i++ {
		r, id := pair(i)
		ranks, next = append(ranks, r), append(next, id)
	}
	for {
		best, bestRank := -1, noMerge
		for i, r := range ranks {
			if r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		ids[best] = next[best]
		ids = append(ids[:best+1], ids[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		next = append(next[:best], next[best+1:]...)
		if best > 0 {
			ranks[best-1], next[best-1] = pair(best - 1)
		}
		if best < len(ranks) {
			ranks[best], next[best] = pair(best)
		}
	}
	sc.ids, sc.ranks, sc.next = ids, ranks, next
	return append(dst, ids...)
}

// mergeAll applies merges lowest rank first, leftmost first on ties, with a
// binary heap of candidates (stale ones are skipped when popped).
func (b *bpeModel) mergeAll(syms []symbol, sc *scratch) []symbol {
	h := sc.heap[:0]
	push := func(pos int32) {
		s := &syms[pos]
		if s.next < 0 {
			return
		}
		r := syms[s.next].id
		if m, ok := b.merges[pairKey(s.id, r)]; ok {
			h = heapPush(h, candidate{rank: m.rank, pos: pos, left: s.id, right: r, id: m.id})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for len(h) > 0 {
		var c candidate
		c, h = heapPop(h)
		s := &syms[c.pos]
		if s.id != c.left || s.next < 0 || syms[s.next].id != c.right {
			continue
		}
		dead := s.next
		s.id = c.id
		s.next = syms[dead].next
		syms[dead].id = -1
		if s.next >= 0 {
			syms[s.next].prev = c.pos
		}
		if s.prev >= 0 {
			push(s.prev)
		}
		push(c.pos)
	}
	sc.heap = h
	return syms
}

func heapPush(h []candidate, c candidate) []candidate {
	h = append(h, c)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []candidate) (candidate, []candidate) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].less(h[m]) {
			m = l
		}
		if r < n && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}

// wordCache memoizes the ids of short words. It is cleared when full, which
// keeps memory bounded without LRU bookkeeping on the hot path.
type wordCache struct {
	mu    sync.RWMutex
	m     map[string][]int32 // guarded by mu
	limit int
}

func (c *wordCache) get(w string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, ids []int32) {
	// Clone the key: it may be a slice of a large input.
	w = strings.Clone(w)
	stored := append([]int32(nil), ids...)
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[w] = stored
	c.mu.Unlock()
}

func (b *bpeModel) lookup(s string) (int32, bool) {
	id, ok := b.vocab[s]
	return id, ok
}
