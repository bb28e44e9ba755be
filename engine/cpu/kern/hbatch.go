package kern

// Batched decode with F16 and BF16 weights. A decode step of n sequences
// (engine/sched) multiplies each matrix by n inputs. Decode's kernels, one
// input at a time, read the matrix from memory n times; prefill's packed
// path converts the matrix to floats once per call, which at 4 inputs cost
// more per token than decoding them one by one (BenchmarkDecodeBatch). The
// batched kernel widens each weight once in registers and multiplies it
// with four inputs, two weight rows at a time so that each input value is
// loaded once for both: 8 FMAs per 8 columns against 2 widenings and 4
// loads. Each input's product is the float32 dot product decode computes,
// in another summation order.

// halfBatchMaxTokens is the largest n that takes the batched kernel (unless
// the set says otherwise: impl.halfBatchMax); above it the packed path's
// 16-token micro-kernel is the faster.
const halfBatchMaxTokens = 8

// halfBatchLimit is the largest n the active set's batched half kernel takes.
func halfBatchLimit() int {
	if active.halfBatchMax > 0 {
		return active.halfBatchMax
	}
	return halfBatchMaxTokens
}

// useHalfBatch reports whether MatMul takes the batched half kernel for m
// and n inputs.
func useHalfBatch(m *Mat, n int) bool {
	return active.batchHalf != nil && (m.DType == F16 || m.DType == BF16) && n <= halfBatchLimit() &&
		m.Cols%8 == 0
}

// halfRows is decode's row kernel for rows r.. of a half-float m, as many
// as y has.
func halfRows(y []float32, m *Mat, r int, x []float32) {
	w := m.U16[r*m.Cols : (r+len(y))*m.Cols]
	if m.DType == F16 {
		active.rowsF16(y, w, m.Cols, x, m.finite)
		return
	}
	active.rowsBF16(y, w, m.Cols, x, false)
}

// matMulHalf computes y = x·mᵀ for 2 ≤ n ≤ halfBatchLimit() inputs,
// splitting m's rows over the threads.
func (e *Exec) matMulHalf(y []float32, m *Mat, x []float32, n int) {
	t := &e.qb.half
	threads := e.pool.Threads()
	if m.Rows*m.Cols*n < parallelMin {
		threads = 1
	}
	*t = halfTask{m: m, y: y[:n*m.Rows], x: x[:n*m.Cols], n: n, rows: chunkRows(m.Rows, threads)}
	e.runRanges(t, (m.Rows+t.rows-1)/t.rows, threads == 1)
	*t = halfTask{}
}

type halfTask struct {
	m    *Mat
	y    []float32 // (n, m.Rows)
	x    []float32 // (n, m.Cols)
	n    int
	rows int // weight rows per chunk
}

func (t *halfTask) runChunk(c, tid int) { t.runChunks(c, c+1, tid) }

// runChunks runs chunks c0..c1-1 in one call.
func (t *halfTask) runChunks(c0, c1, _ int) {
	active.batchHalf(t.y, t.m, c0*t.rows, min(c1*t.rows, t.m.Rows), t.x, t.n)
}
