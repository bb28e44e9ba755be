package kern

// Packed prefill (BLIS style) for kernel sets with a micro-kernel. The
// tokens x are packed once per call into panels of packNR tokens stored
// k-major, (panels, cols, packNR), so one load gives the same column of
// packNR tokens. The weights are split into chunks of packMC rows (the
// parallel unit) and each chunk walks the columns in blocks of packKC:
//
//   - the chunk's block of weights, packMC×packKC floats (48 KiB), is
//     converted from its stored type (F16, BF16, MLX 8- or 4-bit codes) into a
//     per-thread float tile once and stays in L2 while every panel of tokens
//     uses it, so decoding a weight costs once per call, not once per token;
//     float32 weights are read in place;
//   - a panel's block, packNR×packKC floats (16 KiB), stays in L1 while the
//     packMC/packMR micro-tiles of the chunk use it;
//   - the micro-kernel keeps its packMR×packNR accumulators in registers for
//     the whole block: per column it loads packNR/8 vectors of tokens,
//     broadcasts packMR weights and issues packMR×packNR/8 FMAs.
//
// The sizes are for Zen 1 (32 KiB L1d, 512 KiB L2 per core) and fit any
// AVX2 CPU since.
const (
	packNR = 16  // tokens per panel: two 8-float vectors
	packMR = 6   // weight rows per micro-tile: 12 accumulators + 2 + 1 of 16 ymm
	packKC = 256 // columns per block; a multiple of every quantization group size
	packMC = 48  // weight rows per chunk, a multiple of packMR

	// packMinTokens is the smallest n for the packed path (MatMul): below
	// it, converting weights into the tile costs more than the micro-kernel
	// saves.
	packMinTokens = 4
)

// microFunc accumulates a packMR×w tile (w = packNR, or packNR/2 for the
// narrow kernel of a last panel with few tokens): for r < packMR, j < w,
// c[r*ldc+j] (+)= Σ_k a[r*lda+k]·xp[k*packNR+j] over kc columns, starting
// from zero when first and from c otherwise. ldc and lda are in floats.
// pf is a hint: the kernel may prefetch up to 2·kc floats from it (its
// share of the panel the chunk uses next); it is never read.
type microFunc func(c *float32, ldc int, a *float32, lda int, xp *float32, kc int, first bool, pf *float32)

// packTokens writes panel p of x (n, cols) into xp as (panels, cols,
// packNR), the tokens past n of the last panel zero.
func packTokens(xp, x []float32, n, cols, p int) {
	dst := xp[p*cols*packNR : (p+1)*cols*packNR]
	for j := 0; j < packNR; j++ {
		tok := p*packNR + j
		if tok >= n {
			for k := 0; k < cols; k++ {
				dst[k*packNR+j] = 0
			}
			continue
		}
		src := x[tok*cols : (tok+1)*cols]
		for k, v := range src {
			dst[k*packNR+j] = v
		}
	}
}

// packTask packs the panels of tokens on every thread: a long prompt's
// tokens are megabytes, whose transposition one thread would do alone while
// the other waits.
type packTask struct {
	xp, x   []float32
	n, cols int
}

func (t *packTask) runChunk(p, _ int) { packTokens(t.xp, t.x, t.n, t.cols, p) }

// packedTask is one MatMul through the micro-kernel.
type packedTask struct {
	m     *Mat
	y     []float32 // (n, m.Rows)
	xp    []float32 // (panels, cols, packNR) packed tokens
	n     int
	tiles [][]float32 // per thread: float weights of a block (packMC, packKC)
	acc   [][]float32 // per thread: accumulators (packMC, panels·packNR)
}

func (e *Exec) matMulPacked(y []float32, m *Mat, x []float32, n int) {
	t := &e.pk
	if len(t.tiles) != e.pool.Threads() {
		t.tiles = make([][]float32, e.pool.Threads())
		t.acc = make([][]float32, e.pool.Threads())
	}
	panels := (n + packNR - 1) / packNR
	t.xp = grow(t.xp, panels*m.Cols*packNR)
	pt := &e.pt
	*pt = packTask{xp: t.xp, x: x[:n*m.Cols], n: n, cols: m.Cols}
	e.run(pt, panels, n*m.Cols < parallelMin || panels == 1)
	pt.xp, pt.x = nil, nil
	t.m, t.y, t.n = m, y[:n*m.Rows], n
	chunks := (m.Rows + packMC - 1) / packMC
	e.run(t, chunks, m.Rows*m.Cols*n < parallelMin)
	t.m, t.y = nil, nil
}

func (t *packedTask) runChunk(c, tid int) {
	m := t.m
	cols := m.Cols
	r0 := c * packMC
	r1 := min(r0+packMC, m.Rows)
	nr := r1 - r0
	// Rows past nr up to a multiple of packMR are zero in the tile, so the
	// micro-kernel never needs a shorter variant.
	padded := (nr + packMR - 1) / packMR * packMR
	inPlace := m.DType == F32 && padded == nr
	if !inPlace {
		t.tiles[tid] = grow(t.tiles[tid], packMC*packKC)
	}
	panels := (t.n + packNR - 1) / packNR
	ldc := panels * packNR
	t.acc[tid] = grow(t.acc[tid], packMC*ldc)
	acc := t.acc[tid][:padded*ldc]
	// The last panel's kernel: the narrow one when it holds at most half
	// a panel of tokens (batched decode's 4..8, and prompt tails).
	last := active.micro
	if t.n-(panels-1)*packNR <= packNR/2 {
		last = active.microHalf
	}
	// Each micro-tile's call prefetches its share of the next panel
	// (this block's next one, or the first of the next block): step
	// floats apart, 2·kc each (microFunc).
	tiles := padded / packMR
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		a, lda := t.block(tid, r0, r1, padded, kb, kc, inPlace)
		first := kb == 0
		step := kc * packNR / tiles
		for p := 0; p < panels; p++ {
			xp := &t.xp[(p*cols+kb)*packNR]
			micro, next := active.micro, (p+1)*cols+kb
			if p == panels-1 {
				micro, next = last, (kb+kc)%cols
			}
			pfs := t.xp[next*packNR:]
			for i := range tiles {
				g := i * packMR
				pf := &pfs[min(i*step, len(pfs)-1)]
				micro(&acc[g*ldc+p*packNR], ldc, &a[g*lda], lda, xp, kc, first, pf)
			}
		}
	}
	writeBack(t.y, m.Rows, r0, acc[:nr*ldc], ldc, t.n)
}

// writeBack stores a chunk's accumulators acc (rows of the chunk, ldc) as
// rows r0.. of y (n, rows), one token at a time: each token's values are
// one contiguous run of y, and the strided reads stay in the cache-hot acc.
// Row by row, every store touched another line of y (a stride of rows
// floats): 9× slower on Zen 1, 5% of a prompt's time.
func writeBack(y []float32, rows, r0 int, acc []float32, ldc, n int) {
	nr := len(acc) / ldc
	for tok := 0; tok < n; tok++ {
		dst := y[tok*rows+r0 : tok*rows+r0+nr]
		for r := range dst {
			dst[r] = acc[r*ldc+tok]
		}
	}
}

// block returns weight rows r0..r1 (zero rows up to padded), columns
// kb..kb+kc, as floats with a row stride: in place for float32 weights,
// otherwise converted into the thread's tile.
func (t *packedTask) block(tid, r0, r1, padded, kb, kc int, inPlace bool) ([]float32, int) {
	m := t.m
	if inPlace {
		return m.F32[r0*m.Cols+kb:], m.Cols
	}
	tile := t.tiles[tid][:padded*packKC]
	for r := r0; r < r1; r++ {
		active.packRow(tile[(r-r0)*packKC:(r-r0)*packKC+kc], m, r, kb)
	}
	for r := r1 - r0; r < padded; r++ {
		clear(tile[r*packKC : r*packKC+kc])
	}
	return tile, packKC
}
