//go:build goexperiment.simd && amd64

#include "textflag.h"

// Half-precision dot products over zmm with f16cDot's and bf16Dot's bits:
// those keep four ymm accumulators a0..a3 and add halves 32i+8k+l into
// ak's lane l. Here Z0 holds a0|a1 and Z1 a2|a3, so one 16-half conversion
// and one FMA do what two ymm ones did, lane for lane in the same order;
// what is left after the last 32 goes back to ymm and through the AVX2
// tail and reduction as it stands.

// ZSPLIT moves Z0 = a0|a1, Z1 = a2|a3 into Y0..Y3 = a0..a3.
#define ZSPLIT \
	VEXTRACTF64X4 $1, Z1, Y3; \
	VMOVAPS       Y1, Y2; \
	VEXTRACTF64X4 $1, Z0, Y1

// HSUM_Y0 adds the 8 lanes of Y0 into X0's low float (avx2_asm_amd64.s's).
#define HSUM_Y0 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VHADDPS X0, X0, X0; \
	VHADDPS X0, X0, X0

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
	VFMADD231PS (SI), Z4, Z0
	VFMADD231PS 64(SI), Z5, Z1
	VFMADD231PS 128(SI), Z6, Z0
	VFMADD231PS 192(SI), Z7, Z1
	ADDQ $128, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  zf16loop64
zf16loop32:
	CMPQ CX, $32
	JLT  zf16split
	VCVTPH2PS (DI), Z4
	VCVTPH2PS 32(DI), Z5
	VFMADD231PS (SI), Z4, Z0
	VFMADD231PS 64(SI), Z5, Z1
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $32, CX
zf16split:
	ZSPLIT
zf16loop8:
	CMPQ CX, $8
	JLT  zf16done
	VCVTPH2PS (DI), Y4
	VFMADD231PS (SI), Y4, Y0
	ADDQ $16, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  zf16loop8
zf16done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM_Y0
	VZEROUPPER
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
	VFMADD231PS (SI), Z4, Z0
	VFMADD231PS 64(SI), Z5, Z1
	VFMADD231PS 128(SI), Z6, Z0
	VFMADD231PS 192(SI), Z7, Z1
	ADDQ $128, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  zbf16loop64
zbf16loop32:
	CMPQ CX, $32
	JLT  zbf16split
	VPMOVZXWD (DI), Z4
	VPMOVZXWD 32(DI), Z5
	VPSLLD $16, Z4, Z4
	VPSLLD $16, Z5, Z5
	VFMADD231PS (SI), Z4, Z0
	VFMADD231PS 64(SI), Z5, Z1
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $32, CX
zbf16split:
	ZSPLIT
zbf16loop8:
	CMPQ CX, $8
	JLT  zbf16done
	VPMOVZXWD (DI), Y4
	VPSLLD $16, Y4, Y4
	VFMADD231PS (SI), Y4, Y0
	ADDQ $16, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  zbf16loop8
zbf16done:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM_Y0
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET
