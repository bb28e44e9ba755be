//go:build goexperiment.simd

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// NEON (Advanced SIMD) matrix-vector rows for arm64, through simd/archsimd:
// the AVX2 designs at 4 lanes. NEON is part of the arm64 baseline, so this
// set is always usable. It has 32 vector registers, so blocks of four rows
// with one accumulator each (plus the widened weights) never spill.
//
// As in the amd64 sets, the inner loops are small non-inlined functions over
// unsafe pointers and byte offsets whose callers slice (and so bounds-check)
// everything a loop touches; columns past the last multiple of the vector
// step go through the scalar tail.

type f32x4 = archsimd.Float32x4

func ldf4(p unsafe.Pointer) f32x4 { return archsimd.LoadFloat32x4Array((*[4]float32)(p)) }

func ldu16x8(p unsafe.Pointer) archsimd.Uint16x8 {
	return archsimd.LoadUint16x8Array((*[8]uint16)(p))
}

func ldu4(p *[4]uint32) archsimd.Uint32x4 { return archsimd.LoadUint32x4Array(p) }

func lf4(p *[4]float32) f32x4 { return archsimd.LoadFloat32x4Array(p) }

// hsum4 adds the four lanes as (v0+v1)+(v2+v3), with pairwise adds.
func hsum4(v f32x4) float32 {
	v = v.ConcatAddPairs(v)
	return v.ConcatAddPairs(v).GetElem(0)
}

// Vector constants, loaded where used (see the note in avx512_rows.go).
var (
	nHalfEm   = splat4(0x7fff)
	nHalfExp  = splat4(0x0f800000) // em of a half with exponent 31 (Inf, NaN)
	nInfBits  = splat4(0x7f800000)
	nHalfMul  = splatF4(0x1p112)
	nLow4     = [16]uint8{15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15}
	nExpLo    = splatF4(expLo)
	nExpHi    = splatF4(expHi)
	nLog2e    = splatF4(log2e)
	nMagic    = splatF4(roundMag)
	nLn2Hi    = splatF4(-ln2Hi)
	nLn2Lo    = splatF4(-ln2Lo)
	nExpC     = [6][4]float32{splatF4(expC1), splatF4(expC2), splatF4(expC3), splatF4(expC4), splatF4(expC5), splatF4(expC6)}
	nOne      = splatF4(1)
	nBias127  = splat4(127)
	nSignMask = splat4(0x8000)
)

func splat4(v uint32) [4]uint32 { return [4]uint32{v, v, v, v} }

func splatF4(v float32) [4]float32 { return [4]float32{v, v, v, v} }

// h2f4 widens 4 halves (in the low 16 bits of each lane) to float32 exactly,
// with F16ToF32's trick: the shifted exponent and mantissa times 2^112 is the
// value for normals and subnormals alike; exponent 31 is forced to Inf/NaN.
func h2f4(u archsimd.Uint32x4) f32x4 {
	em := u.And(ldu4(&nHalfEm)).ShiftAllLeft(13)
	f := em.BitsToFloat32().Mul(lf4(&nHalfMul)).ToBits()
	f = f.Or(u.And(ldu4(&nSignMask)).ShiftAllLeft(16))
	inf := em.GreaterEqual(ldu4(&nHalfExp)).ToInt32x4().ToBits()
	return f.Or(ldu4(&nInfBits).And(inf)).BitsToFloat32()
}

// h2f8 widens 8 halves to two float32 vectors (low four, high four).
func h2f8(v archsimd.Uint16x8) (f32x4, f32x4) {
	return h2f4(v.ExtendLo4ToUint32()), h2f4(v.HiToLo().ExtendLo4ToUint32())
}

// bf2f8 widens 8 bfloat16 to two float32 vectors: the bits move up 16.
func bf2f8(v archsimd.Uint16x8) (f32x4, f32x4) {
	return v.ExtendLo4ToUint32().ShiftAllLeft(16).BitsToFloat32(),
		v.HiToLo().ExtendLo4ToUint32().ShiftAllLeft(16).BitsToFloat32()
}

// rows4 returns the row pointers of a block of m ≤ 4 rows; missing rows
// repeat the first so that the loop reads only memory it owns.
func rows4(w unsafe.Pointer, stride uintptr, m int) (w1, w2, w3 unsafe.Pointer) {
	w1, w2, w3 = w, w, w
	if m > 1 {
		w1 = unsafe.Add(w, stride)
	}
	if m > 2 {
		w2 = unsafe.Add(w, 2*stride)
	}
	if m > 3 {
		w3 = unsafe.Add(w, 3*stride)
	}
	return w1, w2, w3
}

func neonRowsF32(y, w []float32, cols int, x []float32) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	if vec == 0 {
		goRowsF32(y, w, cols, x)
		return
	}
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*4
	var out [4]float32
	for i := 0; i < len(y); {
		n := min(4, len(y)-i)
		neonDot4(&out, xp, unsafe.Add(wp, uintptr(i)*stride), stride, vec, n, 0)
		for r := 0; r < n; r++ {
			y[i+r] = out[r] + goDot(w[(i+r)*cols+vec:(i+r+1)*cols], x[vec:])
		}
		i += n
	}
}

func neonRowsF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	neonRowsHalf(y, w, cols, x, 1)
}

func neonRowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	neonRowsHalf(y, w, cols, x, 2)
}

func neonRowsHalf(y []float32, w []uint16, cols int, x []float32, kind int) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 7
	tail := goDotF16
	if kind == 2 {
		tail = goDotBF16
	}
	if vec == 0 {
		for i := range y {
			y[i] = tail(x, w[i*cols:(i+1)*cols])
		}
		return
	}
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*2
	var out [4]float32
	for i := 0; i < len(y); {
		n := min(4, len(y)-i)
		neonDot4(&out, xp, unsafe.Add(wp, uintptr(i)*stride), stride, vec, n, kind)
		for r := 0; r < n; r++ {
			y[i+r] = out[r] + tail(x[vec:], w[(i+r)*cols+vec:(i+r+1)*cols])
		}
		i += n
	}
}

// neonDot4 computes the first n (a multiple of 8) columns of m ≤ 4 rows of
// w (kind 0: float32, 1: F16, 2: BF16) times x. Two accumulators per row
// (low and high four columns of each step of 8) keep eight FMA chains going.
//
//go:noinline
func neonDot4(out *[4]float32, x, w unsafe.Pointer, stride uintptr, n, m, kind int) {
	w1, w2, w3 := rows4(w, stride, m)
	var a0, a1, a2, a3, b0, b1, b2, b3 f32x4
	switch kind {
	case 0:
		for o := uintptr(0); o < uintptr(n)*4; o += 32 {
			xl, xh := ldf4(unsafe.Add(x, o)), ldf4(unsafe.Add(x, o+16))
			a0, b0 = ldf4(unsafe.Add(w, o)).MulAdd(xl, a0), ldf4(unsafe.Add(w, o+16)).MulAdd(xh, b0)
			a1, b1 = ldf4(unsafe.Add(w1, o)).MulAdd(xl, a1), ldf4(unsafe.Add(w1, o+16)).MulAdd(xh, b1)
			a2, b2 = ldf4(unsafe.Add(w2, o)).MulAdd(xl, a2), ldf4(unsafe.Add(w2, o+16)).MulAdd(xh, b2)
			a3, b3 = ldf4(unsafe.Add(w3, o)).MulAdd(xl, a3), ldf4(unsafe.Add(w3, o+16)).MulAdd(xh, b3)
		}
	case 1:
		for o := uintptr(0); o < uintptr(n)*2; o += 16 {
			xl, xh := ldf4(unsafe.Add(x, 2*o)), ldf4(unsafe.Add(x, 2*o+16))
			l, h := h2f8(ldu16x8(unsafe.Add(w, o)))
			a0, b0 = l.MulAdd(xl, a0), h.MulAdd(xh, b0)
			l, h = h2f8(ldu16x8(unsafe.Add(w1, o)))
			a1, b1 = l.MulAdd(xl, a1), h.MulAdd(xh, b1)
			l, h = h2f8(ldu16x8(unsafe.Add(w2, o)))
			a2, b2 = l.MulAdd(xl, a2), h.MulAdd(xh, b2)
			l, h = h2f8(ldu16x8(unsafe.Add(w3, o)))
			a3, b3 = l.MulAdd(xl, a3), h.MulAdd(xh, b3)
		}
	default:
		for o := uintptr(0); o < uintptr(n)*2; o += 16 {
			xl, xh := ldf4(unsafe.Add(x, 2*o)), ldf4(unsafe.Add(x, 2*o+16))
			l, h := bf2f8(ldu16x8(unsafe.Add(w, o)))
			a0, b0 = l.MulAdd(xl, a0), h.MulAdd(xh, b0)
			l, h = bf2f8(ldu16x8(unsafe.Add(w1, o)))
			a1, b1 = l.MulAdd(xl, a1), h.MulAdd(xh, b1)
			l, h = bf2f8(ldu16x8(unsafe.Add(w2, o)))
			a2, b2 = l.MulAdd(xl, a2), h.MulAdd(xh, b2)
			l, h = bf2f8(ldu16x8(unsafe.Add(w3, o)))
			a3, b3 = l.MulAdd(xl, a3), h.MulAdd(xh, b3)
		}
	}
	out[0], out[1] = hsum4(a0.Add(b0)), hsum4(a1.Add(b1))
	out[2], out[3] = hsum4(a2.Add(b2)), hsum4(a3.Add(b3))
}

// neonDot1 is neonDot4 for one row, float32 (kind 0) or F16 (kind 1), with
// four accumulators.
//
//go:noinline
func neonDot1(x, w unsafe.Pointer, n, kind int) float32 {
	var a0, a1, a2, a3 f32x4
	if kind == 0 {
		o, end := uintptr(0), uintptr(n)*4
		for ; o+64 <= end; o += 64 {
			a0 = ldf4(unsafe.Add(w, o)).MulAdd(ldf4(unsafe.Add(x, o)), a0)
			a1 = ldf4(unsafe.Add(w, o+16)).MulAdd(ldf4(unsafe.Add(x, o+16)), a1)
			a2 = ldf4(unsafe.Add(w, o+32)).MulAdd(ldf4(unsafe.Add(x, o+32)), a2)
			a3 = ldf4(unsafe.Add(w, o+48)).MulAdd(ldf4(unsafe.Add(x, o+48)), a3)
		}
		for ; o < end; o += 16 {
			a0 = ldf4(unsafe.Add(w, o)).MulAdd(ldf4(unsafe.Add(x, o)), a0)
		}
		return hsum4(a0.Add(a1).Add(a2.Add(a3)))
	}
	for o := uintptr(0); o < uintptr(n)*2; o += 16 {
		l, h := h2f8(ldu16x8(unsafe.Add(w, o)))
		a0 = l.MulAdd(ldf4(unsafe.Add(x, 2*o)), a0)
		a1 = h.MulAdd(ldf4(unsafe.Add(x, 2*o+16)), a1)
	}
	return hsum4(a0.Add(a1))
}

func neonDot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 3
	if vec == 0 {
		return goDot(a, b)
	}
	return neonDot1(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec, 0) + goDot(a[vec:], b[vec:])
}

func neonDotF16(a []float32, b []uint16) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 7
	if vec == 0 {
		return goDotF16(a, b)
	}
	return neonDot1(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec, 1) + goDotF16(a[vec:], b[vec:])
}

// neonAttnScores computes four positions at a time with the row kernel (k
// rows are stride apart, like the rows of a matrix).
func neonAttnScores(s, q, k []float32, stride int) {
	hd := len(q)
	vec := hd &^ 7
	if vec == 0 || len(s) == 0 {
		goAttnScores(s, q, k, stride)
		return
	}
	k = k[:(len(s)-1)*stride+hd]
	qp, kp, bs := unsafe.Pointer(&q[0]), unsafe.Pointer(&k[0]), uintptr(stride)*4
	var out [4]float32
	for p := 0; p < len(s); {
		n := min(4, len(s)-p)
		neonDot4(&out, qp, unsafe.Add(kp, uintptr(p)*bs), bs, vec, n, 0)
		for r := 0; r < n; r++ {
			s[p+r] = out[r] + goDot(q[vec:], k[(p+r)*stride+vec:(p+r)*stride+hd])
		}
		p += n
	}
}

// neonAttnValues adds to out, keeping 16 output lanes in registers across all positions
// instead of loading and storing them once per position.
func neonAttnValues(out, w, v []float32, stride int) {
	hd := len(out)
	if len(w) == 0 {
		return
	}
	v = v[:(len(w)-1)*stride+hd]
	vec := hd &^ 15
	for c := 0; c < vec; c += 16 {
		neonValues16((*[16]float32)(out[c:]), unsafe.Pointer(&w[0]), unsafe.Pointer(&v[c]), uintptr(stride)*4, len(w))
	}
	if vec < hd {
		for p, wp := range w {
			goAxpy(out[vec:], wp, v[p*stride+vec:p*stride+hd])
		}
	}
}

//go:noinline
func neonValues16(out *[16]float32, w, v unsafe.Pointer, stride uintptr, n int) {
	o := unsafe.Pointer(out)
	a0, a1, a2, a3 := ldf4(o), ldf4(unsafe.Add(o, 16)), ldf4(unsafe.Add(o, 32)), ldf4(unsafe.Add(o, 48))
	for p := uintptr(0); p < uintptr(n); p++ {
		wp := archsimd.BroadcastFloat32x4(*(*float32)(unsafe.Add(w, 4*p)))
		r := unsafe.Add(v, p*stride)
		a0 = ldf4(r).MulAdd(wp, a0)
		a1 = ldf4(unsafe.Add(r, 16)).MulAdd(wp, a1)
		a2 = ldf4(unsafe.Add(r, 32)).MulAdd(wp, a2)
		a3 = ldf4(unsafe.Add(r, 48)).MulAdd(wp, a3)
	}
	a0.StoreArray((*[4]float32)(out[0:4]))
	a1.StoreArray((*[4]float32)(out[4:8]))
	a2.StoreArray((*[4]float32)(out[8:12]))
	a3.StoreArray((*[4]float32)(out[12:16]))
}
