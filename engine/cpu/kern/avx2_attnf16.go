//go:build goexperiment.simd && amd64

package kern

// Attention over a half KV cache on AVX2 (avx2_attnf16_amd64.s). Prefill
// attends each of a chunk's queries to every earlier position: with one
// kernel call per position and head (a 64-value dot product or axpy), the
// calls, their bounds checks and the per-call reductions cost several times
// the arithmetic, a quarter of a 512-token prefill of a 0.5B model. These
// kernels walk a whole block of positions per call: scores four positions
// at a time sharing each load of q, and the weighted sum of values in
// registers across positions, 32 columns at a time. The sum runs over
// positions in order, one FMA per position and lane as axpyF16 did, so
// a cache cut into blocks gives the same bits as one block.

// f16cScores sets s[p] = q·k[p·stride:p·stride+hd] for p < n; hd is a
// multiple of 8.
//
//go:noescape
func f16cScores(s *float32, q *float32, k *uint16, stride, n, hd int)

// f16cValues adds Σ_p w[p]·v[p·stride:p·stride+hd] to out (hd values, a
// multiple of 8) for p < n.
//
//go:noescape
func f16cValues(out *float32, w *float32, v *uint16, stride, n, hd int)

// avx2AttnScoresF16 is attnScoresF16 through f16cScores: k holds the n =
// len(s) rows, the last one ending at len(q).
func avx2AttnScoresF16(s, q []float32, k []uint16, stride int) {
	hd := len(q)
	if len(s) == 0 {
		return
	}
	_ = k[(len(s)-1)*stride+hd-1]
	if !hasF16C || hd%8 != 0 {
		goAttnScoresF16(s, q, k, stride)
		return
	}
	f16cScores(&s[0], &q[0], &k[0], stride, len(s), hd)
}

// avx2AttnValuesF16 is attnValuesF16 through f16cValues.
func avx2AttnValuesF16(out, w []float32, v []uint16, stride int) {
	hd := len(out)
	if len(w) == 0 {
		return
	}
	_ = v[(len(w)-1)*stride+hd-1]
	if !hasF16C || hd%8 != 0 {
		goAttnValuesF16(out, w, v, stride)
		return
	}
	f16cValues(&out[0], &w[0], &v[0], stride, len(w), hd)
}
