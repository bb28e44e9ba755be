package kern

// Prefill multiplies a block of n tokens at once: y (n, rows) = x (n, cols) ×
// mᵀ. The work is split by tiles of weight rows. A tile that is not float32
// is dequantized into a per-thread scratch of tileRows×cols floats (at most
// 512 KiB, in L2) and then reused for all n tokens, so each weight is decoded
// once per call rather than once per token. The float copy is only ever one
// tile per thread, never the matrix.
const tileRows = 32

// MatMul computes y = x·mᵀ for n rows of x: y is (n, m.Rows), x is (n, m.Cols),
// both row-major.
func (e *Exec) MatMul(y []float32, m *Mat, x []float32, n int) {
	if n == 1 {
		e.MatVec(y, m, x)
		return
	}
	if (m.DType == Q8 || m.DType == Q4) && n <= qbatchMaxTokens {
		e.matMulQuant(y, m, x, n)
		return
	}
	if useHalfBatch(m, n) {
		e.matMulHalf(y, m, x, n)
		return
	}
	if (m.DType == Q8 || m.DType == Q4) && n >= packMinTokens && e.matMulInt8(y, m, x, n) {
		return
	}
	if active.micro != nil && n >= packMinTokens {
		e.matMulPacked(y, m, x, n)
		return
	}
	if active.micro != nil && m.DType != F32 {
		// Too few tokens to amortise converting half-float weights to
		// float32: decode's kernels, which never do, are faster one token
		// at a time (measured by BenchmarkMatMulTokens). Float32 weights
		// need no conversion and go through gemm below.
		for i := 0; i < n; i++ {
			e.MatVec(y[i*m.Rows:(i+1)*m.Rows], m, x[i*m.Cols:(i+1)*m.Cols])
		}
		return
	}
	if e.bf16Rounds(m) && n >= packMinTokens {
		x = e.roundBF16(x[:n*m.Cols]) // sets without a packed path (bgemm.go)
	}
	t := &e.mm
	t.m, t.y, t.x, t.n = m, y[:n*m.Rows], x[:n*m.Cols], n
	chunks := (m.Rows + tileRows - 1) / tileRows
	e.run(t, chunks, m.Rows*m.Cols*n < parallelMin)
	t.m, t.y, t.x = nil, nil, nil
}

// MatMuls computes ps[i].Y = x·ps[i].Mᵀ for n rows of x, as MatMul does for
// each product. Like MatVecs for one row, products with MLX weights of the
// same type, width and group size (q, k and v; gate and up) share one
// preparation of x and one parallel step: a batched decode step would
// otherwise quantize and interleave its inputs once per matrix.
func (e *Exec) MatMuls(x []float32, n int, ps ...Product) {
	if n == 1 {
		e.MatVecs(x, ps...)
		return
	}
	for len(ps) > 0 {
		if k := e.packedProducts(n, ps); k > 0 {
			e.matMulsPacked(x, n, ps[:k])
			ps = ps[k:]
			continue
		}
		m := ps[0].M
		if (m.DType != Q8 && m.DType != Q4) || n > qbatchMaxTokens {
			e.MatMul(ps[0].Y, m, x, n)
			ps = ps[1:]
			continue
		}
		k := 1
		for k < len(ps) && k < maxProducts && sameInput(m, ps[k].M) {
			k++
		}
		e.matMulsQuant(x[:n*m.Cols], n, ps[:k])
		ps = ps[k:]
	}
}

type matmulTask struct {
	m     *Mat
	y, x  []float32
	n     int
	tiles [][]float32 // per thread: dequantized weight tile (tileRows, cols)
}

func (t *matmulTask) runChunk(c, tid int) {
	m := t.m
	cols := m.Cols
	r0 := c * tileRows
	r1 := min(r0+tileRows, m.Rows)
	var w []float32
	if m.DType == F32 {
		w = m.F32[r0*cols : r1*cols]
	} else {
		t.tiles[tid] = grow(t.tiles[tid], tileRows*cols)
		w = t.tiles[tid][:(r1-r0)*cols]
		for r := r0; r < r1; r++ {
			m.Row(w[(r-r0)*cols:(r-r0+1)*cols], r)
		}
	}
	active.gemm(t.y[r0:], m.Rows, t.x, cols, w, cols, t.n, r1-r0, cols)
}

// run runs the n chunks of t on the calling goroutine when inline (work too
// small to be worth waking the pool, or one thread), else on the pool.
func (e *Exec) run(t task, n int, inline bool) {
	if inline {
		runInline(t, n)
		return
	}
	e.pool.run(t, n)
}

// runRanges is run for tasks whose consecutive chunks read consecutive
// memory (Pool.runRanges).
func (e *Exec) runRanges(t task, n int, inline bool) {
	if inline {
		runInline(t, n)
		return
	}
	e.pool.runRanges(t, n)
}

// runInline runs every chunk of t on the calling goroutine.
func runInline(t task, n int) {
	for c := 0; c < n; c++ {
		t.runChunk(c, 0)
	}
}
