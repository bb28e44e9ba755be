package kern

// KV is one layer's key or value cache: one row of Dim values
// (kvHeads*headDim, keys after RoPE) per position, position p in row p%Block
// of block p/Block; with Head set, each head's part of the rows is kept
// together within a block. A sequence's cache grows a block at a time, so
// it holds memory for the positions it has used, not for its whole window
// (vLLM's paged cache, without the indirection of a block table: the
// blocks of one sequence are its own). Blocks hold float32 or IEEE half
// (half the memory, converted on the fly); attention reads them in place.
type KV struct {
	Block int // rows per block
	Dim   int // values per row
	// Head, when set, is the values of one KV head (a divisor of Dim): a
	// block holds (Dim/Head, Block, Head), each head's rows one after the
	// other, so that decode's attention reads a head's keys and values as
	// one sequential stream rather than Head values every Dim (which the
	// hardware prefetchers do not follow and DRAM serves a page at a time;
	// engine/cpu/design.md). 0: rows as they come, (Block, Dim).
	Head int
	F32  [][]float32 // blocks of Block·Dim values, when float32
	F16  [][]uint16  // blocks of Block·Dim values, when half
}

// NewKV allocates a cache of rows positions of dim values in one block, half
// precision when f16 is set.
func NewKV(rows, dim int, f16 bool) KV {
	c := KV{Block: rows, Dim: dim}
	if f16 {
		c.F16 = [][]uint16{make([]uint16, rows*dim)}
	} else {
		c.F32 = [][]float32{make([]float32, rows*dim)}
	}
	return c
}

// seg is the values stored contiguously per row: Head, or Dim.
func (c KV) seg() int {
	if c.Head > 0 {
		return c.Head
	}
	return c.Dim
}

// at is the index within its block of row r's value col.
func (c KV) at(r, col int) int {
	h := c.seg()
	return (col/h*c.Block+r)*h + col%h
}

// span is the index range within a block of n rows from row r, each
// width values from column col (within one head when heads are together):
// the first row's first value to the last row's last, rows seg() apart.
func (c KV) span(r, col, n, width int) (off, end int) {
	off = c.at(r, col)
	return off, off + (n-1)*c.seg() + width
}

// Put stores vals, whole rows, at positions pos, pos+1, ...; their blocks
// must be there.
func (c KV) Put(pos int, vals []float32) {
	if c.seg() != c.Dim {
		for ; len(vals) > 0; pos++ {
			b, r := pos/c.Block, pos%c.Block
			for col := 0; col < c.Dim; col += c.Head {
				c.store(b, c.at(r, col), vals[col:col+c.Head])
			}
			vals = vals[c.Dim:]
		}
		return
	}
	for len(vals) > 0 {
		b, r := pos/c.Block, pos%c.Block
		n := min(len(vals), (c.Block-r)*c.Dim)
		c.store(b, r*c.Dim, vals[:n])
		vals = vals[n:]
		pos += n / c.Dim
	}
}

// store writes vals at index off of block b, rounding them to halves in a
// half cache.
func (c KV) store(b, off int, vals []float32) {
	if c.F16 == nil {
		copy(c.F32[b][off:off+len(vals)], vals)
		return
	}
	dst := c.F16[b][off : off+len(vals)]
	if active.f32ToF16 == nil || !active.f32ToF16(dst, vals) {
		for i, v := range vals {
			dst[i] = F32ToF16(v)
		}
	}
}

// Row copies len(dst) values of position pos from column col, widening halves.
func (c KV) Row(dst []float32, pos, col int) {
	b, r := pos/c.Block, pos%c.Block
	for len(dst) > 0 {
		off, n := c.at(r, col), min(len(dst), c.seg()-col%c.seg())
		if c.F16 == nil {
			copy(dst[:n], c.F32[b][off:off+n])
		} else {
			for i, h := range c.F16[b][off : off+n] {
				dst[i] = F16ToF32(h)
			}
		}
		dst, col = dst[n:], col+n
	}
}

// Attn describes causal multi-head attention with grouped KV heads: query
// head h reads KV head h/(Heads/KVHeads), straight from the cache, without
// copying K or V per head.
type Attn struct {
	Heads, KVHeads, HeadDim int
	Scale                   float32 // usually 1/sqrt(HeadDim)
	Window                  int     // > 0: a query sees only the last Window positions (itself included)
	// Softcap > 0 bends the scaled scores into (-Softcap, Softcap) as
	// Softcap·tanh(s/Softcap) before the softmax (Gemma 2's
	// attn_logit_softcapping).
	Softcap float32
	// Sinks, when set, is one logit per query head (Heads) that joins the
	// head's softmax denominator without a value row (GPT-OSS's attention
	// sinks): a head may give part of its attention to nothing.
	Sinks []float32
}

// ReserveAttention sizes the per-thread score buffers for queries that see
// up to positions cache positions, so that decode never allocates.
func (e *Exec) ReserveAttention(a Attn, positions int) {
	group := a.Heads / a.KVHeads
	for i := range e.at.scores {
		e.at.scores[i] = grow(e.at.scores[i], group*positions)
	}
}

// Attention computes out (nq, Heads*HeadDim) for queries q (nq, Heads*HeadDim)
// at positions pos0..pos0+nq-1; query i sees cache positions 0..pos0+i (the
// last Window of them when Window is set), which must already hold its keys
// and values.
func (e *Exec) Attention(out, q []float32, nq, pos0 int, k, v KV, a Attn) {
	if a.Sinks != nil && len(a.Sinks) != a.Heads {
		panic("kern: attention sinks are not one per head")
	}
	a.checkKV(k, v)
	if attnGemm(a, nq, pos0) {
		e.attentionGemm(out, q, nq, pos0, k, v, a)
		return
	}
	t := &e.at
	t.out, t.q, t.nq, t.pos0, t.k, t.v, t.a = out, q, nq, pos0, k, v, a
	n := nq * a.KVHeads
	e.runRanges(t, n, nq*(pos0+nq)*a.Heads*a.HeadDim < parallelMin/4)
	t.out, t.q, t.k, t.v, t.a = nil, nil, KV{}, KV{}, Attn{}
}

// checkKV panics unless caches that keep heads together keep a's.
func (a Attn) checkKV(k, v KV) {
	if (k.Head != 0 && k.Head != a.HeadDim) || (v.Head != 0 && v.Head != a.HeadDim) {
		panic("kern: the KV cache's head size is not the attention's")
	}
}

type attnTask struct {
	out, q   []float32
	nq, pos0 int
	k, v     KV
	a        Attn
	scores   [][]float32 // per thread: (Heads/KVHeads, positions)
}

// runChunk handles query c/KVHeads for every query head sharing KV head
// c%KVHeads, so each key and value row is loaded once for the whole group.
func (t *attnTask) runChunk(c, tid int) {
	a := t.a
	i, g := c/a.KVHeads, c%a.KVHeads
	group := a.Heads / a.KVHeads
	first, last := 0, t.pos0+i // visible positions
	if a.Window > 0 {
		first = max(0, last-a.Window+1)
	}
	n := last - first + 1
	hd, qDim := a.HeadDim, a.Heads*a.HeadDim
	t.scores[tid] = grow(t.scores[tid], group*n)
	s := t.scores[tid]
	qi := t.q[i*qDim : (i+1)*qDim]
	oi := t.out[i*qDim : (i+1)*qDim]
	h0 := g * group
	t.k.scoresHeads(s, n, qi[h0*hd:(h0+group)*hd], hd, first, g*hd, t.v.rowsFrom(first, g*hd))
	for j := 0; j < group; j++ {
		sj := s[j*n : (j+1)*n]
		active.scale(sj, a.Scale)
		if a.Softcap > 0 {
			active.softcap(sj, a.Softcap)
		}
		if a.Sinks != nil {
			softmaxSink(sj, a.Sinks[h0+j])
		} else {
			Softmax(sj)
		}
	}
	t.v.weightedHeads(oi[h0*hd:(h0+group)*hd], s, n, hd, first, g*hd)
}

// softmaxSink is Softmax over x and one more logit, sink, whose share of
// the sum is then dropped (modeling_gpt_oss.py concatenates the sink to the
// scores, takes the softmax and slices it off).
func softmaxSink(x []float32, sink float32) {
	m := sink
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	s := active.expSum(x, m) + Exp(sink-m)
	active.scale(x, 1/s)
}

// scores sets s[p] = q·row(first+p)[col:] for the len(s) positions from
// first, one kernel call per block.
func (c KV) scores(s, q []float32, first, col int) {
	for p := first; len(s) > 0; {
		b, r := p/c.Block, p%c.Block
		n := min(len(s), c.Block-r)
		off, end := c.span(r, col, n, len(q))
		if c.F16 == nil {
			active.attnScores(s[:n], q, c.F32[b][off:end], c.seg())
		} else {
			attnScoresF16(s[:n], q, c.F16[b][off:end], c.seg())
		}
		s, p = s[n:], p+n
	}
}

// weighted sets out = Σ_p w[p]·row(first+p)[col:] over the len(w)
// positions from first. The kernels add to out, so the sum runs on across
// blocks in position order: the same operations as over one block.
func (c KV) weighted(out, w []float32, first, col int) {
	clear(out)
	for p := first; len(w) > 0; {
		b, r := p/c.Block, p%c.Block
		n := min(len(w), c.Block-r)
		off, end := c.span(r, col, n, len(out))
		if c.F16 == nil {
			active.attnValues(out, w[:n], c.F32[b][off:end], c.seg())
		} else {
			attnValuesF16(out, w[:n], c.F16[b][off:end], c.seg())
		}
		w, p = w[n:], p+n
	}
}

// scoresHeads is scores for consecutive heads sharing this cache's rows:
// head j's query q[j*hd:(j+1)*hd], its n scores s[j*n:(j+1)*n]. Over a
// half cache, three heads at a time where the kernel set can (one
// conversion of each row for the three), with the same results; after is
// what the caller reads next (the values' first rows), for the kernels'
// prefetch.
func (c KV) scoresHeads(s []float32, n int, q []float32, hd, first, col int, after []uint16) {
	heads, j := len(q)/hd, 0
	if c.F16 != nil && active.attnScoresF16x3 != nil {
		for ; j+3 <= heads; j += 3 {
			sj, qj := s[j*n:(j+3)*n], q[j*hd:(j+3)*hd]
			then := c.passNext(j, heads, first, col, after)
			for p, done := first, 0; done < n; {
				b, r := p/c.Block, p%c.Block
				m := min(n-done, c.Block-r)
				off, end := c.span(r, col, m, hd)
				active.attnScoresF16x3(sj[done:], n, m, qj, c.F16[b][off:end], c.seg(), c.nextRows(b, col, done+m < n, then))
				done, p = done+m, p+m
			}
		}
	}
	for ; j < heads; j++ {
		c.scores(s[j*n:(j+1)*n], q[j*hd:(j+1)*hd], first, col)
	}
}

// weightedHeads is weighted for consecutive heads: head j's output
// out[j*hd:(j+1)*hd] from its weights w[j*n:(j+1)*n], three heads at a
// time over a half cache where the kernel set can, as scoresHeads.
func (c KV) weightedHeads(out, w []float32, n, hd, first, col int) {
	heads, j := len(out)/hd, 0
	if c.F16 != nil && active.attnValuesF16x3 != nil {
		for ; j+3 <= heads; j += 3 {
			oj, wj := out[j*hd:(j+3)*hd], w[j*n:(j+3)*n]
			clear(oj)
			then := c.passNext(j, heads, first, col, nil)
			for p, done := first, 0; done < n; {
				b, r := p/c.Block, p%c.Block
				m := min(n-done, c.Block-r)
				off, end := c.span(r, col, m, hd)
				active.attnValuesF16x3(oj, wj[done:], n, m, c.F16[b][off:end], c.seg(), c.nextRows(b, col, done+m < n, then))
				done, p = done+m, p+m
			}
		}
	}
	for ; j < heads; j++ {
		c.weighted(out[j*hd:(j+1)*hd], w[j*n:(j+1)*n], first, col)
	}
}

// passNext is what a pass of three heads from head j reads after its last
// block: the same rows again from position first when more heads follow,
// else after.
func (c KV) passNext(j, heads, first, col int, after []uint16) []uint16 {
	if j+3 < heads {
		return c.rowsFrom(first, col)
	}
	return after
}

// rowsFrom is a half cache's rows of column col from position p on, within
// p's block (nil for a float cache).
func (c KV) rowsFrom(p, col int) []uint16 {
	if c.F16 == nil {
		return nil
	}
	return c.F16[p/c.Block][c.at(p%c.Block, col):]
}

// nextRows is where a half-cache kernel reading block b's rows of column
// col goes on prefetching once past them: the same rows of block b+1 when
// more follow, else after.
func (c KV) nextRows(b, col int, more bool, after []uint16) []uint16 {
	if !more {
		return after
	}
	return c.F16[b+1][c.at(0, col):]
}

func goAttnScores(s, q, k []float32, stride int) {
	for p := range s {
		s[p] = goDot(q, k[p*stride:p*stride+len(q)])
	}
}

func goAttnValues(out, w, v []float32, stride int) {
	for p, wp := range w {
		goAxpy(out, wp, v[p*stride:p*stride+len(out)])
	}
}
