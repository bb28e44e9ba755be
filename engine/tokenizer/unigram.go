package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// unigramModel is SentencePiece's Unigram model as the tokenizers crate
// runs it: the segmentation with the highest total piece score (Viterbi
// over the lattice of vocabulary pieces), unknown characters scored just
// below the worst piece and fused into one unk, optionally spelled as
// <0xNN> byte tokens instead.
type unigramModel struct {
	vocab        map[string]int32
	scores       []float64 // id -> log probability
	pieces       pieceTrie
	unk          int32
	unkScore     float64
	byteFallback bool
	byteIDs      [256]int32 // <0xNN> ids, -1 when absent
	cache        wordCache  // pre-tokenized word -> ids, as in the reference
}

// unkPenalty is how far below the lowest piece score an unknown character
// scores (tokenizers' K_UNK_PENALTY).
const unkPenalty = 10.0

// unigramVocabJSON reads the [["piece", score], ...] list.
type unigramVocabJSON []struct {
	piece string
	score float64
}

func (v *unigramVocabJSON) UnmarshalJSON(data []byte) error {
	var rows [][2]json.RawMessage
	if err := json.Unmarshal(data, &rows); err != nil {
		return fmt.Errorf("unigram vocab is not a list of [piece, score]: %w", err)
	}
	out := make(unigramVocabJSON, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r[0], &out[i].piece); err != nil {
			return fmt.Errorf("unigram piece %d: %w", i, err)
		}
		if err := json.Unmarshal(r[1], &out[i].score); err != nil {
			return fmt.Errorf("unigram score %d: %w", i, err)
		}
	}
	*v = out
	return nil
}

// parseUnigramVocab returns the pieces; a piece's id is its index.
func parseUnigramVocab(raw json.RawMessage) (unigramVocabJSON, error) {
	var v unigramVocabJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if len(v) > maxTokens {
		return nil, fmt.Errorf("unigram vocab has %d pieces, more than %d", len(v), maxTokens)
	}
	return v, nil
}

func newUnigram(m *modelJSON, pieces unigramVocabJSON) (*unigramModel, error) {
	u := &unigramModel{
		vocab:        make(map[string]int32, len(pieces)),
		scores:       make([]float64, len(pieces)),
		byteFallback: m.ByteFallback,
		cache:        wordCache{m: map[string][]int32{}, limit: 1 << 16},
	}
	if len(pieces) == 0 {
		return nil, fmt.Errorf("unigram vocab is empty")
	}
	minScore := math.Inf(1)
	for id, p := range pieces {
		if math.IsNaN(p.score) || math.IsInf(p.score, 0) {
			return nil, fmt.Errorf("unigram piece %q has score %v", p.piece, p.score)
		}
		// A repeated piece resolves to its last id, as in the reference.
		u.vocab[p.piece] = int32(id)
		u.scores[id] = p.score
		minScore = min(minScore, p.score)
	}
	u.pieces = buildPieceTrie(u.vocab)
	u.unkScore = minScore - unkPenalty
	// Without unk_id the reference fails on any character no piece
	// covers; refuse the file instead of dropping text.
	if m.UnkID == nil {
		return nil, fmt.Errorf("unigram model without unk_id")
	}
	if *m.UnkID < 0 || *m.UnkID >= int64(len(pieces)) {
		return nil, fmt.Errorf("unk_id %d out of range", *m.UnkID)
	}
	u.unk = int32(*m.UnkID)
	for b := range u.byteIDs {
		u.byteIDs[b] = -1
		if id, ok := u.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			u.byteIDs[b] = id
		}
	}
	return u, nil
}

func (u *unigramModel) lookup(tok string) (int32, bool) {
	id, ok := u.vocab[tok]
	return id, ok
}

// latticeNode is the best path ending at a byte offset.
type latticeNode struct {
	score float64
	start int32 // byte offset where the last piece starts; -1 unreached
	id    int32
}

// encode segments one pre-tokenized piece.
func (u *unigramModel) encode(dst []int32, s string, sc *scratch) []int32 {
	if s == "" {
		return dst
	}
	if len(s) > maxCachedWord {
		return u.viterbi(dst, s, sc)
	}
	if ids, ok := u.cache.get(s); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = u.viterbi(dst, s, sc)
	u.cache.put(s, dst[start:])
	return dst
}

// viterbi finds the best segmentation of s. Ties keep the first candidate
// found (shorter pieces are found first), as the reference does. Without a
// pre-tokenizer that splits, s is the whole input and the lattice as long.
func (u *unigramModel) viterbi(dst []int32, s string, sc *scratch) []int32 {
	n := len(s)
	if cap(sc.lattice) < n+1 {
		sc.lattice = make([]latticeNode, n+1)
	}
	best := sc.lattice[:n+1]
	for i := range best {
		best[i] = latticeNode{start: -1}
	}
	best[0].start = 0
	for at := 0; at < n; {
		here := best[at].score
		_, charLen := utf8.DecodeRuneInString(s[at:])
		single := false
		u.pieces.eachPrefix(s, at, func(end int, id int32) {
			cand := here + u.scores[id]
			if t := &best[end]; t.start < 0 || cand > t.score {
				*t = latticeNode{score: cand, start: int32(at), id: id}
			}
			if end-at == charLen {
				single = true
			}
		})
		if !single {
			cand := here + u.unkScore
			if t := &best[at+charLen]; t.start < 0 || cand > t.score {
				*t = latticeNode{score: cand, start: int32(at), id: u.unk}
			}
		}
		at += charLen
	}
	// Walk back, then emit forwards; consecutive unks fuse into one.
	path := sc.path[:0]
	for end := n; end > 0; {
		node := best[end]
		path = append(path, int32(end))
		end = int(node.start)
	}
	prev := 0
	unkFrom := -1
	for k := len(path) - 1; k >= 0; k-- {
		end := int(path[k])
		node := best[end]
		if node.id == u.unk {
			if unkFrom < 0 {
				unkFrom = prev
			}
			prev = end
			continue
		}
		if unkFrom >= 0 {
			dst = u.emitUnknown(dst, s[unkFrom:prev])
			unkFrom = -1
		}
		dst = append(dst, node.id)
		prev = end
	}
	if unkFrom >= 0 {
		dst = u.emitUnknown(dst, s[unkFrom:prev])
	}
	sc.path = path
	return dst
}

// emitUnknown writes a run of unknown text: its own id when the fused run
// happens to be a piece, else byte tokens (byte_fallback, when every byte
// has one) or a single unk.
func (u *unigramModel) emitUnknown(dst []int32, run string) []int32 {
	if id, ok := u.vocab[run]; ok {
		return append(dst, id)
	}
	if u.byteFallback {
		ok := true
		for i := 0; i < len(run) && ok; i++ {
			ok = u.byteIDs[run[i]] >= 0
		}
		if ok {
			for i := 0; i < len(run); i++ {
				dst = append(dst, u.byteIDs[run[i]])
			}
			return dst
		}
	}
	return append(dst, u.unk)
}

// pieceTrie indexes the vocabulary by bytes for common-prefix search. Nodes
// are numbered breadth first, so the children of a node are consecutive
// nodes, sorted by byte: a 250,000-piece vocabulary takes a few bytes per
// node instead of a hash map entry per edge.
type pieceTrie struct {
	root       [256]int32 // child of the root by byte; 0 when none
	label      []byte     // node -> the byte that leads to it
	id         []int32    // node -> piece id, or -1
	childStart []int32    // node -> its first child; node+1 -> end of its children
}

// buildPieceTrie indexes vocab's pieces (the empty piece is never matched).
func buildPieceTrie(vocab map[string]int32) pieceTrie {
	keys := make([]string, 0, len(vocab))
	for k := range vocab {
		if k != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	type span struct{ lo, hi, depth int32 }
	t := pieceTrie{label: []byte{0}, id: []int32{-1}}
	queue := []span{{0, int32(len(keys)), 0}}
	for node := 0; node < len(queue); node++ {
		sp := queue[node]
		t.childStart = append(t.childStart, int32(len(queue)))
		lo := sp.lo
		if lo < sp.hi && int32(len(keys[lo])) == sp.depth {
			t.id[node] = vocab[keys[lo]]
			lo++
		}
		for lo < sp.hi {
			c := keys[lo][sp.depth]
			hi := lo + 1
			for hi < sp.hi && keys[hi][sp.depth] == c {
				hi++
			}
			if node == 0 {
				t.root[c] = int32(len(queue))
			}
			queue = append(queue, span{lo, hi, sp.depth + 1})
			t.label = append(t.label, c)
			t.id = append(t.id, -1)
			lo = hi
		}
	}
	t.childStart = append(t.childStart, int32(len(queue)))
	return t
}

// eachPrefix calls fn for every piece that starts at s[at:], shortest first.
func (t *pieceTrie) eachPrefix(s string, at int, fn func(end int, id int32)) {
	if at >= len(s) {
		return
	}
	node := t.root[s[at]]
	for j := at; node != 0; {
		if id := t.id[node]; id >= 0 {
			fn(j+1, id)
		}
		j++
		if j == len(s) {
			return
		}
		node = t.child(node, s[j])
	}
}

// child returns the child of node reached by c, or 0.
func (t *pieceTrie) child(node int32, c byte) int32 {
	lo, hi := t.childStart[node], t.childStart[node+1]
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		switch l := t.label[mid]; {
		case l == c:
			return mid
		case l < c:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0
}
