//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 rows of MXFP4 matrices (mxfp4.go), with x in prepareMXFP4's order.
// Per group the 16 code bytes are widened to four vectors of 8 codes; the
// low three bits of a code index its magnitude in one register (VPERMPS
// takes the index modulo 8), its bit 3 is moved into the float's sign, and
// the values are multiplied into x. The group's sum is scaled once.

func init() { simdRowsMXFP4 = avx2RowsMXFP4 }

// e2m1Mag are the magnitudes of codes 0-7, the table VPERMPS reads.
var e2m1Mag = [8]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6}

func avx2RowsMXFP4(y []float32, m *Mat, r0 int, xf []float32) {
	cols := m.Cols
	ng := cols / mxfp4Group
	lut := archsimd.LoadFloat32x8Array(&e2m1Mag)
	nib := archsimd.BroadcastUint32x8(15)
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		exps := m.Exps[r*ng : (r+1)*ng]
		var acc f32x8
		for g, e := range exps {
			b := archsimd.LoadUint8x16Array((*[16]uint8)(q[g*16 : (g+1)*16])).ExtendToUint16()
			lo, hi := b.GetLo().ExtendToUint32(), b.GetHi().ExtendToUint32() // bytes 0-7, 8-15
			xp := unsafe.Pointer(&xf[g*mxfp4Group])
			s := e2m1x8(lut, lo.And(nib)).Mul(ldf8(xp))                      // even columns 0-14
			s = e2m1x8(lut, hi.And(nib)).MulAdd(ldf8(unsafe.Add(xp, 32)), s) // even columns 16-30
			s = e2m1x8(lut, lo.ShiftAllRight(4)).MulAdd(ldf8(unsafe.Add(xp, 64)), s)
			s = e2m1x8(lut, hi.ShiftAllRight(4)).MulAdd(ldf8(unsafe.Add(xp, 96)), s)
			acc = s.MulAdd(archsimd.BroadcastFloat32x8(e8m0[e]), acc)
		}
		y[i] = hsum8(acc)
	}
}

// e2m1x8 is the values of 8 codes (0-15): the magnitude of the low three
// bits with bit 3 as the sign.
func e2m1x8(lut f32x8, c archsimd.Uint32x8) f32x8 {
	return lut.Permute(c).AsUint32x8().Xor(c.ShiftAllRight(3).ShiftAllLeft(31)).BitsToFloat32()
}
