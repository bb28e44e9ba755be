//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 rows of MLX affine-quantized matrices, with float x (see qin):
// per group the codes are widened to float32, multiplied with x and the
// group's partial sums scaled once; the bias term is Σb·Σx. Activations stay
// in float32, so the products are as exact as the plain-Go ones (an earlier
// int16-x path was 100× less exact than engine/cpu/design.md promises).
//
// Go keeps no register across a call, so the whole row is one call: a row's
// scales and biases are first widened to float32 into stack arrays, and the
// row kernel walks them.

const rowGroups = 256 // groups widened at once; longer rows are done in parts

func avx512RowsQ8(y []float32, m *Mat, r0 int, in *qin) { avx512RowsQuant(y, m, r0, in, false) }

func avx512RowsQ4(y []float32, m *Mat, r0 int, in *qin) { avx512RowsQuant(y, m, r0, in, true) }

func avx512RowsQuant(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes, groupBytes := cols, gs
	if q4 {
		rowBytes, groupBytes = cols/2, gs/2
	}
	pad := (ng + 15) &^ 15
	xsum, xf := in.xsum[:pad], in.xf[:cols]
	var sc, bs [rowGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		for g0 := 0; g0 < ng; g0 += rowGroups {
			n := min(rowGroups, ng-g0)
			widenPad(sc[:], &m.Scales, r*ng+g0, n)
			widenPad(bs[:], &m.Biases, r*ng+g0, n)
			qp, xp := unsafe.Pointer(&q[g0*groupBytes]), unsafe.Pointer(&xf[g0*gs])
			bias := avx512Dot(bs[:n], xsum[g0:g0+n])
			if q4 {
				total += bias + q4RowExact(qp, xp, unsafe.Pointer(&sc[0]), n, gs/32)
			} else {
				total += bias + q8RowExact(qp, xp, unsafe.Pointer(&sc[0]), n, gs/32)
			}
		}
		y[i] = total
	}
}

// q8RowExact returns Σ_g sc[g]·Σq·x over n groups of 32·units codes.
//
//go:noinline
func q8RowExact(q, x, sc unsafe.Pointer, n, units int) float32 {
	var acc f32x16
	var qo uintptr // byte offset into q; x is at four times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1 f32x16
		for u := units; u > 0; u-- {
			g0 = ldb(unsafe.Add(q, qo)).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 4*qo)), g0)
			g1 = ldb(unsafe.Add(q, qo+16)).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 4*qo+64)), g1)
			qo += 32
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum16(acc)
}

// q4RowExact is q8RowExact for nibbles, 32 codes (16 bytes) per unit: low
// nibbles are the even columns, high nibbles the odd ones, which
// avx512PrepQ laid out in xf as 16 even then 16 odd values per 32 columns.
//
//go:noinline
func q4RowExact(q, x, sc unsafe.Pointer, n, units int) float32 {
	var acc f32x16
	var qo uintptr // byte offset into q; x is at eight times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1 f32x16
		for u := units; u > 0; u-- {
			v := ldb(unsafe.Add(q, qo))
			g0 = v.And(ldu(&cLow4)).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 8*qo)), g0)
			g1 = v.ShiftAllRight(4).ConvertToFloat32().MulAdd(ldf(unsafe.Add(x, 8*qo+64)), g1)
			qo += 16
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum16(acc)
}
