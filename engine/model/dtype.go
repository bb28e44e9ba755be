package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Float dtypes of stored weights.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	U32  DType = "U32"
	U8   DType = "U8" // MXFP4 scales and Hugging Face's MXFP4 blocks
)

// IsFloat reports whether d is a float dtype the executors read directly.
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 }

// Size is the element size in bytes of the dtypes models use, 0 otherwise.
func (d DType) Size() int {
	switch d {
	case F32, U32:
		return 4
	case F16, BF16:
		return 2
	case U8:
		return 1
	}
	return 0
}

// F16ToF32 converts an IEEE 754 half to single precision, exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal half: value = mant × 2^-24, normal in single precision.
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// F32ToF16 rounds a single to the nearest half, ties to even, saturating to ±Inf.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf or NaN; keep NaNs quiet and non-zero
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign // underflows to zero
		}
		// Subnormal: shift the full mantissa (with its hidden bit) into place.
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to Inf, which is right
	}
	return sign | uint16(r)
}

// BF16ToF32 converts a bfloat16 to single precision, exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds a single to the nearest bfloat16, ties to even.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// DecodeFloats converts len(dst) elements of float data (F32, F16 or BF16)
// starting at element offset off into dst.
func DecodeFloats(dt DType, data []byte, off int, dst []float32) error {
	size := dt.Size()
	if !dt.IsFloat() {
		return fmt.Errorf("decode %s: not a float dtype", dt)
	}
	if off < 0 || (off+len(dst))*size > len(data) {
		return fmt.Errorf("decode %s: elements %d..%d outside %d bytes", dt, off, off+len(dst), len(data))
	}
	b := data[off*size:]
	switch dt {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = F16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range dst {
			dst[i] = BF16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return nil
}

// EncodeFloats stores values in dt (F32, F16 or BF16), rounding to nearest even.
func EncodeFloats(dt DType, values []float32) ([]byte, error) {
	if !dt.IsFloat() {
		return nil, fmt.Errorf("encode %s: not a float dtype", dt)
	}
	b := make([]byte, len(values)*dt.Size())
	for i, v := range values {
		switch dt {
		case F32:
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		case F16:
			binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(v))
		case BF16:
			binary.LittleEndian.PutUint16(b[2*i:], F32ToBF16(v))
		}
	}
	return b, nil
}

// Numel is the product of the shape.
func (t *Tensor) Numel() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s decodes the whole float tensor.
func (t *Tensor) Float32s() ([]float32, error) {
	out := make([]float32, t.Numel())
	if err := DecodeFloats(t.DType, t.Data, 0, out); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	return out, nil
}
