//go:build goexperiment.simd

package kern

// neonImpl is the arm64 set. Advanced SIMD is part of the arm64 baseline
// (every Apple Silicon and arm64 Linux CPU has it), so the router needs no
// CPU check.
var neonImpl = &impl{
	name:       "neon",
	rowsF32:    neonRowsF32,
	rowsF16:    neonRowsF16,
	rowsBF16:   neonRowsBF16,
	rowsQ8:     neonRowsQ8,
	rowsQ4:     neonRowsQ4,
	batchQ:     neonBatchQ,
	prepQ:      neonPrepQ,
	dequant:    neonDequant,
	f16ToF32:   neonF16ToF32,
	finiteF16:  goFiniteF16,
	bf16ToF32:  neonBF16ToF32,
	gemm:       neonGemm,
	dot:        neonDot,
	axpy:       neonAxpy,
	scale:      neonScale,
	expSum:     neonExpSum,
	sumSq:      neonSumSq,
	mulInto:    neonMulInto,
	siluMul:    neonSiLUMul,
	softcap:    neonSoftcap,
	dotF16:     neonDotF16,
	attnScores: neonAttnScores,
	attnValues: neonAttnValues,
	axpyF16:    neonAxpyF16,
}

// impls lists the kernel sets this build can run, slowest first.
func impls() []*impl { return []*impl{goImpl, neonImpl} }

func init() { active = neonImpl }
