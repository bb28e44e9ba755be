//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 batched quantized rows: the AVX2 set's batched path (avx2_qbatch.go)
// with its integer kernels rewritten for AVX512_VNNI
// (avx512_qbatch_amd64.s), whose sums and outputs are the AVX2 kernels'
// bit for bit. Float inputs take the AVX2 float kernels.

//go:noescape
func qbatchInt2x4V(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)

//go:noescape
func qbatchIntT4x8V(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)

// avx512QB are the VNNI kernels where the CPU has AVX512_VNNI (not every
// AVX-512 CPU does: Skylake-X has not), else the AVX2 ones.
var avx512QB = func() qbatchInts {
	if archsimd.X86.AVX512VNNI() {
		k := qbatchInts{pair: qbatchInt2x4V, lane: qbatchIntT4x8V, lane2: qbatchInt2x8Z, quad: qbatchIntB4x8Z, quad4: qbatchIntB4x4Z}
		if !hasF16C {
			// The quad kernels widen F16 scales by VCVTPH2PS (every
			// AVX-512 CPU we know of has F16C; this says what they need).
			k.quad, k.quad4 = nil, nil
		}
		return k
	}
	return avx2QB
}()

//go:noescape
func qbatchInt2x8Z(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sb *float32, n, groups, units int, q4 bool, out *float32)

// avx512BatchPairs8 runs rows r0.. two at a time through k.lane2, every
// block of eight int16 inputs (qbatchLanes; a last block of seven reads a
// padding input, qbatch.xw's last 32 values, into an output it drops), the
// inputs past the last block through avx2BatchPairs. Like avx2BatchQuads,
// whose outputs it gives, it takes rows in fours and returns the first row
// it left (r1 less (r1-r0)%4), so that the rows left take the same kernels
// as in the AVX2 set and every output is the same bits.
func avx512BatchPairs8(k *qbatchInts, y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) int {
	cols, gs, rows, n, nk := m.Cols, m.GroupSize, m.Rows, b.n, b.nk
	ng, lanes := cols/gs, qbatchLanes(n)
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	sc, bs, sb, out := tmp[:2*ng], tmp[2*ng:4*ng], tmp[4*ng:8*ng], tmp[8*ng:8*ng+16]
	r, end := r0, r0+(r1-r0)&^3
	for ; r < end; r += 2 {
		// Rows r and r+1's scales (and biases) are adjacent: one widening;
		// the kernel reads a group's two scales and two biases as one run.
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		for g := range ng {
			d := sb[4*g : 4*g+4 : 4*g+4]
			d[0], d[1], d[2], d[3] = sc[g], sc[ng+g], bs[g], bs[ng+g]
		}
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		for j := 0; j < lanes; j += 8 {
			k.lane2(q, rowBytes, &b.xw[j*32], &b.dx[j], &b.xs[j], &sb[0], n, ng, gs/32, q4, &out[0])
			for i := range min(8, nk-j) {
				y[(j+i)*rows+r] = out[i]
				y[(j+i)*rows+r+1] = out[8+i]
			}
		}
		if lanes < nk {
			avx2BatchPairs(k, y, m, r, r+2, b, tmp, lanes)
		}
	}
	return r
}

func avx512BatchQi(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	batchAsm(&avx512QB, y, m, r0, r1, b, tmp, true)
}
