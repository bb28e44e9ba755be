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
	out := tmp[:32]
	// The kernels read the scales and biases as stored, four rows
	// sstride bytes apart (qintScaleArgs).
	kind, elem, sc0, bs0 := qintScaleArgs(m)
	sstride := ng * int(elem)
	r := r0
	for ; r+4 <= r1; r += 4 {
		off := uintptr(r*ng) * elem
		sc, bs := unsafe.Add(sc0, off), unsafe.Add(bs0, off)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		for j := 0; j < lanes; j += 8 {
			k.quad(q, rowBytes, &b.xb[j*2*cols], &b.cb[j/4*16*ng], &b.dx[j], &b.xs[j], sc, bs, sstride, kind, 4*n, ng, gs, q4, &out[0])
			for i := range min(8, nk-j) {
				yi := y[(j+i)*rows+r : (j+i)*rows+r+4 : (j+i)*rows+r+4]
				yi[0], yi[1] = out[2*i], out[2*i+1]
				yi[2], yi[3] = out[16+2*i], out[16+2*i+1]
			}
		}
		if nk-lanes >= 4 {
			k.quad4(q, rowBytes, &b.xb[lanes*2*cols], &b.cb[lanes/4*16*ng], &b.dx[lanes], &b.xs[lanes], sc, bs, sstride, kind, 4*n, ng, gs, q4, &out[0])
			for i := range 4 {
				yi := y[(lanes+i)*rows+r : (lanes+i)*rows+r+4 : (lanes+i)*rows+r+4]
				yi[0], yi[1], yi[2], yi[3] = out[4*i], out[4*i+1], out[4*i+2], out[4*i+3]
			}
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
