//go:build goexperiment.simd && amd64

package kern

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestHalfDotZSameBits: the zmm half dot products give f16cDot's and
// bf16Dot's bits for every length the rows hand them (multiples of 8, each
// remainder of 64), with Inf, NaN, subnormal and signed-zero weights, and
// read nothing past n (the halves after it are NaN).
func TestHalfDotZSameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX512(), "a CPU with AVX-512")
	rng := rand.New(rand.NewPCG(31, 32))
	specials := []uint16{0x7c00, 0xfc00, 0x0001, 0x83ff, 0x8000, 0x0000, 0x7bff}
	for _, bf := range []bool{false, true} {
		for n := 8; n <= 264; n += 8 {
			x := randVec(rng, n)
			w := make([]uint16, n+64)
			for i := range w {
				if bf {
					w[i] = uint16(math.Float32bits(float32(rng.NormFloat64())) >> 16)
				} else {
					w[i] = F32ToF16(float32(rng.NormFloat64()))
				}
				if i >= n {
					w[i] = 0x7e00 // NaN in both formats: must not be read
					if bf {
						w[i] = 0x7fc0
					}
				}
			}
			if n >= 64 && !bf {
				w[rng.IntN(n)] = specials[rng.IntN(len(specials))]
				w[rng.IntN(n)] = specials[2+rng.IntN(len(specials)-2)]
			}
			want, got := f16cDot(&x[0], &w[0], n), f16DotZ(&x[0], &w[0], n)
			name := "F16"
			if bf {
				want, got, name = bf16Dot(&x[0], &w[0], n), bf16DotZ(&x[0], &w[0], n), "BF16"
			}
			if math.Float32bits(got) != math.Float32bits(want) {
				t.Errorf("%s n=%d: %v, AVX2 kernel %v", name, n, got, want)
			}
		}
	}
}
