//go:build goexperiment.simd

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// NEON batched quantized rows (qbatch.go), float inputs only (NEON has no
// int16 path): per weight row the scales and biases are widened once, and
// each unit of 32 codes is widened to float32 once and multiplied with four
// inputs' xf (interleaved per unit by qbatch.prepare); a last one to three
// inputs take the lone-product kernels. The bias term Σb·Σx is added per
// input here.

func neonBatchQ(y []float32, m *Mat, r0, r1 int, b *qbatch, tmp []float32) {
	cols, gs, rows, n := m.Cols, m.GroupSize, m.Rows, b.n
	ng, units := cols/gs, gs/32
	q4 := m.DType == Q4
	rowBytes := m.codeRowBytes()
	sc, bs, out := tmp[:ng], tmp[ng:2*ng], (*[4]float32)(tmp[2*ng:2*ng+4])
	stride := uintptr(n) * 128 // bytes from a unit of the inputs to the next
	for r := r0; r < r1; r++ {
		neonWiden(sc, &m.Scales, r*ng)
		neonWiden(bs, &m.Biases, r*ng)
		q := unsafe.Pointer(&m.Q[r*rowBytes])
		j := 0
		for ; j+4 <= n; j += 4 {
			neonBatch4(q, unsafe.Pointer(&b.xf[j*32]), unsafe.Pointer(&sc[0]), ng, units, stride, q4, out)
			for i := range 4 {
				y[(j+i)*rows+r] = out[i] + neonDot(bs, b.ins[j+i].xsum[:ng])
			}
		}
		for ; j < n; j++ {
			xf := unsafe.Pointer(&b.ins[j].xf[0])
			var v float32
			if q4 {
				v = neonQ4Row(q, xf, unsafe.Pointer(&sc[0]), ng, units)
			} else {
				v = neonQ8Row(q, xf, unsafe.Pointer(&sc[0]), ng, 2*units)
			}
			y[j*rows+r] = v + neonDot(bs, b.ins[j].xsum[:ng])
		}
	}
}

// neonBatch4 writes out[j] = Σ_g sc[g]·Σq·x_j over groups of 32·units codes
// for the four inputs j whose units of 32 floats start at x+j·128, one unit
// of the inputs stride bytes after the last.
//
//go:noinline
func neonBatch4(q, x, sc unsafe.Pointer, groups, units int, stride uintptr, q4 bool, out *[4]float32) {
	low := archsimd.LoadUint8x16Array(&nLow4)
	var t0, t1, t2, t3 f32x4
	var qo, xo uintptr
	for g := uintptr(0); g < uintptr(groups); g++ {
		var a0, a1, a2, a3 f32x4
		for u := units; u > 0; u-- {
			var c0, c1, c2, c3, c4, c5, c6, c7 f32x4
			if q4 {
				v := ldu8x16(unsafe.Add(q, qo))
				c0, c1, c2, c3 = u8f16(v.And(low))
				c4, c5, c6, c7 = u8f16(v.ShiftAllRight(4))
				qo += 16
			} else {
				c0, c1, c2, c3 = u8f16(ldu8x16(unsafe.Add(q, qo)))
				c4, c5, c6, c7 = u8f16(ldu8x16(unsafe.Add(q, qo+16)))
				qo += 32
			}
			p := unsafe.Add(x, xo)
			a0 = fma8(a0, p, c0, c1, c2, c3, c4, c5, c6, c7)
			a1 = fma8(a1, unsafe.Add(p, 128), c0, c1, c2, c3, c4, c5, c6, c7)
			a2 = fma8(a2, unsafe.Add(p, 256), c0, c1, c2, c3, c4, c5, c6, c7)
			a3 = fma8(a3, unsafe.Add(p, 384), c0, c1, c2, c3, c4, c5, c6, c7)
			xo += stride
		}
		s := archsimd.BroadcastFloat32x4(*(*float32)(unsafe.Add(sc, 4*g)))
		t0, t1, t2, t3 = a0.MulAdd(s, t0), a1.MulAdd(s, t1), a2.MulAdd(s, t2), a3.MulAdd(s, t3)
	}
	out[0], out[1], out[2], out[3] = hsum4(t0), hsum4(t1), hsum4(t2), hsum4(t3)
}

// fma8 adds the products of a unit's 32 codes c0..c7 with the 32 floats at p
// to a, in two chains.
func fma8(a f32x4, p unsafe.Pointer, c0, c1, c2, c3, c4, c5, c6, c7 f32x4) f32x4 {
	var b f32x4
	a = c0.MulAdd(ldf4(p), a)
	b = c1.MulAdd(ldf4(unsafe.Add(p, 16)), b)
	a = c2.MulAdd(ldf4(unsafe.Add(p, 32)), a)
	b = c3.MulAdd(ldf4(unsafe.Add(p, 48)), b)
	a = c4.MulAdd(ldf4(unsafe.Add(p, 64)), a)
	b = c5.MulAdd(ldf4(unsafe.Add(p, 80)), b)
	a = c6.MulAdd(ldf4(unsafe.Add(p, 96)), a)
	b = c7.MulAdd(ldf4(unsafe.Add(p, 112)), b)
	return a.Add(b)
}
