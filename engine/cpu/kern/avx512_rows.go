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
	// One row at a time (2048×2048 from memory, one
	// thread: 24 GB/s four rows at once, 34 GB/s one row at a time; llama
	// 501M decode 22 -> 29 tok/s), in assembly for its software prefetch.
	var acc [16]float32
	for i := range y {
		rowF32PF(&x[0], &w[i*cols], vec, &acc)
		y[i] = hsum16(archsimd.LoadFloat32x16Array(&acc)) + goDot(w[i*cols+vec:(i+1)*cols], x[vec:])
	}
}

// rowF32PF is dot1F32 for decode's rows (n a multiple of 16), in assembly
// (avx512_rowsf32_amd64.s) for what Go cannot say: each step prefetches the
// four lines 4 KiB ahead of those it reads. It leaves dot1F32's last vector
// (a0+a1) in acc, whose hsum16 has dot1F32's bits. A thread's one stream of
// float32 rows needs twice the bytes of a half-precision one for the same
// work, more than the hardware prefetchers keep in flight: decode of the
// 0.5B F32 model (n1, three interleaved pairs) 23.9/23.7/23.5 → 26.1/26.1/
// 25.7 tok/s, with weights in huge pages (the same prefetch in the F16/BF16
// rows changed nothing).
//
//go:noescape
func rowF32PF(x, w *float32, n int, acc *[16]float32)

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
