//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 batched quantized rows (qbatch.go, avx2_qbatch_amd64.s). With int16
// inputs (the default), blocks of eight inputs (qbatchLanes) go four rows
// at a time through qbatchIntT4x8, whose lanes are the inputs; then four
// inputs at a time, rows in pairs, through qbatchInt2x4; both include the
// bias term. Otherwise, and for
// the inputs past the last four and an odd last row: per weight row the
// scales and biases are widened once, the inputs go through the assembly
// four (then two) at a time, each unit of codes unpacked once per call, and
// a last odd input takes the lone-product kernel; the bias term Σb·Σx is
// added per input here.

// The batched kernels' argument lists: x is the interleaved inputs from the
// first input of the call, dx (integer kernels only) the transposed dx from
// the same input, n the number of inputs interleaved.
//
//go:noescape
func qbatchInt4(q unsafe.Pointer, x *int16, dx, sc *float32, n, groups, units int, q4 bool, out *float32)

//go:noescape
func qbatchInt2(q unsafe.Pointer, x *int16, dx, sc *float32, n, groups, units int, q4 bool, out *float32)

//go:noescape
func qbatchFloat4(q unsafe.Pointer, x *float32, _, sc *float32, n, groups, units int, q4 bool, out *float32)

//go:noescape
func qbatchFloat2(q unsafe.Pointer, x *float32, _, sc *float32, n, groups, units int, q4 bool, out *float32)

func avx2BatchQ(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	batchAsm(&avx2QB, y, m, r0, r1, b, tmp, false)
}

func avx2BatchQi(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	batchAsm(&avx2QB, y, m, r0, r1, b, tmp, true)
}

// qbatchInts are the integer batched kernels of a set: pair, two rows
// against four inputs (qbatchInt2x4's arguments), and lane, four rows
// against a block of eight inputs across the lanes (qbatchIntT4x8's).
type qbatchInts struct {
	pair func(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)
	lane func(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)
	// lane2, optional, takes the lane kernel's place: two rows against a
	// block of eight inputs in qbatch.xw's layout, the lane kernel's
	// outputs (qbatchInt2x8Z's arguments; avx512BatchPairs8).
	lane2 func(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sb *float32, n, groups, units int, q4 bool, out *float32)
	// quad, optional, takes the place of both: four rows against a block
	// of eight inputs as bytes in qbatch.xb's layout (qbatchIntB4x8Z's
	// arguments; avx512BatchQuads8).
	quad func(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)
	// quad4, with quad, takes the pair kernel's place for four inputs
	// (qbatchIntB4x4Z's arguments).
	quad4 func(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)
}

var avx2QB = qbatchInts{pair: qbatchInt2x4, lane: qbatchIntT4x8}

//go:noescape
func qbatchInt2x4(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)

// qbatchPairMaxGroup is the largest group size qbatchInt2x4 takes: its
// int32 lanes hold the sums of four lanes of a group's products.
const qbatchPairMaxGroup = 256

//go:noescape
func qbatchIntT4x8(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)

// batchAsm is the batched product through k's integer kernels (qi) or the
// AVX2 float ones.
func batchAsm(k *qbatchInts, y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32, qi bool) {
	r := r0
	if qi && b.n >= 4 && m.GroupSize <= qbatchPairMaxGroup {
		switch {
		case k.quad != nil:
			r = avx512BatchQuads8(k, y, m, r0, r1, b, tmp)
		case qbatchLanes(b.n) == 0:
		case k.lane2 != nil:
			r = avx512BatchPairs8(k, y, m, r0, r1, b, tmp)
		default:
			r = avx2BatchQuads(k, y, m, r0, r1, b, tmp)
		}
		r = avx2BatchPairs(k, y, m, r, r1, b, tmp, 0)
	}
	avx2BatchRows(y, m, r, r1, b, tmp, qi, 0)
	if b.nk < b.n {
		batchRows(y, m, r0, r1, b, b.nk) // impl.qbatchLone
	}
}

// avx2BatchQuads runs rows r0.. four at a time through qbatchIntT4x8, every
// block of eight int16 inputs (qbatchLanes), the inputs past the last block
// through avx2BatchPairs. It returns the first row it left (r1 less
// (r1-r0)%4).
func avx2BatchQuads(k *qbatchInts, y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) int {
	cols, gs, rows, n, nk := m.Cols, m.GroupSize, m.Rows, b.n, b.nk
	ng, lanes := cols/gs, qbatchLanes(n)
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	sb, out := tmp[:8*ng], tmp[8*ng:8*ng+32]
	w := (*int16)(unsafe.Pointer(&tmp[8*ng+32]))
	sc, bs := tmp[8*ng+544:12*ng+544], tmp[12*ng+544:16*ng+544]
	r := r0
	for ; r+4 <= r1; r += 4 {
		// The kernel reads a group's four scales and four biases as one
		// run: (groups, 2, 4).
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		interleaveSB4(sb, sc, bs, ng)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		for j := 0; j < lanes; j += 8 {
			k.lane(q, rowBytes, &b.xt[j*cols], &b.dx[j], &b.xs[j], &sb[0], 4*n, ng, gs, q4, w, &out[0])
			for rr := range 4 {
				for i := range min(8, nk-j) {
					y[(j+i)*rows+r+rr] = out[8*rr+i]
				}
			}
		}
		if lanes < nk {
			avx2BatchPairs(k, y, m, r, r+4, b, tmp, lanes)
		}
	}
	return r
}

// avx2BatchPairs runs rows r0.. two at a time through qbatchInt2x4, four
// int16 inputs a call from input j0, the inputs past the last four through
// avx2BatchRows. It returns the first row it left (r1, or r1-1 when r1-r0
// is odd).
func avx2BatchPairs(k *qbatchInts, y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32, j0 int) int {
	cols, gs, rows, n, nk := m.Cols, m.GroupSize, m.Rows, b.n, b.nk
	ng, units := cols/gs, gs/32
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	sc, bs, out := tmp[:2*ng], tmp[2*ng:4*ng], tmp[4*ng:4*ng+8]
	r := r0
	for ; r+1 < r1; r += 2 {
		// Rows r and r+1's scales (and biases) are adjacent: one widening.
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		j := j0
		for ; j+4 <= nk; j += 4 {
			k.pair(q, rowBytes, &b.xw[j*32], &b.dx[j], &b.xs[j], &sc[0], &bs[0], n, ng, units, q4, &out[0])
			for i := range 4 {
				y[(j+i)*rows+r] = out[i]
				y[(j+i)*rows+r+1] = out[4+i]
			}
		}
		if j < nk {
			avx2BatchRows(y, m, r, r+2, b, tmp, true, j)
		}
	}
	return r
}

// avx2BatchRows multiplies rows r0..r1 with inputs j0.. one row at a time,
// four (then two) inputs a call.
func avx2BatchRows(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32, qi bool, j0 int) {
	cols, gs, rows, n, nk := m.Cols, m.GroupSize, m.Rows, b.n, b.nk
	if j0 >= nk {
		return // no input for these kernels (impl.qbatchLone takes the rest)
	}
	ng, units := cols/gs, gs/32
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	sc, bs, out := tmp[:ng], tmp[ng:2*ng], tmp[2*ng:2*ng+qbatchRows]
	for r := r0; r < r1; r++ {
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		j := j0
		for j < nk-1 {
			k := 2
			if j+4 <= nk {
				k = 4
			}
			switch {
			case qi && k == 4:
				qbatchInt4(q, &b.xw[j*32], &b.dx[j], &sc[0], n, ng, units, q4, &out[0])
			case qi:
				qbatchInt2(q, &b.xw[j*32], &b.dx[j], &sc[0], n, ng, units, q4, &out[0])
			case k == 4:
				qbatchFloat4(q, &b.xf[j*32], nil, &sc[0], n, ng, units, q4, &out[0])
			default:
				qbatchFloat2(q, &b.xf[j*32], nil, &sc[0], n, ng, units, q4, &out[0])
			}
			for i := range k {
				y[(j+i)*rows+r] = out[i] + avx2Dot(bs, b.ins[j+i].xsum[:ng])
			}
			j += k
		}
		if j == nk {
			continue
		}
		in := &b.ins[j]
		switch {
		case qi:
			y[j*rows+r] = rowInt(q, &in.qi.xw[0], &in.qi.dx[0], &in.xsum[0],
				unsafe.Pointer(&sc[0]), unsafe.Pointer(&bs[0]), qintScalesF32, ng, units, q4)
		case q4:
			y[j*rows+r] = q4Dot((*byte)(q), &in.xf[0], &sc[0], ng, units) + avx2Dot(bs, in.xsum[:ng])
		default:
			y[j*rows+r] = q8Dot((*byte)(q), &in.xf[0], &sc[0], ng, units) + avx2Dot(bs, in.xsum[:ng])
		}
	}
}

//go:noescape
func qbatchSB4(sb, sc, bs *float32, ng, groups int)

// interleaveSB4 writes four rows' scales and biases, sc and bs ((4, ng)
// each), into sb as the AVX2 lane kernel (qbatchIntT4x8) reads them, (ng,
// 2, 4): the groups in fours by qbatchSB4, the rest here. (The avx512
// set's quad kernels read the scales as stored, in their loop.) In Go
// this loop, eight bounds-checked moves a group, was ~8% of a Q4 step of
// four sequences (pprof, BenchmarkDecodeBatch).
func interleaveSB4(sb, sc, bs []float32, ng int) {
	_, _, _ = sb[8*ng-1], sc[4*ng-1], bs[4*ng-1]
	g4 := ng &^ 3
	if g4 > 0 {
		qbatchSB4(&sb[0], &sc[0], &bs[0], ng, g4)
	}
	for g := g4; g < ng; g++ {
		d := sb[8*g : 8*g+8 : 8*g+8]
		d[0], d[1], d[2], d[3] = sc[g], sc[ng+g], sc[2*ng+g], sc[3*ng+g]
		d[4], d[5], d[6], d[7] = bs[g], bs[ng+g], bs[2*ng+g], bs[3*ng+g]
	}
}
