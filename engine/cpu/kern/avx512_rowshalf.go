//go:build goexperiment.simd && amd64

package kern

// F16 and BF16 decode rows on AVX-512 (avx512_rowshalf_amd64.s): the AVX2
// set's one-row-at-a-time kernels with zmm conversions and FMAs, the same
// bits.

//go:noescape
func f16DotZ(x *float32, w *uint16, n int) float32

//go:noescape
func bf16DotZ(x *float32, w *uint16, n int) float32

func avx512RowsF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	avx512RowsHalf(y, w, cols, x, false)
}

func avx512RowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	avx512RowsHalf(y, w, cols, x, true)
}

// avx512RowsHalf calls the kernels directly, not through function values:
// an assembly function called through one goes through an ABI wrapper on
// every row.
func avx512RowsHalf(y []float32, w []uint16, cols int, x []float32, bf16 bool) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	for i := range y {
		row := w[i*cols : (i+1)*cols]
		var d float32
		switch {
		case vec == 0:
		case bf16:
			d = bf16DotZ(&x[0], &row[0], vec)
		default:
			d = f16DotZ(&x[0], &row[0], vec)
		}
		if vec < cols {
			if bf16 {
				d += goDotBF16(x[vec:], row[vec:])
			} else {
				d += goDotF16(x[vec:], row[vec:])
			}
		}
		y[i] = d
	}
}
