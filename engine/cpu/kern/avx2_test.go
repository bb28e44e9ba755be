//go:build goexperiment.simd && amd64

package kern

import (
	"slices"
	"testing"
)

// TestAVX2WithoutF16C runs the tests of half-precision weights and caches
// on the AVX2 set's path for CPUs without F16C (the bit trick), which a CPU
// with F16C would otherwise never take. Only the AVX2 set runs them: the
// plain-Go set does not read hasF16C, and every AVX-512 CPU has F16C (a third
// of the race pass's kern time went to rerunning those two sets unchanged).
func TestAVX2WithoutF16C(t *testing.T) {
	if !slices.Contains(Sets(), "avx2") {
		t.Skipf("no avx2 set on this CPU (have %v)", Sets())
	}
	saved := hasF16C
	hasF16C, onlyImpl = false, "avx2"
	defer func() { hasF16C, onlyImpl = saved, "" }()
	t.Run("half", TestHalfKernels)
	t.Run("matvec", TestMatVec)
	t.Run("qint", TestQintKernels)
	t.Run("attention", TestAttention)
}
