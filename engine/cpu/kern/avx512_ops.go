//go:build goexperiment.simd && amd64

package kern

import "simd/archsimd"

// AVX-512 element-wise kernels. Tails shorter than a vector use the scalar
// code, so results differ from the Go set only by rounding.

func avx512Axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	av := archsimd.BroadcastFloat32x16(a)
	j := 0
	for ; j+16 <= len(y); j += 16 {
		archsimd.LoadFloat32x16(x[j:]).MulAdd(av, archsimd.LoadFloat32x16(y[j:])).Store(y[j:])
	}
	goAxpy(y[j:], a, x[j:])
}

func avx512AxpyF16(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	k := newHalfConv()
	av := archsimd.BroadcastFloat32x16(a)
	j := 0
	for ; j+16 <= len(y); j += 16 {
		k.f32(archsimd.LoadUint16x16(x[j:]).ExtendToUint32()).MulAdd(av, archsimd.LoadFloat32x16(y[j:])).Store(y[j:])
	}
	goAxpyF16(y[j:], a, x[j:])
}

func avx512Scale(y []float32, a float32) {
	av := archsimd.BroadcastFloat32x16(a)
	j := 0
	for ; j+16 <= len(y); j += 16 {
		archsimd.LoadFloat32x16(y[j:]).Mul(av).Store(y[j:])
	}
	goScale(y[j:], a)
}

func avx512SumSq(x []float32) float32 { return avx512Dot(x, x) }

func avx512MulInto(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	j := 0
	for ; j+16 <= len(y); j += 16 {
		archsimd.LoadFloat32x16(a[j:]).Mul(archsimd.LoadFloat32x16(b[j:])).Store(y[j:])
	}
	goMulInto(y[j:], a[j:], b[j:])
}

// avx512F16ToF32 widens halves; a last partial vector goes through stack
// arrays (archsimd's partial loads are emulated element by element).
func avx512F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	k := newHalfConv()
	j := 0
	for ; j+16 <= len(src); j += 16 {
		k.f32(archsimd.LoadUint16x16(src[j:]).ExtendToUint32()).Store(dst[j:])
	}
	if j < len(src) {
		var in [16]uint16
		var out [16]float32
		copy(in[:], src[j:])
		k.f32(archsimd.LoadUint16x16(in[:]).ExtendToUint32()).Store(out[:])
		copy(dst[j:], out[:])
	}
}

func avx512BF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	j := 0
	for ; j+16 <= len(src); j += 16 {
		bf16f32(archsimd.LoadUint16x16(src[j:]).ExtendToUint32()).Store(dst[j:])
	}
	if j < len(src) {
		var in [16]uint16
		var out [16]float32
		copy(in[:], src[j:])
		bf16f32(archsimd.LoadUint16x16(in[:]).ExtendToUint32()).Store(out[:])
		copy(dst[j:], out[:])
	}
}

// expConsts are the vectors of Exp's polynomial.
type expConsts struct {
	lo, hi, log2e, magic, ln2Hi, ln2Lo f32x16
	c1, c2, c3, c4, c5, c6, one        f32x16
	bias                               archsimd.Int32x16
}

func newExpConsts() expConsts {
	b := archsimd.BroadcastFloat32x16
	return expConsts{
		lo: b(expLo), hi: b(expHi), log2e: b(log2e), magic: b(roundMag),
		ln2Hi: b(-ln2Hi), ln2Lo: b(-ln2Lo),
		c1: b(expC1), c2: b(expC2), c3: b(expC3), c4: b(expC4), c5: b(expC5), c6: b(expC6),
		one:  b(1),
		bias: archsimd.BroadcastInt32x16(127),
	}
}

// exp is Exp on 16 lanes.
func (c *expConsts) exp(x f32x16) f32x16 {
	keep := x.GreaterEqual(c.lo)
	x = x.Min(c.hi).Max(c.lo)
	n := x.MulAdd(c.log2e, c.magic).Sub(c.magic)
	r := n.MulAdd(c.ln2Hi, x)
	r = n.MulAdd(c.ln2Lo, r)
	p := c.c1.MulAdd(r, c.c2)
	p = p.MulAdd(r, c.c3)
	p = p.MulAdd(r, c.c4)
	p = p.MulAdd(r, c.c5)
	p = p.MulAdd(r, c.c6)
	p = p.Mul(r).MulAdd(r, r).Add(c.one)
	pow := n.ConvertToInt32().Add(c.bias).ShiftAllLeft(23).AsFloat32x16()
	return p.Mul(pow).Masked(keep)
}

func avx512ExpSum(x []float32, max float32) float32 {
	c := newExpConsts()
	mv := archsimd.BroadcastFloat32x16(max)
	var acc f32x16
	j := 0
	for ; j+16 <= len(x); j += 16 {
		e := c.exp(archsimd.LoadFloat32x16(x[j:]).Sub(mv))
		e.Store(x[j:])
		acc = acc.Add(e)
	}
	return hsum16(acc) + goExpSum(x[j:], max)
}

func avx512SiLUMul(a, b []float32) {
	b = b[:len(a)]
	c := newExpConsts()
	var zero f32x16
	j := 0
	for ; j+16 <= len(a); j += 16 {
		v := archsimd.LoadFloat32x16(a[j:])
		e := c.exp(zero.Sub(v))
		v.Mul(archsimd.LoadFloat32x16(b[j:])).Div(e.Add(c.one)).Store(a[j:])
	}
	goSiLUMul(a[j:], b[j:])
}
