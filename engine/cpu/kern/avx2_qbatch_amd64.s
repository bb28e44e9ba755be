//go:build goexperiment.simd && amd64

#include "textflag.h"

// Batched quantized rows (qbatch.go): one weight row against 4 (or 2) inputs.
// Each unit of 32 codes is unpacked once into registers and multiplied with
// every input's 32 values, which the caller interleaved per unit: input j's
// values of a unit are at j·stride within it, and the next unit starts
// n·stride further on. Registers: DI codes, SI the inputs' values, R9 the
// inputs' dx (integer kernels), DX the row's scales (float32), BX groups left,
// R8 units per group, CX units left, R10 q4, R11 the unit stride, R12 the
// stride of dx between groups, AX out; Y0-Y3 the inputs' sums over a group,
// Y4-Y7 the unpacked codes, Y8 the group's scale, Y9 Y11 Y12 Y13 the inputs'
// scaled sums over the row, Y10 the nibble mask.

DATA qbatchNibble<>+0(SB)/4, $15
GLOBL qbatchNibble<>(SB), RODATA|NOPTR, $4

// IMADD adds input j's products of a unit (codes widened to int16 in Y4 and
// Y5; the input's 32 int16 at off(SI)) to acc, in int32 lanes: codes ≤ 255
// and |xw| ≤ 32767, a group of 128 adds 8 pairs per lane, no overflow.
#define IMADD(off, acc) \
	VPMADDWD off(SI), Y4, Y6; \
	VPMADDWD off+32(SI), Y5, Y7; \
	VPADDD   Y6, acc, acc; \
	VPADDD   Y7, acc, acc

// ISCALE adds the group's s·dx·Σq·xw of input j to tot.
#define ISCALE(acc, off, tot) \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSS off(R9), Y7; \
	VMULPS       Y8, Y7, Y7; \
	VFMADD231PS  Y7, acc, tot

// IUNPACK widens a unit's codes to int16 in Y4 (the low nibbles or first 16
// bytes) and Y5, advancing DI.
#define IUNPACK_Q4 \
	VMOVDQU   (DI), X4; \
	VPSRLW    $4, X4, X5; \
	VPAND     X10, X4, X4; \
	VPAND     X10, X5, X5; \
	VPMOVZXBW X4, Y4; \
	VPMOVZXBW X5, Y5; \
	ADDQ      $16, DI

#define IUNPACK_Q8 \
	VPMOVZXBW (DI), Y4; \
	VPMOVZXBW 16(DI), Y5; \
	ADDQ      $32, DI

#define ARGS \
	MOVQ    q+0(FP), DI; \
	MOVQ    x+8(FP), SI; \
	MOVQ    sc+24(FP), DX; \
	MOVQ    n+32(FP), R11; \
	MOVQ    groups+40(FP), BX; \
	MOVQ    units+48(FP), R8; \
	MOVBQZX q4+56(FP), R10; \
	MOVQ    out+64(FP), AX; \
	VPBROADCASTD qbatchNibble<>(SB), Y10; \
	VXORPS  Y9, Y9, Y9; \
	VXORPS  Y11, Y11, Y11; \
	VXORPS  Y12, Y12, Y12; \
	VXORPS  Y13, Y13, Y13

// func qbatchInt4(q unsafe.Pointer, x *int16, dx, sc *float32, n, groups, units int, q4 bool, out *float32)
// writes out[j] = Σ_g sc[g]·dx[g·n+j]·Σq·x_j for the 4 inputs j at x (units
// of n·32 int16) and dx; the bias term is the caller's.
TEXT ·qbatchInt4(SB), NOSPLIT, $0-72
	ARGS
	MOVQ dx+16(FP), R9
	MOVQ R11, R12
	SHLQ $2, R12
	SHLQ $6, R11
	VPBROADCASTB qbatchNibble<>(SB), X10
i4group:
	TESTQ BX, BX
	JZ    i4done
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    i4q8
i4q4:
	IUNPACK_Q4
	IMADD(0, Y0)
	IMADD(64, Y1)
	IMADD(128, Y2)
	IMADD(192, Y3)
	ADDQ R11, SI
	DECQ CX
	JNZ  i4q4
	JMP  i4scale
i4q8:
	IUNPACK_Q8
	IMADD(0, Y0)
	IMADD(64, Y1)
	IMADD(128, Y2)
	IMADD(192, Y3)
	ADDQ R11, SI
	DECQ CX
	JNZ  i4q8
i4scale:
	VBROADCASTSS (DX), Y8
	ISCALE(Y0, 0, Y9)
	ISCALE(Y1, 4, Y11)
	ISCALE(Y2, 8, Y12)
	ISCALE(Y3, 12, Y13)
	ADDQ $4, DX
	ADDQ R12, R9
	DECQ BX
	JMP  i4group
i4done:
	VHADDPS      Y11, Y9, Y0
	VHADDPS      Y13, Y12, Y1
	VHADDPS      Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (AX)
	VZEROUPPER
	RET

// func qbatchInt2(q unsafe.Pointer, x *int16, dx, sc *float32, n, groups, units int, q4 bool, out *float32)
// is qbatchInt4 for 2 inputs (out[0], out[1]; out has room for 4).
TEXT ·qbatchInt2(SB), NOSPLIT, $0-72
	ARGS
	MOVQ dx+16(FP), R9
	MOVQ R11, R12
	SHLQ $2, R12
	SHLQ $6, R11
	VPBROADCASTB qbatchNibble<>(SB), X10
i2group:
	TESTQ BX, BX
	JZ    i2done
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    i2q8
i2q4:
	IUNPACK_Q4
	IMADD(0, Y0)
	IMADD(64, Y1)
	ADDQ R11, SI
	DECQ CX
	JNZ  i2q4
	JMP  i2scale
i2q8:
	IUNPACK_Q8
	IMADD(0, Y0)
	IMADD(64, Y1)
	ADDQ R11, SI
	DECQ CX
	JNZ  i2q8
i2scale:
	VBROADCASTSS (DX), Y8
	ISCALE(Y0, 0, Y9)
	ISCALE(Y1, 4, Y11)
	ADDQ $4, DX
	ADDQ R12, R9
	DECQ BX
	JMP  i2group
i2done:
	VHADDPS      Y11, Y9, Y0
	VHADDPS      Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (AX)
	VZEROUPPER
	RET

// FUNPACK widens a unit's 32 codes to float32 in Y4-Y7, in the order of the
// inputs' xf (Q8: column order; Q4: the low nibbles, even columns, then the
// high ones), advancing DI.
#define FUNPACK_Q8 \
	VPMOVZXBD (DI), Y4; \
	VPMOVZXBD 8(DI), Y5; \
	VPMOVZXBD 16(DI), Y6; \
	VPMOVZXBD 24(DI), Y7; \
	VCVTDQ2PS Y4, Y4; \
	VCVTDQ2PS Y5, Y5; \
	VCVTDQ2PS Y6, Y6; \
	VCVTDQ2PS Y7, Y7; \
	ADDQ      $32, DI

#define FUNPACK_Q4 \
	VPMOVZXBD (DI), Y4; \
	VPMOVZXBD 8(DI), Y5; \
	VPSRLD    $4, Y4, Y6; \
	VPSRLD    $4, Y5, Y7; \
	VPAND     Y10, Y4, Y4; \
	VPAND     Y10, Y5, Y5; \
	VCVTDQ2PS Y4, Y4; \
	VCVTDQ2PS Y5, Y5; \
	VCVTDQ2PS Y6, Y6; \
	VCVTDQ2PS Y7, Y7; \
	ADDQ      $16, DI

// FMA2 adds input j's products of a unit (its 32 floats at off(SI)) to two
// accumulators, so that each chain waits on two FMAs per unit, not four.
#define FMA2(off, acc, acc2) \
	VFMADD231PS off(SI), Y4, acc; \
	VFMADD231PS off+32(SI), Y5, acc2; \
	VFMADD231PS off+64(SI), Y6, acc; \
	VFMADD231PS off+96(SI), Y7, acc2

// FUNPACK4_Q8 and FUNPACK4_Q4 are FUNPACK into Y12-Y15, for qbatchFloat4,
// whose accumulators take the other registers; the nibble mask is read from
// memory.
#define FUNPACK4_Q8 \
	VPMOVZXBD (DI), Y12; \
	VPMOVZXBD 8(DI), Y13; \
	VPMOVZXBD 16(DI), Y14; \
	VPMOVZXBD 24(DI), Y15; \
	VCVTDQ2PS Y12, Y12; \
	VCVTDQ2PS Y13, Y13; \
	VCVTDQ2PS Y14, Y14; \
	VCVTDQ2PS Y15, Y15; \
	ADDQ      $32, DI

#define FUNPACK4_Q4 \
	VPMOVZXBD (DI), Y12; \
	VPMOVZXBD 8(DI), Y13; \
	VPSRLD    $4, Y12, Y14; \
	VPSRLD    $4, Y13, Y15; \
	VPAND     qbatchNibbles<>(SB), Y12, Y12; \
	VPAND     qbatchNibbles<>(SB), Y13, Y13; \
	VCVTDQ2PS Y12, Y12; \
	VCVTDQ2PS Y13, Y13; \
	VCVTDQ2PS Y14, Y14; \
	VCVTDQ2PS Y15, Y15; \
	ADDQ      $16, DI

// FMA4 adds input j's products of a unit (its 32 floats at off(SI)) to two
// accumulators, so that each chain waits on two FMAs per unit, not four.
#define FMA4(off, acc, acc2) \
	VFMADD231PS off(SI), Y12, acc; \
	VFMADD231PS off+32(SI), Y13, acc2; \
	VFMADD231PS off+64(SI), Y14, acc; \
	VFMADD231PS off+96(SI), Y15, acc2

// FSCALE4 adds the group's s·Σq·x of input j (acc+acc2) to tot; acc2 then
// holds the broadcast scale.
#define FSCALE4(acc, acc2, tot) \
	VADDPS       acc2, acc, acc; \
	VBROADCASTSS (DX), acc2; \
	VFMADD231PS  acc2, acc, tot

DATA qbatchNibbles<>+0(SB)/8, $0x0000000f0000000f
DATA qbatchNibbles<>+8(SB)/8, $0x0000000f0000000f
DATA qbatchNibbles<>+16(SB)/8, $0x0000000f0000000f
DATA qbatchNibbles<>+24(SB)/8, $0x0000000f0000000f
GLOBL qbatchNibbles<>(SB), RODATA|NOPTR, $32

// func qbatchFloat4(q unsafe.Pointer, x *float32, _, sc *float32, n, groups, units int, q4 bool, out *float32)
// writes out[j] = Σ_g sc[g]·Σq·x_j for the 4 inputs j at x (units of n·32
// float32, each in its xf order); the bias term is the caller's. Y0-Y7 are
// the inputs' two group sums each, Y8-Y11 their totals.
TEXT ·qbatchFloat4(SB), NOSPLIT, $0-72
	MOVQ    q+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    sc+24(FP), DX
	MOVQ    n+32(FP), R11
	MOVQ    groups+40(FP), BX
	MOVQ    units+48(FP), R8
	MOVBQZX q4+56(FP), R10
	MOVQ    out+64(FP), AX
	SHLQ    $7, R11
	VXORPS  Y8, Y8, Y8
	VXORPS  Y9, Y9, Y9
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
f4group:
	TESTQ  BX, BX
	JZ     f4done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   R8, CX
	TESTQ  R10, R10
	JZ     f4q8
f4q4:
	FUNPACK4_Q4
	FMA4(0, Y0, Y1)
	FMA4(128, Y2, Y3)
	FMA4(256, Y4, Y5)
	FMA4(384, Y6, Y7)
	ADDQ R11, SI
	DECQ CX
	JNZ  f4q4
	JMP  f4scale
f4q8:
	FUNPACK4_Q8
	FMA4(0, Y0, Y1)
	FMA4(128, Y2, Y3)
	FMA4(256, Y4, Y5)
	FMA4(384, Y6, Y7)
	ADDQ R11, SI
	DECQ CX
	JNZ  f4q8
f4scale:
	FSCALE4(Y0, Y1, Y8)
	FSCALE4(Y2, Y3, Y9)
	FSCALE4(Y4, Y5, Y10)
	FSCALE4(Y6, Y7, Y11)
	ADDQ $4, DX
	DECQ BX
	JMP  f4group
f4done:
	VHADDPS      Y9, Y8, Y0
	VHADDPS      Y11, Y10, Y1
	VHADDPS      Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (AX)
	VZEROUPPER
	RET

// func qbatchFloat2(q unsafe.Pointer, x *float32, _, sc *float32, n, groups, units int, q4 bool, out *float32)
// is qbatchFloat4 for 2 inputs (out[0], out[1]; out has room for 4).
TEXT ·qbatchFloat2(SB), NOSPLIT, $0-72
	ARGS
	SHLQ $7, R11
f2group:
	TESTQ  BX, BX
	JZ     f2done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   R8, CX
	TESTQ  R10, R10
	JZ     f2q8
f2q4:
	FUNPACK_Q4
	FMA2(0, Y0, Y2)
	FMA2(128, Y1, Y3)
	ADDQ R11, SI
	DECQ CX
	JNZ  f2q4
	JMP  f2scale
f2q8:
	FUNPACK_Q8
	FMA2(0, Y0, Y2)
	FMA2(128, Y1, Y3)
	ADDQ R11, SI
	DECQ CX
	JNZ  f2q8
f2scale:
	VADDPS       Y2, Y0, Y0
	VADDPS       Y3, Y1, Y1
	VBROADCASTSS (DX), Y8
	VFMADD231PS  Y8, Y0, Y9
	VFMADD231PS  Y8, Y1, Y11
	ADDQ $4, DX
	DECQ BX
	JMP  f2group
f2done:
	VHADDPS      Y11, Y9, Y0
	VHADDPS      Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (AX)
	VZEROUPPER
	RET

// Two weight rows against four int16 inputs (qbatchInt2x4). Each input's
// values of a unit are loaded once for both rows, and a group's int32 sums
// of the four inputs are folded into one vector (I2SCALE) before the
// conversion, so that a group costs one conversion and one FMA per row
// instead of four of each. Registers: DI row 0's codes (row 1's at R13
// further), SI the inputs, R9 dx (then xsum), DX row 0's scales (row 1's
// at R14 further; then the biases), BX groups left, R8 units per group, CX
// units left, R10 q4, R11 the unit stride, R12 the stride of dx between
// groups, AX 3·R13 (then out); Y0-Y3 row 0's int32 sums of inputs 0-3 over a group,
// Y4-Y7 row 1's, Y8 Y9 row 0's codes widened to int16, Y10 Y11 row 1's, Y12
// Y13 temporaries, Y14 Y15 the rows' scaled sums: lanes 0-3 inputs 0-3 over
// the low eight lanes of the int32 sums, lanes 4-7 over the high ones.

DATA qbatchNibbleB<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qbatchNibbleB<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL qbatchNibbleB<>(SB), RODATA|NOPTR, $16

// I2PREFETCH asks for the next row pair's bytes of this unit (row 2 at
// 2·R13, row 3 at AX = 3·R13): two rows are two short streams that Zen 1's
// prefetchers follow late (as rowsInt4 found for four), and by the call's
// last unit the next call's rows are in cache. Past the matrix it does not
// fault.
#define I2PREFETCH \
	PREFETCHT0 (DI)(R13*2); \
	PREFETCHT0 (DI)(AX*1)

#define I2UNPACK_Q8 \
	VPMOVZXBW (DI), Y8; \
	VPMOVZXBW 16(DI), Y9; \
	VPMOVZXBW (DI)(R13*1), Y10; \
	VPMOVZXBW 16(DI)(R13*1), Y11; \
	ADDQ      $32, DI

#define I2UNPACK_Q4 \
	VMOVDQU   (DI), X8; \
	VPSRLW    $4, X8, X9; \
	VPAND     qbatchNibbleB<>(SB), X8, X8; \
	VPAND     qbatchNibbleB<>(SB), X9, X9; \
	VMOVDQU   (DI)(R13*1), X10; \
	VPSRLW    $4, X10, X11; \
	VPAND     qbatchNibbleB<>(SB), X10, X10; \
	VPAND     qbatchNibbleB<>(SB), X11, X11; \
	VPMOVZXBW X8, Y8; \
	VPMOVZXBW X9, Y9; \
	VPMOVZXBW X10, Y10; \
	VPMOVZXBW X11, Y11; \
	ADDQ      $16, DI

// I2MADD adds input j's products of a unit (its 32 int16 at off(SI)) with
// both rows' codes to a0 (row 0) and a1 (row 1).
#define I2MADD(off, a0, a1) \
	VMOVDQU  off(SI), Y12; \
	VPMADDWD Y12, Y8, Y13; \
	VPADDD   Y13, a0, a0; \
	VPMADDWD Y12, Y10, Y12; \
	VPADDD   Y12, a1, a1; \
	VMOVDQU  off+32(SI), Y12; \
	VPMADDWD Y12, Y9, Y13; \
	VPADDD   Y13, a0, a0; \
	VPMADDWD Y12, Y11, Y12; \
	VPADDD   Y12, a1, a1

// I2FIRST is I2MADD for a group's first unit: its products start a0 and a1
// (no zeroing, two adds fewer per input).
#define I2FIRST(off, a0, a1) \
	VMOVDQU  off(SI), Y12; \
	VPMADDWD Y12, Y8, a0; \
	VPMADDWD Y12, Y10, a1; \
	VMOVDQU  off+32(SI), Y12; \
	VPMADDWD Y12, Y9, Y13; \
	VPADDD   Y13, a0, a0; \
	VPMADDWD Y12, Y11, Y12; \
	VPADDD   Y12, a1, a1

// I2SCALE folds one row's sums of the four inputs (a0-a3) into a0, lanes
// 0-3 the inputs' sums over the low halves, 4-7 over the high ones (exact in
// int32: a group of at most 256 codes adds 32 products of at most
// 2·255·32767 per lane), converts them and adds them times the row's scale
// (at s) times the inputs' dx (Y12, the four repeated) to tot. The fold is
// a transpose by unpacks and adds: on Zen 1 a 256-bit VPHADDD is several
// micro-ops of one slow pipe, and three of them per row and group took a
// fifth of the kernel at gs 64; integer sums are exact in any order, so
// the result is the same.
#define I2SCALE(a0, a1, a2, a3, s, tot) \
	VPUNPCKLDQ   a1, a0, Y13; \
	VPUNPCKHDQ   a1, a0, a0; \
	VPADDD       Y13, a0, a0; \
	VPUNPCKLDQ   a3, a2, Y13; \
	VPUNPCKHDQ   a3, a2, a2; \
	VPADDD       Y13, a2, a2; \
	VPUNPCKLQDQ  a2, a0, Y13; \
	VPUNPCKHQDQ  a2, a0, a0; \
	VPADDD       Y13, a0, a0; \
	VCVTDQ2PS    a0, a0; \
	VBROADCASTSS s, Y13; \
	VMULPS       Y13, Y12, Y13; \
	VFMADD231PS  Y13, a0, tot

// func qbatchInt2x4(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)
// writes out[4·r+j] = Σ_g sc[r·groups+g]·dx[g·n+j]·Σq·x_j + bs[r·groups+g]·xsum[g·n+j]
// for rows r = 0, 1 (row 1's codes rowBytes after row 0's) and the 4 inputs
// j at x (units of n·32 int16), dx and xsum (both (groups, n), from the
// first input of the call).
TEXT ·qbatchInt2x4(SB), NOSPLIT, $0-96
	MOVQ    q+0(FP), DI
	MOVQ    rowBytes+8(FP), R13
	MOVQ    x+16(FP), SI
	MOVQ    dx+24(FP), R9
	MOVQ    sc+40(FP), DX
	MOVQ    n+56(FP), R11
	MOVQ    groups+64(FP), BX
	MOVQ    units+72(FP), R8
	MOVBQZX q4+80(FP), R10
	MOVQ    BX, R14
	SHLQ    $2, R14
	MOVQ    R11, R12
	SHLQ    $2, R12
	SHLQ    $6, R11
	LEAQ    (R13)(R13*2), AX
	VXORPS  Y14, Y14, Y14
	VXORPS  Y15, Y15, Y15
i2x4group:
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    i2x4q8first
	I2PREFETCH
	I2UNPACK_Q4
	I2FIRST(0, Y0, Y4)
	I2FIRST(64, Y1, Y5)
	I2FIRST(128, Y2, Y6)
	I2FIRST(192, Y3, Y7)
	ADDQ R11, SI
	DECQ CX
	JZ   i2x4scale
i2x4q4:
	I2PREFETCH
	I2UNPACK_Q4
	I2MADD(0, Y0, Y4)
	I2MADD(64, Y1, Y5)
	I2MADD(128, Y2, Y6)
	I2MADD(192, Y3, Y7)
	ADDQ R11, SI
	DECQ CX
	JNZ  i2x4q4
	JMP  i2x4scale
i2x4q8first:
	I2PREFETCH
	I2UNPACK_Q8
	I2FIRST(0, Y0, Y4)
	I2FIRST(64, Y1, Y5)
	I2FIRST(128, Y2, Y6)
	I2FIRST(192, Y3, Y7)
	ADDQ R11, SI
	DECQ CX
	JZ   i2x4scale
i2x4q8:
	I2PREFETCH
	I2UNPACK_Q8
	I2MADD(0, Y0, Y4)
	I2MADD(64, Y1, Y5)
	I2MADD(128, Y2, Y6)
	I2MADD(192, Y3, Y7)
	ADDQ R11, SI
	DECQ CX
	JNZ  i2x4q8
i2x4scale:
	VBROADCASTF128 (R9), Y12
	I2SCALE(Y0, Y1, Y2, Y3, (DX), Y14)
	I2SCALE(Y4, Y5, Y6, Y7, (DX)(R14*1), Y15)
	ADDQ R12, R9
	ADDQ $4, DX
	DECQ BX
	JNZ  i2x4group

	// The bias terms, Σ_g bs·xsum, in X0 (row 0) and X1 (row 1).
	MOVQ   xsum+32(FP), R9
	MOVQ   bs+48(FP), DX
	MOVQ   groups+64(FP), BX
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
i2x4bias:
	VMOVUPS      (R9), X2
	VBROADCASTSS (DX), X3
	VBROADCASTSS (DX)(R14*1), X4
	VFMADD231PS  X3, X2, X0
	VFMADD231PS  X4, X2, X1
	ADDQ         R12, R9
	ADDQ         $4, DX
	DECQ         BX
	JNZ          i2x4bias

	MOVQ         out+88(FP), AX
	VEXTRACTF128 $1, Y14, X2
	VADDPS       X2, X14, X14
	VADDPS       X0, X14, X14
	VMOVUPS      X14, (AX)
	VEXTRACTF128 $1, Y15, X3
	VADDPS       X3, X15, X15
	VADDPS       X1, X15, X15
	VMOVUPS      X15, 16(AX)
	VZEROUPPER
	RET

// Four weight rows against eight int16 inputs held across the lanes
// (qbatchIntT4x8). The inputs of a block of eight are interleaved per column
// pair (qbatch.xt: lane j of a pair's 32 bytes is input j's two int16), and a
// row's codes of a group, widened once to int16 in w, are broadcast a pair
// at a time: one VPMADDWD then gives all eight inputs' products of that pair,
// and every int32 lane of a row's accumulator is one input's exact sum over
// the group. A group's epilogue is then one conversion and two FMAs per row
// for eight outputs, with no horizontal folding, where qbatchInt2x4 folds
// eight vectors per eight outputs. Registers: DI row 0's codes (row r's
// r·R13 further; R11 is 3·R13), SI the inputs, AX w (row r's codes at
// r·512), R8 the offset in w, R9 dx, R12 xsum, R14 their stride between
// groups, DX the scales and biases of the four rows ((groups, 2, 4)), BX
// groups left; Y0-Y3 the rows' int32 sums over a group, Y4-Y7 their totals
// (lane j: input j), Y8 a pair of the inputs, Y9-Y11 broadcast codes and
// products, Y12 dx, Y13 xsum, Y14 Y15 temporaries.

// TWIDEN_Q8 widens a unit of each row's codes into w, advancing DI and R8.
#define TWIDEN_Q8 \
	VPMOVZXBW (DI), Y8; \
	VPMOVZXBW 16(DI), Y9; \
	VMOVDQU   Y8, (AX)(R8*1); \
	VMOVDQU   Y9, 32(AX)(R8*1); \
	VPMOVZXBW (DI)(R13*1), Y8; \
	VPMOVZXBW 16(DI)(R13*1), Y9; \
	VMOVDQU   Y8, 512(AX)(R8*1); \
	VMOVDQU   Y9, 544(AX)(R8*1); \
	VPMOVZXBW (DI)(R13*2), Y8; \
	VPMOVZXBW 16(DI)(R13*2), Y9; \
	VMOVDQU   Y8, 1024(AX)(R8*1); \
	VMOVDQU   Y9, 1056(AX)(R8*1); \
	VPMOVZXBW (DI)(R11*1), Y8; \
	VPMOVZXBW 16(DI)(R11*1), Y9; \
	VMOVDQU   Y8, 1536(AX)(R8*1); \
	VMOVDQU   Y9, 1568(AX)(R8*1); \
	ADDQ      $32, DI; \
	ADDQ      $64, R8

// TNIB widens 16 bytes of Q4 codes at src (the low nibbles, then the high
// ones, as the int16 inputs are ordered) into w at off.
#define TNIB(src, off) \
	VMOVDQU   src, X8; \
	VPSRLW    $4, X8, X9; \
	VPAND     X15, X8, X8; \
	VPAND     X15, X9, X9; \
	VPMOVZXBW X8, Y8; \
	VPMOVZXBW X9, Y9; \
	VMOVDQU   Y8, off(AX)(R8*1); \
	VMOVDQU   Y9, off+32(AX)(R8*1)

#define TWIDEN_Q4 \
	TNIB((DI), 0); \
	TNIB((DI)(R13*1), 512); \
	TNIB((DI)(R13*2), 1024); \
	TNIB((DI)(R11*1), 1536); \
	ADDQ $16, DI; \
	ADDQ $64, R8

// TPAIR adds the eight inputs' products of one column pair (at off(SI)) with
// each row's codes of that pair (at off2 in w) to Y0-Y3.
#define TPAIR(off, off2) \
	VMOVDQU      off(SI), Y8; \
	VPBROADCASTD off2(AX)(R8*1), Y9; \
	VPBROADCASTD off2+512(AX)(R8*1), Y10; \
	VPBROADCASTD off2+1024(AX)(R8*1), Y11; \
	VPMADDWD     Y8, Y9, Y9; \
	VPMADDWD     Y8, Y10, Y10; \
	VPMADDWD     Y8, Y11, Y11; \
	VPADDD       Y9, Y0, Y0; \
	VPADDD       Y10, Y1, Y1; \
	VPADDD       Y11, Y2, Y2; \
	VPBROADCASTD off2+1536(AX)(R8*1), Y9; \
	VPMADDWD     Y8, Y9, Y9; \
	VPADDD       Y9, Y3, Y3

// TSCALE adds row r's group total (acc) times its scale, times the inputs'
// dx, and its bias times the inputs' xsum to tot.
#define TSCALE(acc, r, tot) \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSS r*4(DX), Y14; \
	VMULPS       Y12, Y14, Y14; \
	VFMADD231PS  Y14, acc, tot; \
	VBROADCASTSS 16+r*4(DX), Y15; \
	VFMADD231PS  Y15, Y13, tot

// func qbatchIntT4x8(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)
// writes out[8·r+j] = Σ_g sb[8g+r]·dx[g·n+j]·Σq·x_j + sb[8g+4+r]·xsum[g·n+j]
// for rows r = 0..3 (row r's codes r·rowBytes after row 0's) and the 8
// inputs j of the block at xt ((cols/2, 8, 2) int16); dx and xsum (both
// (groups, n), from the block's first input; dxStride = 4n bytes). w has
// room for 4·256 int16 at a 32-byte-friendly offset.
TEXT ·qbatchIntT4x8(SB), NOSPLIT, $0-96
	MOVQ    q+0(FP), DI
	MOVQ    rowBytes+8(FP), R13
	MOVQ    xt+16(FP), SI
	MOVQ    dx+24(FP), R9
	MOVQ    xsum+32(FP), R12
	MOVQ    sb+40(FP), DX
	MOVQ    dxStride+48(FP), R14
	MOVQ    groups+56(FP), BX
	MOVQ    w+80(FP), AX
	LEAQ    (R13)(R13*2), R11
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VPBROADCASTB qbatchNibble<>(SB), X15
tgroup:
	XORQ    R8, R8
	MOVQ    gs+64(FP), CX
	SHLQ    $1, CX
	CMPB    q4+72(FP), $0
	JEQ     twq8
twq4:
	TWIDEN_Q4
	CMPQ    R8, CX
	JB      twq4
	JMP     tprod
twq8:
	TWIDEN_Q8
	CMPQ    R8, CX
	JB      twq8
tprod:
	XORQ  R8, R8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
tpair:
	TPAIR(0, 0)
	TPAIR(32, 4)
	TPAIR(64, 8)
	TPAIR(96, 12)
	ADDQ  $128, SI
	ADDQ  $16, R8
	CMPQ  R8, CX
	JB    tpair

	VMOVUPS (R9), Y12
	VMOVUPS (R12), Y13
	TSCALE(Y0, 0, Y4)
	TSCALE(Y1, 1, Y5)
	TSCALE(Y2, 2, Y6)
	TSCALE(Y3, 3, Y7)
	VPBROADCASTB qbatchNibble<>(SB), X15
	ADDQ    $32, DX
	ADDQ    R14, R9
	ADDQ    R14, R12
	DECQ    BX
	JNZ     tgroup

	MOVQ    out+88(FP), AX
	VMOVUPS Y4, (AX)
	VMOVUPS Y5, 32(AX)
	VMOVUPS Y6, 64(AX)
	VMOVUPS Y7, 96(AX)
	VZEROUPPER
	RET
