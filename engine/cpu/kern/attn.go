package kern

// KV is one layer's key or value cache, (maxLen, kvHeads*headDim) row-major,
// stored as float32 or as IEEE half (half the memory, converted on the fly).
type KV struct {
	F32 []float32
	F16 []uint16
}

// NewKV allocates a cache of n values, half precision when f16 is set.
func NewKV(n int, f16 bool) KV {
	if f16 {
		return KV{F16: make([]uint16, n)}
	}
	return KV{F32: make([]float32, n)}
}

// Put stores vals at offset off.
func (c KV) Put(off int, vals []float32) {
	if c.F16 == nil {
		copy(c.F32[off:off+len(vals)], vals)
		return
	}
	dst := c.F16[off : off+len(vals)]
	for i, v := range vals {
		dst[i] = F32ToF16(v)
	}
}

// Attn describes causal multi-head attention with grouped KV heads: query
// head h reads KV head h/(Heads/KVHeads), straight from the cache, without
// copying K or V per head.
type Attn struct {
	Heads, KVHeads, HeadDim int
	Scale                   float32 // usually 1/sqrt(HeadDim)
	Window                  int     // > 0: a query sees only the last Window positions (itself included)
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
	t := &e.at
	t.out, t.q, t.nq, t.pos0, t.k, t.v, t.a = out, q, nq, pos0, k, v, a
	n := nq * a.KVHeads
	if nq*(pos0+nq)*a.Heads*a.HeadDim < parallelMin/4 {
		runInline(t, n)
	} else {
		e.pool.run(t, n)
	}
	t.out, t.q, t.k, t.v = nil, nil, KV{}, KV{}
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
	hd, qDim, kvDim := a.HeadDim, a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	t.scores[tid] = grow(t.scores[tid], group*n)
	s := t.scores[tid]
	qi := t.q[i*qDim : (i+1)*qDim]
	oi := t.out[i*qDim : (i+1)*qDim]
	base := first*kvDim + g*hd
	for j := 0; j < group; j++ {
		h := g*group + j
		sj := s[j*n : (j+1)*n]
		t.k.scores(sj, qi[h*hd:(h+1)*hd], base, kvDim)
		active.scale(sj, a.Scale)
		Softmax(sj)
		t.v.weighted(oi[h*hd:(h+1)*hd], sj, base, kvDim)
	}
}

// scores sets s[p] = q·row(p) for the len(s) rows of len(q) values starting
// at off, stride apart.
func (c KV) scores(s, q []float32, off, stride int) {
	end := off + (len(s)-1)*stride + len(q)
	if c.F16 == nil {
		active.attnScores(s, q, c.F32[off:end], stride)
		return
	}
	for p := range s {
		s[p] = active.dotF16(q, c.F16[off+p*stride:off+p*stride+len(q)])
	}
}

// weighted sets out = Σ_p w[p]·row(p) over the len(w) rows of len(out)
// values starting at off, stride apart.
func (c KV) weighted(out, w []float32, off, stride int) {
	end := off + (len(w)-1)*stride + len(out)
	if c.F16 == nil {
		active.attnValues(out, w, c.F32[off:end], stride)
		return
	}
	clear(out)
	for p, wp := range w {
		active.axpyF16(out, wp, c.F16[off+p*stride:off+p*stride+len(out)])
	}
}

func goAttnScores(s, q, k []float32, stride int) {
	for p := range s {
		s[p] = goDot(q, k[p*stride:p*stride+len(q)])
	}
}

func goAttnValues(out, w, v []float32, stride int) {
	clear(out)
	for p, wp := range w {
		goAxpy(out, wp, v[p*stride:p*stride+len(out)])
	}
}
