package kern

// Prefill's row-wise steps between two products (the gated MLP's
// activation, RMSNorm) on every thread: run on the submitting thread alone,
// the other thread waits through them, and at two threads every serial
// millisecond is one of wall time. Each chunk runs the same kernel on a
// slice, so the results are the bits of one call over the whole.

// pointwiseChunk is the values per chunk of SiLUMul: a multiple of every
// kernel set's vector width, so the chunks' tails are the same elements
// the whole call's vector loop handles.
const pointwiseChunk = 8192

// SiLUMul sets a = silu(a)·b as the package's SiLUMul does, on the pool
// when a is large.
func (e *Exec) SiLUMul(a, b []float32) {
	b = b[:len(a)]
	t := &e.sm
	t.a, t.b = a, b
	n := (len(a) + pointwiseChunk - 1) / pointwiseChunk
	e.run(t, n, len(a) < parallelMin)
	t.a, t.b = nil, nil
}

type siluTask struct{ a, b []float32 }

func (t *siluTask) runChunk(c, _ int) {
	i0 := c * pointwiseChunk
	i1 := min(i0+pointwiseChunk, len(t.a))
	active.siluMul(t.a[i0:i1], t.b[i0:i1])
}

// RMSNorms normalises x group by group as RMSNorm does each group of
// len(w) values (a token's row, or a head of it): out[g] = RMSNorm(x[g],
// w), on the pool when x is large.
func (e *Exec) RMSNorms(out, x, w []float32, eps float32) {
	t := &e.nm
	g := len(w)
	t.out, t.x, t.w, t.eps = out[:len(x)], x, w, eps
	t.per = max(1, pointwiseChunk/g)
	groups := len(x) / g
	e.run(t, (groups+t.per-1)/t.per, len(x) < parallelMin)
	t.out, t.x, t.w = nil, nil, nil
}

type normTask struct {
	out, x, w []float32
	eps       float32
	per       int // groups per chunk
}

func (t *normTask) runChunk(c, _ int) {
	g := len(t.w)
	for j := c * t.per * g; j < min((c+1)*t.per*g, len(t.x)); j += g {
		RMSNorm(t.out[j:j+g], t.x[j:j+g], t.w, t.eps)
	}
}
