//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 rows of MLX affine-quantized matrices, with float x (see qin): per
// group the codes are widened to float32, multiplied with x and the group's
// partial sums scaled once; the bias term is Σb·Σx.

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
				total += avx2Q4Row(qp, xp, unsafe.Pointer(&sc[0]), n, gs/32)
			} else {
				total += avx2Q8Row(qp, xp, unsafe.Pointer(&sc[0]), n, gs/16)
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

// widen16 widens 16 bytes to 16-bit lanes.
func widen16(p unsafe.Pointer) archsimd.Uint16x16 {
	return archsimd.LoadUint8x16Array((*[16]uint8)(p)).ExtendToUint16()
}

// i2f8 converts 8 small unsigned values to float32.
func i2f8(v archsimd.Uint16x8) f32x8 { return v.ExtendToUint32().AsInt32x8().ConvertToFloat32() }

// avx2Q8Row returns Σ_g sc[g]·Σq·x over n groups of 16·units codes.
//
//go:noinline
func avx2Q8Row(q, x, sc unsafe.Pointer, n, units int) float32 {
	var acc f32x8
	var qo uintptr // byte offset into q; x is at four times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1 f32x8
		for u := units; u > 0; u-- {
			v := widen16(unsafe.Add(q, qo))
			g0 = i2f8(v.GetLo()).MulAdd(ldf8(unsafe.Add(x, 4*qo)), g0)
			g1 = i2f8(v.GetHi()).MulAdd(ldf8(unsafe.Add(x, 4*qo+32)), g1)
			qo += 16
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum8(acc)
}

// avx2Q4Row is avx2Q8Row for nibbles, 32 codes (16 bytes) per unit, x laid
// out by avx2PrepQ.
//
//go:noinline
func avx2Q4Row(q, x, sc unsafe.Pointer, n, units int) float32 {
	low := archsimd.LoadUint32x8Array((*[8]uint32)(cLow4x2[:8])).AsUint16x16()
	var acc f32x8
	var qo uintptr // byte offset into q; x is at eight times that
	for g := uintptr(0); g < uintptr(n); g++ {
		var g0, g1 f32x8
		for u := units; u > 0; u-- {
			v := widen16(unsafe.Add(q, qo))
			e, o := v.And(low), v.ShiftAllRight(4)
			xo := unsafe.Add(x, 8*qo)
			g0 = i2f8(e.GetLo()).MulAdd(ldf8(xo), g0)
			g1 = i2f8(e.GetHi()).MulAdd(ldf8(unsafe.Add(xo, 32)), g1)
			g0 = i2f8(o.GetLo()).MulAdd(ldf8(unsafe.Add(xo, 64)), g0)
			g1 = i2f8(o.GetHi()).MulAdd(ldf8(unsafe.Add(xo, 96)), g1)
			qo += 16
		}
		acc = g0.Add(g1).MulAdd(archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(sc, 4*g))), acc)
	}
	return hsum8(acc)
}
