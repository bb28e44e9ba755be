package kern

// Exec runs kernels on a Pool for one caller (one sequence). It owns the
// scratch memory and the task structs, so after warm-up no call allocates.
// An Exec is not safe for concurrent use; give each goroutine its own.
type Exec struct {
	pool *Pool

	xq, xsum []float32 // prepared input of quantized matvec (cols), group sums

	mv matvecTask
	mm matmulTask
	at attnTask
}

// NewExec returns an Exec submitting to pool.
func NewExec(pool *Pool) *Exec {
	e := &Exec{pool: pool}
	e.mm.tiles = make([][]float32, pool.Threads())
	e.at.scores = make([][]float32, pool.Threads())
	return e
}

// grow returns buf resized to n, reallocating only when it is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// Below this many weights a product runs on the calling goroutine: handing it
// to the workers would cost more than it saves.
const parallelMin = 1 << 15

// MatVec computes y = m·x: y has m.Rows values, x has m.Cols.
func (e *Exec) MatVec(y []float32, m *Mat, x []float32) {
	y, x = y[:m.Rows], x[:m.Cols]
	t := &e.mv
	t.m, t.y, t.x = m, y, x
	if m.DType == Q8 || m.DType == Q4 {
		ng := m.Cols / m.GroupSize
		e.xq = grow(e.xq, m.Cols)
		// xsum is zero-padded to whole vectors for the SIMD bias term.
		e.xsum = grow(e.xsum, (ng+15)&^15)
		clear(e.xsum[ng:])
		if m.DType == Q4 {
			active.prepQ4(e.xq, x)
		} else {
			copy(e.xq, x)
		}
		groupSums(e.xsum[:ng], x, m.GroupSize)
		t.xq, t.xsum = e.xq, e.xsum
	}
	t.rows = chunkRows(m.Rows, m.Cols, e.pool.Threads())
	e.pool.run(t, (m.Rows+t.rows-1)/t.rows)
	t.m, t.y, t.x, t.xq, t.xsum = nil, nil, nil, nil, nil
}

// chunkRows picks rows per chunk: several chunks per thread so a descheduled
// thread's share is taken over by the others, a multiple of 8 rows for the
// multi-row kernels, and one chunk when the matrix is small.
func chunkRows(rows, cols, threads int) int {
	if rows*cols < parallelMin || threads == 1 {
		return rows
	}
	r := rows / (threads * 4)
	r = (r + 7) &^ 7
	if r < 8 {
		r = 8
	}
	return r
}

type matvecTask struct {
	m        *Mat
	y, x     []float32
	xq, xsum []float32
	rows     int // per chunk
}

func (t *matvecTask) runChunk(c, _ int) {
	m := t.m
	r0 := c * t.rows
	r1 := min(r0+t.rows, m.Rows)
	y := t.y[r0:r1]
	switch m.DType {
	case F32:
		active.rowsF32(y, m.F32[r0*m.Cols:r1*m.Cols], m.Cols, t.x)
	case F16:
		active.rowsF16(y, m.U16[r0*m.Cols:r1*m.Cols], m.Cols, t.x)
	case BF16:
		active.rowsBF16(y, m.U16[r0*m.Cols:r1*m.Cols], m.Cols, t.x)
	case Q8:
		active.rowsQ8(y, m, r0, t.xq, t.xsum)
	case Q4:
		active.rowsQ4(y, m, r0, t.xq, t.xsum)
	}
}
