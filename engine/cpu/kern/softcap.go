package kern

import "math"

// Soft-capping (Gemma 2's attention scores): c·tanh(x/c), in float32 through
// Exp as tanh|y| = 1 - 2/(e^{2|y|}+1), the sign put back afterwards. The
// SIMD sets use the same formula and order of operations. Near 0 the
// subtraction loses tanh's relative precision but not its absolute one
// (a few 1e-7), so a capped score is off by c times that, which the softmax
// that follows cannot tell from float32 rounding of the score itself.

const signBit = 0x80000000

func goSoftcap(x []float32, c float32) {
	k := 2 / c
	for i, v := range x {
		e := Exp(abs32(v) * k)
		t := (1 - 2/(e+1)) * c
		x[i] = math.Float32frombits(math.Float32bits(t) | math.Float32bits(v)&signBit)
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ signBit) }
