//go:build goexperiment.simd && amd64

package kern

import (
	"maps"
	"math"
	"simd/archsimd"
	"slices"
	"testing"
	"unsafe"
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
