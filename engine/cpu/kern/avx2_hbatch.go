//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX2 batched products with half-float weights (hbatch.go): rows in pairs
// through hbatch2x4, four inputs a call; the inputs past the last four and a
// last odd row take decode's row kernel, over rows that are still in cache.

//go:noescape
func hbatch2x4(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32)

func avx2BatchHalf(y []float32, m *Mat, r0, r1 int, x []float32, n int) {
	batchHalfWith(hbatch2x4, y, m, r0, r1, x, n)
}

// batchHalfWith is the batched half product through kernel, hbatch2x4's
// arguments.
func batchHalfWith(kernel func(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32),
	y []float32, m *Mat, r0, r1 int, x []float32, n int) {
	cols, rows := m.Cols, m.Rows
	bf := m.DType == BF16
	var out [8]float32
	r := r0
	for ; r+1 < r1 && (bf || hasF16C); r += 2 { // the kernel widens F16 by F16C
		w := unsafe.Pointer(&m.U16[r*cols])
		j := 0
		for ; j+4 <= n; j += 4 {
			kernel(w, 2*cols, &x[j*cols], 4*cols, cols, bf, &out[0])
			for i := range 4 {
				y[(j+i)*rows+r] = out[i]
				y[(j+i)*rows+r+1] = out[4+i]
			}
		}
		for ; j < n; j++ {
			halfRows(y[j*rows+r:j*rows+r+2], m, r, x[j*cols:(j+1)*cols])
		}
	}
	for ; r < r1; r++ {
		for j := range n {
			halfRows(y[j*rows+r:j*rows+r+1], m, r, x[j*cols:(j+1)*cols])
		}
	}
}
