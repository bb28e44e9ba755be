//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 rows of MLX affine-quantized matrices, with float x (see qin): per
// group the codes are widened to float32 (q8Dot, q4Dot in assembly),
// multiplied with x and the group's partial sums scaled once; the bias term
// is Σb·Σx.

// avx2PrepQ lays out xf: x itself for Q8, 16 even then 16 odd values per 32
// columns for Q4 (low nibbles are the even columns).
func avx2PrepQ(in *qin, m *Mat) {
	x := in.x
	if m.DType == Q8 {
		copy(in.xf, x)
		return
	}
	for j := 0; j+32 <= len(x); j += 32 {
		for i := 0; i < 16; i++ {
			in.xf[j+i], in.xf[j+16+i] = x[j+2*i], x[j+2*i+1]
		}
	}
}

func avx2RowsQ8(y []float32, m *Mat, r0 int, in *qin) { avx2RowsQuant(y, m, r0, in, false) }

func avx2RowsQ4(y []float32, m *Mat, r0 int, in *qin) { avx2RowsQuant(y, m, r0, in, true) }

func avx2RowsQuant(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes, groupBytes := cols, gs
	if q4 {
		rowBytes, groupBytes = cols/2, gs/2
	}
	xsum, xf := in.xsum[:ng], in.xf[:cols]
	var sc, bs [rowGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		for g0 := 0; g0 < ng; g0 += rowGroups {
			n := min(rowGroups, ng-g0)
			avx2Widen(sc[:n], &m.Scales, r*ng+g0)
			avx2Widen(bs[:n], &m.Biases, r*ng+g0)
			qp, xp := unsafe.Pointer(&q[g0*groupBytes]), unsafe.Pointer(&xf[g0*gs])
			total += avx2Dot(bs[:n], xsum[g0:g0+n])
			if q4 {
				total += q4Dot((*byte)(qp), (*float32)(xp), &sc[0], n, gs/32)
			} else {
				total += q8Dot((*byte)(qp), (*float32)(xp), &sc[0], n, gs/32)
			}
		}
		y[i] = total
	}
}

// avx2Widen converts len(dst) scales or biases from f at off to float32.
func avx2Widen(dst []float32, f *Floats, off int) {
	switch f.DType {
	case F32:
		copy(dst, f.F32[off:off+len(dst)])
	case F16:
		avx2F16ToF32(dst, f.U16[off:off+len(dst)])
	default:
		avx2BF16ToF32(dst, f.U16[off:off+len(dst)])
	}
}
