package kern

// Exec runs kernels on a Pool for one caller (one sequence). It owns the
// scratch memory and the task structs, so after warm-up no call allocates.
// An Exec is not safe for concurrent use; give each goroutine its own.
type Exec struct {
	pool  *Pool
	intIn bool // quantized products use the integer kernels (qint.go) where the set has them
	// int8Prefill: prefill products with Q4 weights quantize x per block
	// of i8Block columns to int8, where the set has the kernel (qint8pack.go)
	int8Prefill bool
	// int8Ref > 0: every prefill product with Q8/Q4 weights quantizes x per
	// block of int8Ref columns and runs the plain-Go reference (tests)
	int8Ref int
	// bf16In: packed prefill products with BF16 weights round x to
	// bfloat16 (bgemm.go); bx is the rounded copy
	bf16In bool
	bx     []float32
	bg     bgemmTask
	bpt    bf16PackTask

	qin  qin    // prepared input of quantized products
	qb   qbatch // prepared inputs of batched quantized products
	i8   int8In // prepared input of int8 prefill products
	i8t  int8Task
	i8p  i8Task
	i8pt i8PackTask

	mv   matvecTask
	warm warmOrder // the order of mv's steps, for the pool's idle threads (warm.go)
	mm   matmulTask
	pk   packedTask
	pt   packTask
	at   attnTask
	sm   siluTask
	nm   normTask
	ag   attnGemmTask
	ab   attnBatchTask // AttentionBatch (attnbatch.go)
}

// NewExec returns an Exec submitting to pool. Quantized products keep their
// input in float32 until SetIntInput asks for the integer kernels.
func NewExec(pool *Pool) *Exec {
	e := &Exec{pool: pool}
	e.mm.tiles = make([][]float32, pool.Threads())
	e.at.scores = make([][]float32, pool.Threads())
	return e
}

// SetIntInput makes Q8 and Q4 products quantize their input x per group to
// int16 and use the integer kernels, where the active kernel set has them
// (qint.go): 1.4-1.8 times the decode speed of those weights, at the cost of
// x's rounding to 1 part in 65534 of its group's largest value.
func (e *Exec) SetIntInput(on bool) { e.intIn = on }

// SetRouted tells the Exec that the products that follow, until
// SetRouted(false), are chosen per token (a router's experts) rather than
// run in the same order every token: they are neither learned nor
// prefetched ahead (warm.go), which would only guess wrong, and allocate
// for every expert first seen.
func (e *Exec) SetRouted(on bool) { e.warm.off = on }

// SetInt8Prefill makes prefill products (MatMul with more tokens than
// batched decode takes) with Q4 weights quantize each token's x per block of
// 32 columns to int8 and run on byte multiply-adds (qint8.go), where the
// active kernel set has them (HasInt8Prefill): faster, at a next-token KL
// divergence of ~1e-3 nats (engine/cpu's qint8_test.go).
func (e *Exec) SetInt8Prefill(on bool) { e.int8Prefill = on }

// HasInt8Prefill reports whether the active kernel set has the int8 prefill
// kernel.
func HasInt8Prefill() bool { return active.i8q4 != nil }

// IntInput reports whether quantized products run on integer kernels: asked
// for and available in the active kernel set.
func (e *Exec) IntInput() bool { return e.intIn && HasIntKernels() }

// HasIntKernels reports whether the active kernel set has integer quantized
// kernels.
func HasIntKernels() bool { return active.rowsQ4i != nil && active.rowsQ8i != nil }

// grow returns buf resized to n, reallocating only when it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// Below this many weights a product runs on the calling goroutine: handing it
// to the workers would cost more than it saves.
const parallelMin = 1 << 15

// Product is one matrix-vector product y = M·x of a MatVecs call.
type Product struct {
	Y []float32 // (M.Rows)
	M *Mat
}

// maxProducts bounds MatVecs, whose products live in a fixed array.
const maxProducts = 4

// MatVec computes y = m·x: y has m.Rows values, x has m.Cols.
func (e *Exec) MatVec(y []float32, m *Mat, x []float32) {
	e.MatVecs(x, Product{y, m})
}

// MatVecs computes several products with the same input x (q, k and v; gate
// and up) as one parallel step, saving the hand-offs to the workers that
// separate calls would cost. Matrices of different types or group sizes
// are done one after the other.
func (e *Exec) MatVecs(x []float32, ps ...Product) {
	for len(ps) > 0 {
		n := 1
		for n < len(ps) && n < maxProducts && sameInput(ps[0].M, ps[n].M) {
			n++
		}
		e.matvecs(x, ps[:n])
		ps = ps[n:]
	}
}

func sameInput(a, b *Mat) bool {
	return a.Cols == b.Cols && a.DType == b.DType && a.GroupSize == b.GroupSize
}

func (e *Exec) matvecs(x []float32, ps []Product) {
	m := ps[0].M
	x = x[:m.Cols]
	t := &e.mv
	t.x, t.np = x, len(ps)
	if m.DType == MXFP4 {
		t.in = &e.qin
		e.qin.prepareMXFP4(x)
	}
	if m.DType == Q8 || m.DType == Q4 {
		t.in, t.qi = &e.qin, e.IntInput()
		e.qin.prepareFor(m, x, !t.qi)
		if t.qi {
			t.qi = e.qin.prepareInt(m)
			if !t.qi {
				e.qin.prepareFor(m, x, true) // non-finite x: the float kernels carry it
			}
		}
	}
	work := 0
	for _, p := range ps {
		work += p.M.Rows * p.M.Cols
	}
	threads := e.pool.Threads()
	if work < parallelMin {
		threads = 1
	}
	for i, p := range ps {
		t.ps[i] = Product{p.Y[:p.M.Rows], p.M}
		t.rows[i] = chunkRows(p.M.Rows, threads)
		t.first[i+1] = t.first[i] + (p.M.Rows+t.rows[i]-1)/t.rows[i]
	}
	if threads > 1 && canWarm && !e.warm.off {
		e.pool.runRangesWarm(t, t.first[len(ps)], e.warm.next(t, threads))
	} else {
		e.runRanges(t, t.first[len(ps)], threads == 1)
	}
	t.ps, t.x, t.in, t.qi = [maxProducts]Product{}, nil, nil, false
}

// chunkRows picks rows per chunk: sixteen chunks per thread, so that a
// descheduled thread's share is taken over by the others and the threads
// finish close together (runRanges hands an owner half its share at a
// time, so small chunks do not cut its reads short), a multiple of 8 rows
// for the multi-row kernels, and one chunk when the matrix is small.
func chunkRows(rows, threads int) int {
	if threads == 1 {
		return rows
	}
	r := rows / (threads * 16)
	r = (r + 7) &^ 7
	if r < 8 {
		r = 8
	}
	return r
}

type matvecTask struct {
	ps    [maxProducts]Product
	np    int
	rows  [maxProducts]int     // rows per chunk of each product
	first [maxProducts + 1]int // first chunk of each product; first[np] is the total
	x     []float32
	in    *qin
	qi    bool // quantized rows on the integer kernels
}

func (t *matvecTask) runChunk(c, tid int) { t.runChunks(c, c+1, tid) }

// runChunks runs chunks c0..c1-1, each product's in one call.
func (t *matvecTask) runChunks(c0, c1, _ int) {
	i := 0
	for c0 < c1 {
		for c0 >= t.first[i+1] {
			i++
		}
		end := min(c1, t.first[i+1])
		m := t.ps[i].M
		t.rowsOf(i, (c0-t.first[i])*t.rows[i], min((end-t.first[i])*t.rows[i], m.Rows))
		c0 = end
	}
}

// rowsOf computes rows r0..r1-1 of product i.
func (t *matvecTask) rowsOf(i, r0, r1 int) {
	m, y := t.ps[i].M, t.ps[i].Y[r0:r1]
	switch m.DType {
	case F32:
		active.rowsF32(y, m.F32[r0*m.Cols:r1*m.Cols], m.Cols, t.x)
	case F16:
		active.rowsF16(y, m.U16[r0*m.Cols:r1*m.Cols], m.Cols, t.x, m.finite)
	case BF16:
		active.rowsBF16(y, m.U16[r0*m.Cols:r1*m.Cols], m.Cols, t.x, false)
	case Q8:
		if t.qi {
			active.rowsQ8i(y, m, r0, t.in)
		} else {
			active.rowsQ8(y, m, r0, t.in)
		}
	case Q4:
		if t.qi {
			active.rowsQ4i(y, m, r0, t.in)
		} else {
			active.rowsQ4(y, m, r0, t.in)
		}
	case MXFP4:
		rowsMXFP4(y, m, r0, t.in)
	}
}
