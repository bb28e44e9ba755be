//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// avx2Micro4x16 is the AVX2 microFunc: 4 weight rows × 16 tokens in 8 ymm
// accumulators, per column two vectors of tokens and four broadcast
// weights. archsimd's MulAdd only has the VFMADD213 form, whose result
// overwrites a multiplicand, so every FMA also costs a register copy; with
// 6×16 (12 accumulators) the copies no longer fit in 16 ymm registers and
// the loop spills. Measured on a Zen 1 EPYC per CPU second: 6×16 about 14
// GFLOP/s, 4×16 about 17.
//
//go:noinline
func avx2Micro4x16(c unsafe.Pointer, ldc int, w unsafe.Pointer, ldw int, xp unsafe.Pointer, kc int, first bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 f32x8
	ld := uintptr(ldc) * 4
	if !first {
		c00, c01 = ldf8(c), ldf8(unsafe.Add(c, 32))
		c10, c11 = ldf8(unsafe.Add(c, ld)), ldf8(unsafe.Add(c, ld+32))
		c20, c21 = ldf8(unsafe.Add(c, 2*ld)), ldf8(unsafe.Add(c, 2*ld+32))
		c30, c31 = ldf8(unsafe.Add(c, 3*ld)), ldf8(unsafe.Add(c, 3*ld+32))
	}
	lw := uintptr(ldw) * 4
	w0, w1, w2, w3 := w, unsafe.Add(w, lw), unsafe.Add(w, 2*lw), unsafe.Add(w, 3*lw)
	for o := uintptr(0); o < uintptr(kc)*4; o += 4 {
		xo := unsafe.Add(xp, o*packNR)
		x0, x1 := ldf8(xo), ldf8(unsafe.Add(xo, 32))
		b := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(w0, o)))
		c00, c01 = x0.MulAdd(b, c00), x1.MulAdd(b, c01)
		b = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(w1, o)))
		c10, c11 = x0.MulAdd(b, c10), x1.MulAdd(b, c11)
		b = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(w2, o)))
		c20, c21 = x0.MulAdd(b, c20), x1.MulAdd(b, c21)
		b = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(w3, o)))
		c30, c31 = x0.MulAdd(b, c30), x1.MulAdd(b, c31)
	}
	stf8(c, c00)
	stf8(unsafe.Add(c, 32), c01)
	stf8(unsafe.Add(c, ld), c10)
	stf8(unsafe.Add(c, ld+32), c11)
	stf8(unsafe.Add(c, 2*ld), c20)
	stf8(unsafe.Add(c, 2*ld+32), c21)
	stf8(unsafe.Add(c, 3*ld), c30)
	stf8(unsafe.Add(c, 3*ld+32), c31)
}

func stf8(p unsafe.Pointer, v f32x8) { v.StoreArray((*[8]float32)(p)) }
