//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// AVX-512 batched products with half-float weights (hbatch.go): four weight
// rows a call against up to six inputs (hbatch4xKZ,
// avx512_hbatchk_amd64.s), the n inputs split into as few calls as
// possible of as even a size, so that a step never runs an input alone
// while others share the weights (before, inputs past a block of four
// took decode's row kernel one by one: n = 2, 3 ran no faster than n
// products). The four rows, 4·cols·2 bytes, stay in L1/L2 from one call to
// the next. Every output is hbatch2x4Z's bits (the same FMAs into the same
// 16 lanes, summed in its order); rows past the last four take decode's
// row kernel.

//go:noescape
func hbatch2x4Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, out *float32)

//go:noescape
func hbatch4x1Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

//go:noescape
func hbatch4x2Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

//go:noescape
func hbatch4x3Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

//go:noescape
func hbatch4x4Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

//go:noescape
func hbatch4x5Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

//go:noescape
func hbatch4x6Z(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int)

// hbatch4Z[k] is the kernel for k inputs.
var hbatch4Z = [...]func(w unsafe.Pointer, ldw int, x *float32, ldx, cols int, bf16 bool, y *float32, ldy int){
	nil, hbatch4x1Z, hbatch4x2Z, hbatch4x3Z, hbatch4x4Z, hbatch4x5Z, hbatch4x6Z,
}

// hbatch4MaxInputs is the most inputs one hbatch4xKZ call takes: 4K
// accumulators, four widened rows and two input registers fill the 32 zmm.
const hbatch4MaxInputs = len(hbatch4Z) - 1

// avx512BatchHalf is the batched half product for columns a multiple of
// 16 (else the AVX2 kernel's).
func avx512BatchHalf(y []float32, m *Mat, r0, r1 int, x []float32, n int) {
	if m.Cols%16 != 0 || (m.DType == F16 && !hasF16C) {
		avx2BatchHalf(y, m, r0, r1, x, n)
		return
	}
	cols, rows := m.Cols, m.Rows
	bf := m.DType == BF16
	_ = y[(n-1)*rows+r1-1] // every store below is inside y
	_ = x[n*cols-1]
	r := r0
	for ; r+4 <= r1; r += 4 {
		w := unsafe.Pointer(&m.U16[r*cols])
		j := 0
		for calls := (n + hbatch4MaxInputs - 1) / hbatch4MaxInputs; calls > 0; calls-- {
			k := (n - j + calls - 1) / calls
			hbatch4Z[k](w, 2*cols, &x[j*cols], 4*cols, cols, bf, &y[j*rows+r], 4*rows)
			j += k
		}
	}
	for ; r < r1; r++ {
		for j := range n {
			halfRows(y[j*rows+r:j*rows+r+1], m, r, x[j*cols:(j+1)*cols])
		}
	}
}
