//go:build goexperiment.simd && amd64

package kern

import (
	"math"
	"simd/archsimd"
	"testing"
	"unsafe"
)

// TestHalfFinite checks the fast widening against F16ToF32 on every half
// that is not Inf or NaN, subnormals and both zeros included.
func TestHalfFinite(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	var h [16]uint16
	var out [16]float32
	for base := 0; base < 1<<16; base += 16 {
		for i := range h {
			h[i] = uint16(base + i)
		}
		h2fFinite(ldhs(unsafe.Pointer(&h[0]))).StoreArray(&out)
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
