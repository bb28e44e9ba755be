//go:build goexperiment.simd

package kern

import (
	"math"
	"testing"
)

// TestNeonSelected guards the arm64 build: the router must pick the NEON
// set, and the shared kernel tables (which run every set from impls) must
// include it, or those tables would silently test the plain-Go set only.
func TestNeonSelected(t *testing.T) {
	if Backend() != "neon" {
		t.Fatalf("Backend() = %q, want neon", Backend())
	}
	s := impls()
	if len(s) != 2 || s[0] != goImpl || s[1] != neonImpl {
		t.Fatalf("impls() = %v, want [go neon]", s)
	}
}

// TestNeonHalfAll checks the NEON half and bfloat16 widening against the
// scalar conversions on every 16-bit pattern, Inf, NaN and subnormals
// included, bit for bit.
func TestNeonHalfAll(t *testing.T) {
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	dst := make([]float32, len(src))
	neonF16ToF32(dst, src)
	for i, h := range src {
		if got, want := math.Float32bits(dst[i]), math.Float32bits(F16ToF32(h)); got != want {
			t.Fatalf("F16 %#04x: got %#08x, want %#08x", h, got, want)
		}
	}
	neonBF16ToF32(dst, src)
	for i, h := range src {
		if got, want := math.Float32bits(dst[i]), math.Float32bits(BF16ToF32(h)); got != want {
			t.Fatalf("BF16 %#04x: got %#08x, want %#08x", h, got, want)
		}
	}
}

// TestNeonExp compares the 4-lane exp with the scalar Exp over the whole
// softmax range and past both ends: same constants, same order of
// operations, so at most a rounding apart.
func TestNeonExp(t *testing.T) {
	var x []float32
	for v := float32(-100); v <= 100; v += 0.0137 {
		x = append(x, v)
	}
	x = append(x, expLo, expHi, -87.3, 88.5, 0, float32(math.Inf(-1)))
	want := make([]float32, len(x))
	for i, v := range x {
		want[i] = Exp(v)
	}
	got := append([]float32(nil), x...)
	neonExpSum(got, 0)
	for i := range x {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > 2e-7*math.Abs(float64(want[i])) {
			t.Fatalf("exp(%v): got %v, want %v", x[i], got[i], want[i])
		}
	}
}
