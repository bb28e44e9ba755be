package kern

import "math"

// BF16 prefill input (issue #19, engine/cpu/design.md "BF16 prefill with
// bf16 inputs"). AVX512_BF16's VDPBF16PS multiplies pairs of bfloat16 and
// adds them to float32 accumulators: 32 multiply-adds per instruction where
// an FMA does 16, but only if the tokens x are bfloat16 too. SetBF16Prefill
// asks for that rounding on the packed prefill path of BF16 matrices: each
// token's x is rounded to the nearest bfloat16 (ties to even, as
// VCVTNEPS2BF16) before the product. The product of two bfloat16 is exact in
// float32, so with rounded x every set's float32 micro-kernel computes the
// same products VDPBF16PS does; only the summation order differs.

// SetBF16Prefill makes prefill products with BF16 weights (the packed path:
// MatMul with at least packMinTokens tokens) round their input x to
// bfloat16. Decode (one token) and batched decode of few tokens keep float32
// inputs.
func (e *Exec) SetBF16Prefill(on bool) { e.bf16In = on }

// bf16Rounds reports whether the packed products of m take bfloat16 inputs.
func (e *Exec) bf16Rounds(m *Mat) bool { return e.bf16In && m.DType == BF16 }

// roundBF16 returns x rounded to bfloat16 (kept in float32) in e's scratch.
func (e *Exec) roundBF16(x []float32) []float32 {
	e.bx = grow(e.bx, len(x))
	roundBF16(e.bx, x)
	return e.bx
}

// roundBF16 stores src rounded to the nearest bfloat16, ties to even, into
// dst (float32 values whose low 16 bits are zero). NaN stays NaN.
func roundBF16(dst, src []float32) {
	for i, v := range src {
		b := math.Float32bits(v)
		if b&0x7fffffff > 0x7f800000 {
			dst[i] = v
			continue
		}
		b += 0x7fff + (b>>16)&1
		dst[i] = math.Float32frombits(b &^ 0xffff)
	}
}
