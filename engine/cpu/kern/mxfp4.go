package kern

import (
	"fmt"
	"math"
)

// MXFP4 (the OCP microscaling format GPT-OSS ships its experts in, MLX's
// quantization mode "mxfp4"): each weight is a 4-bit E2M1 code (sign, two
// exponent bits, one mantissa bit), packed two per byte with the even
// column in the low nibble as Q4 is, and each group of 32 columns shares an
// E8M0 scale byte e meaning 2^(e-127). There is no bias: w = e2m1[q]·2^(e-127).
// Products widen the codes through a 16-entry table and apply the scale
// once per group, never materialising the float matrix.

// MXFP4 is the DType of such matrices: Q holds the codes as Q4 does, Exps
// the scales. Its value stands apart from the iota block of dtype.go so
// that types added there never collide with it.
const MXFP4 DType = 32

// mxfp4Group is the fixed group size of the format.
const mxfp4Group = 32

// e2m1 are the values of the 16 codes: the magnitudes of codes 0-7, then
// the same negated (bit 3 is the sign).
var e2m1 = [16]float32{0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6}

// e8m0 are the scales of the 256 exponent bytes: 2^(e-127) (2^-127 is a
// float32 subnormal, exact); 255 is NaN in the format.
var e8m0 = func() (t [256]float32) {
	for e := range 255 {
		t[e] = float32(math.Ldexp(1, e-127))
	}
	t[255] = float32(math.NaN())
	return t
}()

func (m *Mat) checkMXFP4() error {
	if m.GroupSize != mxfp4Group || m.Cols%mxfp4Group != 0 {
		return fmt.Errorf("MXFP4 matrix with %d columns, group size %d: %w", m.Cols, m.GroupSize, ErrShape)
	}
	if len(m.Q) != m.Rows*m.Cols/2 || len(m.Exps) != m.Rows*m.Cols/mxfp4Group {
		return fmt.Errorf("MXFP4 matrix %dx%d has %d code bytes and %d scales: %w", m.Rows, m.Cols, len(m.Q), len(m.Exps), ErrShape)
	}
	return nil
}

// mxfp4Cols writes columns c0..c0+len(dst) of row r as float32; c0 and
// len(dst) are multiples of 32.
func (m *Mat) mxfp4Cols(dst []float32, r, c0 int) {
	off := r*m.Cols + c0
	for g := 0; g < len(dst); g += mxfp4Group {
		s := e8m0[m.Exps[(off+g)/mxfp4Group]]
		q := m.Q[(off+g)/2 : (off+g+mxfp4Group)/2]
		out := dst[g : g+mxfp4Group]
		for i, v := range q {
			out[2*i] = e2m1[v&15] * s
			out[2*i+1] = e2m1[v>>4] * s
		}
	}
}

// prepareMXFP4 sets in.x and fills in.xf with x in the SIMD kernels' order:
// per 32 columns the 16 even ones, then the 16 odd ones (low nibbles are the
// even columns).
func (in *qin) prepareMXFP4(x []float32) {
	in.x = x
	in.xf = grow(in.xf, len(x))
	for j := 0; j+mxfp4Group <= len(x); j += mxfp4Group {
		for i := range 16 {
			in.xf[j+i], in.xf[j+16+i] = x[j+2*i], x[j+2*i+1]
		}
	}
}

// simdRowsMXFP4 is the SIMD rows kernel, set by avx2_mxfp4.go in builds
// that have one; used while an AVX2 or AVX-512 set is active.
var simdRowsMXFP4 func(y []float32, m *Mat, r0 int, xf []float32)

// rowsMXFP4 is y[i] = row(r0+i)·x for an MXFP4 matrix.
func rowsMXFP4(y []float32, m *Mat, r0 int, in *qin) {
	if simdRowsMXFP4 != nil && (active.name == "avx2" || active.name == "avx512") {
		simdRowsMXFP4(y, m, r0, in.xf[:m.Cols])
		return
	}
	goRowsMXFP4(y, m, r0, in.x[:m.Cols])
}

// goRowsMXFP4 is the plain-Go rows kernel: per group, the codes' values
// times x summed, then scaled.
func goRowsMXFP4(y []float32, m *Mat, r0 int, x []float32) {
	cols := m.Cols
	ng := cols / mxfp4Group
	for i := range y {
		r := r0 + i
		q := m.Q[r*cols/2 : (r+1)*cols/2]
		exps := m.Exps[r*ng : (r+1)*ng]
		var total float32
		for g, e := range exps {
			xs := x[g*mxfp4Group : (g+1)*mxfp4Group]
			var s float32
			for j, v := range q[g*16 : (g+1)*16] {
				s += e2m1[v&15]*xs[2*j] + e2m1[v>>4]*xs[2*j+1]
			}
			total += s * e8m0[e]
		}
		y[i] = total
	}
}
