//go:build goexperiment.simd && amd64

#include "textflag.h"

DATA qint4Nibble<>+0(SB)/1, $15
GLOBL qint4Nibble<>(SB), RODATA|NOPTR, $1

// A row's unit: its codes widened to int16 and multiplied with the unit's xw
// (Y8, Y9), summed into acc. Q4: 16 bytes, widened once; the low nibbles
// (even columns) are an AND, the high ones (odd columns) a word shift.
#define Q4ROW(src, acc) \
	VPMOVZXBW src, Y11; \
	VPSRLW    $4, Y11, Y12; \
	VPAND     Y10, Y11, Y11; \
	VPMADDWD  Y8, Y11, Y11; \
	VPMADDWD  Y9, Y12, Y12; \
	VPADDD    Y11, acc, acc; \
	VPADDD    Y12, acc, acc

// Q4FIRST is Q4ROW for a group's first unit: its sum starts acc.
#define Q4FIRST(src, acc) \
	VPMOVZXBW src, Y11; \
	VPSRLW    $4, Y11, Y12; \
	VPAND     Y10, Y11, Y11; \
	VPMADDWD  Y8, Y11, Y11; \
	VPMADDWD  Y9, Y12, Y12; \
	VPADDD    Y12, Y11, acc

#define Q8ROW(src, src16, acc) \
	VPMOVZXBW src, Y11; \
	VPMOVZXBW src16, Y12; \
	VPMADDWD  Y8, Y11, Y11; \
	VPMADDWD  Y9, Y12, Y12; \
	VPADDD    Y11, acc, acc; \
	VPADDD    Y12, acc, acc

#define Q8FIRST(src, src16, acc) \
	VPMOVZXBW src, Y11; \
	VPMOVZXBW src16, Y12; \
	VPMADDWD  Y8, Y11, Y11; \
	VPMADDWD  Y9, Y12, Y12; \
	VPADDD    Y12, Y11, acc

// A row's eight scales (Y14) and biases (Y15), widened from their kind.
#define S32(s, b) \
	VMOVUPS s, Y14; \
	VMOVUPS b, Y15

#define S16(s, b) \
	VCVTPH2PS s, Y14; \
	VCVTPH2PS b, Y15

#define SB16(s, b) \
	VPMOVZXWD s, Y14; \
	VPSLLD    $16, Y14, Y14; \
	VPMOVZXWD b, Y15; \
	VPSLLD    $16, Y15, Y15

// EIGHT keeps a row's s·dx for eight groups in the frame at off and adds its
// b·xsum over them to the row's bias lanes at 128+off, as rowInt does in Y15.
#define EIGHT(off) \
	VMULPS      (R9), Y14, Y14; \
	VMOVUPS     Y14, off(SP); \
	VMOVUPS     128+off(SP), Y13; \
	VFMADD231PS (R14), Y15, Y13; \
	VMOVUPS     Y13, 128+off(SP)

// A row's scale (X14) and bias (X15) of one group, lanes 1-7 zero.
#define T32(s, b) \
	VMOVSS s, X14; \
	VMOVSS b, X15

#define T16(s, b) \
	MOVWLZX   s, CX; \
	VMOVD     CX, X14; \
	VCVTPH2PS X14, X14; \
	MOVWLZX   b, CX; \
	VMOVD     CX, X15; \
	VCVTPH2PS X15, X15

#define TB16(s, b) \
	MOVWLZX s, CX; \
	SHLL    $16, CX; \
	VMOVD   CX, X14; \
	MOVWLZX b, CX; \
	SHLL    $16, CX; \
	VMOVD   CX, X15

// TAIL adds one group's s·dx·Σq·xw (acc, converted) to facc, and its b·xsum
// to the row's scalar bias sum at toff, as rowInt does in X13.
#define TAIL(acc, facc, toff) \
	VMULSS       (R9), X14, X14; \
	VBROADCASTSS X14, Y14; \
	VFMADD231PS  Y14, acc, facc; \
	VMOVSS       toff(SP), X13; \
	VFMADD231SS  (R14), X15, X13; \
	VMOVSS       X13, toff(SP)

// The four rows are four short streams, which the hardware prefetchers
// follow worse than the one long stream of a row at a time (measured on Zen
// 1: the kernel was 20% slower than the one-row kernel on a model's matrices
// from memory, 30% faster in cache): R15 prefetches the next four rows, as
// many bytes per unit as the unit reads, so that it reaches their end as
// this call reaches the end of its rows. A prefetch past the matrix does not
// fault.

// func rowsInt4(q unsafe.Pointer, stride int, xw *int16, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, groups, units int, q4 bool, y *float32)
//
// rowInt for four rows (codes stride bytes apart, scales and biases sstride
// bytes apart), writing their four sums to y: each unit's 32 values of xw
// are loaded once for the four rows. Per eight groups each row's scales and
// biases are widened together, its s·dx kept in the frame (32 bytes a row)
// and its b·xsum added by one FMA to its bias lanes (the frame's next 128
// bytes); the last groups (fewer than eight) take theirs one by one, marked
// by R11 = 8, their b·xsum summed in a scalar per row (the frame's last 16
// bytes). Every float operation is rowInt's, in its order, so that a row's
// result does not depend on which kernel computed it. Registers: DI row 0's
// codes, R8 stride, R12 3·stride, SI xw, R9 dx, R14 xsum, DX and R13 row 0's
// scales and biases, R10 sstride, AX 3·sstride, BX groups left, CX units
// left, R11 the group within its eight, R15 the prefetch address; Y0-Y3 the
// rows' int32 lanes of a group, Y4-Y7 their float lanes, Y8 and Y9 a unit's
// xw, Y10 the nibble mask, Y11-Y15 scratch.
TEXT ·rowsInt4(SB), NOSPLIT, $272-104
	MOVQ q+0(FP), DI
	MOVQ stride+8(FP), R8
	LEAQ (R8)(R8*2), R12
	MOVQ xw+16(FP), SI
	MOVQ dx+24(FP), R9
	MOVQ xsum+32(FP), R14
	MOVQ sc+40(FP), DX
	MOVQ bs+48(FP), R13
	MOVQ sstride+56(FP), R10
	LEAQ (R10)(R10*2), AX
	MOVQ groups+72(FP), BX
	VPBROADCASTB qint4Nibble<>(SB), Y10
	LEAQ (DI)(R8*4), R15 // after the last global access: dynamic linking clobbers R15 there
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y13, Y13, Y13
	VMOVUPS Y13, 128(SP)
	VMOVUPS Y13, 160(SP)
	VMOVUPS Y13, 192(SP)
	VMOVUPS Y13, 224(SP)
	VMOVUPS X13, 256(SP)

eights:
	CMPQ BX, $8
	JLT  tail
	MOVQ kind+64(FP), CX
	CMPQ CX, $1
	JEQ  e16
	JGT  eb16
	S32((DX), (R13))
	EIGHT(0)
	S32((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	S32((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	S32((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $32, DX
	ADDQ $32, R13
	JMP  have8

e16:
	S16((DX), (R13))
	EIGHT(0)
	S16((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	S16((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	S16((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $16, DX
	ADDQ $16, R13
	JMP  have8

eb16:
	SB16((DX), (R13))
	EIGHT(0)
	SB16((DX)(R10*1), (R13)(R10*1))
	EIGHT(32)
	SB16((DX)(R10*2), (R13)(R10*2))
	EIGHT(64)
	SB16((DX)(AX*1), (R13)(AX*1))
	EIGHT(96)
	ADDQ $16, DX
	ADDQ $16, R13

have8:
	ADDQ $32, R9
	ADDQ $32, R14
	XORQ R11, R11

// A group's first unit starts the rows' sums (no zeroing, one add fewer
// per row), the loop adds the others.
group:
	MOVQ  units+80(FP), CX
	CMPB  q4+88(FP), $0
	JEQ   q8first
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	Q4FIRST((DI), Y0)
	Q4FIRST((DI)(R8*1), Y1)
	Q4FIRST((DI)(R8*2), Y2)
	Q4FIRST((DI)(R12*1), Y3)
	PREFETCHT0 (R15)
	ADDQ    $64, R15
	ADDQ    $16, DI
	ADDQ    $64, SI
	DECQ    CX
	JZ      sums

q4unit:
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	Q4ROW((DI), Y0)
	Q4ROW((DI)(R8*1), Y1)
	Q4ROW((DI)(R8*2), Y2)
	Q4ROW((DI)(R12*1), Y3)
	PREFETCHT0 (R15)
	ADDQ    $64, R15
	ADDQ    $16, DI
	ADDQ    $64, SI
	DECQ    CX
	JNZ     q4unit
	JMP     sums

q8first:
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	Q8FIRST((DI), 16(DI), Y0)
	Q8FIRST((DI)(R8*1), 16(DI)(R8*1), Y1)
	Q8FIRST((DI)(R8*2), 16(DI)(R8*2), Y2)
	Q8FIRST((DI)(R12*1), 16(DI)(R12*1), Y3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $64, SI
	DECQ    CX
	JZ      sums

q8unit:
	VMOVDQU (SI), Y8
	VMOVDQU 32(SI), Y9
	Q8ROW((DI), 16(DI), Y0)
	Q8ROW((DI)(R8*1), 16(DI)(R8*1), Y1)
	Q8ROW((DI)(R8*2), 16(DI)(R8*2), Y2)
	Q8ROW((DI)(R12*1), 16(DI)(R12*1), Y3)
	PREFETCHT0 (R15)
	PREFETCHT0 64(R15)
	ADDQ    $128, R15
	ADDQ    $32, DI
	ADDQ    $64, SI
	DECQ    CX
	JNZ     q8unit

sums:
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	CMPQ      R11, $8
	JEQ       tailsum
	VBROADCASTSS (SP)(R11*4), Y14
	VFMADD231PS  Y14, Y0, Y4
	VBROADCASTSS 32(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y1, Y5
	VBROADCASTSS 64(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y2, Y6
	VBROADCASTSS 96(SP)(R11*4), Y14
	VFMADD231PS  Y14, Y3, Y7
	INCQ         R11
	CMPQ         R11, $8
	JLT          group
	SUBQ         $8, BX
	JMP          eights

tail:
	TESTQ BX, BX
	JZ    done
	MOVQ  $8, R11
	JMP   group

tailsum:
	MOVQ kind+64(FP), CX
	CMPQ CX, $1
	JEQ  t16
	JGT  tb16
	T32((DX), (R13))
	TAIL(Y0, Y4, 256)
	T32((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	T32((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	T32((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $4, DX
	ADDQ $4, R13
	JMP  tnext

t16:
	T16((DX), (R13))
	TAIL(Y0, Y4, 256)
	T16((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	T16((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	T16((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $2, DX
	ADDQ $2, R13
	JMP  tnext

tb16:
	TB16((DX), (R13))
	TAIL(Y0, Y4, 256)
	TB16((DX)(R10*1), (R13)(R10*1))
	TAIL(Y1, Y5, 260)
	TB16((DX)(R10*2), (R13)(R10*2))
	TAIL(Y2, Y6, 264)
	TB16((DX)(AX*1), (R13)(AX*1))
	TAIL(Y3, Y7, 268)
	ADDQ $2, DX
	ADDQ $2, R13

tnext:
	ADDQ $4, R9
	ADDQ $4, R14
	DECQ BX
	JMP  tail

// The four rows' sums, in rowInt's order to the last bit: float lanes plus
// bias lanes, the upper four lanes onto the lower, two pairwise adds, then
// the scalar bias sum.
done:
	VADDPS       128(SP), Y4, Y4
	VADDPS       160(SP), Y5, Y5
	VADDPS       192(SP), Y6, Y6
	VADDPS       224(SP), Y7, Y7
	VPERM2F128   $0x20, Y5, Y4, Y8
	VPERM2F128   $0x31, Y5, Y4, Y9
	VADDPS       Y9, Y8, Y8
	VPERM2F128   $0x20, Y7, Y6, Y11
	VPERM2F128   $0x31, Y7, Y6, Y12
	VADDPS       Y12, Y11, Y11
	VHADDPS      Y11, Y8, Y8
	VHADDPS      Y8, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VUNPCKLPS    X9, X8, X8
	VADDPS       256(SP), X8, X8
	MOVQ         y+96(FP), DI
	VMOVUPS      X8, (DI)
	VZEROUPPER
	RET
