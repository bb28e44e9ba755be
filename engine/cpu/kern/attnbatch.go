package kern

// AttnSeq is one sequence's part of a batched attention step: its queries
// and output (NQ, Heads*HeadDim) at positions Pos0..Pos0+NQ-1 over its own
// cache, which must already hold their keys and values.
type AttnSeq struct {
	Out, Q   []float32
	NQ, Pos0 int
	K, V     KV
}

// AttentionBatch is Attention for several sequences in one parallel step:
// every sequence's (query, KV head) pairs are chunks of one task. A decode
// step of n sequences otherwise hands n small tasks to the workers per layer
// (a token's attention is a few tens of microseconds), each ending with one
// thread waiting for the other's last head; one task of n times the chunks
// pays one hand-off and balances across sequences. Each chunk is computed
// exactly as Attention computes it, so the results do not depend on it.
func (e *Exec) AttentionBatch(seqs []AttnSeq, a Attn) {
	if a.Sinks != nil && len(a.Sinks) != a.Heads {
		panic("kern: attention sinks are not one per head")
	}
	t := &e.ab
	if cap(t.segs) < len(seqs) {
		t.segs = make([]attnTask, len(seqs))
		t.first = make([]int, len(seqs)+1)
	}
	t.segs, t.first = t.segs[:len(seqs)], t.first[:len(seqs)+1]
	work := 0
	for i, s := range seqs {
		a.checkKV(s.K, s.V)
		t.segs[i] = attnTask{out: s.Out, q: s.Q, nq: s.NQ, pos0: s.Pos0, k: s.K, v: s.V, a: a,
			scores: e.at.scores} // per thread, shared: a thread runs one chunk at a time
		t.first[i+1] = t.first[i] + s.NQ*a.KVHeads
		work += s.NQ * (s.Pos0 + s.NQ) * a.Heads * a.HeadDim
	}
	e.runRanges(t, t.first[len(seqs)], work < parallelMin/4)
	clear(t.segs) // drop the references to the caches and buffers
}

// attnBatchTask runs chunk c of AttentionBatch as chunk c-first[i] of
// sequence i's Attention.
type attnBatchTask struct {
	segs  []attnTask
	first []int // first chunk of each sequence; first[len(segs)] is the total
}

func (t *attnBatchTask) runChunk(c, tid int) {
	i := 0
	for c >= t.first[i+1] {
		i++
	}
	t.segs[i].runChunk(c-t.first[i], tid)
}
