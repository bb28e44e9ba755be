//go:build goexperiment.simd && amd64

#include "textflag.h"

// Four weight rows against a block of eight int16 inputs across a zmm's
// lanes, two lanes an input (qbatchIntQ4x8Z). The inputs of a block are
// interleaved per four columns (qbatch.xq: a zmm of 64 bytes holds, in
// lanes 2j and 2j+1, input j's four int16 of those columns), and a row's
// codes of a group, widened once to int16 in w, are broadcast four at a
// time (VPBROADCASTQ): one VPDPWSSD gives the eight inputs' products of
// four columns, 32 products, and lane 2j+h of a row's accumulator sums
// input j's products of the columns 4c+2h, 4c+2h+1. A group's fold is then
// two blends, a dword swap and an add per two rows (lane 2j+r: row r's
// exact group sum of input j), where qbatchInt2x8Z folds sixteen vectors by
// a transpose; the epilogue is one conversion, s·dx and two FMAs per two
// rows, each output's operations qbatchIntT4x8's in its order, so every
// output is that kernel's bits. Registers: DI row 0's codes (row r's
// r·R13 further; R11 is 3·R13), SI the inputs, AX w (row r's codes at
// r·512; two groups' room), R8 the offset in w, CX the group's bytes of w, R9 dx, R12 xsum,
// R14 their stride between groups, DX the scales and biases of the four
// rows ((groups, 2, 4)), BX groups left, R10 the next group's w; Z16-Z23 the rows' int32
// sums (two chains a row: Z16+r the even steps, Z20+r the odd ones), Z0 Z1
// the totals of rows 0-1 and 2-3 (lane 2j+r), K1 the odd lanes, Z7 the
// dx/xsum duplicating index, Z8-Z15 temporaries.

DATA qbatchQNib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qbatchQNib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL qbatchQNib<>(SB), RODATA|NOPTR, $16

// lane k of the duplicated dx (and xsum): input k/2's.
DATA qbatchQDup<>+0(SB)/8, $0x0000000000000000
DATA qbatchQDup<>+8(SB)/8, $0x0000000100000001
DATA qbatchQDup<>+16(SB)/8, $0x0000000200000002
DATA qbatchQDup<>+24(SB)/8, $0x0000000300000003
DATA qbatchQDup<>+32(SB)/8, $0x0000000400000004
DATA qbatchQDup<>+40(SB)/8, $0x0000000500000005
DATA qbatchQDup<>+48(SB)/8, $0x0000000600000006
DATA qbatchQDup<>+56(SB)/8, $0x0000000700000007
GLOBL qbatchQDup<>(SB), RODATA|NOPTR, $64

// QPREFETCH asks for the next four rows' codes of this unit (rows 4-7, at
// R15 = DI + 4·R13), as the pair kernel asks for the next pair's
// (VI2PREFETCH): four rows are four streams, which the hardware
// prefetchers follow late, and by the call's last unit the next call's
// rows are in cache. Past the matrix it does not fault.
#define QPREFETCH \
	LEAQ       (DI)(R13*4), R15; \
	PREFETCHT0 (R15); \
	PREFETCHT0 (R15)(R13*1); \
	PREFETCHT0 (R15)(R13*2); \
	PREFETCHT0 (R15)(R11*1)

// QWIDEN_Q8 widens a unit (32 codes) of each row into w, advancing DI and R8.
#define QWIDEN_Q8 \
	QPREFETCH; \
	VPMOVZXBW (DI), Z8; \
	VPMOVZXBW (DI)(R13*1), Z9; \
	VPMOVZXBW (DI)(R13*2), Z10; \
	VPMOVZXBW (DI)(R11*1), Z11; \
	VMOVDQU64 Z8, (AX)(R8*1); \
	VMOVDQU64 Z9, 512(AX)(R8*1); \
	VMOVDQU64 Z10, 1024(AX)(R8*1); \
	VMOVDQU64 Z11, 1536(AX)(R8*1); \
	ADDQ      $32, DI; \
	ADDQ      $64, R8

// QNIB widens 16 bytes of Q4 codes at src (the low nibbles, then the high
// ones, as the int16 inputs are ordered) into w at off.
#define QNIB(src, off) \
	VMOVDQU     src, X8; \
	VPSRLW      $4, X8, X9; \
	VPAND       X6, X8, X8; \
	VPAND       X6, X9, X9; \
	VINSERTI128 $1, X9, Y8, Y8; \
	VPMOVZXBW   Y8, Z8; \
	VMOVDQU64   Z8, off(AX)(R8*1)

#define QWIDEN_Q4 \
	QPREFETCH; \
	QNIB((DI), 0); \
	QNIB((DI)(R13*1), 512); \
	QNIB((DI)(R13*2), 1024); \
	QNIB((DI)(R11*1), 1536); \
	ADDQ $16, DI; \
	ADDQ $64, R8

// QSTEP adds the eight inputs' products of four columns (the zmm at
// off(SI)) with each row's codes of them (at off2 in w) to a0-a3.
#define QSTEP(off, off2, a0, a1, a2, a3) \
	VMOVDQU64    off(SI), Z8; \
	VPBROADCASTQ off2(AX)(R8*1), Z9; \
	VPBROADCASTQ off2+512(AX)(R8*1), Z10; \
	VPBROADCASTQ off2+1024(AX)(R8*1), Z11; \
	VPBROADCASTQ off2+1536(AX)(R8*1), Z12; \
	VPDPWSSD     Z9, Z8, a0; \
	VPDPWSSD     Z10, Z8, a1; \
	VPDPWSSD     Z11, Z8, a2; \
	VPDPWSSD     Z12, Z8, a3

// QFOLD folds rows a and b's sums (lane 2j+h: input j's half h) into dst:
// lane 2j row a's sum of input j, lane 2j+1 row b's.
#define QFOLD(a, b, dst) \
	VPBLENDMD b, a, K1, dst; \
	VPBLENDMD a, b, K1, Z13; \
	VPSHUFD   $0xb1, Z13, Z13; \
	VPADDD    Z13, dst, dst

// QSCALE adds rows r, r+1's group totals (acc, lane 2j+r) times their
// scales times the inputs' dx (Z14), and their biases times the inputs'
// xsum (Z15), to tot: qbatchIntT4x8's VTSCALE per output.
#define QSCALE(acc, r, tot) \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSD r*4(DX), Z12; \
	VMULPS       Z14, Z12, Z12; \
	VFMADD231PS  Z12, acc, tot; \
	VBROADCASTSD 16+r*4(DX), Z13; \
	VFMADD231PS  Z13, Z15, tot

// func qbatchIntQ4x8Z(q unsafe.Pointer, rowBytes int, xq *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)
// writes out[16·(r/2)+2j+r%2] = Σ_g sb[8g+r]·dx[g·n+j]·Σq·x_j + sb[8g+4+r]·xsum[g·n+j]
// for rows r = 0..3 (row r's codes r·rowBytes after row 0's) and the 8
// inputs j of the block at xq ((cols/4, 8, 4) int16); dx and xsum (both
// (groups, n), from the block's first input, 8 readable; dxStride = 4n
// bytes). w has room for 2·4·256 int16.
TEXT ·qbatchIntQ4x8Z(SB), NOSPLIT, $0-96
	MOVQ    q+0(FP), DI
	MOVQ    rowBytes+8(FP), R13
	MOVQ    xq+16(FP), SI
	MOVQ    dx+24(FP), R9
	MOVQ    xsum+32(FP), R12
	MOVQ    sb+40(FP), DX
	MOVQ    dxStride+48(FP), R14
	MOVL    $0xaaaa, BX
	KMOVW   BX, K1
	MOVQ    groups+56(FP), BX
	MOVQ    gs+64(FP), CX
	SHLQ    $1, CX
	MOVQ    w+80(FP), AX
	LEAQ    (R13)(R13*2), R11
	VMOVDQU64 qbatchQDup<>(SB), Z7
	VMOVDQU qbatchQNib<>(SB), X6
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	// w holds two groups of the four rows (AX the one the products read,
	// R10 the next): a group's codes are widened one group ahead, so the
	// broadcasts never read codes still in the store queue.
	MOVQ AX, R10
	ADDQ $2048, R10
	XORQ R8, R8
	CMPB q4+72(FP), $0
	JEQ  qfirstq8
qfirstq4:
	QWIDEN_Q4
	CMPQ R8, CX
	JB   qfirstq4
	JMP  qfirstdone
qfirstq8:
	QWIDEN_Q8
	CMPQ R8, CX
	JB   qfirstq8
qfirstdone:
qgroup:
	CMPQ  BX, $1
	JEQ   qprod
	XCHGQ AX, R10
	XORQ R8, R8
	CMPB q4+72(FP), $0
	JEQ  qnextq8
qnextq4:
	QWIDEN_Q4
	CMPQ R8, CX
	JB   qnextq4
	JMP  qnextdone
qnextq8:
	QWIDEN_Q8
	CMPQ R8, CX
	JB   qnextq8
qnextdone:
	XCHGQ AX, R10
qprod:
	XORQ   R8, R8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
qstep:
	QSTEP(0, 0, Z16, Z17, Z18, Z19)
	QSTEP(64, 8, Z20, Z21, Z22, Z23)
	QSTEP(128, 16, Z16, Z17, Z18, Z19)
	QSTEP(192, 24, Z20, Z21, Z22, Z23)
	ADDQ $256, SI
	ADDQ $32, R8
	CMPQ R8, CX
	JB   qstep

	// Each row's two chains, added; then folded two rows a vector.
	VPADDD Z20, Z16, Z16
	VPADDD Z21, Z17, Z17
	VPADDD Z22, Z18, Z18
	VPADDD Z23, Z19, Z19
	QFOLD(Z16, Z17, Z4)
	QFOLD(Z18, Z19, Z5)

	VMOVUPS (R9), Y14
	VPERMPS Z14, Z7, Z14
	VMOVUPS (R12), Y15
	VPERMPS Z15, Z7, Z15
	QSCALE(Z4, 0, Z0)
	QSCALE(Z5, 2, Z1)
	ADDQ $32, DX
	ADDQ R14, R9
	ADDQ R14, R12
	XCHGQ AX, R10
	DECQ BX
	JNZ  qgroup

	MOVQ      out+88(FP), AX
	VMOVUPS   Z0, (AX)
	VMOVUPS   Z1, 64(AX)
	VZEROUPPER
	RET


// Four weight rows against four int16 inputs across a zmm's lanes, four
// lanes an input (qbatchIntQ4x4Z): qbatchIntQ4x8Z's way for the batches
// below eight (and the four past a block of eight), in place of the pair
// kernel qbatchInt2x4V, whose outputs it gives bit for bit. The inputs are
// interleaved per eight columns (qbatch.x4: lanes 4j..4j+3 of a zmm hold
// input j's eight int16), a row's codes are broadcast eight at a time
// (VBROADCASTI32X4 from w). The pair kernel sums each unit's columns 0-7
// and 16-23 (its ymm's low 128-bit lanes) apart from 8-15 and 24-31,
// converts both and adds the bias terms in a pass of their own, then adds
// the three: so does this kernel. Its chains are these halves (Z16-Z19 the
// rows' first, Z20-Z23 the second);
// a group's two folds (blends, swaps and adds: lane 4j+r row r's sum of
// input j) are converted and added, times s·dx, to Z0 (first halves) and Z1
// (second), b·xsum to Z2; Z0+Z1+Z2 at the end. Registers as
// qbatchIntQ4x8Z's; K2 the odd qwords.

// lane k of the duplicated dx (and xsum): input k/4's.
DATA qbatchQDup4<>+0(SB)/8, $0x0000000000000000
DATA qbatchQDup4<>+8(SB)/8, $0x0000000000000000
DATA qbatchQDup4<>+16(SB)/8, $0x0000000100000001
DATA qbatchQDup4<>+24(SB)/8, $0x0000000100000001
DATA qbatchQDup4<>+32(SB)/8, $0x0000000200000002
DATA qbatchQDup4<>+40(SB)/8, $0x0000000200000002
DATA qbatchQDup4<>+48(SB)/8, $0x0000000300000003
DATA qbatchQDup4<>+56(SB)/8, $0x0000000300000003
GLOBL qbatchQDup4<>(SB), RODATA|NOPTR, $64

// Q4STEP adds the four inputs' products of eight columns (the zmm at
// off(SI)) with each row's codes of them (at off2 in w) to a0-a3.
#define Q4STEP(off, off2, a0, a1, a2, a3) \
	VMOVDQU64       off(SI), Z8; \
	VBROADCASTI32X4 off2(AX)(R8*1), Z9; \
	VBROADCASTI32X4 off2+512(AX)(R8*1), Z10; \
	VBROADCASTI32X4 off2+1024(AX)(R8*1), Z11; \
	VBROADCASTI32X4 off2+1536(AX)(R8*1), Z12; \
	VPDPWSSD        Z9, Z8, a0; \
	VPDPWSSD        Z10, Z8, a1; \
	VPDPWSSD        Z11, Z8, a2; \
	VPDPWSSD        Z12, Z8, a3

// Q4FOLD folds the four rows' sums a-d (lane 4j+h: input j's quarter h)
// into dst: lane 4j+r row r's sum of input j. Uses Z11-Z13.
#define Q4FOLD(a, b, c, d, dst) \
	QFOLD(a, b, Z11); \
	QFOLD(c, d, Z12); \
	VPBLENDMQ Z12, Z11, K2, dst; \
	VPBLENDMQ Z11, Z12, K2, Z13; \
	VPSHUFD   $0x4e, Z13, Z13; \
	VPADDD    Z13, dst, dst

// func qbatchIntQ4x4Z(q unsafe.Pointer, rowBytes int, x4 *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)
// writes out[4j+r] = Σ_g sb[8g+r]·dx[g·n+j]·Σq·x_j + sb[8g+4+r]·xsum[g·n+j]
// for rows r = 0..3 (row r's codes r·rowBytes after row 0's) and the 4
// inputs j at x4 ((cols/8, 4, 8) int16); dx and xsum (both (groups, n),
// from the first input, 4 readable; dxStride = 4n bytes). w has room for
// 2·4·256 int16.
TEXT ·qbatchIntQ4x4Z(SB), NOSPLIT, $0-96
	MOVQ    q+0(FP), DI
	MOVQ    rowBytes+8(FP), R13
	MOVQ    x4+16(FP), SI
	MOVQ    dx+24(FP), R9
	MOVQ    xsum+32(FP), R12
	MOVQ    sb+40(FP), DX
	MOVQ    dxStride+48(FP), R14
	MOVL    $0xaaaa, BX
	KMOVW   BX, K1
	MOVL    $0xaa, BX
	KMOVW   BX, K2
	MOVQ    groups+56(FP), BX
	MOVQ    gs+64(FP), CX
	SHLQ    $1, CX
	MOVQ    w+80(FP), AX
	LEAQ    (R13)(R13*2), R11
	VMOVDQU64 qbatchQDup4<>(SB), Z7
	VMOVDQU qbatchQNib<>(SB), X6
	VPXORD  Z0, Z0, Z0
	VPXORD  Z1, Z1, Z1
	VPXORD  Z2, Z2, Z2
	MOVQ AX, R10
	ADDQ $2048, R10
	XORQ R8, R8
	CMPB q4+72(FP), $0
	JEQ  q44firstq8
q44firstq4:
	QWIDEN_Q4
	CMPQ R8, CX
	JB   q44firstq4
	JMP  q44firstdone
q44firstq8:
	QWIDEN_Q8
	CMPQ R8, CX
	JB   q44firstq8
q44firstdone:
q44group:
	CMPQ  BX, $1
	JEQ   q44prod
	XCHGQ AX, R10
	XORQ R8, R8
	CMPB q4+72(FP), $0
	JEQ  q44nextq8
q44nextq4:
	QWIDEN_Q4
	CMPQ R8, CX
	JB   q44nextq4
	JMP  q44nextdone
q44nextq8:
	QWIDEN_Q8
	CMPQ R8, CX
	JB   q44nextq8
q44nextdone:
	XCHGQ AX, R10
q44prod:
	XORQ   R8, R8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
q44step:
	// A unit: columns 0-7 and 16-23 (the pair kernel's low 128-bit
	// lanes) in Z16-Z19, 8-15 and 24-31 in Z20-Z23.
	Q4STEP(0, 0, Z16, Z17, Z18, Z19)
	Q4STEP(64, 16, Z20, Z21, Z22, Z23)
	Q4STEP(128, 32, Z16, Z17, Z18, Z19)
	Q4STEP(192, 48, Z20, Z21, Z22, Z23)
	ADDQ $256, SI
	ADDQ $64, R8
	CMPQ R8, CX
	JB   q44step

	Q4FOLD(Z16, Z17, Z18, Z19, Z4)
	Q4FOLD(Z20, Z21, Z22, Z23, Z5)
	VMOVUPS         (R9), X14
	VPERMPS         Z14, Z7, Z14
	VMOVUPS         (R12), X15
	VPERMPS         Z15, Z7, Z15
	VCVTDQ2PS       Z4, Z4
	VCVTDQ2PS       Z5, Z5
	VBROADCASTF32X4 (DX), Z12
	VMULPS          Z14, Z12, Z12
	VFMADD231PS     Z12, Z4, Z0
	VFMADD231PS     Z12, Z5, Z1
	VBROADCASTF32X4 16(DX), Z13
	VFMADD231PS     Z13, Z15, Z2
	ADDQ $32, DX
	ADDQ R14, R9
	ADDQ R14, R12
	XCHGQ AX, R10
	DECQ BX
	JNZ  q44group

	VADDPS    Z1, Z0, Z0
	VADDPS    Z2, Z0, Z0
	MOVQ      out+88(FP), AX
	VMOVUPS   Z0, (AX)
	VZEROUPPER
	RET
