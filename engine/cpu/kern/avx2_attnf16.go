//go:build goexperiment.simd && amd64

package kern

import "unsafe"

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

//go:noescape
func f16cScores3(s *float32, ns int, q *float32, qs int, k *uint16, stride, n, hd int, next *uint16)

//go:noescape
func f16cValues3(out *float32, os int, w *float32, ws int, v *uint16, stride, n, hd int, next *uint16)

// avx2AttnScoresF16x3 is attnScoresF16x3 through f16cScores3, the last
// n%4 positions of each head through f16cScores (as a one-head call
// would end).
func avx2AttnScoresF16x3(s []float32, ns, n int, q []float32, k []uint16, stride int, next []uint16) {
	hd := len(q) / 3
	_ = s[2*ns+n-1]
	_ = k[(n-1)*stride+hd-1]
	if !hasF16C || hd%8 != 0 {
		for h := range 3 {
			avx2AttnScoresF16(s[h*ns:h*ns+n], q[h*hd:(h+1)*hd], k, stride)
		}
		return
	}
	n4 := n &^ 3
	if n4 > 0 {
		f16cScores3(&s[0], ns, &q[0], hd, &k[0], stride, n4, hd, unsafe.SliceData(next))
	}
	if n4 < n {
		for h := range 3 {
			f16cScores(&s[h*ns+n4], &q[h*hd], &k[n4*stride], stride, n-n4, hd)
		}
	}
}

// avx2AttnValuesF16x3 is attnValuesF16x3 through f16cValues3.
func avx2AttnValuesF16x3(out, w []float32, nw, n int, v []uint16, stride int, next []uint16) {
	hd := len(out) / 3
	_ = w[2*nw+n-1]
	_ = v[(n-1)*stride+hd-1]
	if !hasF16C || hd%16 != 0 {
		for h := range 3 {
			avx2AttnValuesF16(out[h*hd:(h+1)*hd], w[h*nw:h*nw+n], v, stride)
		}
		return
	}
	f16cValues3(&out[0], hd, &w[0], nw, &v[0], stride, n, hd, unsafe.SliceData(next))
}

//go:noescape
func f16cFromF32(dst *uint16, src *float32, n int) bool

// avx2F32ToF16 converts src to halves in dst as F32ToF16 does, eight at a
// time through F16C; false when it cannot give F32ToF16's bits (no F16C,
// or a NaN), then the caller converts one value at a time.
func avx2F32ToF16(dst []uint16, src []float32) bool {
	n := len(src) &^ 7
	if !hasF16C || len(dst) < len(src) {
		return false
	}
	if n > 0 && !f16cFromF32(&dst[0], &src[0], n) {
		return false
	}
	for i := n; i < len(src); i++ {
		dst[i] = F32ToF16(src[i])
	}
	return true
}
