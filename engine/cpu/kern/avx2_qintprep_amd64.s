//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA qpAbs<>+0(SB)/4, $0x7fffffff
GLOBL qpAbs<>(SB), RODATA|NOPTR, $4
DATA qpSign<>+0(SB)/4, $0x80000000
GLOBL qpSign<>(SB), RODATA|NOPTR, $4
DATA qpMaxF<>+0(SB)/4, $0x7f7fffff
GLOBL qpMaxF<>(SB), RODATA|NOPTR, $4
DATA qpHalf<>+0(SB)/4, $0x3f000000
GLOBL qpHalf<>(SB), RODATA|NOPTR, $4
DATA qpQmax<>+0(SB)/4, $0x46fffe00 // 32767.0
GLOBL qpQmax<>(SB), RODATA|NOPTR, $4
DATA qpQmin<>+0(SB)/4, $-32767
GLOBL qpQmin<>(SB), RODATA|NOPTR, $4
// Even floats of eight, then odd ones: Q4's order within a half block.
DATA qpEvenOdd<>+0(SB)/4, $0
DATA qpEvenOdd<>+4(SB)/4, $2
DATA qpEvenOdd<>+8(SB)/4, $4
DATA qpEvenOdd<>+12(SB)/4, $6
DATA qpEvenOdd<>+16(SB)/4, $1
DATA qpEvenOdd<>+20(SB)/4, $3
DATA qpEvenOdd<>+24(SB)/4, $5
DATA qpEvenOdd<>+28(SB)/4, $7
GLOBL qpEvenOdd<>(SB), RODATA|NOPTR, $32

// QROUND rounds v·inv (Y1) halves away from zero to int32, as roundQint:
// v + copysign(0.5, v) in float32, then truncation; the lower clamp at
// -qintMax is left to the caller (the pack saturates the upper one).
#define QROUND(v) \
	VMULPS     Y1, v, v; \
	VANDPS     Y12, v, Y11; \
	VORPS      Y13, Y11, Y11; \
	VADDPS     Y11, v, v; \
	VCVTTPS2DQ v, v; \
	VPMAXSD    Y14, v, v

// func qintGroup(x *float32, n int, xw *int16, q4 bool) (dx float32, ok bool)
//
// prepareInt's work for one group of n values (a multiple of 32): max|x|,
// dx = max/qintMax and round(x·qintMax/max) into xw, in column order or, q4,
// per 32 values the 16 even ones then the 16 odd ones. ok is false (and xw
// unwritten) when x holds an Inf or a NaN. Every float operation is
// prepareInt's, so xw and dx are its to the bit.
TEXT ·qintGroup(SB), NOSPLIT, $0-37
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ xw+16(FP), DI
	VBROADCASTSS qpAbs<>(SB), Y15
	VBROADCASTSS qpMaxF<>(SB), Y10
	VBROADCASTSS qpSign<>(SB), Y12
	VBROADCASTSS qpHalf<>(SB), Y13
	VPBROADCASTD qpQmin<>(SB), Y14
	VMOVDQU      qpEvenOdd<>(SB), Y9
	VXORPS Y0, Y0, Y0 // max |x|
	VXORPS Y8, Y8, Y8 // lanes with !(|x| <= MaxFloat32)
	MOVQ   SI, AX
	MOVQ   CX, DX

amax:
	VANDPS  (AX), Y15, Y2
	VANDPS  32(AX), Y15, Y3
	VMAXPS  Y2, Y0, Y0
	VMAXPS  Y3, Y0, Y0
	VCMPPS  $6, Y10, Y2, Y2 // NLE_US: Inf or NaN
	VCMPPS  $6, Y10, Y3, Y3
	VORPS   Y2, Y8, Y8
	VORPS   Y3, Y8, Y8
	ADDQ    $64, AX
	SUBQ    $16, DX
	JNZ     amax

	VMOVMSKPS Y8, AX
	TESTL     AX, AX
	JNZ       bad
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0 // max |x| in every lane

	// dx = max/qintMax and inv = qintMax/max; both 0 for an all-zero group.
	VXORPS       X2, X2, X2
	VXORPS       X1, X1, X1
	VUCOMISS     X2, X0
	JEQ          scaled
	VMOVSS       qpQmax<>(SB), X3
	VDIVSS       X3, X0, X2
	VDIVSS       X0, X3, X1
scaled:
	VMOVSS       X2, dx+32(FP)
	VBROADCASTSS X1, Y1
	CMPB         q4+24(FP), $0
	JNE          q4

q8:
	VMOVUPS    (SI), Y2
	VMOVUPS    32(SI), Y3
	VMOVUPS    64(SI), Y4
	VMOVUPS    96(SI), Y5
	QROUND(Y2)
	QROUND(Y3)
	QROUND(Y4)
	QROUND(Y5)
	VPACKSSDW  Y3, Y2, Y2
	VPACKSSDW  Y5, Y4, Y4
	VPERMQ     $0xd8, Y2, Y2
	VPERMQ     $0xd8, Y4, Y4
	VMOVDQU    Y2, (DI)
	VMOVDQU    Y4, 32(DI)
	ADDQ       $128, SI
	ADDQ       $64, DI
	SUBQ       $32, CX
	JNZ        q8
	JMP        done

// Q4: each eight floats split into evens and odds (VPERMPS), the halves
// regrouped into the 16 even and the 16 odd values of the 32.
q4:
	VPERMPS    (SI), Y9, Y2
	VPERMPS    32(SI), Y9, Y3
	VPERMPS    64(SI), Y9, Y4
	VPERMPS    96(SI), Y9, Y5
	VPERM2F128 $0x20, Y3, Y2, Y6 // evens 0-7
	VPERM2F128 $0x31, Y3, Y2, Y7 // odds 0-7
	VPERM2F128 $0x20, Y5, Y4, Y3 // evens 8-15
	VPERM2F128 $0x31, Y5, Y4, Y5 // odds 8-15
	QROUND(Y6)
	QROUND(Y3)
	QROUND(Y7)
	QROUND(Y5)
	VPACKSSDW  Y3, Y6, Y6
	VPACKSSDW  Y5, Y7, Y7
	VPERMQ     $0xd8, Y6, Y6
	VPERMQ     $0xd8, Y7, Y7
	VMOVDQU    Y6, (DI)
	VMOVDQU    Y7, 32(DI)
	ADDQ       $128, SI
	ADDQ       $64, DI
	SUBQ       $32, CX
	JNZ        q4

done:
	MOVB $1, ok+36(FP)
	VZEROUPPER
	RET

bad:
	MOVB $0, ok+36(FP)
	VZEROUPPER
	RET
