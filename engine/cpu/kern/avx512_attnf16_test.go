package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAttnF16Kernels checks every set's attention kernels over a half
// cache (one head and three heads sharing the rows) against float64 over
// the decoded halves, within 2e-5 of the reference's RMS; that the three-
// head kernels give the bits of one call per head; and that a block of
// positions cut anywhere gives the bits of one call (scores: a position's
// score whatever its place in a call; values: the sum running on across
// calls). Head sizes 64 and 128 take the AVX-512 kernels, 80 and 96 their
// 64+16 and 64+16+16 column paths, 40 and 24 the AVX2 fallback; n from 1
// to past 64 with every n%4; rows strided wider than the head.
func TestAttnF16Kernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 12))
		for _, hd := range []int{64, 128, 80, 96, 40, 24} {
			for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33, 64, 70, 131} {
				t.Run(fmt.Sprintf("hd%d/n%d", hd, n), func(t *testing.T) {
					checkAttnF16(t, rng, hd, n)
				})
			}
		}
	})
}

func checkAttnF16(t *testing.T, rng *rand.Rand, hd, n int) {
	stride := 3*hd + 16 // as a cache of three KV heads, padded
	rows := make([]uint16, n*stride)
	for i := range rows {
		rows[i] = F32ToF16(float32(rng.NormFloat64()))
	}
	k := rows[:(n-1)*stride+hd]
	q := randVec(rng, 3*hd)
	ns := n + 3 // the heads' scores need not be adjacent
	w := randVec(rng, 3*ns)
	out0 := randVec(rng, 3*hd)

	// float64 references
	refS := make([]float64, 3*ns)
	refV := make([]float64, 3*hd)
	for h := range 3 {
		for p := range n {
			var d float64
			for i := range hd {
				d += float64(q[h*hd+i]) * refF16(k[p*stride+i])
			}
			refS[h*ns+p] = d
		}
		for i := range hd {
			d := float64(out0[h*hd+i])
			for p := range n {
				d += float64(w[h*ns+p]) * refF16(k[p*stride+i])
			}
			refV[h*hd+i] = d
		}
	}
	within := func(what string, got []float32, want []float64, skip func(i int) bool) {
		t.Helper()
		var ss float64
		m := 0
		for i, v := range want {
			if !skip(i) {
				ss += v * v
				m++
			}
		}
		tol := 2e-5 * math.Sqrt(ss/float64(m))
		for i, v := range want {
			if !skip(i) && math.Abs(float64(got[i])-v) > tol {
				t.Fatalf("%s[%d] = %v, float64 %v (tolerance %.3g)", what, i, got[i], v, tol)
			}
		}
	}
	gapS := func(i int) bool { return i%ns >= n }
	none := func(int) bool { return false }

	// one head at a time
	one := make([]float32, 3*ns)
	oneV := slices.Clone(out0)
	for h := range 3 {
		attnScoresF16(one[h*ns:h*ns+n], q[h*hd:(h+1)*hd], k, stride)
		attnValuesF16(oneV[h*hd:(h+1)*hd], w[h*ns:h*ns+n], k, stride)
	}
	within("scores", one, refS, gapS)
	within("values", oneV, refV, none)

	// three heads at a time: the same bits
	if active.attnScoresF16x3 != nil {
		got := make([]float32, 3*ns)
		active.attnScoresF16x3(got, ns, n, q, k, stride, nil)
		for i := range got {
			if !gapS(i) && got[i] != one[i] {
				t.Fatalf("three heads: score %d is %v, one head at a time %v", i, got[i], one[i])
			}
		}
	}
	if active.attnValuesF16x3 != nil {
		got := slices.Clone(out0)
		active.attnValuesF16x3(got, w, ns, n, k, stride, nil)
		if !slices.Equal(got, oneV) {
			t.Fatalf("three heads: values %v, one head at a time %v", got[:4], oneV[:4])
		}
	}

	// cut in blocks at a random place (and at 1 and n-1): the same bits
	for _, cut := range []int{1 + rng.IntN(n), 1, n - 1} {
		if cut <= 0 || cut >= n {
			continue
		}
		s := make([]float32, ns)
		attnScoresF16(s[:cut], q[:hd], k, stride)
		attnScoresF16(s[cut:n], q[:hd], k[cut*stride:], stride)
		if !slices.Equal(s[:n], one[:n]) {
			t.Fatalf("cut at %d: scores %v, one call %v", cut, s[:n], one[:n])
		}
		v := slices.Clone(out0[:hd])
		attnValuesF16(v, w[:cut], k, stride)
		attnValuesF16(v, w[cut:n], k[cut*stride:], stride)
		if !slices.Equal(v, oneV[:hd]) {
			t.Fatalf("cut at %d: values differ from one call", cut)
		}
		if active.attnScoresF16x3 != nil {
			s3 := make([]float32, 3*ns)
			active.attnScoresF16x3(s3, ns, cut, q, k, stride, k[cut*stride:]) // prefetching on into the rest
			active.attnScoresF16x3(s3[cut:], ns, n-cut, q, k[cut*stride:], stride, k)
			for i := range s3 {
				if !gapS(i) && s3[i] != one[i] {
					t.Fatalf("three heads cut at %d: score %d is %v, one call %v", cut, i, s3[i], one[i])
				}
			}
		}
		if active.attnValuesF16x3 != nil {
			v3 := slices.Clone(out0)
			active.attnValuesF16x3(v3, w, ns, cut, k, stride, k[cut*stride:])
			active.attnValuesF16x3(v3, w[cut:], ns, n-cut, k[cut*stride:], stride, k)
			if !slices.Equal(v3, oneV) {
				t.Fatalf("three heads cut at %d: values differ from one call", cut)
			}
		}
	}
}

// BenchmarkAttnF16 times decode's attention kernels over a half cache on
// one thread: 8 KV heads of 64 values, 3 query heads each (the bench
// model's GQA), n cached positions, scores and weighted values; "x3" with
// the three-head kernels, "x1" one head at a time. cpu-FLOP/s (2 per
// multiply-add, per CPU second) is what to compare on a busy machine; every
// SIMD set this CPU runs, interleaved per case.
func BenchmarkAttnF16(b *testing.B) {
	const kvHeads, group, hd = 8, 3, 64
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{128, 2048} {
		stride := kvHeads * hd
		k, v := make([]uint16, n*stride), make([]uint16, n*stride)
		for i := range k {
			k[i] = F32ToF16(float32(rng.NormFloat64()))
			v[i] = F32ToF16(float32(rng.NormFloat64()))
		}
		q := randVec(rng, kvHeads*group*hd)
		w := randVec(rng, kvHeads*group*n)
		s := make([]float32, kvHeads*group*n)
		out := make([]float32, kvHeads*group*hd)
		for _, mode := range []string{"x3", "x1"} {
			for _, im := range impls() {
				if im == goImpl || im.attnScoresF16x3 == nil {
					continue
				}
				b.Run(fmt.Sprintf("n%d/%s/%s", n, mode, im.name), func(b *testing.B) {
					saved := active
					active = im
					defer func() { active = saved }()
					cpuLoop(b, int64(4*kvHeads*group*n*hd), func() {
						for h := range kvHeads {
							qh, sh, oh := q[h*group*hd:], s[h*group*n:], out[h*group*hd:(h+1)*group*hd]
							kh, vh := k[h*hd:(n-1)*stride+(h+1)*hd], v[h*hd:(n-1)*stride+(h+1)*hd]
							if mode == "x3" {
								im.attnScoresF16x3(sh, n, n, qh[:group*hd], kh, stride, nil)
								clear(oh)
								im.attnValuesF16x3(oh, w[h*group*n:], n, n, vh, stride, nil)
								continue
							}
							for j := range group {
								im.attnScoresF16(sh[j*n:(j+1)*n], qh[j*hd:(j+1)*hd], kh, stride)
								clear(oh[j*hd : (j+1)*hd])
								im.attnValuesF16(oh[j*hd:(j+1)*hd], w[(h*group+j)*n:(h*group+j+1)*n], vh, stride)
							}
						}
					}, "FLOP")
				})
			}
		}
	}
}
