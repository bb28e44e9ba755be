//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA vnni1Nibble<>+0(SB)/1, $15
GLOBL vnni1Nibble<>(SB), RODATA|NOPTR, $1

// rowsIntVNNI is rowInt (avx2_qint_amd64.s) for n consecutive rows, with
// AVX512_VNNI: a row's units go through VPDPWSSD in zmm, 32 products into
// 16 int32 lanes per instruction. Lane j < 8 of a group's zmm sums what
// rowInt's Y0 lane j sums (Q8: a unit's words 0-15; Q4: its low nibbles)
// and lane 8+j what its Y1 lane j sums (Q8: words 16-31; Q4: the high
// nibbles, put in the zmm's upper half against xw's second 16 values), so
// adding the upper eight lanes onto the lower ones gives rowInt's
// Y0+Y1 exactly (integer sums: the order does not matter); from there
// every float operation is rowInt's in its order: the same bits
// (TestRowsIntVNNISameBits). With an even unit count a Q4 group goes two
// units a step (Q4PAIR).
//
// Rows go one after the other, so each thread reads its chunk as one
// sequential stream, which the hardware prefetchers follow (the four-row
// kernel reads four streams a stride apart).
//
// Registers as rowInt's: DI codes, SI xw, R9 dx, R14 xsum, DX scales, R13
// biases, R12 kind, BX groups left, R8 units, R10 q4, R11 the group within
// its eight, Z0 a group's int32 lanes, Y9 Σ s·dx·Σq·x, Y15 Σ b·xsum over
// the eights, X13 over the last groups, Z10 the nibble mask. Frame: 0-31
// the eight groups' s·dx, 32 the row's codes, 40 its scales, 48 its
// biases, 56 y, 64 rows left.

// Q8UNIT adds one Q8 unit (32 codes) to Z0.
#define Q8UNIT \
	VPMOVZXBW (DI), Z4; \
	VPDPWSSD  (SI), Z4, Z0; \
	ADDQ      $32, DI; \
	ADDQ      $64, SI

// Q4UNIT adds one Q4 unit (16 bytes) to Z0: low nibbles in the lower half
// against xw's first 16 values, high nibbles in the upper half against its
// next 16.
#define Q4UNIT \
	VPMOVZXBW     (DI), Y4; \
	VPSRLW        $4, Y4, Y5; \
	VINSERTI64X4  $1, Y5, Z4, Z4; \
	VPANDD        Z10, Z4, Z4; \
	VPDPWSSD      (SI), Z4, Z0; \
	ADDQ          $16, DI; \
	ADDQ          $64, SI

// Q4PAIR adds two Q4 units (32 bytes) to Z0: both widened at once, their
// low nibbles (Z4) and high ones (Z5) regrouped per unit by two VSHUFI64X2
// into Q4UNIT's [low|high] (Z6 the first unit, Z7 the second).
#define Q4PAIR \
	VPMOVZXBW  (DI), Z4; \
	VPSRLW     $4, Z4, Z5; \
	VPANDD     Z10, Z4, Z4; \
	VSHUFI64X2 $0x44, Z5, Z4, Z6; \
	VSHUFI64X2 $0xee, Z5, Z4, Z7; \
	VPDPWSSD   (SI), Z6, Z0; \
	VPDPWSSD   64(SI), Z7, Z0; \
	ADDQ       $32, DI; \
	ADDQ       $128, SI

// UNITS adds the group's R8 units to Z0 (cleared first).
#define UNITS(q8l, q4l, q4p, out) \
	VPXOR   Y0, Y0, Y0; \
	MOVQ    R8, CX; \
	TESTQ   R10, R10; \
	JZ      q8l; \
	TESTQ   $1, CX; \
	JZ      q4p; \
q4l: \
	Q4UNIT; \
	DECQ    CX; \
	JNZ     q4l; \
	JMP     out; \
q4p: \
	Q4PAIR; \
	SUBQ    $2, CX; \
	JNZ     q4p; \
	JMP     out; \
q8l: \
	Q8UNIT; \
	DECQ    CX; \
	JNZ     q8l; \
out: \
	VEXTRACTI64X4 $1, Z0, Y1; \
	VPADDD        Y1, Y0, Y0

// func rowsIntVNNI(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32, n int)
TEXT ·rowsIntVNNI(SB), NOSPLIT, $72-112
	VPBROADCASTB vnni1Nibble<>(SB), Z10
	MOVQ    q+0(FP), AX
	MOVQ    AX, 32(SP)
	MOVQ    sc+40(FP), AX
	MOVQ    AX, 40(SP)
	MOVQ    bs+48(FP), AX
	MOVQ    AX, 48(SP)
	MOVQ    y+96(FP), AX
	MOVQ    AX, 56(SP)
	MOVQ    n+104(FP), AX
	MOVQ    AX, 64(SP)
	MOVQ    kind+64(FP), R12
	MOVQ    units+80(FP), R8
	MOVBQZX q4+88(FP), R10

row:
	CMPQ 64(SP), $0
	JEQ  end
	MOVQ 32(SP), DI
	MOVQ xw+16(FP), SI
	MOVQ dx+24(FP), R9
	MOVQ xsum+32(FP), R14
	MOVQ 40(SP), DX
	MOVQ 48(SP), R13
	MOVQ groups+72(FP), BX
	VXORPS Y9, Y9, Y9
	VXORPS Y15, Y15, Y15
	VXORPS X13, X13, X13

eights:
	CMPQ BX, $8
	JLT  group
	CMPQ R12, $1
	JEQ  f16x8
	JGT  bf16x8
	VMOVUPS (DX), Y12
	VMOVUPS (R13), Y14
	ADDQ    $32, DX
	ADDQ    $32, R13
	JMP     have8

f16x8:
	VCVTPH2PS (DX), Y12
	VCVTPH2PS (R13), Y14
	ADDQ      $16, DX
	ADDQ      $16, R13
	JMP       have8

bf16x8:
	VPMOVZXWD (DX), Y12
	VPSLLD    $16, Y12, Y12
	VPMOVZXWD (R13), Y14
	VPSLLD    $16, Y14, Y14
	ADDQ      $16, DX
	ADDQ      $16, R13

have8:
	VMULPS      (R9), Y12, Y12
	VFMADD231PS (R14), Y14, Y15
	VMOVUPS     Y12, (SP)
	ADDQ        $32, R9
	ADDQ        $32, R14
	XORQ        R11, R11

group8:
	UNITS(q8u8, q4u8, q4p8, sum8)
	VCVTDQ2PS    Y0, Y0
	VBROADCASTSS (SP)(R11*4), Y8
	VFMADD231PS  Y8, Y0, Y9
	INCQ         R11
	CMPQ         R11, $8
	JLT          group8
	SUBQ         $8, BX
	JMP          eights

group:
	TESTQ BX, BX
	JZ    rowdone
	UNITS(q8u, q4u, q4p, sum)
	VCVTDQ2PS Y0, Y0
	CMPQ      R12, $1
	JEQ       f16
	JGT       bf16
	VMOVSS    (DX), X8
	VMOVSS    (R13), X12
	ADDQ      $4, DX
	ADDQ      $4, R13
	JMP       have

f16:
	MOVWLZX   (DX), AX
	VMOVD     AX, X8
	VCVTPH2PS X8, X8
	MOVWLZX   (R13), AX
	VMOVD     AX, X12
	VCVTPH2PS X12, X12
	ADDQ      $2, DX
	ADDQ      $2, R13
	JMP       have

bf16:
	MOVWLZX (DX), AX
	SHLL    $16, AX
	VMOVD   AX, X8
	MOVWLZX (R13), AX
	SHLL    $16, AX
	VMOVD   AX, X12
	ADDQ    $2, DX
	ADDQ    $2, R13

have:
	VMULSS       (R9), X8, X8
	VBROADCASTSS X8, Y8
	VFMADD231PS  Y8, Y0, Y9
	VFMADD231SS  (R14), X12, X13
	ADDQ         $4, R9
	ADDQ         $4, R14
	DECQ         BX
	JMP          group

// rowInt's reduction, to the last bit.
rowdone:
	VADDPS       Y15, Y9, Y9
	VEXTRACTF128 $1, Y9, X1
	VADDPS       X1, X9, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VADDSS       X13, X0, X0
	MOVQ         56(SP), AX
	VMOVSS       X0, (AX)
	ADDQ         $4, AX
	MOVQ         AX, 56(SP)
	MOVQ         stride+8(FP), AX
	ADDQ         AX, 32(SP)
	MOVQ         sstride+56(FP), AX
	ADDQ         AX, 40(SP)
	ADDQ         AX, 48(SP)
	DECQ         64(SP)
	JMP          row

end:
	VZEROUPPER
	RET
