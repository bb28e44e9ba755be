//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestAttnF16x3SameBits checks that the three-head kernels give exactly
// what one call per head gives: attention's results must not depend on how
// the heads of a group are batched.
func TestAttnF16x3SameBits(t *testing.T) {
	testenv.Need(t, hasF16C, "a CPU with F16C: without it the three-head kernels are not used (per-head loops)")
	rng := rand.New(rand.NewPCG(3, 3))
	for _, hd := range []int{16, 48, 64, 80, 24} {
		for _, n := range []int{1, 3, 4, 5, 8, 13} {
			t.Run(fmt.Sprintf("hd%d/n%d", hd, n), func(t *testing.T) {
				stride := 2*hd + 8
				rows := make([]uint16, n*stride)
				for i := range rows {
					rows[i] = F32ToF16(float32(rng.NormFloat64()))
				}
				q := randVec(rng, 3*hd)
				ns := n + 2 // scores of consecutive heads need not be adjacent
				got, want := make([]float32, 3*ns), make([]float32, 3*ns)
				avx2AttnScoresF16x3(got, ns, n, q, rows, stride, rows[n/2*stride:]) // a prefetch hint only
				for h := range 3 {
					avx2AttnScoresF16(want[h*ns:h*ns+n], q[h*hd:(h+1)*hd], rows, stride)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("scores: %v, one head at a time %v", got, want)
				}
				w := randVec(rng, 3*ns)
				out := randVec(rng, 3*hd)
				one := slices.Clone(out)
				avx2AttnValuesF16x3(out, w, ns, n, rows, stride, rows[n/2*stride:])
				for h := range 3 {
					avx2AttnValuesF16(one[h*hd:(h+1)*hd], w[h*ns:h*ns+n], rows, stride)
				}
				if !slices.Equal(out, one) {
					t.Fatalf("values: %v, one head at a time %v", out, one)
				}
			})
		}
	}
}

// TestF32ToF16SameBits checks the F16C conversion of the half KV cache's
// writes against F32ToF16, bit for bit: every half exponent, subnormal
// halves, ties at every rounding position, overflow around 65504, zeros,
// infinities and float32 subnormals, at lengths with and without a tail;
// and that a NaN sends the caller to F32ToF16 (whose NaN pattern F16C
// would not keep).
func TestF32ToF16SameBits(t *testing.T) {
	testenv.Need(t, hasF16C, "a CPU with F16C: without it the KV cache converts one value at a time")
	rng := rand.New(rand.NewPCG(4, 4))
	var vals []float32
	for e := 90; e <= 150; e++ { // float32 exponents from below the half subnormals to past overflow
		for range 40 {
			b := uint32(e)<<23 | rng.Uint32()&0x7fffff
			vals = append(vals, math.Float32frombits(b), -math.Float32frombits(b))
		}
		// ties and near-ties at the rounding bit of normal and subnormal halves
		for _, low := range []uint32{0x1000, 0x0fff, 0x1001, 0x3000, 0x800000 >> 1} {
			vals = append(vals, math.Float32frombits(uint32(e)<<23|low))
		}
	}
	vals = append(vals, 0, float32(math.Copysign(0, -1)), 65504, 65519.996, 65520, -65520,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, math.MaxFloat32)
	for _, n := range []int{0, 1, 7, 8, 13, 64, len(vals)} {
		src := vals[len(vals)-n:]
		got := make([]uint16, n)
		if !avx2F32ToF16(got, src) {
			t.Fatalf("n=%d: no NaN, but the conversion declined", n)
		}
		for i, v := range src {
			if want := F32ToF16(v); got[i] != want {
				t.Fatalf("n=%d: %v (%#08x) -> %#04x, F32ToF16 %#04x", n, v, math.Float32bits(v), got[i], want)
			}
		}
	}
	nan := slices.Clone(vals[:16])
	nan[11] = math.Float32frombits(0x7fc01234)
	if avx2F32ToF16(make([]uint16, 16), nan) {
		t.Fatal("a NaN with a payload was converted by F16C")
	}
}
