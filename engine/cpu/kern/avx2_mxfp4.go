//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 rows of MXFP4 matrices (mxfp4.go), with x in prepareMXFP4's order.
// Twice an E2M1 value is a small integer (0, ±1, ±2, ±3, ±4, ±6, ±8, ±12),
// so one byte shuffle (VPSHUFB) turns a group's 16 low nibbles, and another
// its 16 high ones, into signed bytes; they are widened to int32, converted
// to float32 and multiplied into x, and the group's sum is scaled once by
// half its power of two.

func init() { simdRowsMXFP4 = avx2RowsMXFP4 }

// e2m1Twice is 2·E2M1 of each code, the table VPSHUFB reads.
var e2m1Twice = [16]int8{0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12}

func avx2RowsMXFP4(y []float32, m *Mat, r0 int, xf []float32) {
	cols := m.Cols
	ng := cols / mxfp4Group
	lut := archsimd.LoadInt8x16Array(&e2m1Twice)
	nib := archsimd.BroadcastUint8x16(15)
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		exps := m.Exps[r*ng : (r+1)*ng]
		var acc f32x8
		for g, e := range exps {
			b := archsimd.LoadUint8x16Array((*[16]uint8)(q[g*16 : (g+1)*16]))
			even := lut.PermuteOrZero(b.And(nib).AsInt8x16()).ExtendToInt16()
			odd := lut.PermuteOrZero(b.AsUint16x8().ShiftAllRight(4).AsUint8x16().And(nib).AsInt8x16()).ExtendToInt16()
			xp := unsafe.Pointer(&xf[g*mxfp4Group])
			s := even.GetLo().ExtendToInt32().ConvertToFloat32().Mul(ldf8(xp)) // columns 0, 2, … 14
			s = even.GetHi().ExtendToInt32().ConvertToFloat32().MulAdd(ldf8(unsafe.Add(xp, 32)), s)
			s = odd.GetLo().ExtendToInt32().ConvertToFloat32().MulAdd(ldf8(unsafe.Add(xp, 64)), s)
			s = odd.GetHi().ExtendToInt32().ConvertToFloat32().MulAdd(ldf8(unsafe.Add(xp, 96)), s)
			acc = s.MulAdd(archsimd.BroadcastFloat32x8(0.5*e8m0[e]), acc)
		}
		y[i] = hsum8(acc)
	}
}
