//go:build goexperiment.simd && amd64

package kern

import (
	"maps"
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"slices"
	"testing"
	"unsafe"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestHalfFinite checks each SIMD half widening this CPU can run (AVX2's h2f8,
// AVX-512's h2fFinite) against F16ToF32 on every half that is not Inf or NaN,
// subnormals and both zeros included. It logs which ran: CI machines differ.
func TestHalfFinite(t *testing.T) {
	widen := map[string]func(h *[16]uint16, out *[16]float32){}
	if archsimd.X86.AVX2() {
		widen["avx2"] = func(h *[16]uint16, out *[16]float32) {
			var u [16]uint32
			for i, v := range h {
				u[i] = uint32(v)
			}
			var lo, hi [8]float32
			h2f8(archsimd.LoadUint32x8Array((*[8]uint32)(u[:8]))).StoreArray(&lo)
			h2f8(archsimd.LoadUint32x8Array((*[8]uint32)(u[8:]))).StoreArray(&hi)
			copy(out[:8], lo[:])
			copy(out[8:], hi[:])
		}
	}
	if archsimd.X86.AVX512() {
		widen["avx512"] = func(h *[16]uint16, out *[16]float32) {
			h2fFinite(ldhs(unsafe.Pointer(&h[0]))).StoreArray(out)
		}
	}
	t.Logf("half widenings run on this CPU: %v (of avx2, avx512)", slices.Sorted(maps.Keys(widen)))
	for name, f := range widen {
		t.Run(name, func(t *testing.T) { checkHalfFinite(t, f) })
	}
}

func checkHalfFinite(t *testing.T, widen func(h *[16]uint16, out *[16]float32)) {
	var h [16]uint16
	var out [16]float32
	for base := 0; base < 1<<16; base += 16 {
		for i := range h {
			h[i] = uint16(base + i)
		}
		widen(&h, &out)
		for i, v := range h {
			if v&0x7c00 == 0x7c00 {
				continue
			}
			if math.Float32bits(out[i]) != math.Float32bits(F16ToF32(v)) {
				t.Fatalf("%#04x: got %v, want %v", v, out[i], F16ToF32(v))
			}
		}
	}
}

// TestRowF32PFSameBits checks the assembly F32 decode row against dot1F32,
// bit for bit, over lengths that take every loop (64, 32 and 16 floats a
// step) and rows that start anywhere in a matrix.
func TestRowF32PFSameBits(t *testing.T) {
	testenv.Need(t, archsimd.X86.AVX512(), "a CPU with AVX-512")
	rng := rand.New(rand.NewPCG(16, 16))
	for n := 16; n <= 16*21; n += 16 {
		x, w := randVec(rng, n), randVec(rng, 3*n+5)
		for _, off := range []int{0, 1, n + 3} {
			var acc [16]float32
			rowF32PF(&x[0], &w[off], n, &acc)
			got := hsum16(archsimd.LoadFloat32x16Array(&acc))
			want := dot1F32(unsafe.Pointer(&x[0]), unsafe.Pointer(&w[off]), n)
			if math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("n %d, offset %d: %v, dot1F32 %v", n, off, got, want)
			}
		}
	}
}
