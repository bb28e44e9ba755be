package enginetest

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Tolerance is the largest accepted difference between the runner's and the
// reference's outputs, as a fraction of the reference's scale (the root mean
// square of the logits or hidden values, at least 1).
//
// Weights convert exactly to float32 from every stored dtype, and MLX
// dequantization (scale·q + bias in float32) is exact too, so a runner that
// computes in float32 differs from the float64 reference only by float32
// rounding in long dot products: about 1e-6 relative, far inside 1e-3. The
// looser bounds for 16-bit models leave room for runners that, like MLX, keep
// activations and the KV cache in the model's dtype: each rounding costs up to
// 2⁻¹¹ (F16) or 2⁻⁸ (BF16) relative, and a few dozen of them compound across
// the layers. A real bug (wrong RoPE pairing, mask, head grouping, norm or
// dequantization) moves outputs by tens of percent, far beyond any of these.
func Tolerance(dt model.DType) float64 {
	switch dt {
	case model.F16:
		return 1e-2
	case model.BF16:
		return 4e-2
	}
	return 1e-3
}

// scale is the root mean square of x, at least 1.
func scale(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Max(1, math.Sqrt(s/float64(max(1, len(x)))))
}

// compare checks got against the reference values want.
func compare(what string, got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d values, want %d", what, len(got), len(want))
	}
	sc := scale(want)
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return fmt.Errorf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if worst > tol*sc {
		return fmt.Errorf("%s: value %d is %g, reference %g: difference %.3g exceeds %.3g (tolerance %g × scale %.3g)",
			what, at, got[at], want[at], worst, tol*sc, tol, sc)
	}
	return nil
}

// argmax is the greedy choice; ties go to the lowest id.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// margin is how far the best logit is ahead of the second best.
func margin(x []float32) float64 {
	b := argmax(x)
	second := math.Inf(-1)
	for i, v := range x {
		if i != b {
			second = math.Max(second, float64(v))
		}
	}
	return float64(x[b]) - second
}

// sameChoice accepts a different greedy token only where the reference's own
// top two logits are closer than the tolerance allows the runner to err.
func sameChoice(step int, got, ref []float32, tol float64) error {
	g, r := argmax(got), argmax(ref)
	if g == r {
		return nil
	}
	if m := margin(ref); m > 2*tol*scale(ref) {
		return fmt.Errorf("step %d: greedy token %d, reference %d leads by %.3g (more than twice the tolerance)", step, g, r, m)
	}
	return nil
}
