package kern

// BF16 prefill input (issue #19, engine/cpu/design.md "BF16 prefill with
// bf16 inputs"). AVX512_BF16's VDPBF16PS multiplies pairs of bfloat16 and
// adds them to float32 accumulators: 32 multiply-adds per instruction where
// an FMA does 16, but only if the tokens x are bfloat16 too. SetBF16Prefill
// asks for that rounding on the packed prefill path of BF16 matrices: each
// token's x is rounded to the nearest bfloat16 (ties to even, as
// VCVTNEPS2BF16) before the product. The product of two bfloat16 is exact in
// float32, so with rounded x every set's float32 micro-kernel computes the
// same products VDPBF16PS does; only the summation order differs.

// SetBF16Prefill makes prefill products with BF16 weights (the packed path:
// MatMul with at least packMinTokens tokens) round their input x to
// bfloat16. Decode (one token) and batched decode of few tokens keep float32
// inputs.
func (e *Exec) SetBF16Prefill(on bool) { e.bf16In = on }

// HasBF16Prefill reports whether the active kernel set has the bfloat16
// prefill kernel (AVX512_BF16's VDPBF16PS).
func HasBF16Prefill() bool { return active.bmicro != nil }

// bf16Rounds reports whether the packed products of m take bfloat16 inputs.
func (e *Exec) bf16Rounds(m *Mat) bool { return e.bf16In && m.DType == BF16 }

// roundBF16 returns x rounded to bfloat16 (kept in float32) in e's scratch.
func (e *Exec) roundBF16(x []float32) []float32 {
	e.bx = grow(e.bx, len(x))
	roundBF16(e.bx, x)
	return e.bx
}

// roundBF16 stores src rounded to the nearest bfloat16, ties to even, into
// dst (float32 values whose low 16 bits are zero), as F32ToBF16 rounds a
// lone value. NaN stays NaN.
func roundBF16(dst, src []float32) {
	for i, v := range src {
		dst[i] = BF16ToF32(F32ToBF16(v))
	}
}

// With a bmicro kernel (AVX512_BF16), the packed products of BF16 matrices
// with bfloat16 inputs skip the float32 weight tile: the tokens are rounded
// and packed once per call into panels of packNR tokens whose columns go in
// pairs, (panels, cols/2, packNR, 2) bfloat16, so one 64-byte load holds a
// column pair of 16 tokens, and the micro-kernel reads each weight row's
// column pair (4 contiguous bytes of the stored matrix) in place,
// broadcast to the 16 tokens. The blocking is gemm.go's: chunks of packMC
// rows, blocks of packKC columns, the block's panels in turn.

// bmicroFunc accumulates a bmr×packNR tile: for r < bmr, j < packNR,
// c[r*ldc+j] (+)= Σ_k w[r*ldw+k]·x_j[k] over kc (even) columns, x_j[k] at
// xp[(k/2)*2*packNR+2j+k%2], from zero when first and from c otherwise.
// Each sum adds a row's pairs in column order, a pair's odd product before
// its even one, rounding to float32 after each addition (VDPBF16PS; the
// products of two bfloat16 are exact). ldc and ldw are in elements.
type bmicroFunc func(c *float32, ldc int, w *uint16, ldw int, xp *uint16, kc int, first bool)

// bmr is the weight rows of a bmicro tile.
const bmr = 12

// bgemmFits reports whether the products ps (BF16, same width) can run on
// the set's bmicro kernel: a tile's rows must exist (a chunk's last tile
// overlaps the one before rather than reading past the matrix) and the
// columns go in pairs.
func (e *Exec) bgemmFits(ps []Product) bool {
	if active.bmicro == nil || ps[0].M.Cols%2 != 0 {
		return false
	}
	for _, p := range ps {
		if p.M.Rows < bmr {
			return false
		}
	}
	return true
}

// bf16PackTokens writes panel p of x (n, cols) rounded to bfloat16 into xp
// as (panels, cols/2, packNR, 2), the tokens past n of the last panel zero.
func bf16PackTokens(xp []uint16, x []float32, n, cols, p int) {
	dst := xp[p*cols*packNR : (p+1)*cols*packNR]
	for j := 0; j < packNR; j++ {
		tok := p*packNR + j
		if tok >= n {
			for k := 0; k < cols; k += 2 {
				dst[k*packNR+2*j], dst[k*packNR+2*j+1] = 0, 0
			}
			continue
		}
		src := x[tok*cols : (tok+1)*cols]
		for k := 0; k < cols; k += 2 {
			dst[k*packNR+2*j], dst[k*packNR+2*j+1] = F32ToBF16(src[k]), F32ToBF16(src[k+1])
		}
	}
}

type bf16PackTask struct {
	xp      []uint16
	x       []float32
	n, cols int
}

func (t *bf16PackTask) runChunk(p, _ int) { bf16PackTokens(t.xp, t.x, t.n, t.cols, p) }

// bgemmTask is packedTask for BF16 products on bmicro.
type bgemmTask struct {
	packedChunks
	xp  []uint16
	acc [][]float32 // per thread: accumulators (packMC+bmr, panels·packNR)
}

// matMulsBF16 computes ps[i].Y = x·ps[i].Mᵀ for n tokens with bfloat16
// inputs on the set's bmicro kernel (bgemmFits(ps)).
func (e *Exec) matMulsBF16(x []float32, n int, ps []Product) {
	t := &e.bg
	if len(t.acc) != e.pool.Threads() {
		t.acc = make([][]float32, e.pool.Threads())
	}
	cols := ps[0].M.Cols
	panels := (n + packNR - 1) / packNR
	t.xp = grow(t.xp, panels*cols*packNR)
	pt := &e.bpt
	*pt = bf16PackTask{xp: t.xp, x: x[:n*cols], n: n, cols: cols}
	e.run(pt, panels, n*cols < parallelMin || panels == 1)
	pt.xp, pt.x = nil, nil
	work := t.set(ps, n)
	for i := range t.acc {
		t.acc[i] = grow(t.acc[i], (packMC+bmr)*panels*packNR)
	}
	e.run(t, t.chunks(), work < parallelMin)
	t.release()
}

func (t *bgemmTask) runChunk(c, tid int) {
	m, y, r0, r1 := t.chunk(c)
	cols := m.Cols
	// Tiles start at base, bmr rows apart; the last one ends at r1,
	// overlapping the one before (or rows of the previous chunk) instead
	// of running past the matrix: a row's sums do not depend on its tile.
	// Each tile has its own accumulators (an overlapped row must not get a
	// block twice) and writes back only the rows no tile before it wrote.
	base := min(r0, r1-bmr)
	tiles := (r1 - base + bmr - 1) / bmr
	panels := (t.n + packNR - 1) / packNR
	ldc := panels * packNR
	acc := t.acc[tid][:tiles*bmr*ldc]
	micro := active.bmicro
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		first := kb == 0
		for p := 0; p < panels; p++ {
			xp := &t.xp[(p*cols+kb)*packNR]
			for i := range tiles {
				g := min(base+i*bmr, r1-bmr)
				micro(&acc[i*bmr*ldc+p*packNR], ldc, &m.U16[g*cols+kb], cols, xp, kc, first)
			}
		}
	}
	done := r0
	for i := range tiles {
		g := min(base+i*bmr, r1-bmr)
		writeBack(y, m.Rows, g, acc[i*bmr*ldc:], ldc, 0, t.n, done-g, bmr)
		done = g + bmr
	}
}
