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

// func f16DotZ(x *float32, w *uint16, n int) float32
TEXT ·f16DotZ(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
zf16loop64:
	CMPQ CX, $64
	JLT  zf16loop32
	VCVTPH2PS (DI), Z4
	VCVTPH2PS 32(DI), Z5
	VCVTPH2PS 64(DI), Z6
	VCVTPH2PS 96(DI), Z7
	FMA4Z
	JMP  zf16loop64
zf16loop32:
	CMPQ CX, $32
	JLT  zf16split
	VCVTPH2PS (DI), Z4
	VCVTPH2PS 32(DI), Z5
	FMA2Z
zf16split:
	ZSPLIT
zf16loop8:
	CMPQ CX, $8
	JLT  zf16done
	F16_STEP8
	JMP  zf16loop8
zf16done:
	DOT4_SUM
	MOVSS X0, ret+24(FP)
	RET

// func bf16DotZ(x *float32, w *uint16, n int) float32
TEXT ·bf16DotZ(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
zbf16loop64:
	CMPQ CX, $64
	JLT  zbf16loop32
	VPMOVZXWD (DI), Z4
	VPMOVZXWD 32(DI), Z5
	VPMOVZXWD 64(DI), Z6
	VPMOVZXWD 96(DI), Z7
	VPSLLD $16, Z4, Z4
	VPSLLD $16, Z5, Z5
	VPSLLD $16, Z6, Z6
	VPSLLD $16, Z7, Z7
	FMA4Z
	JMP  zbf16loop64
zbf16loop32:
	CMPQ CX, $32
	JLT  zbf16split
	VPMOVZXWD (DI), Z4
	VPMOVZXWD 32(DI), Z5
	VPSLLD $16, Z4, Z4
	VPSLLD $16, Z5, Z5
	FMA2Z
zbf16split:
	ZSPLIT
zbf16loop8:
	CMPQ CX, $8
	JLT  zbf16done
	BF16_STEP8
	JMP  zbf16loop8
zbf16done:
	DOT4_SUM
	MOVSS X0, ret+24(FP)
	RET
