//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// avx512Gemm computes the dot products of m rows of a with n rows of b over k
// values in 4×4 register blocks: per 16 values of k the kernel loads 4+4
// vectors and issues 16 FMAs into 16 accumulators that stay in registers.
// Blocks are visited row-block of a by row-block of b, so the 4 rows of a
// stay in L1 while the rows of b stream from L2. The (k mod 16) tail is
// scalar.
func avx512Gemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	vec := k &^ 15
	if vec == 0 {
		goGemm(c, ldc, a, lda, b, ldb, m, n, k)
		return
	}
	// Everything the kernels read, checked once.
	a, b = a[:(m-1)*lda+k], b[:(n-1)*ldb+k]
	c = c[:(m-1)*ldc+n]
	var out [16]float32
	i := 0
	for ; i+4 <= m; i += 4 {
		ap := unsafe.Pointer(&a[i*lda])
		j := 0
		for ; j+4 <= n; j += 4 {
			gemm4x4(&out, ap, unsafe.Pointer(&b[j*ldb]), uintptr(lda)*4, uintptr(ldb)*4, vec)
			for r := 0; r < 4; r++ {
				ar := a[(i+r)*lda : (i+r)*lda+k]
				for s := 0; s < 4; s++ {
					c[(i+r)*ldc+j+s] = out[r*4+s] + goDot(ar[vec:], b[(j+s)*ldb+vec:(j+s)*ldb+k])
				}
			}
		}
		for ; j < n; j++ {
			bj := b[j*ldb : j*ldb+k]
			for r := 0; r < 4; r++ {
				c[(i+r)*ldc+j] = avx512Dot(a[(i+r)*lda:(i+r)*lda+k], bj)
			}
		}
	}
	for ; i < m; i++ {
		avx512RowsF32(c[i*ldc:i*ldc+n], b, ldb, a[i*lda:i*lda+k])
	}
}

//go:noinline
func gemm4x4(out *[16]float32, a, b unsafe.Pointer, lda, ldb uintptr, n int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 f32x16
	var c20, c21, c22, c23, c30, c31, c32, c33 f32x16
	for ; n > 0; n -= 16 {
		w0 := ldf(b)
		w1 := ldf(unsafe.Add(b, ldb))
		w2 := ldf(unsafe.Add(b, 2*ldb))
		w3 := ldf(unsafe.Add(b, 3*ldb))
		x := ldf(a)
		c00, c01, c02, c03 = w0.MulAdd(x, c00), w1.MulAdd(x, c01), w2.MulAdd(x, c02), w3.MulAdd(x, c03)
		x = ldf(unsafe.Add(a, lda))
		c10, c11, c12, c13 = w0.MulAdd(x, c10), w1.MulAdd(x, c11), w2.MulAdd(x, c12), w3.MulAdd(x, c13)
		x = ldf(unsafe.Add(a, 2*lda))
		c20, c21, c22, c23 = w0.MulAdd(x, c20), w1.MulAdd(x, c21), w2.MulAdd(x, c22), w3.MulAdd(x, c23)
		x = ldf(unsafe.Add(a, 3*lda))
		c30, c31, c32, c33 = w0.MulAdd(x, c30), w1.MulAdd(x, c31), w2.MulAdd(x, c32), w3.MulAdd(x, c33)
		a, b = unsafe.Add(a, 64), unsafe.Add(b, 64)
	}
	out[0], out[1], out[2], out[3] = hsum16(c00), hsum16(c01), hsum16(c02), hsum16(c03)
	out[4], out[5], out[6], out[7] = hsum16(c10), hsum16(c11), hsum16(c12), hsum16(c13)
	out[8], out[9], out[10], out[11] = hsum16(c20), hsum16(c21), hsum16(c22), hsum16(c23)
	out[12], out[13], out[14], out[15] = hsum16(c30), hsum16(c31), hsum16(c32), hsum16(c33)
}
