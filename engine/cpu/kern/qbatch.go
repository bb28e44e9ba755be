package kern

import "unsafe"

// Batched decode. A decode step of n sequences multiplies every weight matrix
// by n inputs. One matrix-vector product per input reads (and, for MLX 4/8-bit
// codes, unpacks) every weight n times; prefill's packed path converts the
// whole matrix to floats first, which costs more than it saves below a few
// dozen tokens. The batched kernels instead unpack each block of codes once,
// in registers, and apply it to every input (llama.cpp's mmvq idea): the
// weights' bandwidth and unpacking are shared, only the multiply-adds grow
// with n.
//
// Each input keeps the semantics it would have alone: float x gives
// s·Σq·x + b·Σx per group, and with Exec.SetIntInput x is rounded per group
// to int16 exactly as a lone MatVec rounds it (qint.go), so a sequence's
// logits do not depend on whether it was batched (to float32 summation order).

// qbatchMaxTokens is the largest n that takes the batched kernels for MLX
// 4/8-bit weights; above it the packed prefill path, which converts each
// weight block to floats once for all tokens, is faster. Measured per CPU
// second by BenchmarkBatchedVsPacked on Zen 1 (AVX2): the batched kernels do
// ~18 GFLOP/s from 4 rows up; the packed path 6 at 4 rows, 10-13 at 8, even
// with them at 16 (Q8) to 24 (Q4), ahead at 32.
const qbatchMaxTokens = 16

// qbatchRows is the number of inputs one batched kernel call serves: its
// accumulators fill the registers (AVX2: four inputs' integer and float sums,
// the unpacked codes and the scale).
const qbatchRows = 4

// qbatch is the prepared input of a batched product: every input prepared as
// a lone product prepares it (ins), plus the same values interleaved per
// block of 32 columns so that a kernel reads the inputs of one block of codes
// from one stream.
type qbatch struct {
	n    int
	nk   int       // inputs the batched kernels take; nk..n take the lone rows (impl.qbatchLone)
	qi   bool      // inputs quantized to int16 (qint.go)
	ins  []qin     // (n) each input as MatVec prepares it
	xf   []float32 // (cols/32, n, 32) the inputs' xf (float kernels)
	xw   []int16   // (cols/32, n, 32) the inputs' xw (integer kernels)
	xt   []int16   // (lanes/8, cols/2, 8, 2) blocks of eight inputs' xw by column pair (batchXT)
	xb   []byte    // (quads, cols/32, 4, 4, 16) inputs in fours as hi and lo bytes (impl.prepXB)
	cb   []int32   // (quads, groups, 16) 128·Σlo of each lane of xb's quads (impl.prepXB)
	dx   []float32 // (groups, n) the inputs' dx (integer kernels)
	xs   []float32 // (groups, n) the inputs' xsum (integer kernels)
	ok   []bool    // (n) whether input j was prepared for the kernels asked for
	tmp  [][]float32
	task qbatchTask
	prep qprepTask
	half halfTask // batched products with half-float weights (hbatch.go)
}

// prepare fills b for n inputs x (n, m.Cols), one input per chunk of a
// parallel step when there is enough of them: quantizing inputs is serial
// work that, done by the submitting thread alone, left the others waiting
// for a tenth of a batched step. It returns false when an input is not
// finite and the integer kernels were asked for: such an input must go
// through the float kernels alone, as MatVec would take it.
func (b *qbatch) prepare(e *Exec, m *Mat, x []float32, n int, qi bool) bool {
	cols, ng := m.Cols, m.Cols/m.GroupSize
	if cap(b.ins) < n {
		b.ins = append(b.ins[:cap(b.ins)], make([]qin, n-cap(b.ins))...)
	}
	b.ins, b.n, b.qi = b.ins[:n], n, qi
	b.nk = n
	if rem := n - qbatchLanes(n); qi && active.qbatchLone && rem > 0 && rem < 4 {
		b.nk = n - rem
	}
	if cap(b.ok) < n {
		b.ok = make([]bool, n)
	}
	b.ok = b.ok[:n]
	switch {
	case qi && active.batchQi == nil, !qi && active.batchQ == nil:
		// batchRows reads ins.
	case qi:
		// 7·32 values past the inputs: a padded block of the 512-bit lane
		// kernel (qbatchInt2x8Z) reads its padding inputs there, whose
		// outputs it drops.
		b.xw = grow(b.xw, n*cols+7*32)
		clear(b.xw[n*cols:])
		// The lane kernel reads eight dx and xsum from a block's first
		// input: a padded block's last group reads past n·ng. What it
		// reads there only reaches the padding's outputs, never stored.
		b.dx = grow(b.dx, n*ng+8)
		b.xs = grow(b.xs, n*ng+8)
		clear(b.dx[n*ng:])
		clear(b.xs[n*ng:])
		if lanes := qbatchLanes(n); active.batchXT && lanes > 0 {
			b.xt = grow(b.xt, lanes*cols)
			if lanes > n {
				clear(b.xt[(lanes-8)*cols:]) // the padding's lane stays 0
			}
		}
		if nq := qbatchQuadsXB(n, b.nk); active.prepXB != nil && nq > 0 {
			b.xb = grow(b.xb, nq*8*cols)
			b.cb = grow(b.cb, nq*16*ng)
			if lanes := qbatchLanes(n); lanes > n {
				// A padded block's padding lanes stay 0.
				clear(b.xb[(lanes-8)*2*cols : lanes*2*cols])
				clear(b.cb[(lanes-8)/4*16*ng : lanes/4*16*ng])
			}
		}
	case active.prepQ != nil:
		b.xf = grow(b.xf, n*cols)
	}
	t := &b.prep
	*t = qprepTask{b: b, m: m, x: x[:n*cols]}
	e.run(t, n, n*cols < qprepParallelMin)
	*t = qprepTask{}
	for _, ok := range b.ok {
		if !ok {
			return false
		}
	}
	return true
}

// qprepParallelMin is the number of input values below which prepare runs
// on the calling goroutine: a few microseconds of work.
const qprepParallelMin = 4096

// qprepTask prepares input j of a qbatch as chunk j.
type qprepTask struct {
	b *qbatch
	m *Mat
	x []float32 // (n, m.Cols)
}

func (t *qprepTask) runChunk(j, _ int) {
	b, m := t.b, t.m
	cols, n := m.Cols, b.n
	units, ng := cols/32, cols/m.GroupSize
	in := &b.ins[j]
	in.prepareFor(m, t.x[j*cols:(j+1)*cols], !b.qi)
	b.ok[j] = !b.qi || in.prepareInt(m)
	switch {
	case !b.ok[j]:
	case b.qi && active.batchQi == nil, !b.qi && active.batchQ == nil:
	case b.qi:
		q := &in.qi
		for u := range units {
			copy(b.xw[(u*n+j)*32:(u*n+j+1)*32], q.xw[u*32:(u+1)*32])
		}
		for g := range ng {
			b.dx[g*n+j] = q.dx[g]
			b.xs[g*n+j] = in.xsum[g]
		}
		if active.batchXT && j < qbatchLanes(n) {
			// Input j is lane j%8 of its block: each column pair's two
			// int16 move as one uint32.
			xw := unsafe.Slice((*uint32)(unsafe.Pointer(&q.xw[0])), cols/2)
			xt := unsafe.Slice((*uint32)(unsafe.Pointer(&b.xt[j/8*8*cols])), 4*cols)
			for p, v := range xw {
				xt[p*8+j%8] = v
			}
		}
		if active.prepXB != nil && j < 4*qbatchQuadsXB(n, b.nk) {
			active.prepXB(b.xb, b.cb, j, q.xw, cols, m.GroupSize)
		}
	case active.prepQ != nil:
		for u := range units {
			copy(b.xf[(u*n+j)*32:(u*n+j+1)*32], in.xf[u*32:(u+1)*32])
		}
	}
}

// matMulQuant computes y = x·mᵀ for 2 ≤ n ≤ qbatchMaxTokens inputs and an
// MLX-quantized m, splitting m's rows over the threads.
func (e *Exec) matMulQuant(y []float32, m *Mat, x []float32, n int) {
	e.matMulsQuant(x, n, []Product{{y, m}})
}

// matMulsQuant is matMulQuant for up to maxProducts matrices of the same
// input layout (sameInput; q, k and v, or gate and up): x is prepared
// once, and every product's rows go out as one parallel step.
func (e *Exec) matMulsQuant(x []float32, n int, ps []Product) {
	m := ps[0].M
	b := &e.qb
	if !b.prepare(e, m, x, n, e.IntInput()) {
		for _, p := range ps {
			for i := 0; i < n; i++ {
				e.MatVec(p.Y[i*p.M.Rows:(i+1)*p.M.Rows], p.M, x[i*m.Cols:(i+1)*m.Cols])
			}
		}
		return
	}
	t := &b.task
	t.b, t.np = b, len(ps)
	threads := e.pool.Threads()
	for len(b.tmp) < threads {
		b.tmp = append(b.tmp, nil) // one scratch per thread, sized by the kernels
	}
	work := 0
	for _, p := range ps {
		work += p.M.Rows * p.M.Cols * n
	}
	if work < parallelMin {
		threads = 1
	}
	for i, p := range ps {
		t.ps[i] = Product{p.Y[:n*p.M.Rows], p.M}
		t.rows[i] = batchChunkRows(p.M.Rows, threads)
		t.first[i+1] = t.first[i] + (p.M.Rows+t.rows[i]-1)/t.rows[i]
	}
	e.runRanges(t, t.first[len(ps)], threads == 1)
	t.ps, t.b = [maxProducts]Product{}, nil
}

// batchChunkRows is chunkRows with twice the chunks: a thread that takes
// the last chunk of a step keeps the others waiting for up to a chunk's
// time, and a chunk of a batched product is n times a lone product's work.
// Chunks stay a multiple of 8 rows (the kernels take 4 and 2 at a time).
func batchChunkRows(rows, threads int) int {
	if threads == 1 {
		return rows
	}
	return max(8, (rows/(threads*8)+7)&^7)
}

type qbatchTask struct {
	ps    [maxProducts]Product // Y: (n, M.Rows)
	np    int
	rows  [maxProducts]int     // weight rows per chunk of each product
	first [maxProducts + 1]int // first chunk of each product; first[np] is the total
	b     *qbatch
}

func (t *qbatchTask) runChunk(c, tid int) {
	i := 0
	for c >= t.first[i+1] {
		i++
	}
	m, y, b := t.ps[i].M, t.ps[i].Y, t.b
	r0 := (c - t.first[i]) * t.rows[i]
	r1 := min(r0+t.rows[i], m.Rows)
	kernel := active.batchQ
	if b.qi {
		kernel = active.batchQi
	}
	if kernel != nil {
		b.tmp[tid] = grow(b.tmp[tid], qbatchTmp(m))
		kernel(y, m, r0, r1, b, b.tmp[tid])
		return
	}
	batchRows(y, m, r0, r1, b, 0)
}

// qbatchLanes is the number of inputs of a batch of n that the lane kernel
// (qbatchIntT4x8, AVX2) takes, in blocks of eight: a last block of seven is
// padded with a zero input, which costs less than the other kernels take
// for seven (four in qbatchInt2x4, three a row at a time): 20 against 16-17
// GFLOP/s per CPU second on a 896×4864 matrix, Q8 and Q4 alike. At six the
// two cost the same (~17.7), below that padding costs more.
// A set may pad from a smaller n%8 (impl.qbatchPad): the avx512 set's quad
// kernel does a padded block of eight in less time than its four-input
// kernel and a lone row take for five or six.
func qbatchLanes(n int) int {
	pad := 7
	if active.qbatchPad > 0 {
		pad = active.qbatchPad
	}
	if n%8 >= pad {
		return (n + 7) &^ 7
	}
	return n &^ 7
}

// qbatchTmp is the size of a thread's scratch for the batched kernels with
// m: the scales and biases of four rows, widened and then interleaved, the
// codes of a group of four rows widened to int16 (the AVX2 lane kernel's;
// 1024 floats' room) and the outputs.
func qbatchTmp(m *Mat) int {
	return m.GroupSize + 16*(m.Cols/m.GroupSize) + 1024 + 32
}

// batchRowsBlock is the number of weight rows batchRows multiplies with one
// input before the next: at most 8 rows of 4864 columns (a 0.5B model's
// MLP down projection) stay in L2 for every input.
const batchRowsBlock = 8

// batchRows is the batched product for sets without batched kernels: each
// input's lone-product rows over small blocks of weight rows, which stay in
// cache from one input to the next. The weights are read from memory once;
// they are still unpacked once per input. Inputs j0.. only.
func batchRows(y []float32, m *Mat, r0, r1 int, b *qbatch, j0 int) {
	rows := m.Rows
	f := active.rowsQ8
	switch {
	case m.DType == Q4 && b.qi:
		f = active.rowsQ4i
	case m.DType == Q4:
		f = active.rowsQ4
	case b.qi:
		f = active.rowsQ8i
	}
	for s := r0; s < r1; s += batchRowsBlock {
		e := min(s+batchRowsBlock, r1)
		for j := j0; j < len(b.ins); j++ {
			f(y[j*rows+s:j*rows+e], m, s, &b.ins[j])
		}
	}
}

// goBatchQ is the batched product of float inputs in plain Go, the reference
// the SIMD batched kernels are tested against: per weight row and group the
// codes are converted to floats once and multiplied with every input.
// y is (n, m.Rows); tmp holds at least m.GroupSize floats.
func goBatchQ(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	cols, gs, rows := m.Cols, m.GroupSize, m.Rows
	ng := cols / gs
	w := tmp[:gs]
	for r := r0; r < r1; r++ {
		for j := range b.ins {
			y[j*rows+r] = 0
		}
		for g := range ng {
			unpackGroup(w, m, r, g)
			sc, bs := m.Scales.At(r*ng+g), m.Biases.At(r*ng+g)
			for j := range b.ins {
				in := &b.ins[j]
				xg := in.x[g*gs : (g+1)*gs]
				var s0, s1, s2, s3 float32
				for k := 0; k < gs; k += 4 {
					s0 += w[k] * xg[k]
					s1 += w[k+1] * xg[k+1]
					s2 += w[k+2] * xg[k+2]
					s3 += w[k+3] * xg[k+3]
				}
				y[j*rows+r] += sc*((s0+s1)+(s2+s3)) + bs*in.xsum[g]
			}
		}
	}
}

// unpackGroup writes the codes of group g of row r of m as floats, in column
// order.
func unpackGroup(w []float32, m *Mat, r, g int) {
	gs := m.GroupSize
	c0 := r*m.Cols + g*gs
	if m.DType == Q8 {
		for k, v := range m.Q[c0 : c0+gs] {
			w[k] = float32(v)
		}
		return
	}
	for k, v := range m.Q[c0/2 : (c0+gs)/2] {
		w[2*k], w[2*k+1] = float32(v&15), float32(v>>4)
	}
}

// qbatchQuadsXB is the number of quads of inputs (four each) that qbatch.xb
// holds for a batch of n (nk for the batched kernels): the blocks of eight
// and the four past them, when there are four.
func qbatchQuadsXB(n, nk int) int {
	lanes := qbatchLanes(n)
	q := lanes / 4
	if nk-lanes >= 4 {
		q++
	}
	return q
}

// qbatchPrepXB writes input j's int16 values xw into its quad of xb (quad
// j/4, lanes 4(j%4)..4(j%4)+3 of each section): per unit of 32 columns four
// sections of 64 bytes, the high bytes (x>>8, signed) of columns 0-15, their
// low bytes (x&255, unsigned), then the same for columns 16-31, each input's
// sixteen bytes of a section together. cb's lane 4(j%4)+k of a group is 128
// times the sum of the low bytes that lane k of the input's sections adds up
// (the Q8 kernels' correction for taking the codes less 128).
func qbatchPrepXB(xb []byte, cb []int32, j int, xw []int16, cols, gs int) {
	p, l := j/4, j%4
	ng, upg := cols/gs, gs/32
	x := unsafe.Slice((*uint64)(unsafe.Pointer(&xw[0])), cols/4)
	d := unsafe.Slice((*uint32)(unsafe.Pointer(&xb[p*8*cols])), 2*cols)
	c := cb[p*16*ng : (p+1)*16*ng]
	for u := range cols / 32 {
		cg := c[u/upg*16+4*l : u/upg*16+4*l+4 : u/upg*16+4*l+4]
		if u%upg == 0 {
			clear(cg)
		}
		xu := x[u*8 : u*8+8 : u*8+8]
		du := d[u*64 : u*64+64 : u*64+64]
		for h := range 2 {
			for k := range 4 {
				v := xu[4*h+k]
				du[32*h+4*l+k] = uint32(v>>8&0xff | v>>16&0xff00 | v>>24&0xff0000 | v>>32&0xff000000)
				du[32*h+16+4*l+k] = uint32(v&0xff | v>>8&0xff00 | v>>16&0xff0000 | v>>24&0xff000000)
				cg[k] += int32(128 * (v&0xff + v>>16&0xff + v>>32&0xff + v>>48&0xff))
			}
		}
	}
}
