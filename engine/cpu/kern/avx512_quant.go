//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 rows of MLX affine-quantized matrices, with x as int16 scaled
// per group (see qin): the codes are zero-extended to 16 bits and multiplied
// with x16 by VPMADDWD, pairs summing exactly into int32 lanes, so a group
// costs about half the instructions of widening every code to float32. Each
// group's int32 sums are converted once and scaled by scale·dx.
//
// Go keeps no register across a call, so the whole row is one call: a row's
// scales and biases are first widened to float32 into stack arrays (by
// vector stores that vector loads then read back), and the row kernel walks
// them 16 groups at a time, picking each group's scale·dx from a register;
// the bias term Σb·Σx is one FMA with xsum per 16 groups.

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
	if exact(m) {
		avx512RowsExact(y, m, r0, in, q4)
		return
	}
	xsum, dx, x16 := in.xsum[:pad], in.dx[:pad], in.x16[:cols]
	// Q4 kernels take 64 columns at a time; an odd 32 at the end of a row
	// (groups of 32) is done in Go.
	tail := q4 && cols%64 != 0
	// Finite F16 scales and biases (the usual MLX layout) are widened
	// inside the kernels, 16 at a time, as long as 16 values stay inside
	// the arrays; other types and the last rows go through stack arrays.
	half := m.Scales.DType == F16 && m.Biases.DType == F16 && m.Scales.finite && m.Biases.finite
	var sc, bs [rowGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		for g0 := 0; g0 < ng; g0 += rowGroups {
			n := min(rowGroups, ng-g0)
			off := r*ng + g0
			var sp, bp unsafe.Pointer
			direct := half && off+(n+15)&^15 <= len(m.Scales.U16)
			if direct {
				sp, bp = unsafe.Pointer(&m.Scales.U16[off]), unsafe.Pointer(&m.Biases.U16[off])
			} else {
				widenPad(sc[:], &m.Scales, off, n)
				widenPad(bs[:], &m.Biases, off, n)
				sp, bp = unsafe.Pointer(&sc[0]), unsafe.Pointer(&bs[0])
			}
			qp, xp := unsafe.Pointer(&q[g0*groupBytes]), unsafe.Pointer(&x16[g0*gs])
			sum, dxp := unsafe.Pointer(&xsum[g0]), unsafe.Pointer(&dx[g0])
			switch {
			case !q4:
				total += q8Row(qp, xp, sp, bp, sum, dxp, n, gs/32, direct)
			case gs == 32:
				units := n / 2
				if tail && g0+n == ng {
					units = (n - 1) / 2
				}
				total += q4PairRow(qp, xp, sp, bp, sum, dxp, n, units, direct)
			default:
				total += q4Row(qp, xp, sp, bp, sum, dxp, n, gs/64, direct)
			}
		}
		if tail {
			total += q4Tail(m, r, in.x)
		}
		y[i] = total
	}
}

// q4Tail is the last 32 columns of a Q4 row whose length is an odd multiple
// of 32 (so the group size is 32), without the bias term, which the row
// kernel already has.
func q4Tail(m *Mat, r int, x []float32) float32 {
	g := m.Cols/32 - 1
	q := m.Q[(r*m.Cols+g*32)/2:][:16]
	xg := x[g*32 : g*32+32]
	var s float32
	for j, v := range q {
		s += float32(v&15)*xg[2*j] + float32(v>>4)*xg[2*j+1]
	}
	return s * m.Scales.At(r*(m.Cols/32)+g)
}

// ldSeg loads 16 scales or biases from g on: float32, or finite F16 when
// half is set.
func ldSeg(p unsafe.Pointer, g int, half bool) f32x16 {
	if half {
		return h2fFinite(ldhs(unsafe.Add(p, 2*g)))
	}
	return ldf(unsafe.Add(p, 4*g))
}

// lane returns v's lane i in every lane.
func lane(v f32x16, i int) f32x16 { return v.Permute(archsimd.BroadcastUint32x16(uint32(i))) }

// q8Row returns Σ_g sc[g]·dx[g]·Σq·x16 + bs[g]·xsum[g] over n groups of
// 32·units codes; xsum and dx are float32 arrays padded with zeros to a
// multiple of 16, sc and bs too or, when half is set, finite F16 values
// readable 16 at a time (lanes past n only ever meet zeros of xsum).
//
//go:noinline
func q8Row(q, x, sc, bs, xsum, dx unsafe.Pointer, n, units int, half bool) float32 {
	var acc f32x16
	var qo uintptr // byte offset into q; x16 is at twice that
	for g0 := 0; g0 < n; g0 += 16 {
		o := uintptr(g0) * 4
		acc = ldSeg(bs, g0, half).MulAdd(ldf(unsafe.Add(xsum, o)), acc)
		seg := ldSeg(sc, g0, half).Mul(ldf(unsafe.Add(dx, o)))
		for g := 0; g < min(16, n-g0); g++ {
			var s archsimd.Int32x16
			for u := units; u > 0; u-- {
				v := archsimd.LoadUint8x32Array((*[32]uint8)(unsafe.Add(q, qo))).ExtendToUint16().AsInt16x32()
				s = s.Add(v.DotProductPairs(archsimd.LoadInt16x32Array((*[32]int16)(unsafe.Add(x, 2*qo)))))
				qo += 32
			}
			acc = s.ConvertToFloat32().MulAdd(lane(seg, g), acc)
		}
	}
	return hsum16(acc)
}

// q4Row is q8Row for nibbles, 64 codes (32 bytes) per unit: low nibbles are
// the even columns, high nibbles the odd ones, which avx512PrepQ laid out
// in x16 as 32 even then 32 odd values per 64 columns.
//
//go:noinline
func q4Row(q, x, sc, bs, xsum, dx unsafe.Pointer, n, units int, half bool) float32 {
	low := ldu(&cLow4x2).AsUint16x32() // 15 in every 16-bit lane
	var acc f32x16
	var qo uintptr // byte offset into q; x16 is at four times that
	for g0 := 0; g0 < n; g0 += 16 {
		o := uintptr(g0) * 4
		acc = ldSeg(bs, g0, half).MulAdd(ldf(unsafe.Add(xsum, o)), acc)
		seg := ldSeg(sc, g0, half).Mul(ldf(unsafe.Add(dx, o)))
		for g := 0; g < min(16, n-g0); g++ {
			var s archsimd.Int32x16
			for u := units; u > 0; u-- {
				s = s.Add(q4Unit(unsafe.Add(q, qo), unsafe.Add(x, 4*qo), low))
				qo += 32
			}
			acc = s.ConvertToFloat32().MulAdd(lane(seg, g), acc)
		}
	}
	return hsum16(acc)
}

// q4Unit is Σq·x16 of 64 columns in 16 int32 lanes: lanes 0-7 hold the
// first 32 columns, lanes 8-15 the others.
func q4Unit(q, x unsafe.Pointer, low archsimd.Uint16x32) archsimd.Int32x16 {
	v := archsimd.LoadUint8x32Array((*[32]uint8)(q)).ExtendToUint16()
	e := v.And(low).AsInt16x32().DotProductPairs(archsimd.LoadInt16x32Array((*[32]int16)(x)))
	o := v.ShiftAllRight(4).AsInt16x32().DotProductPairs(archsimd.LoadInt16x32Array((*[32]int16)(unsafe.Add(x, 64))))
	return e.Add(o)
}

// q4PairRow is q4Row for groups of 32 over units whole 64-column units: a
// unit holds two groups, lanes 0-7 of its sums the first and lanes 8-15 the
// second. n (the groups, for the bias term) may be one more than 2·units.
//
//go:noinline
func q4PairRow(q, x, sc, bs, xsum, dx unsafe.Pointer, n, units int, half bool) float32 {
	low := ldu(&cLow4x2).AsUint16x32()
	two := archsimd.BroadcastUint32x16(2)
	var acc f32x16
	var qo uintptr
	for g0 := 0; g0 < n; g0 += 16 {
		o := uintptr(g0) * 4
		acc = ldSeg(bs, g0, half).MulAdd(ldf(unsafe.Add(xsum, o)), acc)
		seg := ldSeg(sc, g0, half).Mul(ldf(unsafe.Add(dx, o)))
		pick := ldu(&cPairPick)
		for u := min(8, units-g0/2); u > 0; u-- {
			s := q4Unit(unsafe.Add(q, qo), unsafe.Add(x, 4*qo), low)
			acc = s.ConvertToFloat32().MulAdd(seg.Permute(pick), acc)
			pick = pick.Add(two)
			qo += 32
		}
	}
	return hsum16(acc)
}

// avx512RowsExact is avx512RowsQuant for matrices with float32 scales: the
// codes are widened to float32 and multiplied with float x, so the products
// are as exact as float32 allows.
func avx512RowsExact(y []float32, m *Mat, r0 int, in *qin, q4 bool) {
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	rowBytes, groupBytes := cols, gs
	if q4 {
		rowBytes, groupBytes = cols/2, gs/2
	}
	pad := (ng + 15) &^ 15
	xsum, xf := in.xsum[:pad], in.xf[:cols]
	var bs [rowGroups]float32
	for i := range y {
		r := r0 + i
		q := m.Q[r*rowBytes : (r+1)*rowBytes]
		var total float32
		for g0 := 0; g0 < ng; g0 += rowGroups {
			n := min(rowGroups, ng-g0)
			widenPad(bs[:], &m.Biases, r*ng+g0, n)
			sc := m.Scales.F32[r*ng+g0 : r*ng+g0+n]
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
