//go:build goexperiment.simd && amd64

package kern

import "testing"

// TestAVX2WithoutF16C runs the tests of half-precision weights and caches
// on the AVX2 set's path for CPUs without F16C (the bit trick), which a CPU
// with F16C would otherwise never take.
func TestAVX2WithoutF16C(t *testing.T) {
	saved := hasF16C
	hasF16C = false
	defer func() { hasF16C = saved }()
	t.Run("half", TestHalfKernels)
	t.Run("matvec", TestMatVec)
	t.Run("qint", TestQintKernels)
	t.Run("attention", TestAttention)
}
