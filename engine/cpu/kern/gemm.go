package kern

import "unsafe"

// Packed prefill (BLIS style) for kernel sets with a micro-kernel. The
// tokens x are packed once per call into panels of packNR tokens stored
// k-major, (panels, cols, packNR), so one load gives the same column of
// packNR tokens. Each chunk takes packTile weight rows (dequantized into a
// per-thread float tile unless they are float32 already) and walks the
// columns in blocks of packKC: a panel's block (packNR×packKC floats, 16 KiB)
// stays in L1 while every micro-tile of packMR weight rows of the chunk
// uses it, and the chunk's weight block (packTile×packKC, 48 KiB) stays in
// L2 across panels. The micro-kernel keeps its packMR×packNR accumulators in
// registers for the whole block: per column it loads packNR/8 vectors of
// tokens, broadcasts packMR weights and issues packMR×packNR/8 FMAs.
const (
	packNR   = 16  // tokens per panel: two 8-float vectors
	packMR   = 4   // weight rows per micro-tile: 8 accumulators + 2 + 4 of 16 ymm
	packKC   = 256 // columns per block
	packTile = 48  // weight rows per chunk, a multiple of packMR

	// packMinTokens is the smallest n worth padding to a panel of packNR
	// tokens; fewer go through impl.gemm.
	packMinTokens = 8
)

// microFunc accumulates a packMR×packNR tile: for r < packMR, j < packNR,
// c[r*ldc+j] (+)= Σ_k w[r*ldw+k]·xp[k*packNR+j] over kc columns, starting
// from zero when first and from c otherwise. ldc and ldw are in floats.
type microFunc func(c unsafe.Pointer, ldc int, w unsafe.Pointer, ldw int, xp unsafe.Pointer, kc int, first bool)

// packTokens writes x (n, cols) into xp as (panels, cols, packNR), the
// tokens past n of the last panel zero.
func packTokens(xp, x []float32, n, cols int) {
	panels := (n + packNR - 1) / packNR
	xp = xp[:panels*cols*packNR]
	for p := 0; p < panels; p++ {
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
}

// packedTask is one MatMul through the micro-kernel.
type packedTask struct {
	m     *Mat
	y     []float32 // (n, m.Rows)
	xp    []float32 // (panels, cols, packNR) packed tokens
	n     int
	micro microFunc
	tiles [][]float32 // per thread: float weight tile (packTile, cols)
	acc   [][]float32 // per thread: accumulators (packTile, panels·packNR)
}

func (e *Exec) matMulPacked(y []float32, m *Mat, x []float32, n int) {
	t := &e.pk
	if len(t.tiles) != e.pool.Threads() {
		t.tiles = make([][]float32, e.pool.Threads())
		t.acc = make([][]float32, e.pool.Threads())
	}
	panels := (n + packNR - 1) / packNR
	t.xp = grow(t.xp, panels*m.Cols*packNR)
	packTokens(t.xp, x, n, m.Cols)
	t.m, t.y, t.n, t.micro = m, y[:n*m.Rows], n, active.micro
	chunks := (m.Rows + packTile - 1) / packTile
	if m.Rows*m.Cols*n < parallelMin {
		runInline(t, chunks)
	} else {
		e.pool.run(t, chunks)
	}
	t.m, t.y = nil, nil
}

func (t *packedTask) runChunk(c, tid int) {
	m := t.m
	cols := m.Cols
	r0 := c * packTile
	r1 := min(r0+packTile, m.Rows)
	nr := r1 - r0
	// Rows past nr up to a multiple of packMR are zero in the tile, so
	// the micro-kernel never needs a shorter variant.
	padded := (nr + packMR - 1) / packMR * packMR
	var w []float32
	if m.DType == F32 && padded == nr {
		w = m.F32[r0*cols : r1*cols]
	} else {
		t.tiles[tid] = grow(t.tiles[tid], packTile*cols)
		w = t.tiles[tid][:padded*cols]
		for r := r0; r < r1; r++ {
			m.Row(w[(r-r0)*cols:(r-r0+1)*cols], r)
		}
		clear(w[nr*cols:])
	}
	panels := (t.n + packNR - 1) / packNR
	ldc := panels * packNR
	t.acc[tid] = grow(t.acc[tid], packTile*ldc)
	acc := t.acc[tid][:padded*ldc]
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		for p := 0; p < panels; p++ {
			xp := unsafe.Pointer(&t.xp[(p*cols+kb)*packNR])
			for g := 0; g < padded; g += packMR {
				t.micro(unsafe.Pointer(&acc[g*ldc+p*packNR]), ldc,
					unsafe.Pointer(&w[g*cols+kb]), cols, xp, kc, kb == 0)
			}
		}
	}
	rows := m.Rows
	for r := 0; r < nr; r++ {
		a := acc[r*ldc : r*ldc+t.n]
		for tok, v := range a {
			t.y[tok*rows+r0+r] = v
		}
	}
}
