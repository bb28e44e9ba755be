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
	av := archsimd.BroadcastFloat32x16(a)
	j := 0
	for ; j+16 <= len(y); j += 16 {
		h2f(archsimd.LoadUint16x16(x[j:]).ExtendToUint32()).MulAdd(av, archsimd.LoadFloat32x16(y[j:])).Store(y[j:])
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
	j := 0
	for ; j+16 <= len(src); j += 16 {
		h2f(archsimd.LoadUint16x16(src[j:]).ExtendToUint32()).Store(dst[j:])
	}
	if j < len(src) {
		var in [16]uint16
		var out [16]float32
		copy(in[:], src[j:])
		h2f(archsimd.LoadUint16x16(in[:]).ExtendToUint32()).Store(out[:])
		copy(dst[j:], out[:])
	}
}

func avx512BF16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	vec := len(src) &^ 15
	if vec > 0 {
		bf16Widen16(&dst[0], &src[0], vec)
	}
	goBF16ToF32(dst[vec:], src[vec:])
}

// The vectors of Exp's polynomial (see the note on constants in avx512_rows.go).
var (
	cExpLo, cExpHi, cLog2e = splatF(expLo), splatF(expHi), splatF(log2e)
	cMagic, cLn2Hi, cLn2Lo = splatF(roundMag), splatF(-ln2Hi), splatF(-ln2Lo)
	cExpC                  = [6][16]float32{splatF(expC1), splatF(expC2), splatF(expC3), splatF(expC4), splatF(expC5), splatF(expC6)}
	cOne                   = splatF(1)
	cBias127               = splat32(127)
)

func lf(p *[16]float32) f32x16 { return archsimd.LoadFloat32x16Array(p) }

// exp16 is Exp on 16 lanes.
func exp16(x f32x16) f32x16 {
	keep := x.GreaterEqual(lf(&cExpLo))
	x = x.Min(lf(&cExpHi)).Max(lf(&cExpLo))
	n := x.MulAdd(lf(&cLog2e), lf(&cMagic)).Sub(lf(&cMagic))
	r := n.MulAdd(lf(&cLn2Hi), x)
	r = n.MulAdd(lf(&cLn2Lo), r)
	p := lf(&cExpC[0]).MulAdd(r, lf(&cExpC[1]))
	p = p.MulAdd(r, lf(&cExpC[2]))
	p = p.MulAdd(r, lf(&cExpC[3]))
	p = p.MulAdd(r, lf(&cExpC[4]))
	p = p.MulAdd(r, lf(&cExpC[5]))
	p = p.Mul(r).MulAdd(r, r).Add(lf(&cOne))
	pow := n.ConvertToInt32().AsUint32x16().Add(ldu(&cBias127)).ShiftAllLeft(23).BitsToFloat32()
	return p.Mul(pow).Masked(keep)
}

func avx512ExpSum(x []float32, max float32) float32 {
	mv := archsimd.BroadcastFloat32x16(max)
	var acc f32x16
	j := 0
	for ; j+16 <= len(x); j += 16 {
		e := exp16(archsimd.LoadFloat32x16(x[j:]).Sub(mv))
		e.Store(x[j:])
		acc = acc.Add(e)
	}
	// The last len(x)%16 values in one masked vector rather than the
	// scalar Exp: attention's rows have every length, and their tails were
	// half of a prompt's softmax time. exp16 (fused multiply-adds) and Exp
	// (separate ones) may differ in the last bit there, and the tail now
	// joins the lanes' sums before the horizontal add.
	if k := len(x) - j; k > 0 {
		keep := archsimd.Mask32x16FromBits(uint16(1)<<k - 1)
		v, _ := archsimd.LoadFloat32x16Part(x[j:])
		e := exp16(v.Sub(mv)).Masked(keep)
		e.StorePart(x[j:])
		acc = acc.Add(e)
	}
	return hsum16(acc)
}

func avx512SiLUMul(a, b []float32) {
	b = b[:len(a)]
	var zero f32x16
	j := 0
	for ; j+16 <= len(a); j += 16 {
		v := archsimd.LoadFloat32x16(a[j:])
		e := exp16(zero.Sub(v))
		v.Mul(archsimd.LoadFloat32x16(b[j:])).Div(e.Add(lf(&cOne))).Store(a[j:])
	}
	goSiLUMul(a[j:], b[j:])
}
