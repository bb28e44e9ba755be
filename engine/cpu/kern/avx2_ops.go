//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX2 element-wise kernels and the prefill product.

func avx2Axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	av := archsimd.BroadcastFloat32x8(a)
	j := 0
	for ; j+8 <= len(y); j += 8 {
		archsimd.LoadFloat32x8(x[j:]).MulAdd(av, archsimd.LoadFloat32x8(y[j:])).Store(y[j:])
	}
	goAxpy(y[j:], a, x[j:])
}

func avx2AxpyF16(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	if vec := len(y) &^ 7; hasF16C && vec > 0 {
		f16cAxpy(&y[0], a, &x[0], vec)
		goAxpyF16(y[vec:], a, x[vec:])
		return
	}
	av := archsimd.BroadcastFloat32x8(a)
	j := 0
	for ; j+8 <= len(y); j += 8 {
		h2f8(archsimd.LoadUint16x8(x[j:]).ExtendToUint32()).MulAdd(av, archsimd.LoadFloat32x8(y[j:])).Store(y[j:])
	}
	goAxpyF16(y[j:], a, x[j:])
}

func avx2Scale(y []float32, a float32) {
	av := archsimd.BroadcastFloat32x8(a)
	j := 0
	for ; j+8 <= len(y); j += 8 {
		archsimd.LoadFloat32x8(y[j:]).Mul(av).Store(y[j:])
	}
	goScale(y[j:], a)
}

func avx2SumSq(x []float32) float32 { return avx2Dot(x, x) }

func avx2MulInto(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	j := 0
	for ; j+8 <= len(y); j += 8 {
		archsimd.LoadFloat32x8(a[j:]).Mul(archsimd.LoadFloat32x8(b[j:])).Store(y[j:])
	}
	goMulInto(y[j:], a[j:], b[j:])
}

func avx2F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	if vec := len(src) &^ 7; hasF16C && vec > 0 {
		f16cToF32(&dst[0], &src[0], vec)
		goF16ToF32(dst[vec:], src[vec:])
		return
	}
	j := 0
	for ; j+8 <= len(src); j += 8 {
		h2f8(archsimd.LoadUint16x8(src[j:]).ExtendToUint32()).Store(dst[j:])
	}
	goF16ToF32(dst[j:], src[j:])
}

func avx2BF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	j := 0
	for ; j+8 <= len(src); j += 8 {
		bf2f8(archsimd.LoadUint16x8(src[j:]).ExtendToUint32()).Store(dst[j:])
	}
	goBF16ToF32(dst[j:], src[j:])
}

// exp8 is Exp on 8 lanes (see exp16).
func exp8(x f32x8) f32x8 {
	keep := x.GreaterEqual(lf8(&cExpLo))
	x = x.Min(lf8(&cExpHi)).Max(lf8(&cExpLo))
	n := x.MulAdd(lf8(&cLog2e), lf8(&cMagic)).Sub(lf8(&cMagic))
	r := n.MulAdd(lf8(&cLn2Hi), x)
	r = n.MulAdd(lf8(&cLn2Lo), r)
	p := lf8(&cExpC[0]).MulAdd(r, lf8(&cExpC[1]))
	p = p.MulAdd(r, lf8(&cExpC[2]))
	p = p.MulAdd(r, lf8(&cExpC[3]))
	p = p.MulAdd(r, lf8(&cExpC[4]))
	p = p.MulAdd(r, lf8(&cExpC[5]))
	p = p.Mul(r).MulAdd(r, r).Add(lf8(&cOne))
	pow := n.ConvertToInt32().AsUint32x8().Add(ldu8(&cBias127)).ShiftAllLeft(23).BitsToFloat32()
	return p.Mul(pow).Masked(keep)
}

func avx2ExpSum(x []float32, max float32) float32 {
	mv := archsimd.BroadcastFloat32x8(max)
	var acc f32x8
	j := 0
	for ; j+8 <= len(x); j += 8 {
		e := exp8(archsimd.LoadFloat32x8(x[j:]).Sub(mv))
		e.Store(x[j:])
		acc = acc.Add(e)
	}
	// The last len(x)%8 values in one masked vector, as avx512ExpSum's
	// tail (the same reasons, the same change of bits).
	if k := len(x) - j; k > 0 {
		keep := archsimd.LoadInt32x8Array(&lane8).Less(archsimd.BroadcastInt32x8(int32(k)))
		v, _ := archsimd.LoadFloat32x8Part(x[j:])
		e := exp8(v.Sub(mv)).Masked(keep)
		e.StorePart(x[j:])
		acc = acc.Add(e)
	}
	return hsum8(acc)
}

// lane8 is each lane's index.
var lane8 = [8]int32{0, 1, 2, 3, 4, 5, 6, 7}

func avx2SiLUMul(a, b []float32) {
	b = b[:len(a)]
	var zero f32x8
	j := 0
	for ; j+8 <= len(a); j += 8 {
		v := archsimd.LoadFloat32x8(a[j:])
		e := exp8(zero.Sub(v))
		v.Mul(archsimd.LoadFloat32x8(b[j:])).Div(e.Add(lf8(&cOne))).Store(a[j:])
	}
	goSiLUMul(a[j:], b[j:])
}

// avx2Gemm is avx512Gemm at 8 lanes, with plain horizontal sums.
func avx2Gemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	vec := k &^ 7
	if vec == 0 {
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
			avx2Gemm4x4(&out, unsafe.Pointer(&a[i*lda]), unsafe.Pointer(&b[j*ldb]), uintptr(lda)*4, uintptr(ldb)*4, vec)
			for r := 0; r < 4; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				for s := 0; s < 4; s++ {
					c[(i+r)*ldc+j+s] = out[r*4+s] + goDot(ar[vec:], b[(j+s)*ldb+vec:(j+s)*ldb+k])
				}
			}
		}
		for ; j < n; j++ {
			for r := 0; r < 4; r++ {
				c[(i+r)*ldc+j] = avx2Dot(a[(i+r)*lda:(i+r)*lda+k], b[j*ldb:j*ldb+k])
			}
		}
	}
	for ; i < m; i++ {
		if ldb == k {
			avx2RowsF32(c[i*ldc:i*ldc+n], b[:n*k], k, a[i*lda:i*lda+k])
			continue
		}
		for j := 0; j < n; j++ {
			c[i*ldc+j] = avx2Dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
		}
	}
}

//go:noinline
func avx2Gemm4x4(out *[16]float32, a, b unsafe.Pointer, lda, ldb uintptr, n int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 f32x8
	var c20, c21, c22, c23, c30, c31, c32, c33 f32x8
	for o := uintptr(0); o < uintptr(n)*4; o += 32 {
		bo, ao := unsafe.Add(b, o), unsafe.Add(a, o)
		w0, w1 := ldf8(bo), ldf8(unsafe.Add(bo, ldb))
		w2, w3 := ldf8(unsafe.Add(bo, 2*ldb)), ldf8(unsafe.Add(bo, 3*ldb))
		x := ldf8(ao)
		c00, c01, c02, c03 = w0.MulAdd(x, c00), w1.MulAdd(x, c01), w2.MulAdd(x, c02), w3.MulAdd(x, c03)
		x = ldf8(unsafe.Add(ao, lda))
		c10, c11, c12, c13 = w0.MulAdd(x, c10), w1.MulAdd(x, c11), w2.MulAdd(x, c12), w3.MulAdd(x, c13)
		x = ldf8(unsafe.Add(ao, 2*lda))
		c20, c21, c22, c23 = w0.MulAdd(x, c20), w1.MulAdd(x, c21), w2.MulAdd(x, c22), w3.MulAdd(x, c23)
		x = ldf8(unsafe.Add(ao, 3*lda))
		c30, c31, c32, c33 = w0.MulAdd(x, c30), w1.MulAdd(x, c31), w2.MulAdd(x, c32), w3.MulAdd(x, c33)
	}
	out[0], out[1], out[2], out[3] = hsum8(c00), hsum8(c01), hsum8(c02), hsum8(c03)
	out[4], out[5], out[6], out[7] = hsum8(c10), hsum8(c11), hsum8(c12), hsum8(c13)
	out[8], out[9], out[10], out[11] = hsum8(c20), hsum8(c21), hsum8(c22), hsum8(c23)
	out[12], out[13], out[14], out[15] = hsum8(c30), hsum8(c31), hsum8(c32), hsum8(c33)
}

// avx2Max is the largest of x, eight lanes at a time: exact, so it is the
// scalar loop's value (±0 aside, which exp(x-max) does not tell apart).
func avx2Max(x []float32) float32 {
	j, m := 0, x[0]
	if len(x) >= 16 {
		v := archsimd.LoadFloat32x8(x[0:])
		for j = 8; j+8 <= len(x); j += 8 {
			v = v.Max(archsimd.LoadFloat32x8(x[j:]))
		}
		var lanes [8]float32
		v.Store(lanes[:])
		m = lanes[0]
		for _, l := range lanes[1:] {
			if l > m {
				m = l
			}
		}
	}
	for _, l := range x[j:] {
		if l > m {
			m = l
		}
	}
	return m
}
