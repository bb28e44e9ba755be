//go:build goexperiment.simd && amd64

package kern

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestPrepXBSame: the assembly preparation of the byte kernels' inputs
// writes qbatchPrepXB's bytes and sums, for each input of a quad, every
// group size, and int16's extremes.
func TestPrepXBSame(t *testing.T) {
	prep := avx512Impl.prepXB
	testenv.Need(t, prep != nil, "a CPU with AVX512_VNNI")
	rng := rand.New(rand.NewPCG(7, 8))
	for _, gs := range []int{32, 64, 128, 256} {
		for _, extreme := range []bool{false, true} {
			t.Run(fmt.Sprintf("gs%d/extreme=%v", gs, extreme), func(t *testing.T) {
				const cols, quads = 512, 2
				ng := cols / gs
				want, got := make([]byte, quads*8*cols), make([]byte, quads*8*cols)
				wantC, gotC := make([]int32, quads*16*ng), make([]int32, quads*16*ng)
				for i := range want {
					want[i], got[i] = byte(i), byte(i)
				}
				for i := range wantC {
					wantC[i], gotC[i] = int32(i), int32(i)
				}
				for j := range 4 * quads {
					xw := make([]int16, cols)
					for i := range xw {
						xw[i] = int16(rng.IntN(65536) - 32768)
						if extreme {
							xw[i] = []int16{32767, -32768, -32767, 255, -256, -1}[rng.IntN(6)]
						}
					}
					qbatchPrepXB(want, wantC, j, xw, cols, gs)
					prep(got, gotC, j, xw, cols, gs)
				}
				if !slices.Equal(got, want) {
					t.Fatal("bytes differ")
				}
				if !slices.Equal(gotC, wantC) {
					t.Fatal("sums differ")
				}
			})
		}
	}
}
