//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 batched quantized rows (qbatch.go, avx2_qbatch_amd64.s): per weight
// row the scales and biases are widened once, the inputs go through the
// assembly four (then two) at a time, each unit of codes unpacked once per
// call, and a last odd input takes the lone-product kernel. The bias term
// Σb·Σx is added per input here.

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
	avx2Batch(y, m, r0, r1, b, tmp, false)
}

func avx2BatchQi(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	avx2Batch(y, m, r0, r1, b, tmp, true)
}

func avx2Batch(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32, qi bool) {
	cols, gs, rows, n := m.Cols, m.GroupSize, m.Rows, b.n
	ng, units := cols/gs, gs/32
	q4 := m.DType == Q4
	rowBytes := cols
	if q4 {
		rowBytes = cols / 2
	}
	sc, bs, out := tmp[:ng], tmp[ng:2*ng], tmp[2*ng:2*ng+qbatchRows]
	for r := r0; r < r1; r++ {
		avx2Widen(sc, &m.Scales, r*ng)
		avx2Widen(bs, &m.Biases, r*ng)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		j := 0
		for j < n-1 {
			k := 2
			if j+4 <= n {
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
		if j == n {
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
