//go:build goexperiment.simd && amd64

package kern

import (
	"simd/archsimd"
	"unsafe"
)

// AVX-512 matrix-vector rows. Weights are loaded in their stored width and
// widened in registers, one row at a time so that each thread streams its
// rows sequentially; four accumulators per row keep four FMA chains going.
//
// The inner loops are small non-inlined functions over unsafe pointers (plus
// byte offsets, so that no pointer ever steps past its allocation): with
// few live values the register allocator keeps every accumulator in a
// register, where slice indexing made it spill and re-check bounds on every
// iteration. Their callers slice (and so bounds-check) everything a loop will
// touch before handing out pointers. Columns past the last multiple of 16 go
// through the scalar tail.

type f32x16 = archsimd.Float32x16

func ldf(p unsafe.Pointer) f32x16 { return archsimd.LoadFloat32x16Array((*[16]float32)(p)) }

func ldh(p unsafe.Pointer) archsimd.Uint32x16 {
	return archsimd.LoadUint16x16Array((*[16]uint16)(p)).ExtendToUint32()
}

func ldb(p unsafe.Pointer) archsimd.Uint32x16 {
	return archsimd.LoadUint8x16Array((*[16]uint8)(p)).ExtendToUint32()
}

func hsum16(v f32x16) float32 {
	v8 := v.GetLo().Add(v.GetHi())
	v4 := v8.GetLo().Add(v8.GetHi())
	return (v4.GetElem(0) + v4.GetElem(1)) + (v4.GetElem(2) + v4.GetElem(3))
}

// Vector constants live in static arrays and are loaded where used (as
// memory operands, from L1). Go cannot keep a struct of vectors in registers:
// such a struct is copied through the stack in narrow pieces that wide loads
// then fail to forward from, which cost ~70 cycles per call.
var (
	cHalfEm     = splat32(0x7fff)
	cHalfExp    = splat32(0x0f800000) // em of a half with exponent 31 (Inf, NaN)
	cInfBits    = splat32(0x7f800000)
	cHalfMul    = splatF(0x1p112)
	cHalfFinite = splat32(0x8fffe000) // sign, exponent and mantissa of a half shifted left by 13
	cLow4       = splat32(15)
)

func splat32(v uint32) (a [16]uint32) {
	for i := range a {
		a[i] = v
	}
	return a
}

func splatF(v float32) (a [16]float32) {
	for i := range a {
		a[i] = v
	}
	return a
}

func ldu(p *[16]uint32) archsimd.Uint32x16 { return archsimd.LoadUint32x16Array(p) }

// h2f widens 16 zero-extended halves, bit-exact with F16ToF32.
func h2f(u archsimd.Uint32x16) f32x16 {
	em := u.And(ldu(&cHalfEm)).ShiftAllLeft(13)
	f := em.BitsToFloat32().Mul(archsimd.LoadFloat32x16Array(&cHalfMul)).ToBits()
	f = f.Or(u.ShiftAllRight(15).ShiftAllLeft(31))
	f = f.Or(ldu(&cInfBits).Masked(em.GreaterEqual(ldu(&cHalfExp))))
	return f.BitsToFloat32()
}

// h2fFinite is h2f for halves that are not Inf or NaN (subnormals are still
// exact). It takes the halves sign-extended: shifted left by 13, the sign
// lands in bit 31 (and copies of it in 28-30, which the mask clears) and the
// exponent and mantissa where float32 wants them, scaled by 2^-112.
func h2fFinite(s archsimd.Int32x16) f32x16 {
	return s.ShiftAllLeft(13).AsUint32x16().And(ldu(&cHalfFinite)).BitsToFloat32().Mul(archsimd.LoadFloat32x16Array(&cHalfMul))
}

// ldhs loads 16 halves sign-extended, for h2fFinite.
func ldhs(p unsafe.Pointer) archsimd.Int32x16 {
	return archsimd.LoadInt16x16Array((*[16]int16)(p)).ExtendToInt32()
}

func bf16f32(u archsimd.Uint32x16) f32x16 { return u.ShiftAllLeft(16).BitsToFloat32() }

func avx512RowsF32(y, w []float32, cols int, x []float32) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 15
	if vec == 0 {
		goRowsF32(y, w, cols, x)
		return
	}
	// One row at a time, as in avx512RowsHalf (2048×2048 from memory, one
	// thread: 24 GB/s four rows at once, 34 GB/s one row at a time; llama
	// 501M decode 22 -> 29 tok/s).
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*4
	for i := range y {
		y[i] = dot1F32(xp, unsafe.Add(wp, uintptr(i)*stride), vec) + goDot(w[i*cols+vec:(i+1)*cols], x[vec:])
	}
}

//go:noinline
func dot1F32(x, w unsafe.Pointer, n int) float32 {
	var a0, a1, a2, a3 f32x16
	o, end := uintptr(0), uintptr(n)*4
	for ; o+256 <= end; o += 256 {
		a0 = ldf(unsafe.Add(w, o)).MulAdd(ldf(unsafe.Add(x, o)), a0)
		a1 = ldf(unsafe.Add(w, o+64)).MulAdd(ldf(unsafe.Add(x, o+64)), a1)
		a2 = ldf(unsafe.Add(w, o+128)).MulAdd(ldf(unsafe.Add(x, o+128)), a2)
		a3 = ldf(unsafe.Add(w, o+192)).MulAdd(ldf(unsafe.Add(x, o+192)), a3)
	}
	a0, a1 = a0.Add(a2), a1.Add(a3)
	for ; o+128 <= end; o += 128 {
		a0 = ldf(unsafe.Add(w, o)).MulAdd(ldf(unsafe.Add(x, o)), a0)
		a1 = ldf(unsafe.Add(w, o+64)).MulAdd(ldf(unsafe.Add(x, o+64)), a1)
	}
	if o < end {
		a0 = ldf(unsafe.Add(w, o)).MulAdd(ldf(unsafe.Add(x, o)), a0)
	}
	return hsum16(a0.Add(a1))
}

func avx512RowsF16(y []float32, w []uint16, cols int, x []float32, finite bool) {
	avx512RowsHalf(y, w, cols, x, false, finite)
}

func avx512RowsBF16(y []float32, w []uint16, cols int, x []float32, _ bool) {
	avx512RowsHalf(y, w, cols, x, true, false)
}

// avx512RowsHalf computes one row at a time, so that each thread reads its
// rows as one sequential stream, with four independent FMA chains per row:
// with two chains (or four rows of one chain) the FMA latency, not memory,
// bounded decode (llama 501M, 2 threads: F16 27 -> 43 tok/s, BF16 38 -> 44).
func avx512RowsHalf(y []float32, w []uint16, cols int, x []float32, bf, finite bool) {
	x, w = x[:cols], w[:len(y)*cols]
	vec := cols &^ 15
	tail, dot := goDotF16, dot1F16
	switch {
	case bf:
		tail, dot = goDotBF16, dot1BF16
	case finite:
		dot = dot1F16Finite
	}
	if vec == 0 {
		for i := range y {
			y[i] = tail(x, w[i*cols:(i+1)*cols])
		}
		return
	}
	xp, wp, stride := unsafe.Pointer(&x[0]), unsafe.Pointer(&w[0]), uintptr(cols)*2
	for i := range y {
		y[i] = dot(xp, unsafe.Add(wp, uintptr(i)*stride), vec) + tail(x[vec:], w[i*cols+vec:(i+1)*cols])
	}
}

// Paired 16-bit loads: 32 weights are loaded as 16 uint32s, whose low
// halves (even columns) and high halves (odd columns) are widened in place,
// without the zero-extending load that costs two micro-ops per 16 weights.
// The matching x values are split into evens and odds by two permutes.
// Even and odd products of two blocks go to four accumulators.
var (
	cEvenIdx = [16]uint32{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}
	cOddIdx  = [16]uint32{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}
	cHiHalf  = splat32(0xffff0000)
)

func ldw(p unsafe.Pointer) archsimd.Int32x16 {
	return archsimd.LoadInt32x16Array((*[16]int32)(p))
}

// xEvenOdd splits 32 x values into the even and odd columns.
func xEvenOdd(p unsafe.Pointer) (xe, xo f32x16) {
	lo, hi := ldf(p), ldf(unsafe.Add(p, 64))
	return lo.ConcatPermute(hi, ldu(&cEvenIdx)), lo.ConcatPermute(hi, ldu(&cOddIdx))
}

// hLo and hHi widen the low and high finite halves of each uint32 as
// h2fFinite does: shifted right arithmetically by 3, a half in the high 16
// bits has its sign in bit 31 and its exponent and mantissa in bits 13-27.
func hLo(u archsimd.Int32x16) f32x16 { return hHi(u.ShiftAllLeft(16)) }

func hHi(u archsimd.Int32x16) f32x16 {
	return u.ShiftAllRight(3).AsUint32x16().And(ldu(&cHalfFinite)).BitsToFloat32().Mul(archsimd.LoadFloat32x16Array(&cHalfMul))
}

func bLo(u archsimd.Int32x16) f32x16 { return u.ShiftAllLeft(16).AsUint32x16().BitsToFloat32() }

func bHi(u archsimd.Int32x16) f32x16 { return u.AsUint32x16().And(ldu(&cHiHalf)).BitsToFloat32() }

// dot1F16Finite is dot1F16 for halves without Inf or NaN.
//
//go:noinline
func dot1F16Finite(x, w unsafe.Pointer, n int) float32 {
	var a0, b0, a1, b1 f32x16
	o, end := uintptr(0), uintptr(n)*2
	for ; o+128 <= end; o += 128 {
		xe, xo := xEvenOdd(unsafe.Add(x, 2*o))
		u := ldw(unsafe.Add(w, o))
		a0 = hLo(u).MulAdd(xe, a0)
		b0 = hHi(u).MulAdd(xo, b0)
		xe, xo = xEvenOdd(unsafe.Add(x, 2*o+128))
		u = ldw(unsafe.Add(w, o+64))
		a1 = hLo(u).MulAdd(xe, a1)
		b1 = hHi(u).MulAdd(xo, b1)
	}
	a0, b0 = a0.Add(a1), b0.Add(b1)
	for ; o+64 <= end; o += 64 {
		xe, xo := xEvenOdd(unsafe.Add(x, 2*o))
		u := ldw(unsafe.Add(w, o))
		a0 = hLo(u).MulAdd(xe, a0)
		b0 = hHi(u).MulAdd(xo, b0)
	}
	if o < end {
		a0 = h2fFinite(ldhs(unsafe.Add(w, o))).MulAdd(ldf(unsafe.Add(x, 2*o)), a0)
	}
	return hsum16(a0.Add(b0))
}

//go:noinline
func dot1BF16(x, w unsafe.Pointer, n int) float32 {
	var a0, b0, a1, b1 f32x16
	o, end := uintptr(0), uintptr(n)*2
	for ; o+128 <= end; o += 128 {
		xe, xo := xEvenOdd(unsafe.Add(x, 2*o))
		u := ldw(unsafe.Add(w, o))
		a0 = bLo(u).MulAdd(xe, a0)
		b0 = bHi(u).MulAdd(xo, b0)
		xe, xo = xEvenOdd(unsafe.Add(x, 2*o+128))
		u = ldw(unsafe.Add(w, o+64))
		a1 = bLo(u).MulAdd(xe, a1)
		b1 = bHi(u).MulAdd(xo, b1)
	}
	a0, b0 = a0.Add(a1), b0.Add(b1)
	for ; o+64 <= end; o += 64 {
		xe, xo := xEvenOdd(unsafe.Add(x, 2*o))
		u := ldw(unsafe.Add(w, o))
		a0 = bLo(u).MulAdd(xe, a0)
		b0 = bHi(u).MulAdd(xo, b0)
	}
	if o < end {
		a0 = bf16f32(ldh(unsafe.Add(w, o))).MulAdd(ldf(unsafe.Add(x, 2*o)), a0)
	}
	return hsum16(a0.Add(b0))
}

func avx512Dot(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 15
	if vec == 0 {
		return goDot(a, b)
	}
	return dot1F32(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec) + goDot(a[vec:], b[vec:])
}

func avx512DotF16(a []float32, b []uint16) float32 {
	n := len(a)
	b = b[:n]
	vec := n &^ 15
	if vec == 0 {
		return goDotF16(a, b)
	}
	return dot1F16(unsafe.Pointer(&a[0]), unsafe.Pointer(&b[0]), vec) + goDotF16(a[vec:], b[vec:])
}

//go:noinline
func dot1F16(x, w unsafe.Pointer, n int) float32 {
	var a0 f32x16
	for o := uintptr(0); o < uintptr(n)*2; o += 32 {
		a0 = h2f(ldh(unsafe.Add(w, o))).MulAdd(ldf(unsafe.Add(x, 2*o)), a0)
	}
	return hsum16(a0)
}

func avx512FiniteF16(h []uint16) bool {
	mask, inf := archsimd.BroadcastUint16x32(0x7c00), archsimd.BroadcastUint16x32(0x7c00)
	j := 0
	for ; j+32 <= len(h); j += 32 {
		if archsimd.LoadUint16x32(h[j:]).And(mask).Equal(inf).ToBits() != 0 {
			return false
		}
	}
	return goFiniteF16(h[j:])
}

// rowPtrs returns the addresses of rows 1..3 after w, or w itself for rows
// at or past m (so a short block never reads past its matrix).
func rowPtrs(w unsafe.Pointer, stride uintptr, m int) (w1, w2, w3 unsafe.Pointer) {
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
