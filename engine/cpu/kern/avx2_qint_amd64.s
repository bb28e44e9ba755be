//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA qintNibble<>+0(SB)/1, $15
GLOBL qintNibble<>(SB), RODATA|NOPTR, $1

// func rowInt(q unsafe.Pointer, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, kind, groups, units int, q4 bool) float32
//
// Groups go by eights: their scales and biases are widened together, s·dx
// kept in the frame for the eight groups' broadcasts, and b·xsum summed as a
// vector; the last groups (fewer than eight) go one by one. Codes (at most
// 255) and xw (at most 32767 in magnitude) multiply in VPMADDWD's int32 pairs,
// and a group of 128 adds 8 pairs per lane: no overflow. Registers: DI
// codes, SI xw, R9 dx, R14 xsum, DX scales, R13 biases, R12 the
// scales' kind (0 F32, 1 F16, 2 BF16), BX groups left, R8 units per group, R10
// q4, R11 the group within its eight, Y0 (and Y1) a group's int32 lanes, Y9 the
// lanes of Σ s·dx·Σq·x, Y15 the lanes of Σ b·xsum over the eights, X13 the
// same over the last groups.
TEXT ·rowInt(SB), NOSPLIT, $32-84
	MOVQ  q+0(FP), DI
	MOVQ  xw+8(FP), SI
	MOVQ  dx+16(FP), R9
	MOVQ  xsum+24(FP), R14
	MOVQ  sc+32(FP), DX
	MOVQ  bs+40(FP), R13
	MOVQ  kind+48(FP), R12
	MOVQ  groups+56(FP), BX
	MOVQ  units+64(FP), R8
	MOVBQZX q4+72(FP), R10
	VPBROADCASTB qintNibble<>(SB), Y10
	VXORPS Y9, Y9, Y9
	VXORPS Y15, Y15, Y15
	VXORPS X13, X13, X13

eights:
	CMPQ  BX, $8
	JLT   group
	CMPQ  R12, $1
	JEQ   f16x8
	JGT   bf16x8
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
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    q8unit8
q4unit8:
	VPMOVZXBW (DI), Y4
	VPSRLW    $4, Y4, Y5
	VPAND     Y10, Y4, Y4
	VPMADDWD  (SI), Y4, Y4
	VPMADDWD  32(SI), Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $16, DI
	ADDQ      $64, SI
	DECQ      CX
	JNZ       q4unit8
	JMP         scale8
q8unit8:
	VPMOVZXBW (DI), Y4
	VPMOVZXBW 16(DI), Y5
	VPMADDWD  (SI), Y4, Y4
	VPMADDWD  32(SI), Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $32, DI
	ADDQ      $64, SI
	DECQ      CX
	JNZ       q8unit8
scale8:
	VPADDD       Y1, Y0, Y0
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
	JZ    done
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    q8unit

// A Q4 unit: 16 bytes of nibbles widened to int16 once; the low nibbles
// (even columns, an AND) meet xw's first 16 values, the high ones (odd
// columns, a word shift) its next 16.
q4unit:
	VPMOVZXBW (DI), Y4
	VPSRLW    $4, Y4, Y5
	VPAND     Y10, Y4, Y4
	VPMADDWD  (SI), Y4, Y4
	VPMADDWD  32(SI), Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $16, DI
	ADDQ      $64, SI
	DECQ      CX
	JNZ       q4unit
	JMP         scale

// A Q8 unit: 32 byte codes widened to int16, VPMADDWD with xw.
q8unit:
	VPMOVZXBW (DI), Y4
	VPMOVZXBW 16(DI), Y5
	VPMADDWD  (SI), Y4, Y4
	VPMADDWD  32(SI), Y5, Y5
	VPADDD    Y4, Y0, Y0
	VPADDD    Y5, Y1, Y1
	ADDQ      $32, DI
	ADDQ      $64, SI
	DECQ      CX
	JNZ       q8unit

// The group's scale (X8) and bias (X12), widened from their kind.
scale:
	VPADDD    Y1, Y0, Y0
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
	MOVWLZX   (DX), AX
	SHLL      $16, AX
	VMOVD     AX, X8
	MOVWLZX   (R13), AX
	SHLL      $16, AX
	VMOVD     AX, X12
	ADDQ      $2, DX
	ADDQ      $2, R13
have:
	VMULSS       (R9), X8, X8
	VBROADCASTSS X8, Y8
	VFMADD231PS  Y8, Y0, Y9
	VFMADD231SS  (R14), X12, X13
	ADDQ         $4, R9
	ADDQ         $4, R14
	DECQ         BX
	JMP          group

done:
	VADDPS       Y15, Y9, Y9
	VEXTRACTF128 $1, Y9, X1
	VADDPS       X1, X9, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VADDSS       X13, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+80(FP)
	RET
