package kern

// Plain-Go inner loops: the fallback for builds without GOEXPERIMENT=simd or
// CPUs without AVX2, and the second implementation every SIMD set is tested
// against. Four independent accumulators keep the FPU pipelined.

var goImpl = &impl{
	name:       "go",
	rowsF32:    goRowsF32,
	rowsF16:    goRowsF16,
	rowsBF16:   goRowsBF16,
	rowsQ8:     goRowsQ8,
	rowsQ4:     goRowsQ4,
	batchQ:     goBatchQ,
	dequant:    func(dst []float32, m *Mat, r int) { m.dequantRow(dst, r) },
	f16ToF32:   goF16ToF32,
	finiteF16:  goFiniteF16,
	bf16ToF32:  goBF16ToF32,
	gemm:       goGemm,
	dot:        goDot,
	axpy:       goAxpy,
	scale:      goScale,
	expSum:     goExpSum,
	sumSq:      goSumSq,
	mulInto:    goMulInto,
	siluMul:    goSiLUMul,
	softcap:    goSoftcap,
	dotF16:     goDotF16,
	attnScores: goAttnScores,
	attnValues: goAttnValues,
	axpyF16:    goAxpyF16,
}

func goDot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func goRowsF32(y, w []float32, cols int, x []float32) {
	x = x[:cols]
	for i := range y {
		y[i] = goDot(w[i*cols:(i+1)*cols], x)
	}
}

func goRowsF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	x = x[:cols]
	for i := range y {
		row := w[i*cols : (i+1)*cols]
		var s0, s1 float32
		j := 0
		for ; j+2 <= cols; j += 2 {
			s0 += F16ToF32(row[j]) * x[j]
			s1 += F16ToF32(row[j+1]) * x[j+1]
		}
		if j < cols {
			s0 += F16ToF32(row[j]) * x[j]
		}
		y[i] = s0 + s1
	}
}

func goRowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	x = x[:cols]
	for i := range y {
		row := w[i*cols : (i+1)*cols]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= cols; j += 4 {
			s0 += BF16ToF32(row[j]) * x[j]
			s1 += BF16ToF32(row[j+1]) * x[j+1]
			s2 += BF16ToF32(row[j+2]) * x[j+2]
			s3 += BF16ToF32(row[j+3]) * x[j+3]
		}
		for ; j < cols; j++ {
			s0 += BF16ToF32(row[j]) * x[j]
		}
		y[i] = (s0 + s1) + (s2 + s3)
	}
}

func goRowsQ8(y []float32, m *Mat, r0 int, in *qin) {
	xq, xsum := in.x, in.xsum
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols : (r+1)*cols]
		var acc float32
		for g := 0; g < ng; g++ {
			qg, xg := q[g*gs:(g+1)*gs], xq[g*gs:(g+1)*gs]
			var s0, s1, s2, s3 float32
			for j := 0; j < gs; j += 4 {
				s0 += float32(qg[j]) * xg[j]
				s1 += float32(qg[j+1]) * xg[j+1]
				s2 += float32(qg[j+2]) * xg[j+2]
				s3 += float32(qg[j+3]) * xg[j+3]
			}
			acc += m.Scales.At(r*ng+g)*((s0+s1)+(s2+s3)) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}

func goRowsQ4(y []float32, m *Mat, r0 int, in *qin) {
	xq, xsum := in.x, in.xsum
	cols, gs := m.Cols, m.GroupSize
	ng := cols / gs
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		var acc float32
		for g := 0; g < ng; g++ {
			qg, xg := q[g*gs/2:(g+1)*gs/2], xq[g*gs:(g+1)*gs]
			var s0, s1 float32
			for j, v := range qg {
				s0 += float32(v&15) * xg[2*j]
				s1 += float32(v>>4) * xg[2*j+1]
			}
			acc += m.Scales.At(r*ng+g)*(s0+s1) + m.Biases.At(r*ng+g)*xsum[g]
		}
		y[i] = acc
	}
}

func goF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = F16ToF32(h)
	}
}

func goBF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = BF16ToF32(h)
	}
}

func goGemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, n, k int) {
	for i := 0; i < m; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			c[i*ldc+j] = goDot(ai, b[j*ldb:j*ldb+k])
		}
	}
}

func goFiniteF16(h []uint16) bool {
	for _, v := range h {
		if v&0x7c00 == 0x7c00 {
			return false
		}
	}
	return true
}
