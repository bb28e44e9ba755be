//go:build goexperiment.simd && amd64

package kern

import "unsafe"

// Attention over a half KV cache on AVX-512 (avx512_attnf16_amd64.s): the
// AVX2 kernels of avx2_attnf16.go with zmm registers, sixteen halves per
// conversion and per FMA, for head sizes that are a multiple of 16 (others
// take the AVX2 kernels). Scores reduce each position's 16 lanes by one
// tree (RED4: 128-bit chunks (c0+c2)+(c1+c3), then that sum's lanes
// (l0+l2)+(l1+l3)), four positions at a time with shuffles instead of
// horizontal adds, and a lone position by the same tree, so its score is
// the same bits wherever it falls in a call. Values run one FMA per
// position and lane in position order as the AVX2 kernels: the same bits.

//go:noescape
func z16Scores(s *float32, q *float32, k *uint16, stride, n, hd int)

//go:noescape
func z16Values(out *float32, w *float32, v *uint16, stride, n, hd int)

//go:noescape
func z16Scores3(s *float32, ns int, q *float32, qs int, k *uint16, stride, n, hd int, next *uint16)

//go:noescape
func z16Values3(out *float32, os int, w *float32, ws int, v *uint16, stride, n, hd int, next *uint16)

// avx512AttnScoresF16 is attnScoresF16 through z16Scores.
func avx512AttnScoresF16(s, q []float32, k []uint16, stride int) {
	hd := len(q)
	if hd%16 != 0 {
		avx2AttnScoresF16(s, q, k, stride)
		return
	}
	if len(s) == 0 {
		return
	}
	_ = k[(len(s)-1)*stride+hd-1]
	z16Scores(&s[0], &q[0], &k[0], stride, len(s), hd)
}

// avx512AttnValuesF16 is attnValuesF16 through z16Values.
func avx512AttnValuesF16(out, w []float32, v []uint16, stride int) {
	hd := len(out)
	if hd%16 != 0 {
		avx2AttnValuesF16(out, w, v, stride)
		return
	}
	if len(w) == 0 {
		return
	}
	_ = v[(len(w)-1)*stride+hd-1]
	z16Values(&out[0], &w[0], &v[0], stride, len(w), hd)
}

// avx512AttnScoresF16x3 is attnScoresF16x3 through z16Scores3, the last
// n%4 positions of each head through z16Scores (as a one-head call would
// end).
func avx512AttnScoresF16x3(s []float32, ns, n int, q []float32, k []uint16, stride int, next []uint16) {
	hd := len(q) / 3
	if hd%16 != 0 {
		avx2AttnScoresF16x3(s, ns, n, q, k, stride, next)
		return
	}
	_ = s[2*ns+n-1]
	_ = k[(n-1)*stride+hd-1]
	n4 := n &^ 3
	if n4 > 0 {
		z16Scores3(&s[0], ns, &q[0], hd, &k[0], stride, n4, hd, unsafe.SliceData(next))
	}
	if n4 < n {
		for h := range 3 {
			z16Scores(&s[h*ns+n4], &q[h*hd], &k[n4*stride], stride, n-n4, hd)
		}
	}
}

// avx512AttnValuesF16x3 is attnValuesF16x3 through z16Values3.
func avx512AttnValuesF16x3(out, w []float32, nw, n int, v []uint16, stride int, next []uint16) {
	hd := len(out) / 3
	if hd%16 != 0 {
		avx2AttnValuesF16x3(out, w, nw, n, v, stride, next)
		return
	}
	_ = w[2*nw+n-1]
	_ = v[(n-1)*stride+hd-1]
	z16Values3(&out[0], hd, &w[0], nw, &v[0], stride, n, hd, unsafe.SliceData(next))
}
