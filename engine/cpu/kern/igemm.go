package kern

// Packed prefill with int16 inputs: the packed path of gemm.go for MLX 8-
// and 4-bit weights when the Exec has integer inputs on (SetIntInput, the
// engine's default) and the kernel set has an int16 micro-kernel
// (impl.igemm: AVX512_VNNI's VPDPWSSD). Each token is rounded per weight
// group to int16 exactly as a lone product rounds it (qintGroup: xq =
// round(x/dx), dx = max|x|/32767) and keeps its exact float Σx per group, so
// a prompt's products follow decode's contract (qint.go):
//
//	Σ(s·q+b)·x ≈ s·(dx·Σq·xq) + b·Σx
//
// the integer sums exact in int32, the rest in float32. VPDPWSSD multiplies
// 32 int16 pairs per instruction where an FMA multiplies 16 floats, and a
// block of int16 codes (packMC×packKC, 24 KiB) and a panel's block (8 KiB)
// fit Zen 5's 48 KiB L1 together, where the float tile alone took 48 KiB.
//
// The layout is gemm.go's (chunks of packMC rows, blocks of packKC columns,
// panels of packNR tokens, the same threading, tile stores and write-back;
// panels in pairs through the set's two-panel kernel where it has one);
// what differs is what a block and a panel hold:
//
//   - a panel: per column pair, the 16 tokens' two int16 values (one zmm,
//     (panels, cols/2, packNR, 2)), and apart, per panel and group, the 16
//     tokens' dx then their Σx (xm);
//   - a block: the codes widened to int16 in column order, row-major with a
//     row stride of packKC (the kernel broadcasts a row's two codes of a
//     pair from memory), and per micro-tile and group the 12 rows' scales
//     then their biases.
//
// int32 bound: a group's sum is at most gs·255·32767 in magnitude (Q8 codes
// ≤ 255, |xq| ≤ qintMax), and so is every partial sum; for gs ≤ 256 that is
// ≤ 2 139 029 760 < 2³¹. The path takes group sizes that divide packKC (32,
// 64, 128 and 256: MLX uses 32, 64 and 128), so no group straddles a block
// and none exceeds the bound; other sizes take the float path.

// i16Kernels is a set's int16 prefill: the micro-kernel and the widening of
// codes into a block.
type i16Kernels struct {
	// micro accumulates an i16MR×packNR tile of floats c (row stride ldc,
	// from zero when first): for each of groups groups of gs columns,
	// c[r][j] = fma(float32(Σq·xq)·dx_j, s_r, c[r][j]), then
	// c[r][j] = fma(Σx_j, b_r, c[r][j]); q from w (int16, row stride ldw),
	// xq from the panel xp, dx and Σx from xm (2·packNR floats a group), s
	// and b from sb (2·i16MR floats a group).
	micro func(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xm *float32, groups, gs int, first bool)
	// micro2, optional, is micro over two panels at once: the panel at xp
	// and the one xps int16 values further, their dx and Σx at xm and xms
	// floats further, into the i16MR×2·packNR tile at c; the same bits as
	// two calls of micro.
	micro2 func(c *float32, ldc int, w *int16, ldw int, sb *float32, xp *int16, xps int, xm *float32, xms int, groups, gs int, first bool)
	// widenQ8 and widenQ4 write n codes (a multiple of 32) as int16 in
	// column order, from bytes or from nibbles (low one first).
	widenQ8, widenQ4 func(dst *int16, q *byte, n int)
	// pack rounds a panel of tokens xt, (cols, packNR) floats, per group
	// of gs columns to int16 exactly as qintGroupGo rounds each token's
	// group, and writes the panel's int16 pairs to dst ((cols/2, packNR,
	// 2)) and per group the tokens' dx then their Σx, summed in column
	// order as groupSums sums them, to xm; ok reports that every value of
	// xt is finite (if not, dst and xm are not to be used). Checking there,
	// in the threads' panels, replaced a serial pass over x before the
	// packing (finite: 2.9% of a Q4 prefill's CPU time, the other thread
	// waiting meanwhile).
	pack func(dst *int16, xm *float32, xt *float32, groups, gs int) (ok bool)
}

// i16MR is the weight rows of the int16 micro-tile; the set's tileStore
// must be for as many (impl.mr).
const i16MR = 12

// i16Pack is packedTask's state for int16 inputs.
type i16Pack struct {
	on    bool
	xp    []int16     // (panels, cols/2, packNR, 2) rounded tokens
	xm    []float32   // (panels, groups, 2, packNR): dx, then Σx
	tiles [][]int16   // per thread: (packMC, packKC) codes
	sb    [][]float32 // per thread: a chunk's scales and biases (tiles, groups, 2, i16MR)
	row   [][]float32 // per thread: one row's scales, then its biases
	xt    [][]float32 // per thread: one transposed panel
	ok    []bool      // per panel: its tokens are finite
	pt    i16PackTask
}

// intPrefill reports whether a packed product with m runs on int16 inputs
// (x permitting).
func (e *Exec) intPrefill(m *Mat) bool {
	return active.igemm != nil && active.mr == i16MR && e.IntInput() &&
		(m.DType == Q8 || m.DType == Q4) && packKC%m.GroupSize == 0
}

// samePrefill reports whether products with a and b can share one packed
// step: both with float inputs, or both with int16 ones of one group size
// (the tokens are rounded per group).
func (e *Exec) samePrefill(a, b *Mat) bool {
	ia, ib := e.intPrefill(a), e.intPrefill(b)
	return ia == ib && (!ia || a.GroupSize == b.GroupSize)
}

// packI16 rounds and packs the n tokens x for ps (all of one group size)
// and sizes the threads' scratch; false when the products take float
// inputs: a set without the kernel, float inputs asked for (nothing done),
// or an Inf or NaN in x (found while packing; it must reach y as the float
// kernels carry it, as prepareInt falls back for a lone product).
func (e *Exec) packI16(t *packedTask, x []float32, n int, ps []Product) bool {
	for _, p := range ps {
		if !e.intPrefill(p.M) || !e.samePrefill(ps[0].M, p.M) {
			return false
		}
	}
	cols, gs := ps[0].M.Cols, ps[0].M.GroupSize
	x = x[:n*cols]
	ii := &t.ii
	panels := (n + packNR - 1) / packNR
	ng := cols / gs
	ii.xp = grow(ii.xp, panels*cols*packNR)
	ii.xm = grow(ii.xm, panels*ng*2*packNR)
	ii.ok = grow(ii.ok, panels)
	pt := &ii.pt
	if th := e.pool.Threads(); len(ii.tiles) != th {
		ii.tiles, ii.sb, ii.xt = make([][]int16, th), make([][]float32, th), make([][]float32, th)
		ii.row = make([][]float32, th)
	}
	for i := range ii.tiles {
		ii.tiles[i] = grow(ii.tiles[i], packMC*packKC)
		ii.sb[i] = grow(ii.sb[i], packMC*ng*2)
		ii.row[i] = grow(ii.row[i], 2*ng)
		ii.xt[i] = grow(ii.xt[i], cols*packNR)
	}
	*pt = i16PackTask{xp: ii.xp, xm: ii.xm, x: x, xt: ii.xt, ok: ii.ok, n: n, cols: cols, gs: gs}
	e.run(pt, panels, n*cols < parallelMin || panels == 1)
	pt.xp, pt.xm, pt.x, pt.xt, pt.ok = nil, nil, nil, nil, nil
	for _, ok := range ii.ok[:panels] {
		if !ok {
			return false
		}
	}
	return true
}

// i16PackTask rounds and packs one panel of tokens per chunk: transposed
// to (cols, packNR) floats (as the float path packs them), then rounded per
// group by the set's pack kernel, one lane per token.
type i16PackTask struct {
	xp          []int16
	xm          []float32
	x           []float32
	xt          [][]float32 // per thread: one transposed panel
	ok          []bool      // per panel: pack's ok
	n, cols, gs int
}

func (t *i16PackTask) runChunk(p, tid int) {
	cols := t.cols
	xt := t.xt[tid][:cols*packNR]
	if (p+1)*packNR > t.n || active.packPanel == nil ||
		!active.packPanel(xt, t.x[p*packNR*cols:(p+1)*packNR*cols], cols) {
		for j := range packNR {
			tok := p*packNR + j
			if tok >= t.n {
				for k := range cols {
					xt[k*packNR+j] = 0
				}
				continue
			}
			for k, v := range t.x[tok*cols : (tok+1)*cols] {
				xt[k*packNR+j] = v
			}
		}
	}
	ng := cols / t.gs
	t.ok[p] = active.igemm.pack(&t.xp[p*cols*packNR], &t.xm[p*ng*2*packNR], &xt[0], ng, t.gs)
}

// runChunkI16 is packedTask.runChunk with int16 inputs: the same chunk,
// blocks, panels, tile stores and write-back, through the int16 kernel.
func (t *packedTask) runChunkI16(c, tid int) {
	m, y, r0, r1 := t.chunk(c)
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	nr := r1 - r0
	// Rows past nr up to a multiple of i16MR have zero codes, scales and
	// biases: their sums are zero, never used.
	padded := (nr + i16MR - 1) / i16MR * i16MR
	panels := (t.n + packNR - 1) / packNR
	ldc := panels * packNR
	acc := t.acc[tid][:padded*ldc]
	tiles := padded / i16MR
	store := active.tileStore
	fullPanels, fullRows := t.n/packNR, nr/i16MR*i16MR
	if store == nil {
		fullPanels, fullRows = 0, 0
	}
	pfRows := 0
	if active.prefetchRows != nil {
		pfRows = (nr + panels - 1) / panels
	}
	micro, micro2 := active.igemm.micro, active.igemm.micro2
	// Panels go two at a time through micro2 where the set has one (each
	// micro-tile's codes read once for both), an odd last one alone; a
	// partial panel costs a full one's work either way.
	pair := 0
	if micro2 != nil {
		pair = panels / 2 * 2
	}
	sb := t.i16Scales(m, tid, r0, r1, padded)
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		gpb := kc / gs
		// The chunk's first block, which no earlier block prefetched, is
		// widened a micro-tile's rows at a time just before the first
		// panel(s) use them, the rows two micro-tiles on prefetched
		// meanwhile (as the float path's tileRows): the codes' fetch from
		// memory overlaps the VPDPWSSD instead of stalling one widening of
		// the whole block.
		lazy := kb == 0 && pfRows > 0 && tiles > 1
		var w []int16
		if lazy {
			w = t.ii.tiles[tid][:padded*packKC]
			t.prefetchBlock(m, r0, min(r0+2*i16MR, r1), kb)
		} else {
			w = t.i16Block(m, tid, r0, r1, padded, kb, kc)
		}
		first, final := kb == 0, kb+kc == cols
		for p := 0; p < panels; {
			xp := &t.ii.xp[(p*cols+kb)*packNR]
			xm := &t.ii.xm[(p*ng+kb/gs)*2*packNR]
			np := 1
			if p+1 < pair {
				np = 2
			}
			if !final && pfRows > 0 {
				t.prefetchBlock(m, r0+min(p*pfRows, nr), r0+min((p+np)*pfRows, nr), kb+kc)
			}
			for i := range tiles {
				g := i * i16MR
				if lazy && p == 0 {
					t.i16Rows(w, m, r0, r1, g, g+i16MR, kb, kc)
					t.prefetchBlock(m, min(r0+g+2*i16MR, r1), min(r0+g+3*i16MR, r1), kb)
				}
				cp := &acc[g*ldc+p*packNR]
				sbp := &sb[(i*ng+kb/gs)*2*i16MR]
				if np == 2 {
					micro2(cp, ldc, &w[g*packKC], packKC, sbp, xp, cols*packNR, xm, ng*2*packNR, gpb, gs, first)
				} else {
					micro(cp, ldc, &w[g*packKC], packKC, sbp, xp, xm, gpb, gs, first)
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

// i16Block widens the codes of rows r0..r1, columns kb..kb+kc, into the
// thread's tile, zero rows up to padded.
func (t *packedTask) i16Block(m *Mat, tid, r0, r1, padded, kb, kc int) []int16 {
	w := t.ii.tiles[tid][:padded*packKC]
	t.i16Rows(w, m, r0, r1, 0, padded, kb, kc)
	return w
}

// i16Rows widens rows a..b of the chunk starting at row r0 (rows r1-r0
// and on zero), columns kb..kb+kc, into the tile w (row stride packKC).
func (t *packedTask) i16Rows(w []int16, m *Mat, r0, r1, a, b, kb, kc int) {
	k := active.igemm
	for i := a; i < b; i++ {
		dst := w[i*packKC : i*packKC+kc]
		r := r0 + i
		if r >= r1 {
			clear(dst)
			continue
		}
		off := r*m.Cols + kb
		if m.DType == Q8 {
			_ = m.Q[off+kc-1]
			k.widenQ8(&dst[0], &m.Q[off], kc)
		} else {
			_ = m.Q[(off+kc)/2-1]
			k.widenQ4(&dst[0], &m.Q[off/2], kc)
		}
	}
}

// i16Scales writes the scales and biases of rows r0..r1 (zero up to
// padded), every group, as the micro-kernel reads them: (tiles, groups, 2,
// i16MR). Once per chunk, each row's run converted at once: per block and
// value (Floats.At) it was 7% of a 64-token product.
func (t *packedTask) i16Scales(m *Mat, tid, r0, r1, padded int) []float32 {
	ng := m.Cols / m.GroupSize
	sb := t.ii.sb[tid][:padded*ng*2]
	row := t.ii.row[tid][:2*ng]
	for i := range padded {
		if r := r0 + i; r < r1 {
			floatsRun(row[:ng], &m.Scales, r*ng)
			floatsRun(row[ng:], &m.Biases, r*ng)
		} else {
			clear(row)
		}
		s := sb[i/i16MR*ng*2*i16MR+i%i16MR:]
		for g := range ng {
			s[g*2*i16MR], s[g*2*i16MR+i16MR] = row[g], row[ng+g]
		}
	}
	return sb
}

// floatsRun writes f's values i0..i0+len(dst) as float32, as f.At gives
// them (the set's conversions, the same values for every finite half).
func floatsRun(dst []float32, f *Floats, i0 int) {
	switch f.DType {
	case F16:
		active.f16ToF32(dst, f.U16[i0:i0+len(dst)])
	case BF16:
		active.bf16ToF32(dst, f.U16[i0:i0+len(dst)])
	default:
		copy(dst, f.F32[i0:i0+len(dst)])
	}
}

// HasIntPrefill reports whether the active kernel set runs prefill
// products with MLX 8/4-bit weights on int16 inputs (when SetIntInput is
// on); without, those prefills keep float inputs.
func HasIntPrefill() bool { return active.igemm != nil && active.mr == i16MR }
