//go:build goexperiment.simd && amd64

#include "textflag.h"
#include "halfdot_amd64.h"

// Half-precision dot products over zmm with f16cDot's and bf16Dot's bits:
// those keep four ymm accumulators a0..a3 and add halves 32i+8k+l into
// ak's lane l. Here Z0 holds a0|a1 and Z1 a2|a3, so one 16-half conversion
// and one FMA do what two ymm ones did, lane for lane in the same order;
// what is left after the last 32 goes back to ymm and through the AVX2
// tail and reduction as it stands.

// FMA4Z adds Z4..Z7 (64 converted halves) against x: Z4, Z6 into a0|a1,
// Z5, Z7 into a2|a3.
#define FMA4Z \
	VFMADD231PS (SI), Z4, Z0; \
	VFMADD231PS 64(SI), Z5, Z1; \
	VFMADD231PS 128(SI), Z6, Z0; \
	VFMADD231PS 192(SI), Z7, Z1; \
	ADDQ $128, DI; \
	ADDQ $256, SI; \
	SUBQ $64, CX

// FMA2Z is FMA4Z for 32 halves in Z4, Z5.
#define FMA2Z \
	VFMADD231PS (SI), Z4, Z0; \
	VFMADD231PS 64(SI), Z5, Z1; \
	ADDQ $64, DI; \
	ADDQ $128, SI; \
	SUBQ $32, CX

// ZSPLIT moves Z0 = a0|a1, Z1 = a2|a3 into Y0..Y3 = a0..a3.
#define ZSPLIT \
	VEXTRACTF64X4 $1, Z1, Y3; \
	VMOVAPS       Y1, Y2; \
	VEXTRACTF64X4 $1, Z0, Y1

// F16_CVT4 and BF16_CVT4 widen the 64 halves at DI into Z4..Z7, the CVT2s
// the 32 at DI into Z4, Z5.
#define F16_CVT4 \
	VCVTPH2PS (DI), Z4; \
	VCVTPH2PS 32(DI), Z5; \
	VCVTPH2PS 64(DI), Z6; \
	VCVTPH2PS 96(DI), Z7

#define F16_CVT2 \
	VCVTPH2PS (DI), Z4; \
	VCVTPH2PS 32(DI), Z5

#define BF16_CVT4 \
	VPMOVZXWD (DI), Z4; \
	VPMOVZXWD 32(DI), Z5; \
	VPMOVZXWD 64(DI), Z6; \
	VPMOVZXWD 96(DI), Z7; \
	VPSLLD    $16, Z4, Z4; \
	VPSLLD    $16, Z5, Z5; \
	VPSLLD    $16, Z6, Z6; \
	VPSLLD    $16, Z7, Z7

#define BF16_CVT2 \
	VPMOVZXWD (DI), Z4; \
	VPMOVZXWD 32(DI), Z5; \
	VPSLLD    $16, Z4, Z4; \
	VPSLLD    $16, Z5, Z5

// HALFDOTZ is the dot product of the CX halves at DI with x at SI, left in
// X0, with the type's widening (cvt4, cvt2) and AVX2 step (step8): 64
// halves a loop, then 32, then the ymm tail. (The arguments are read and
// the result stored outside it, where go vet checks them.)
#define HALFDOTZ(cvt4, cvt2, step8, l64, l32, lsplit, l8, ldone) \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
l64: \
	CMPQ CX, $64; \
	JLT  l32; \
	cvt4; \
	FMA4Z; \
	JMP  l64; \
l32: \
	CMPQ CX, $32; \
	JLT  lsplit; \
	cvt2; \
	FMA2Z; \
lsplit: \
	ZSPLIT; \
l8: \
	CMPQ CX, $8; \
	JLT  ldone; \
	step8; \
	JMP  l8; \
ldone: \
	DOT4_SUM

// func f16DotZ(x *float32, w *uint16, n int) float32
TEXT ·f16DotZ(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	HALFDOTZ(F16_CVT4, F16_CVT2, F16_STEP8, zf16loop64, zf16loop32, zf16split, zf16loop8, zf16done)
	MOVSS X0, ret+24(FP)
	RET

// func bf16DotZ(x *float32, w *uint16, n int) float32
TEXT ·bf16DotZ(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	HALFDOTZ(BF16_CVT4, BF16_CVT2, BF16_STEP8, zbf16loop64, zbf16loop32, zbf16split, zbf16loop8, zbf16done)
	MOVSS X0, ret+24(FP)
	RET
