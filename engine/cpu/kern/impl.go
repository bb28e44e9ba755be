package kern

// impl is one set of inner loops. The plain-Go set is always built and always
// tested; SIMD sets are added by the router when the build and the CPU allow.
// Every set must produce the results of the naive references in the tests.
type impl struct {
	name string

	// Matrix-vector rows: y[i] = row(r0+i)·x for i < len(y).
	rowsF32  func(y, w []float32, cols int, x []float32) // w starts at row r0
	rowsF16  func(y []float32, w []uint16, cols int, x []float32, finite bool)
	rowsBF16 func(y []float32, w []uint16, cols int, x []float32, _ bool)
	// Quantized rows take x prepared once for all rows by prepQ.
	rowsQ8 func(y []float32, m *Mat, r0 int, in *qin)
	rowsQ4 func(y []float32, m *Mat, r0 int, in *qin)
	// prepQ fills in.xf, x in the kernels' order, for matrices like m (nil:
	// not used).
	prepQ func(in *qin, m *Mat)
	// Integer quantized rows (qint.go): x quantized per group to int16 in
	// in.qi. nil: this set has none, products keep x in float32.
	rowsQ8i func(y []float32, m *Mat, r0 int, in *qin)
	rowsQ4i func(y []float32, m *Mat, r0 int, in *qin)
	// qintGroup is qintGroupGo to the bit, in SIMD (optional: nil, the Go
	// loop quantizes; in scalar Go it was 7% of a 4-bit decode step).
	qintGroup func(xg []float32, dst []int16, q4 bool) (dx float32, ok bool)
	// Batched quantized rows (qbatch.go): y[j*m.Rows+r] = row r · input j
	// for r0 ≤ r < r1 and every input of b, each block of codes unpacked
	// once for all inputs; batchQi with b's int16 inputs. tmp is the
	// thread's scratch, qbatchTmp(m) floats. nil: batchRows.
	batchQ, batchQi func(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32)
	// batchXT: batchQi also reads qbatch.xt, the int16 inputs in blocks of
	// eight interleaved per column pair.
	batchXT bool
	// prepXB, where batchQi also reads qbatch.xb and cb (the int16 inputs
	// as bytes in quads for the VPDPBUSD kernels, avx512_qbatchb.go),
	// writes input j's part of them as qbatchPrepXB does.
	prepXB func(xb []byte, cb []int32, j int, xw []int16, cols, gs int)
	// pairXW, where the set's 4-bit rows kernel wants xw in its own order
	// (avx512_qhalves.go), writes it for groups of one or two units of 32;
	// prepareInt fills qintIn.xwp with it.
	pairXW func(dst, xw []int16, ng, units int)
	// batchHalf is the batched product with F16/BF16 weights (hbatch.go):
	// y[j*m.Rows+r] = row r · x[j*m.Cols:] for r0 ≤ r < r1, j < n. nil:
	// MatMul takes decode's kernels or the packed path.
	batchHalf func(y []float32, m *Mat, r0, r1 int, x []float32, n int)
	// halfBatchMax is the largest n batchHalf takes (0: halfBatchMaxTokens).
	halfBatchMax int
	// qbatchPad is the n%8 from which qbatchLanes pads a last block of
	// eight inputs (0: 7). qbatchLone: with int16 inputs, the one to three
	// inputs past the blocks of eight (and not a block of four) take the
	// lone rows kernel (batchRows) instead of the small batched kernels.
	qbatchPad  int
	qbatchLone bool

	// dequant writes quantized row r of m as float32 (len m.Cols).
	dequant  func(dst []float32, m *Mat, r int)
	f16ToF32 func(dst []float32, src []uint16)
	// finiteF16 reports whether no half in h is Inf or NaN.
	finiteF16 func(h []uint16) bool
	bf16ToF32 func(dst []float32, src []uint16)

	// gemm computes c[i*ldc+j] = a[i*lda:]·b[j*ldb:] over k values for
	// i < m, j < n: every dot product of m rows of a with n rows of b.
	gemm func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int)
	// micro and microHalf are the register-blocked kernels of packed
	// prefill (gemm.go) for full and half panels of tokens; nil: MatMul goes
	// through gemm on tiles instead. packRow, set with them, writes columns
	// c0..c0+len(dst) of row r of m as float32 (c0 and len(dst) are
	// multiples of the group size of quantized matrices).
	micro, microHalf microFunc
	// micro2, optional, is micro over two full panels at once (mr×2·packNR
	// accumulators; the same FMAs per accumulator as two micro calls).
	micro2 micro2Func
	// bmicro, optional, is the micro-kernel of BF16 products with bfloat16
	// inputs (bgemm.go): bmr rows × packNR tokens on bfloat16 pairs.
	bmicro  bmicroFunc
	packRow func(dst []float32, m *Mat, r, c0 int)
	// mr is the weight rows of micro's tile (its tokens are packNR): 6
	// in 16 ymm registers, 12 in 32 zmm ones; packMC is a multiple.
	mr int
	// tileStore, optional with micro, writes a finished mr×packNR tile
	// of accumulators c (row stride ldc) transposed into y: y[t*ldy+r] =
	// c[r*ldc+t]. nil: the chunk's accumulators go through writeBack.
	tileStore func(y *float32, ldy int, c *float32, ldc int)
	// prefetchRows, optional, hints lines cache lines of each of rows
	// rows stride bytes apart from p into the cache (never a read).
	prefetchRows func(p *byte, stride, rows, lines int)
	// packPanel, optional, is packTokens for a full panel: dst (cols,
	// packNR) from x (packNR, cols); false when it cannot (then the
	// scalar loop packs).
	packPanel func(dst, x []float32, cols int) bool
	// f32ToF16, optional, is F32ToF16 over a slice (the F16 KV cache's
	// writes); false: it could not give F32ToF16's bits, convert one by
	// one.
	f32ToF16 func(dst []uint16, src []float32) bool
	// i8q4 is the int8 prefill micro-kernel for MLX 4-bit weights
	// (qint8pack.go); nil: int8 prefill is not available in this set.
	i8q4 int8MicroFunc
	// igemm is the packed prefill with int16 inputs for MLX 8/4-bit weights
	// (igemm.go); nil: those prefills keep float inputs in this set.
	igemm *i16Kernels

	dot     func(a, b []float32) float32
	axpy    func(y []float32, a float32, x []float32) // y += a*x
	scale   func(y []float32, a float32)              // y *= a
	expSum  func(x []float32, max float32) float32    // x = exp(x-max), returns the sum
	sumSq   func(x []float32) float32
	mulInto func(y, a, b []float32) // y = a*b elementwise
	siluMul func(a, b []float32)    // a = silu(a)*b
	// maxOf, optional, is the largest of x (len(x) > 0) when x holds no
	// NaN: Softmax's first pass (nil: a scalar loop).
	maxOf func(x []float32) float32

	// softcap sets x = c·tanh(x/c) for c > 0: soft-capped attention scores.
	softcap func(x []float32, c float32)

	// Attention over a float32 cache: s[p] = q·k[p·stride:], and
	// out += Σ w[p]·v[p·stride:] (len(out) values per row), adding to out
	// so that a sum over several blocks continues where the last one ended.
	attnScores func(s, q, k []float32, stride int)
	attnValues func(out, w, v []float32, stride int)

	// Half-precision KV cache rows.
	dotF16  func(a []float32, b []uint16) float32
	axpyF16 func(y []float32, a float32, x []uint16)
	// attnScoresF16 and attnValuesF16 are attnScores and attnValues over
	// a half cache (attnf16.go); nil: decode's dotF16 and axpyF16 per row.
	attnScoresF16 func(s, q []float32, k []uint16, stride int)
	attnValuesF16 func(out, w []float32, v []uint16, stride int)
	// attnScoresF16x3 and attnValuesF16x3 do the same for three query
	// heads of a group at once, converting each half row once: s[h*ns+p]
	// = q[h*hd:(h+1)*hd]·row p, and out[h*hd:] += Σ_p w[h*nw+p]·row p (hd =
	// len(q)/3 = len(out)/3), n positions; the same bits as one call per
	// head. next (may be nil) is the rows the caller reads after these, a
	// hint for the kernel's prefetch (attnpf_amd64.h). nil: one call per
	// head.
	attnScoresF16x3 func(s []float32, ns, n int, q []float32, k []uint16, stride int, next []uint16)
	attnValuesF16x3 func(out, w []float32, nw, n int, v []uint16, stride int, next []uint16)
}

// active is the fastest set this build and CPU support; chosen once at init
// by the router (router_simd_amd64.go or router_go.go).
var active = goImpl

// Backend names the active kernel set: "avx512", "avx2" or "go".
func Backend() string { return active.name }

// qin is the input x of quantized products, prepared once per call for all
// rows. Σ(s·q+b)·x = s·Σq·x + b·Σx: xsum holds Σx per group for the bias
// term. x stays float32 in every kernel set (xf is x reordered for the SIMD
// kernels), so that every set agrees with the float64 reference to float32
// rounding, as engine/cpu/design.md promises.
type qin struct {
	x    []float32 // (cols) the input
	xsum []float32 // (groups rounded up to 16) Σx per group, zero-padded
	xf   []float32 // (cols) x in the SIMD kernels' order
	qi   qintIn    // x quantized to int16, for the integer kernels (qint.go)
}

// prepare sizes in for m and fills x and xsum; active.prepQ does the rest.
func (in *qin) prepare(m *Mat, x []float32) { in.prepareFor(m, x, true) }

// prepareFor is prepare, without active.prepQ's part unless float: the integer
// kernels (qint.go) need only x and xsum.
func (in *qin) prepareFor(m *Mat, x []float32, float bool) {
	ng := m.Cols / m.GroupSize
	pad := (ng + 15) &^ 15
	in.x = x
	in.xsum = grow(in.xsum, pad)
	clear(in.xsum[ng:])
	groupSums(in.xsum[:ng], x, m.GroupSize)
	if !float || active.prepQ == nil {
		return
	}
	in.xf = grow(in.xf, m.Cols)
	active.prepQ(in, m)
}

// groupSums writes the sum of x over each group of gs columns, the term that
// multiplies the affine bias: Σ(s·q+b)·x = s·Σq·x + b·Σx.
//
// Each group is summed front to back (its bits do not depend on how many
// groups there are), eight groups at a time: one group's additions form a
// chain bound by the adder's latency, and decode's main thread waited ~4 µs
// for each 4096-column input while the workers spun.
func groupSums(xsum, x []float32, gs int) {
	g := 0
	for ; g+8 <= len(xsum); g += 8 {
		x0 := x[g*gs : (g+1)*gs]
		x1, x2, x3 := x[(g+1)*gs:][:len(x0)], x[(g+2)*gs:][:len(x0)], x[(g+3)*gs:][:len(x0)]
		x4, x5, x6, x7 := x[(g+4)*gs:][:len(x0)], x[(g+5)*gs:][:len(x0)], x[(g+6)*gs:][:len(x0)], x[(g+7)*gs:][:len(x0)]
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for i := range x0 {
			s0 += x0[i]
			s1 += x1[i]
			s2 += x2[i]
			s3 += x3[i]
			s4 += x4[i]
			s5 += x5[i]
			s6 += x6[i]
			s7 += x7[i]
		}
		xsum[g], xsum[g+1], xsum[g+2], xsum[g+3] = s0, s1, s2, s3
		xsum[g+4], xsum[g+5], xsum[g+6], xsum[g+7] = s4, s5, s6, s7
	}
	for ; g < len(xsum); g++ {
		var s float32
		for _, v := range x[g*gs : (g+1)*gs] {
			s += v
		}
		xsum[g] = s
	}
}
