//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

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
	for ; i < m && m >= 4; i += 4 {
		// The last block of rows of a overlaps the one before it rather
		// than leaving a tail for another kernel: a row's results are then
		// the same bits wherever it falls in a, so a prompt prefilled in
		// chunks (or resumed from a cached prefix) gives the logits of one
		// prefilled at once.
		i = min(i, m-4)
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
		if ldb == k {
			avx512RowsF32(c[i*ldc:i*ldc+n], b[:n*k], k, a[i*lda:i*lda+k])
			continue
		}
		for j := 0; j < n; j++ {
			c[i*ldc+j] = avx512Dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k])
		}
	}
}

//go:noinline
func gemm4x4(out *[16]float32, a, b unsafe.Pointer, lda, ldb uintptr, n int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 f32x16
	var c20, c21, c22, c23, c30, c31, c32, c33 f32x16
	for o := uintptr(0); o < uintptr(n)*4; o += 64 {
		bo, ao := unsafe.Add(b, o), unsafe.Add(a, o)
		w0 := ldf(bo)
		w1 := ldf(unsafe.Add(bo, ldb))
		w2 := ldf(unsafe.Add(bo, 2*ldb))
		w3 := ldf(unsafe.Add(bo, 3*ldb))
		x := ldf(ao)
		c00, c01, c02, c03 = w0.MulAdd(x, c00), w1.MulAdd(x, c01), w2.MulAdd(x, c02), w3.MulAdd(x, c03)
		x = ldf(unsafe.Add(ao, lda))
		c10, c11, c12, c13 = w0.MulAdd(x, c10), w1.MulAdd(x, c11), w2.MulAdd(x, c12), w3.MulAdd(x, c13)
		x = ldf(unsafe.Add(ao, 2*lda))
		c20, c21, c22, c23 = w0.MulAdd(x, c20), w1.MulAdd(x, c21), w2.MulAdd(x, c22), w3.MulAdd(x, c23)
		x = ldf(unsafe.Add(ao, 3*lda))
		c30, c31, c32, c33 = w0.MulAdd(x, c30), w1.MulAdd(x, c31), w2.MulAdd(x, c32), w3.MulAdd(x, c33)
	}
	p := &reduce
	l0, l1 := archsimd.LoadUint32x16(p[0][0][:]), archsimd.LoadUint32x16(p[0][1][:])
	v0, v1 := fold(c00, c01, l0, l1), fold(c02, c03, l0, l1)
	v2, v3 := fold(c10, c11, l0, l1), fold(c12, c13, l0, l1)
	v4, v5 := fold(c20, c21, l0, l1), fold(c22, c23, l0, l1)
	v6, v7 := fold(c30, c31, l0, l1), fold(c32, c33, l0, l1)
	l0, l1 = archsimd.LoadUint32x16(p[1][0][:]), archsimd.LoadUint32x16(p[1][1][:])
	v0, v1, v2, v3 = fold(v0, v1, l0, l1), fold(v2, v3, l0, l1), fold(v4, v5, l0, l1), fold(v6, v7, l0, l1)
	l0, l1 = archsimd.LoadUint32x16(p[2][0][:]), archsimd.LoadUint32x16(p[2][1][:])
	v0, v1 = fold(v0, v1, l0, l1), fold(v2, v3, l0, l1)
	l0, l1 = archsimd.LoadUint32x16(p[3][0][:]), archsimd.LoadUint32x16(p[3][1][:])
	fold(v0, v1, l0, l1).StoreArray(out)
}

// fold adds pairs of lanes: lanes 0-7 of the result come from x and 8-15
// from y, each half made of blocks of b sums of the two halves of a block of
// 2b lanes. Four folds (b = 8, 4, 2, 1) turn 16 accumulators into their 16
// dot products, in order, for a tenth of the work of 16 horizontal sums.
func fold(x, y f32x16, lo, hi archsimd.Uint32x16) f32x16 {
	return x.ConcatPermute(y, lo).Add(x.ConcatPermute(y, hi))
}

// reduce holds the permutations of fold for b = 8, 4, 2, 1: lane i of the
// result adds lanes lo[i] and hi[i] of x‖y.
var reduce = func() (p [4][2][16]uint32) {
	for lvl, b := range []int{8, 4, 2, 1} {
		for i := 0; i < 16; i++ {
			half, k := i/8, i%8 // 0: from x, 1: from y (lanes 16-31 of x‖y)
			src := 16*half + (k/b)*2*b + k%b
			p[lvl][0][i], p[lvl][1][i] = uint32(src), uint32(src+b)
		}
	}
	return p
}()
