//go:build goexperiment.simd && amd64

package kern

import "simd/archsimd"

var avx512Impl = &impl{
	name:       "avx512",
	rowsF32:    avx512RowsF32,
	rowsF16:    avx512RowsF16,
	rowsBF16:   avx512RowsBF16,
	rowsQ8:     avx512RowsQ8,
	rowsQ4:     avx512RowsQ4,
	prepQ:      avx512PrepQ,
	rowsQ8i:    avx512RowsQ8i,
	rowsQ4i:    avx512RowsQ4i,
	qintGroup:  avx2QintGroup,
	dequant:    avx512Dequant,
	f16ToF32:   avx512F16ToF32,
	finiteF16:  avx512FiniteF16,
	bf16ToF32:  avx512BF16ToF32,
	gemm:       avx512Gemm,
	dot:        avx512Dot,
	axpy:       avx512Axpy,
	scale:      avx512Scale,
	expSum:     avx512ExpSum,
	sumSq:      avx512SumSq,
	mulInto:    avx512MulInto,
	siluMul:    avx512SiLUMul,
	softcap:    avx512Softcap,
	dotF16:     avx512DotF16,
	attnScores: avx512AttnScores,
	attnValues: avx512AttnValues,
	axpyF16:    avx512AxpyF16,

	// Packed prefill (gemm.go, avx512_pack.go). On Zen 5 an 8-token
	// kernel would issue as many FMAs as the 16-token one (ymm and zmm
	// FMAs have the same throughput), so a short last panel runs the full
	// kernel over its zero tokens. micro2 runs two panels at once (each
	// broadcast weight feeds two FMAs: hot block 199-205 → 228
	// cpu-GFLOP/s).
	micro:        gemm12x16,
	microHalf:    gemm12x16,
	micro2:       gemm12x32,
	mr:           12,
	packRow:      avx512PackRow,
	tileStore:    tile12x16T,
	prefetchRows: prefetchRows,
	packPanel:    avx2PackPanel,
	igemm:        avx512Igemm(), // int16 inputs (igemm.go) where the CPU has VNNI

	// Batched decode (qbatch.go, hbatch.go, avx512_qbatch.go).
	batchQ:  avx2BatchQ,
	batchQi: avx512BatchQi,
	// Inputs laid out only for the kernels that read them: qbatch.xt for
	// the lane kernel, which the VNNI set's lane2 and quad kernels take the
	// place of (batchAsm), qbatch.xb for the quad kernels (VNNI).
	batchXT: avx512QB.lane2 == nil,
	prepXB:  avx512PrepXB,
	pairXW:  avx512PairXW,
	// With the quad kernels a padded block of eight beats the four-input one
	// and a lone row for five to seven inputs, and the lone rows kernel
	// beats the small batched kernels for one to three (design.md).
	qbatchPad:  avx512QuadPad(),
	qbatchLone: avx512QB.quad != nil,
	batchHalf:  avx512BatchHalf,
	// hbatch4xKZ against the packed path (BenchmarkMatMulBatch, design.md).
	halfBatchMax: 16,

	// Decode's attention over an F16 cache (attnf16.go).
	maxOf: avx2Max,

	// zmm versions of the AVX2 kernels (avx512_attnf16.go, design.md).
	attnScoresF16:   avx512AttnScoresF16,
	attnValuesF16:   avx512AttnValuesF16,
	attnScoresF16x3: avx512AttnScoresF16x3,
	attnValuesF16x3: avx512AttnValuesF16x3,
	f32ToF16:        avx2F32ToF16,
}

var avx2Impl = &impl{
	name:       "avx2",
	rowsF32:    avx2RowsF32,
	rowsF16:    avx2RowsF16,
	rowsBF16:   avx2RowsBF16,
	rowsQ8:     avx2RowsQ8,
	rowsQ4:     avx2RowsQ4,
	prepQ:      avx2PrepQ,
	rowsQ8i:    avx2RowsQ8i,
	rowsQ4i:    avx2RowsQ4i,
	qintGroup:  avx2QintGroup,
	batchQ:     avx2BatchQ,
	batchQi:    avx2BatchQi,
	batchXT:    true,
	batchHalf:  avx2BatchHalf,
	dequant:    func(dst []float32, m *Mat, r int) { m.dequantRow(dst, r) },
	f16ToF32:   avx2F16ToF32,
	finiteF16:  goFiniteF16,
	bf16ToF32:  avx2BF16ToF32,
	gemm:       avx2Gemm,
	micro:      gemm6x16,
	microHalf:  gemm6x8,
	mr:         6,
	packRow:    avx2PackRow,
	tileStore:  tile6x16T,
	i8q4:       i8q4x4x8,
	dot:        avx2Dot,
	axpy:       avx2Axpy,
	scale:      avx2Scale,
	expSum:     avx2ExpSum,
	maxOf:      avx2Max,
	sumSq:      avx2SumSq,
	mulInto:    avx2MulInto,
	siluMul:    avx2SiLUMul,
	softcap:    avx2Softcap,
	dotF16:     avx2DotF16,
	attnScores: goAttnScores,
	attnValues: goAttnValues,
	axpyF16:    avx2AxpyF16,

	attnScoresF16: avx2AttnScoresF16,
	prefetchRows:  prefetchRows,
	packPanel:     avx2PackPanel,
	f32ToF16:      avx2F32ToF16,
	attnValuesF16: avx2AttnValuesF16,

	attnScoresF16x3: avx2AttnScoresF16x3,
	attnValuesF16x3: avx2AttnValuesF16x3,
}

// impls lists the kernel sets this CPU can run, slowest first.
func impls() []*impl {
	s := []*impl{goImpl}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		s = append(s, avx2Impl)
	}
	if archsimd.X86.AVX512() {
		s = append(s, avx512Impl)
	}
	return s
}

func init() {
	s := impls()
	active = s[len(s)-1]
}
