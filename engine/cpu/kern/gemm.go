package kern

import "unsafe"

// Packed prefill (BLIS style) for kernel sets with a micro-kernel. The
// tokens x are packed once per call (once for all the products of a
// MatMuls step) into panels of packNR tokens stored
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
//     packMC/mr micro-tiles of the chunk use it;
//   - the micro-kernel keeps its mr×packNR accumulators in registers for
//     the whole block: per column it loads the packNR tokens (two ymm, or
//     one zmm), broadcasts mr weights and issues mr FMAs per vector;
//     a set's micro2 takes two panels at once (mr×2·packNR accumulators,
//     each weight broadcast once for two FMAs), so a micro-tile's weights
//     are read once per two panels.
//
// mr is the set's (impl.mr): 6 rows × 16 tokens in 12 of AVX2's 16 ymm
// registers, 12 × 16 in 12 of AVX-512's 32 zmm. The sizes are for Zen 1
// (32 KiB L1d, 512 KiB L2 per core) and fit any AVX2 CPU since.
const (
	packNR = 16  // tokens per panel: two ymm or one zmm of floats
	packKC = 256 // columns per block; a multiple of every quantization group size
	packMC = 48  // weight rows per chunk, a multiple of every set's mr

	// packMinTokens is the smallest n for the packed path (MatMul): below
	// it, converting weights into the tile costs more than the micro-kernel
	// saves.
	packMinTokens = 4
)

// microFunc accumulates an mr×w tile (w = packNR, or packNR/2 for the
// narrow kernel of a last panel with few tokens; a set whose narrow kernel
// is no faster may use the full one there, the accumulators having room
// for a whole panel): for r < mr, j < w,
// c[r*ldc+j] (+)= Σ_k a[r*lda+k]·xp[k*packNR+j] over kc columns, starting
// from zero when first and from c otherwise. ldc and lda are in floats.
// pf is a hint: the kernel may prefetch up to kc·mr/3 floats from it (its
// share of the panel the chunk uses next); it is never read.
type microFunc func(c *float32, ldc int, a *float32, lda int, xp *float32, kc int, first bool, pf *float32)

// micro2Func is microFunc over the two panels at xp and xp+xps floats: an
// mr×2·packNR tile, c[r*ldc+j] for j < packNR from the first panel and
// j ≥ packNR from the second. pf: up to 2·kc·mr/3 floats.
type micro2Func func(c *float32, ldc int, a *float32, lda int, xp *float32, xps, kc int, first bool, pf *float32)

// packTokens writes panel p of x (n, cols) into xp as (panels, cols,
// packNR), the tokens past n of the last panel zero.
func packTokens(xp, x []float32, n, cols, p int) {
	dst := xp[p*cols*packNR : (p+1)*cols*packNR]
	if (p+1)*packNR <= n && active.packPanel != nil &&
		active.packPanel(dst, x[p*packNR*cols:(p+1)*packNR*cols], cols) {
		return
	}
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

// packedTask is one to maxProducts MatMuls of the same tokens through the
// micro-kernel: the tokens are packed once, and the chunks of every
// product form one parallel step (q, k and v; gate and up), so k's and v's
// few chunks no longer end a step each with a thread waiting.
type packedTask struct {
	packedChunks
	xp    []float32   // (panels, cols, packNR) packed tokens
	tiles [][]float32 // per thread: float weights of a block (packMC, packKC)
	acc   [][]float32 // per thread: accumulators (packMC, panels·packNR)
	ii    i16Pack     // int16 inputs (igemm.go), when ii.on
}

// packedChunks is a packed step's products of n tokens and their chunks of
// packMC rows, numbered across the products (the float, int16 and bfloat16
// paths share it).
type packedChunks struct {
	ps    [maxProducts]Product // Y (n, M.Rows) each; M.Cols all equal
	first [maxProducts + 1]int // first chunk of each product; first[np] is the total
	np    int
	n     int
}

// set takes ps for n tokens and returns the step's multiply-adds.
func (t *packedChunks) set(ps []Product, n int) (work int) {
	t.n, t.np = n, len(ps)
	for i, p := range ps {
		t.ps[i] = Product{Y: p.Y[:n*p.M.Rows], M: p.M}
		t.first[i+1] = t.first[i] + (p.M.Rows+packMC-1)/packMC
		work += p.M.Rows * p.M.Cols * n
	}
	return work
}

// chunks is the step's number of chunks.
func (t *packedChunks) chunks() int { return t.first[t.np] }

// chunk returns chunk c's product and its rows r0..r1.
func (t *packedChunks) chunk(c int) (m *Mat, y []float32, r0, r1 int) {
	j := 0
	for c >= t.first[j+1] {
		j++
	}
	m, y = t.ps[j].M, t.ps[j].Y
	r0 = (c - t.first[j]) * packMC
	return m, y, r0, min(r0+packMC, m.Rows)
}

// release drops the step's references to the callers' matrices and outputs.
func (t *packedChunks) release() { t.ps = [maxProducts]Product{} }

func (e *Exec) matMulPacked(y []float32, m *Mat, x []float32, n int) {
	e.matMulsPacked(x, n, []Product{{Y: y, M: m}})
}

// packs reports whether MatMul takes the packed path for m and n tokens:
// its routing, in the same order, where int8 prefill is off (with it on,
// MatMul decides per product).
func (e *Exec) packs(m *Mat, n int) bool {
	quant := m.DType == Q8 || m.DType == Q4
	switch {
	case n == 1 || active.micro == nil || n < packMinTokens:
		return false
	case quant && (n <= qbatchMaxTokens || e.int8Ref != 0 || e.int8Prefill):
		return false
	}
	return !useHalfBatch(m, n)
}

// packedProducts returns how many of ps, from the first, MatMuls may run
// as one packed step: products of the same width that MatMul would pack.
func (e *Exec) packedProducts(n int, ps []Product) int {
	k := 0
	for k < len(ps) && k < maxProducts && ps[k].M.Cols == ps[0].M.Cols && e.packs(ps[k].M, n) &&
		e.samePrefill(ps[0].M, ps[k].M) && e.bf16Rounds(ps[k].M) == e.bf16Rounds(ps[0].M) {
		k++
	}
	return k
}

// matMulsPacked computes ps[i].Y = x·ps[i].Mᵀ for n tokens x (n, cols)
// through the micro-kernel, for up to maxProducts products of width cols.
func (e *Exec) matMulsPacked(x []float32, n int, ps []Product) {
	t := &e.pk
	if len(t.tiles) != e.pool.Threads() {
		t.tiles = make([][]float32, e.pool.Threads())
		t.acc = make([][]float32, e.pool.Threads())
	}
	cols := ps[0].M.Cols
	if e.bf16Rounds(ps[0].M) {
		if e.bgemmFits(ps) {
			e.matMulsBF16(x, n, ps)
			return
		}
		x = e.roundBF16(x[:n*cols])
	}
	panels := (n + packNR - 1) / packNR
	if t.ii.on = e.packI16(t, x, n, ps); !t.ii.on {
		t.xp = grow(t.xp, panels*cols*packNR)
		pt := &e.pt
		*pt = packTask{xp: t.xp, x: x[:n*cols], n: n, cols: cols}
		e.run(pt, panels, n*cols < parallelMin || panels == 1)
		pt.xp, pt.x = nil, nil
	}
	work := t.set(ps, n)
	// Every thread's scratch is sized here, not by the thread that first
	// runs a chunk needing it: which thread runs which chunk is the
	// scheduler's choice, and a call must not allocate because this time
	// another thread drew a converted block (TestMatMulsPacked failed so,
	// now and then, on a loaded machine).
	for i := range t.tiles {
		t.tiles[i] = grow(t.tiles[i], packMC*packKC)
		t.acc[i] = grow(t.acc[i], packMC*panels*packNR)
	}
	e.run(t, t.chunks(), work < parallelMin)
	t.release()
}

func (t *packedTask) runChunk(c, tid int) {
	if t.ii.on {
		t.runChunkI16(c, tid)
		return
	}
	m, y, r0, r1 := t.chunk(c)
	cols := m.Cols
	nr := r1 - r0
	// Rows past nr up to a multiple of mr are zero in the tile, so the
	// micro-kernel never needs a shorter variant.
	mr := active.mr
	padded := (nr + mr - 1) / mr * mr
	inPlace := m.DType == F32 && padded == nr
	panels := (t.n + packNR - 1) / packNR
	ldc := panels * packNR
	acc := t.acc[tid][:padded*ldc]
	// The last panel's kernel: the narrow one when it holds at most half
	// a panel of tokens (batched decode's 4..8, and prompt tails).
	last := active.micro
	if t.n-(panels-1)*packNR <= packNR/2 {
		last = active.microHalf
	}
	// Each micro-tile's call prefetches its share of the next panel
	// (this block's next one, or the first of the next block): step
	// floats apart, kc·mr/3 each (microFunc).
	tiles := padded / mr
	// Panels below pair go two at a time through micro2 where the set has
	// one; a last panel of at most half a panel of tokens goes alone (its
	// kernel may be the narrow one).
	micro2, pair := active.micro2, 0
	if micro2 != nil {
		pair = panels
		if t.n-(panels-1)*packNR <= packNR/2 {
			pair = panels - 1
		}
	}
	// In the last block, the full tiles of full panels go straight from
	// the micro-kernel's accumulators (still in L1) into y, so the stores'
	// misses on y (cold: a layer's activations outgrow L3) overlap the next
	// tiles' FMAs; the rest (a partial last panel, the rows past the last
	// full tile) goes through writeBack at the end.
	store := active.tileStore
	fullPanels, fullRows := t.n/packNR, nr/mr*mr
	if store == nil {
		fullPanels, fullRows = 0, 0
	}
	// The next block's weights are fetched while this block's panels
	// run, a few rows per panel: the first panel would otherwise wait on
	// memory for all of them (a prompt's weights are read once per call,
	// from DRAM).
	pfRows := 0
	if active.prefetchRows != nil {
		pfRows = (nr + panels - 1) / panels
	}
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		// The chunk's first block, whose weights no earlier block
		// prefetched, is converted a micro-tile's rows at a time just
		// before the first panel's micro-tile uses them, the next
		// micro-tile's rows prefetched meanwhile: their fetch from memory
		// overlaps the FMAs instead of stalling one conversion of the
		// whole block.
		lazy := kb == 0 && !inPlace && pfRows > 0 && tiles > 1
		var a []float32
		var lda int
		if lazy {
			a, lda = t.tiles[tid][:padded*packKC], packKC
			t.prefetchBlock(m, r0, min(r0+2*mr, r1), kb)
		} else {
			a, lda = t.block(m, tid, r0, r1, padded, kb, kc, inPlace)
		}
		first, final := kb == 0, kb+kc == cols
		step := kc * packNR / tiles
		for p := 0; p < panels; {
			xp := &t.xp[(p*cols+kb)*packNR]
			// Two panels through micro2 (each micro-tile's weights read
			// once for both) below pair, else one; the last panel through
			// its own kernel.
			np, micro := 1, active.micro
			if p+1 < pair {
				np = 2
			} else if p == panels-1 {
				micro = last
			}
			next := (p+np)*cols + kb
			if p+np == panels {
				next = (kb + kc) % cols
			}
			pfs := t.xp[next*packNR:]
			if !final && pfRows > 0 {
				t.prefetchBlock(m, r0+min(p*pfRows, nr), r0+min((p+np)*pfRows, nr), kb+kc)
			}
			for i := range tiles {
				g := i * mr
				if lazy && p == 0 {
					t.tileRows(a, m, r0, r1, g, kb, kc)
				}
				pf := &pfs[min(np*i*step, len(pfs)-1)]
				c := &acc[g*ldc+p*packNR]
				if np == 2 {
					micro2(c, ldc, &a[g*lda], lda, xp, cols*packNR, kc, first, pf)
				} else {
					micro(c, ldc, &a[g*lda], lda, xp, kc, first, pf)
				}
				if final && g < fullRows {
					for q := p; q < p+np && q < fullPanels; q++ {
						store(&y[q*packNR*m.Rows+r0+g], m.Rows, &acc[g*ldc+q*packNR], ldc)
					}
				}
			}
			p += np
		}
	}
	fullTok := fullPanels * packNR
	writeBack(y, m.Rows, r0, acc, ldc, 0, fullTok, fullRows, nr)
	writeBack(y, m.Rows, r0, acc, ldc, fullTok, t.n, 0, nr)
}

// writeBack stores rows a0..a1 of a chunk's accumulators acc (rows of the
// chunk, ldc) for tokens t0..t1 as rows r0+a0.. of y (n, rows), one token
// at a time: each token's values are one contiguous run of y, and the
// strided reads stay in the cache-hot acc. Row by row, every store touched
// another line of y (a stride of rows floats): 9× slower on Zen 1, 5% of a
// prompt's time.
func writeBack(y []float32, rows, r0 int, acc []float32, ldc, t0, t1, a0, a1 int) {
	for tok := t0; tok < t1; tok++ {
		dst := y[tok*rows+r0+a0 : tok*rows+r0+a1]
		for r := range dst {
			dst[r] = acc[(a0+r)*ldc+tok]
		}
	}
}

// block returns weight rows r0..r1 (zero rows up to padded), columns
// kb..kb+kc, as floats with a row stride: in place for float32 weights,
// otherwise converted into the thread's tile.
func (t *packedTask) block(m *Mat, tid, r0, r1, padded, kb, kc int, inPlace bool) ([]float32, int) {
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

// tileRows converts rows g..g+mr of the chunk starting at row r0 (rows
// r1-r0 and on zero), columns kb..kb+kc, into tile (row stride packKC), and
// prefetches the stored rows of the next micro-tile.
func (t *packedTask) tileRows(tile []float32, m *Mat, r0, r1, g, kb, kc int) {
	mr := active.mr
	for r := g; r < g+mr; r++ {
		if r0+r < r1 {
			active.packRow(tile[r*packKC:r*packKC+kc], m, r0+r, kb)
		} else {
			clear(tile[r*packKC : r*packKC+kc])
		}
	}
	t.prefetchBlock(m, min(r0+g+2*mr, r1), min(r0+g+3*mr, r1), kb)
}

// prefetchBlock hints the stored weights of rows r0..r1 of m, columns
// c0..c0+packKC, into the cache.
func (t *packedTask) prefetchBlock(m *Mat, r0, r1, c0 int) {
	if r0 >= r1 {
		return
	}
	var p *byte
	var stride, bytes int
	off, kc := r0*m.Cols+c0, min(packKC, m.Cols-c0)
	switch m.DType {
	case F32:
		p, stride, bytes = (*byte)(unsafe.Pointer(&m.F32[off])), 4*m.Cols, 4*kc
	case F16, BF16:
		p, stride, bytes = (*byte)(unsafe.Pointer(&m.U16[off])), 2*m.Cols, 2*kc
	case Q8:
		p, stride, bytes = &m.Q[off], m.Cols, kc
	case Q4:
		p, stride, bytes = &m.Q[off/2], m.Cols/2, kc/2
	default:
		return
	}
	active.prefetchRows(p, stride, r1-r0, (bytes+63)/64+1)
}
