package kern

import (
	"errors"
	"fmt"
	"unsafe"
)

// Mat is a weight matrix (rows, cols) = (out, in) in its stored form. The
// slices usually alias a memory-mapped file; kernels only read them.
type Mat struct {
	DType      DType
	Rows, Cols int
	F32        []float32 // (rows, cols) when DType == F32
	U16        []uint16  // (rows, cols) when DType is F16 or BF16
	Q          []byte    // Q8: (rows, cols); Q4: (rows, cols/2), low nibble = even column
	Scales     Floats    // (rows, cols/GroupSize) when quantized
	Biases     Floats    // (rows, cols/GroupSize) when quantized
	GroupSize  int       // columns per scale/bias group when quantized
	Exps       []byte    // MXFP4: (rows, cols/32) E8M0 scales, 2^(e-127); Q holds the codes

	// finite is set by Check for F16 matrices without Inf or NaN: the
	// kernels then widen them with fewer instructions.
	finite bool
}

// ErrShape reports a matrix whose data does not match its declared shape.
var ErrShape = errors.New("shape mismatch")

// Bytes is the storage size of the matrix (codes plus scales and biases):
// what a matrix-vector product reads from memory.
func (m *Mat) Bytes() int64 {
	switch m.DType {
	case F32:
		return int64(len(m.F32)) * 4
	case F16, BF16:
		return int64(len(m.U16)) * 2
	}
	if m.DType == MXFP4 {
		return int64(len(m.Q)) + int64(len(m.Exps))
	}
	return int64(len(m.Q)) + floatsBytes(&m.Scales) + floatsBytes(&m.Biases)
}

func floatsBytes(f *Floats) int64 {
	if f.DType == F32 {
		return int64(len(f.F32)) * 4
	}
	return int64(len(f.U16)) * 2
}

// codeRowBytes is the length in bytes of one row of m.Q: a byte per code
// for Q8, two codes a byte for Q4.
func (m *Mat) codeRowBytes() int {
	if m.DType == Q4 {
		return m.Cols / 2
	}
	return m.Cols
}

// Check validates that the slices match the shape, so kernels can index
// without bounds surprises. Call it before using a matrix: it also notes
// whether F16 weights, scales or biases hold Inf or NaN (a scan at memory
// speed), so the kernels can take a faster path when they do not.
func (m *Mat) Check() error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("matrix %dx%d: %w", m.Rows, m.Cols, ErrShape)
	}
	n := m.Rows * m.Cols
	switch m.DType {
	case F32:
		if len(m.F32) != n {
			return fmt.Errorf("f32 matrix %dx%d has %d values: %w", m.Rows, m.Cols, len(m.F32), ErrShape)
		}
		return nil
	case F16, BF16:
		if len(m.U16) != n {
			return fmt.Errorf("%s matrix %dx%d has %d values: %w", m.DType, m.Rows, m.Cols, len(m.U16), ErrShape)
		}
		m.finite = m.DType == F16 && active.finiteF16(m.U16)
		return nil
	case Q8, Q4:
		return m.checkQuant()
	case MXFP4:
		return m.checkMXFP4()
	}
	return fmt.Errorf("matrix dtype %s: %w", m.DType, ErrShape)
}

func (m *Mat) checkQuant() error {
	if m.GroupSize <= 0 || m.GroupSize%32 != 0 || m.Cols%m.GroupSize != 0 {
		return fmt.Errorf("%s matrix with %d columns, group size %d: %w", m.DType, m.Cols, m.GroupSize, ErrShape)
	}
	want := m.Rows * m.Cols
	if m.DType == Q4 {
		want /= 2
	}
	if len(m.Q) != want {
		return fmt.Errorf("%s matrix %dx%d has %d code bytes, want %d: %w", m.DType, m.Rows, m.Cols, len(m.Q), want, ErrShape)
	}
	groups := m.Rows * m.Cols / m.GroupSize
	for _, f := range []*Floats{&m.Scales, &m.Biases} {
		if f.DType != F32 && f.DType != F16 && f.DType != BF16 {
			return fmt.Errorf("%s scales/biases dtype %s: %w", m.DType, f.DType, ErrShape)
		}
		if f.Len() != groups {
			return fmt.Errorf("%s matrix has %d scales/biases, want %d: %w", m.DType, f.Len(), groups, ErrShape)
		}
	}
	// The integer kernels read scales and biases in one type (the scales'):
	// a checkpoint that stores them in two gets both as float32, exactly.
	if m.Scales.DType != m.Biases.DType {
		m.Scales, m.Biases = m.Scales.widened(), m.Biases.widened()
	}
	m.Scales.checkFinite()
	m.Biases.checkFinite()
	return nil
}

// Row writes row r dequantized to float32 into dst (len Cols): the embedding
// lookup.
func (m *Mat) Row(dst []float32, r int) {
	dst = dst[:m.Cols]
	c := m.Cols
	switch m.DType {
	case F32:
		copy(dst, m.F32[r*c:(r+1)*c])
	case F16:
		active.f16ToF32(dst, m.U16[r*c:(r+1)*c])
	case BF16:
		active.bf16ToF32(dst, m.U16[r*c:(r+1)*c])
	case Q8, Q4:
		active.dequant(dst, m, r)
	case MXFP4:
		m.mxfp4Cols(dst, r, 0)
	}
}

// dequantRow expands quantized row r: w = scale*q + bias per group.
func (m *Mat) dequantRow(dst []float32, r int) {
	dst = dst[:m.Cols]
	gs := m.GroupSize
	ng := m.Cols / gs
	for g := 0; g < ng; g++ {
		s, b := m.Scales.At(r*ng+g), m.Biases.At(r*ng+g)
		out := dst[g*gs : (g+1)*gs]
		if m.DType == Q8 {
			q := m.Q[r*m.Cols+g*gs:]
			for i := range out {
				out[i] = s*float32(q[i]) + b
			}
			continue
		}
		q := m.Q[(r*m.Cols+g*gs)/2:]
		for i := 0; i < gs; i += 2 {
			v := q[i/2]
			out[i] = s*float32(v&15) + b
			out[i+1] = s*float32(v>>4) + b
		}
	}
}

// AsF32 views little-endian bytes as float32 without copying. Unaligned data
// is fine on the little-endian targets we build for (amd64, arm64).
func AsF32(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
}

// AsU16 views little-endian bytes as uint16 without copying.
func AsU16(b []byte) []uint16 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
}

// FloatsOf views stored scales/biases bytes of the given type.
func FloatsOf(d DType, b []byte) Floats {
	if d == F32 {
		return Floats{DType: F32, F32: AsF32(b)}
	}
	return Floats{DType: d, U16: AsU16(b)}
}
