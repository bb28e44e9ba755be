//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// avx512BatchQuads8 is avx2BatchQuads with k.quad: rows r0.. four at a
// time, every block of eight inputs (qbatchLanes; a padded last block of
// seven has a zero input in qbatch.xb), four of the inputs past the last
// block through k.quad4 and the rest through avx2BatchRows, the inputs as
// bytes (qbatch.xb, cb). It takes the rows as avx2BatchQuads does, so every
// output is the AVX2 set's bits, and returns the first row it left.
func avx512BatchQuads8(k *qbatchInts, y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) int {
	cols, gs, rows, n, nk := m.Cols, m.GroupSize, m.Rows, b.n, b.nk
	ng, lanes := cols/gs, qbatchLanes(n)
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	// The kernels read the scales and biases as stored, four rows
	// sstride bytes apart (qintScaleArgs).
	kind, elem, sc0, bs0 := qintScaleArgs(m)
	sstride := ng * int(elem)
	if m.Scales.Len() < r1*ng || m.Biases.Len() < r1*ng {
		panic("kern: fewer scales or biases than the rows'") // what avx2Widen's slicing caught
	}
	r := r0
	for ; r+4 <= r1; r += 4 {
		off := uintptr(r*ng) * elem
		sc, bs := unsafe.Add(sc0, off), unsafe.Add(bs0, off)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		for j := 0; j < lanes; j += 8 {
			ny := min(8, nk-j)
			_ = y[(j+ny-1)*rows+r+3] // the last output the kernel stores
			k.quad(q, rowBytes, &b.xb[j*2*cols], &b.cb[j/4*16*ng], &b.dx[j], &b.xs[j], sc, bs, sstride, kind, 4*n, ng, gs, q4, &y[j*rows+r], 4*rows, ny)
		}
		if nk-lanes >= 4 {
			_ = y[(lanes+3)*rows+r+3]
			k.quad4(q, rowBytes, &b.xb[lanes*2*cols], &b.cb[lanes/4*16*ng], &b.dx[lanes], &b.xs[lanes], sc, bs, sstride, kind, 4*n, ng, gs, q4, &y[lanes*rows+r], 4*rows, 4)
			if lanes+4 < nk {
				avx2BatchRows(y, m, r, r+4, b, tmp, true, lanes+4)
			}
		} else if lanes < nk {
			avx2BatchPairs(k, y, m, r, r+4, b, tmp, lanes)
		}
	}
	return r
}

// avx512QuadPad is the avx512 set's impl.qbatchPad: with the quad kernels a
// batch of five to seven inputs runs as a padded block of eight.
func avx512QuadPad() int {
	if avx512QB.quad != nil {
		return 5
	}
	return 0
}
