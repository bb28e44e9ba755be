package kern

import (
	"fmt"
	"math"
)

// DType is how a matrix stores its elements.
type DType uint8

const (
	F32  DType = iota + 1 // float32
	F16                   // IEEE half precision
	BF16                  // bfloat16 (upper half of a float32)
	Q8                    // MLX affine 8-bit: one code per byte
	Q4                    // MLX affine 4-bit: two codes per byte, low nibble first
)

func (d DType) String() string {
	switch d {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	case Q8:
		return "Q8"
	case Q4:
		return "Q4"
	case MXFP4:
		return "MXFP4"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// F16ToF32 converts an IEEE half (bits) to float32 exactly, including
// subnormals, infinities and NaN.
//
// The exponent/mantissa bits shifted into float32 position are the value
// scaled by 2^-112, so one multiply rescales normals and subnormals alike;
// only Inf/NaN (exponent 31) need the exponent forced to all ones. The SIMD
// kernels use the same trick, so both paths agree bit for bit.
func F16ToF32(h uint16) float32 {
	em := uint32(h&0x7fff) << 13
	f := math.Float32frombits(em) * 0x1p112
	bits := math.Float32bits(f) | uint32(h&0x8000)<<16
	if em >= 0x0f800000 {
		bits |= 0x7f800000
	}
	return math.Float32frombits(bits)
}

// F32ToF16 converts to IEEE half with round-to-nearest-even; values beyond the
// half range become ±Inf, NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff:
		if mant != 0 {
			return sign | 0x7e00 // quiet NaN
		}
		return sign | 0x7c00
	case exp > 142: // 2^16 and above overflow
		return sign | 0x7c00
	case exp >= 113: // normal half
		h := uint32(exp-112)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++ // may carry into the exponent, which is still correct (up to Inf)
		}
		return sign | uint16(h)
	case exp >= 102: // subnormal half
		m := mant | 0x800000
		shift := uint32(126 - exp)
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	return sign
}

// BF16ToF32 converts a bfloat16 (bits) to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts to bfloat16 with round-to-nearest-even; NaN stays NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// Floats is a vector of per-group scales or biases in their stored type
// (F32, F16 or BF16), read one value at a time.
type Floats struct {
	DType DType
	F32   []float32 // when DType == F32
	U16   []uint16  // when DType is F16 or BF16

	// finite is set by Mat.Check when no F16 value is Inf or NaN: the
	// kernels then widen halves with fewer instructions.
	finite bool
}

// checkFinite sets f.finite.
func (f *Floats) checkFinite() { f.finite = f.DType == F16 && active.finiteF16(f.U16) }

// widened is f as float32 (a copy; f itself when it already is).
func (f *Floats) widened() Floats {
	if f.DType == F32 {
		return *f
	}
	out := Floats{DType: F32, F32: make([]float32, f.Len())}
	floatsRun(out.F32, f, 0)
	return out
}

// At returns element i as float32.
func (f *Floats) At(i int) float32 {
	switch f.DType {
	case F16:
		return F16ToF32(f.U16[i])
	case BF16:
		return BF16ToF32(f.U16[i])
	}
	return f.F32[i]
}

// Len is the number of elements.
func (f *Floats) Len() int {
	if f.DType == F32 {
		return len(f.F32)
	}
	return len(f.U16)
}
