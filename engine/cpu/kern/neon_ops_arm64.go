//go:build goexperiment.simd

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// NEON element-wise kernels and the prefill product.

func neonAxpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	av := archsimd.BroadcastFloat32x4(a)
	j := 0
	for ; j+8 <= len(y); j += 8 {
		archsimd.LoadFloat32x4(x[j:]).MulAdd(av, archsimd.LoadFloat32x4(y[j:])).Store(y[j:])
		archsimd.LoadFloat32x4(x[j+4:]).MulAdd(av, archsimd.LoadFloat32x4(y[j+4:])).Store(y[j+4:])
	}
	goAxpy(y[j:], a, x[j:])
}

func neonAxpyF16(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	av := archsimd.BroadcastFloat32x4(a)
	j := 0
	for ; j+8 <= len(y); j += 8 {
		l, h := h2f8(archsimd.LoadUint16x8(x[j:]))
		l.MulAdd(av, archsimd.LoadFloat32x4(y[j:])).Store(y[j:])
		h.MulAdd(av, archsimd.LoadFloat32x4(y[j+4:])).Store(y[j+4:])
	}
	goAxpyF16(y[j:], a, x[j:])
}

func neonScale(y []float32, a float32) {
	av := archsimd.BroadcastFloat32x4(a)
	j := 0
	for ; j+4 <= len(y); j += 4 {
		archsimd.LoadFloat32x4(y[j:]).Mul(av).Store(y[j:])
	}
	goScale(y[j:], a)
}

func neonSumSq(x []float32) float32 { return neonDot(x, x) }

func neonMulInto(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	j := 0
	for ; j+4 <= len(y); j += 4 {
		archsimd.LoadFloat32x4(a[j:]).Mul(archsimd.LoadFloat32x4(b[j:])).Store(y[j:])
	}
	goMulInto(y[j:], a[j:], b[j:])
}

func neonF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	j := 0
	for ; j+8 <= len(src); j += 8 {
		l, h := h2f8(archsimd.LoadUint16x8(src[j:]))
		l.Store(dst[j:])
		h.Store(dst[j+4:])
	}
	goF16ToF32(dst[j:], src[j:])
}

func neonBF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	j := 0
	for ; j+8 <= len(src); j += 8 {
		l, h := bf2f8(archsimd.LoadUint16x8(src[j:]))
		l.Store(dst[j:])
		h.Store(dst[j+4:])
	}
	goBF16ToF32(dst[j:], src[j:])
}

// exp4 is Exp on 4 lanes, with its constants and order of operations; lanes
// below expLo are flushed to 0 through a bit mask (NEON has no masked ops).
func exp4(x f32x4) f32x4 {
	keep := x.GreaterEqual(lf4(&nExpLo)).ToInt32x4().ToBits()
	x = x.Min(lf4(&nExpHi)).Max(lf4(&nExpLo))
	n := x.MulAdd(lf4(&nLog2e), lf4(&nMagic)).Sub(lf4(&nMagic))
	r := n.MulAdd(lf4(&nLn2Hi), x)
	r = n.MulAdd(lf4(&nLn2Lo), r)
	p := lf4(&nExpC[0]).MulAdd(r, lf4(&nExpC[1]))
	p = p.MulAdd(r, lf4(&nExpC[2]))
	p = p.MulAdd(r, lf4(&nExpC[3]))
	p = p.MulAdd(r, lf4(&nExpC[4]))
	p = p.MulAdd(r, lf4(&nExpC[5]))
	p = p.Mul(r).MulAdd(r, r).Add(lf4(&nOne))
	pow := n.ConvertToInt32().ToBits().Add(ldu4(&nBias127)).ShiftAllLeft(23).BitsToFloat32()
	return p.Mul(pow).ToBits().And(keep).BitsToFloat32()
}

func neonExpSum(x []float32, max float32) float32 {
	mv := archsimd.BroadcastFloat32x4(max)
	var a0, a1 f32x4
	j := 0
	for ; j+8 <= len(x); j += 8 {
		e0 := exp4(archsimd.LoadFloat32x4(x[j:]).Sub(mv))
		e1 := exp4(archsimd.LoadFloat32x4(x[j+4:]).Sub(mv))
		e0.Store(x[j:])
		e1.Store(x[j+4:])
		a0, a1 = a0.Add(e0), a1.Add(e1)
	}
	return hsum4(a0.Add(a1)) + goExpSum(x[j:], max)
}

func neonSiLUMul(a, b []float32) {
	b = b[:len(a)]
	var zero f32x4
	j := 0
	for ; j+4 <= len(a); j += 4 {
		v := archsimd.LoadFloat32x4(a[j:])
		e := exp4(zero.Sub(v))
		v.Div(e.Add(lf4(&nOne))).Mul(archsimd.LoadFloat32x4(b[j:])).Store(a[j:])
	}
	goSiLUMul(a[j:], b[j:])
}

// neonGemm tiles c in 4×4 blocks, each computed by neonGemm4x4 over the
// first multiple of 4 of k with 16 accumulators (of NEON's 32 registers);
// the rest of k, and rows or columns past the blocks, use the dot kernels.
func neonGemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	vec := k &^ 3
	if vec == 0 || m == 0 || n == 0 {
		goGemm(c, ldc, a, lda, b, ldb, m, n, k)
		return
	}
	a, b = a[:(m-1)*lda+k], b[:(n-1)*ldb+k]
	c = c[:(m-1)*ldc+n]
	var out [16]float32
	i := 0
	for ; i+4 <= m; i += 4 {
		j := 0
		for ; j+4 <= n; j += 4 {
			neonGemm4x4(&out, unsafe.Pointer(&a[i*lda]), unsafe.Pointer(&b[j*ldb]), uintptr(lda)*4, uintptr(ldb)*4, vec)
			for r := 0; r < 4; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				for s := 0; s < 4; s++ {
					c[(i+r)*ldc+j+s] = out[r*4+s] + goDot(ar[vec:], b[(j+s)*ldb+vec:(j+s)*ldb+k])
				}
			}
		}
		for ; j < n; j++ {
			for r := 0; r < 4; r++ {
				c[(i+r)*ldc+j] = neonDotAs4x4(a[(i+r)*lda:(i+r)*lda+k], b[j*ldb:j*ldb+k], vec)
			}
		}
	}
	for ; i < m; i++ {
		for j := 0; j < n; j++ {
			c[i*ldc+j] = neonDotAs4x4(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k], vec)
		}
	}
}

// neonDotAs4x4 is one element of a neonGemm4x4 block with its tail, in the
// block's order: one four-lane FMA chain over the first vec values, its
// lanes summed pairwise ((l0+l1)+(l2+l3)), then the rest in Go. The rows and
// tokens left over from the 4×4 blocks take it (not neonDot or
// neonRowsF32, whose several accumulators sum in another order) so that an
// element's bits do not depend on where its row and token fall in a call:
// a prompt prefilled in chunks, or resumed from a cached prefix, gives the
// bits of one prefill (kern's TestBF16Prefill and
// TestMatMulIntPrefillChunked, engine/cpu's TestBF16Prefill, on neon).
func neonDotAs4x4(a, b []float32, vec int) float32 {
	var acc, zero f32x4
	pa, pb := unsafe.Pointer(unsafe.SliceData(a)), unsafe.Pointer(unsafe.SliceData(b))
	for o := uintptr(0); o < uintptr(vec)*4; o += 16 {
		acc = ldf4(unsafe.Add(pb, o)).MulAdd(ldf4(unsafe.Add(pa, o)), acc)
	}
	var out [4]float32
	acc.ConcatAddPairs(zero).ConcatAddPairs(zero).StoreArray(&out)
	return out[0] + goDot(a[vec:], b[vec:])
}

//go:noinline
func neonGemm4x4(out *[16]float32, a, b unsafe.Pointer, lda, ldb uintptr, n int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 f32x4
	var c20, c21, c22, c23, c30, c31, c32, c33 f32x4
	for o := uintptr(0); o < uintptr(n)*4; o += 16 {
		bo, ao := unsafe.Add(b, o), unsafe.Add(a, o)
		w0, w1 := ldf4(bo), ldf4(unsafe.Add(bo, ldb))
		w2, w3 := ldf4(unsafe.Add(bo, 2*ldb)), ldf4(unsafe.Add(bo, 3*ldb))
		x := ldf4(ao)
		c00, c01, c02, c03 = w0.MulAdd(x, c00), w1.MulAdd(x, c01), w2.MulAdd(x, c02), w3.MulAdd(x, c03)
		x = ldf4(unsafe.Add(ao, lda))
		c10, c11, c12, c13 = w0.MulAdd(x, c10), w1.MulAdd(x, c11), w2.MulAdd(x, c12), w3.MulAdd(x, c13)
		x = ldf4(unsafe.Add(ao, 2*lda))
		c20, c21, c22, c23 = w0.MulAdd(x, c20), w1.MulAdd(x, c21), w2.MulAdd(x, c22), w3.MulAdd(x, c23)
		x = ldf4(unsafe.Add(ao, 3*lda))
		c30, c31, c32, c33 = w0.MulAdd(x, c30), w1.MulAdd(x, c31), w2.MulAdd(x, c32), w3.MulAdd(x, c33)
	}
	// Pairwise adds turn four accumulators into the four sums of one row of
	// the block: [c0 c1 c2 c3] → [Σc0 Σc1 Σc2 Σc3].
	row := func(p, q, r, s f32x4, dst []float32) {
		p.ConcatAddPairs(q).ConcatAddPairs(r.ConcatAddPairs(s)).StoreArray((*[4]float32)(dst))
	}
	row(c00, c01, c02, c03, out[0:4])
	row(c10, c11, c12, c13, out[4:8])
	row(c20, c21, c22, c23, out[8:12])
	row(c30, c31, c32, c33, out[12:16])
}
