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
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	for i := range y {
		row := w[i*cols : (i+1)*cols]
		if vec == 0 {
			y[i] = goDotF16(x, row)
			continue
		}
		y[i] = f16DotZ(&x[0], &row[0], vec)
		if vec < cols {
			y[i] += goDotF16(x[vec:], row[vec:])
		}
	}
}

func avx512RowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	for i := range y {
		row := w[i*cols : (i+1)*cols]
		if vec == 0 {
			y[i] = goDotBF16(x, row)
			continue
		}
		y[i] = bf16DotZ(&x[0], &row[0], vec)
		if vec < cols {
			y[i] += goDotBF16(x[vec:], row[vec:])
		}
	}
}
