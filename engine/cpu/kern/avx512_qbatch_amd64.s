//go:build goexperiment.simd && amd64

#include "textflag.h"

// AVX-512 batched quantized rows with AVX512_VNNI (avx512_qbatch.go): the
// kernels of avx2_qbatch_amd64.s with VPDPWSSD, which adds the two int16
// products of each dword lane to the int32 accumulator in one instruction
// where AVX2 needs VPMADDWD and VPADDD. Codes ≤ 255 and |xw| ≤ 32767, so a
// pair's sum fits in int32 and the accumulators hold the same integers as
// the AVX2 kernels' (VPMADDWD only differs on -32768·-32768 pairs, which xw
// never holds): every float operation after them is the AVX2 kernel's, in
// its order, and the outputs are the same bits (TestBatchVNNISameBits).

DATA qbatchVNib<>+0(SB)/4, $15
GLOBL qbatchVNib<>(SB), RODATA|NOPTR, $4

DATA qbatchVNibB<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qbatchVNibB<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL qbatchVNibB<>(SB), RODATA|NOPTR, $16

// qbatchInt2x4V is qbatchInt2x4 with VPDPWSSD. Two weight rows against four int16 inputs. Each input's
// values of a unit are loaded once for both rows, and a group's int32 sums
// of the four inputs are folded into one vector (VI2SCALE) before the
// conversion, so that a group costs one conversion and one FMA per row
// instead of four of each. Registers: DI row 0's codes (row 1's at R13
// further), SI the inputs, R9 dx (then xsum), DX row 0's scales (row 1's
// at R14 further; then the biases), BX groups left, R8 units per group, CX
// units left, R10 q4, R11 the unit stride, R12 the stride of dx between
// groups, AX 3·R13 (then out); Y0-Y3 row 0's int32 sums of inputs 0-3 over a group,
// Y4-Y7 row 1's, Y8 Y9 row 0's codes widened to int16, Y10 Y11 row 1's, Y12
// Y13 temporaries, Y14 Y15 the rows' scaled sums: lanes 0-3 inputs 0-3 over
// the low eight lanes of the int32 sums, lanes 4-7 over the high ones.

// VI2PREFETCH asks for the next row pair's bytes of this unit (row 2 at
// 2·R13, row 3 at AX = 3·R13): two rows are two short streams that Zen 1's
// prefetchers follow late (as rowsInt4 found for four), and by the call's
// last unit the next call's rows are in cache. Past the matrix it does not
// fault.
#define VI2PREFETCH \
	PREFETCHT0 (DI)(R13*2); \
	PREFETCHT0 (DI)(AX*1)

#define VI2UNPACK_Q8 \
	VPMOVZXBW (DI), Y8; \
	VPMOVZXBW 16(DI), Y9; \
	VPMOVZXBW (DI)(R13*1), Y10; \
	VPMOVZXBW 16(DI)(R13*1), Y11; \
	ADDQ      $32, DI

#define VI2UNPACK_Q4 \
	VMOVDQU   (DI), X8; \
	VPSRLW    $4, X8, X9; \
	VPAND     qbatchVNibB<>(SB), X8, X8; \
	VPAND     qbatchVNibB<>(SB), X9, X9; \
	VMOVDQU   (DI)(R13*1), X10; \
	VPSRLW    $4, X10, X11; \
	VPAND     qbatchVNibB<>(SB), X10, X10; \
	VPAND     qbatchVNibB<>(SB), X11, X11; \
	VPMOVZXBW X8, Y8; \
	VPMOVZXBW X9, Y9; \
	VPMOVZXBW X10, Y10; \
	VPMOVZXBW X11, Y11; \
	ADDQ      $16, DI

// VI2MADD adds input j's products of a unit (its 32 int16 at off(SI)) with
// both rows' codes to a0 (row 0) and a1 (row 1), the unit's first 16 values,
// and b0 and b1, its last 16: with VPDPWSSD the adds are a chain through
// the accumulator (VPMADDWD's products were independent), and two chains
// per accumulator halve the wait on its latency. b0 and b1 are added to
// a0 and a1 in each group's epilogue: integer sums, the same values.
#define VI2MADD(off, a0, a1, b0, b1) \
	VMOVDQU  off(SI), Y12; \
	VPDPWSSD Y12, Y8, a0; \
	VPDPWSSD Y12, Y10, a1; \
	VMOVDQU  off+32(SI), Y12; \
	VPDPWSSD Y12, Y9, b0; \
	VPDPWSSD Y12, Y11, b1

// VI2FIRST is VI2MADD for a group's first unit: its products start the
// accumulators (no zeroing).
#define VI2FIRST(off, a0, a1, b0, b1) \
	VMOVDQU  off(SI), Y12; \
	VPMADDWD Y12, Y8, a0; \
	VPMADDWD Y12, Y10, a1; \
	VMOVDQU  off+32(SI), Y12; \
	VPMADDWD Y12, Y9, b0; \
	VPMADDWD Y12, Y11, b1

// VI2JOIN adds the second chains into the first.
#define VI2JOIN \
	VPADDD Y16, Y0, Y0; \
	VPADDD Y17, Y1, Y1; \
	VPADDD Y18, Y2, Y2; \
	VPADDD Y19, Y3, Y3; \
	VPADDD Y20, Y4, Y4; \
	VPADDD Y21, Y5, Y5; \
	VPADDD Y22, Y6, Y6; \
	VPADDD Y23, Y7, Y7

// VI2SCALE folds one row's sums of the four inputs (a0-a3) into a0, lanes
// 0-3 the inputs' sums over the low halves, 4-7 over the high ones (exact in
// int32: a group of at most 256 codes adds 32 products of at most
// 2·255·32767 per lane), converts them and adds them times the row's scale
// (at s) times the inputs' dx (Y12, the four repeated) to tot. The fold is
// a transpose by unpacks and adds: on Zen 1 a 256-bit VPHADDD is several
// micro-ops of one slow pipe, and three of them per row and group took a
// fifth of the kernel at gs 64; integer sums are exact in any order, so
// the result is the same.
#define VI2SCALE(a0, a1, a2, a3, s, tot) \
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

// func qbatchInt2x4V(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sc, bs *float32, n, groups, units int, q4 bool, out *float32)
// writes out[4·r+j] = Σ_g sc[r·groups+g]·dx[g·n+j]·Σq·x_j + bs[r·groups+g]·xsum[g·n+j]
// for rows r = 0, 1 (row 1's codes rowBytes after row 0's) and the 4 inputs
// j at x (units of n·32 int16), dx and xsum (both (groups, n), from the
// first input of the call).
TEXT ·qbatchInt2x4V(SB), NOSPLIT, $0-96
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
v2x4group:
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    v2x4q8first
	VI2PREFETCH
	VI2UNPACK_Q4
	VI2FIRST(0, Y0, Y4, Y16, Y20)
	VI2FIRST(64, Y1, Y5, Y17, Y21)
	VI2FIRST(128, Y2, Y6, Y18, Y22)
	VI2FIRST(192, Y3, Y7, Y19, Y23)
	ADDQ R11, SI
	DECQ CX
	JZ   v2x4scale
v2x4q4:
	VI2PREFETCH
	VI2UNPACK_Q4
	VI2MADD(0, Y0, Y4, Y16, Y20)
	VI2MADD(64, Y1, Y5, Y17, Y21)
	VI2MADD(128, Y2, Y6, Y18, Y22)
	VI2MADD(192, Y3, Y7, Y19, Y23)
	ADDQ R11, SI
	DECQ CX
	JNZ  v2x4q4
	JMP  v2x4scale
v2x4q8first:
	VI2PREFETCH
	VI2UNPACK_Q8
	VI2FIRST(0, Y0, Y4, Y16, Y20)
	VI2FIRST(64, Y1, Y5, Y17, Y21)
	VI2FIRST(128, Y2, Y6, Y18, Y22)
	VI2FIRST(192, Y3, Y7, Y19, Y23)
	ADDQ R11, SI
	DECQ CX
	JZ   v2x4scale
v2x4q8:
	VI2PREFETCH
	VI2UNPACK_Q8
	VI2MADD(0, Y0, Y4, Y16, Y20)
	VI2MADD(64, Y1, Y5, Y17, Y21)
	VI2MADD(128, Y2, Y6, Y18, Y22)
	VI2MADD(192, Y3, Y7, Y19, Y23)
	ADDQ R11, SI
	DECQ CX
	JNZ  v2x4q8
v2x4scale:
	VI2JOIN
	VBROADCASTF128 (R9), Y12
	VI2SCALE(Y0, Y1, Y2, Y3, (DX), Y14)
	VI2SCALE(Y4, Y5, Y6, Y7, (DX)(R14*1), Y15)
	ADDQ R12, R9
	ADDQ $4, DX
	DECQ BX
	JNZ  v2x4group

	// The bias terms, Σ_g bs·xsum, in X0 (row 0) and X1 (row 1).
	MOVQ   xsum+32(FP), R9
	MOVQ   bs+48(FP), DX
	MOVQ   groups+64(FP), BX
	VXORPS X0, X0, X0
	VXORPS X1, X1, X1
v2x4bias:
	VMOVUPS      (R9), X2
	VBROADCASTSS (DX), X3
	VBROADCASTSS (DX)(R14*1), X4
	VFMADD231PS  X3, X2, X0
	VFMADD231PS  X4, X2, X1
	ADDQ         R12, R9
	ADDQ         $4, DX
	DECQ         BX
	JNZ          v2x4bias

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

// qbatchIntT4x8V is qbatchIntT4x8 with VPDPWSSD, the codes broadcast by the
// instruction itself (embedded broadcast). Four weight rows against eight
// int16 inputs held across the lanes. The inputs of a block of eight are interleaved per column
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

// VTWIDEN_Q8 widens a unit of each row's codes into w, advancing DI and R8.
#define VTWIDEN_Q8 \
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

// VTNIB widens 16 bytes of Q4 codes at src (the low nibbles, then the high
// ones, as the int16 inputs are ordered) into w at off.
#define VTNIB(src, off) \
	VMOVDQU   src, X8; \
	VPSRLW    $4, X8, X9; \
	VPAND     X15, X8, X8; \
	VPAND     X15, X9, X9; \
	VPMOVZXBW X8, Y8; \
	VPMOVZXBW X9, Y9; \
	VMOVDQU   Y8, off(AX)(R8*1); \
	VMOVDQU   Y9, off+32(AX)(R8*1)

#define VTWIDEN_Q4 \
	VTNIB((DI), 0); \
	VTNIB((DI)(R13*1), 512); \
	VTNIB((DI)(R13*2), 1024); \
	VTNIB((DI)(R11*1), 1536); \
	ADDQ $16, DI; \
	ADDQ $64, R8

// VTPAIR adds the eight inputs' products of one column pair (at off(SI)) with
// each row's codes of that pair (at off2 in w) to a0-a3: four chains per
// row, one per column pair of a step (Y0-Y3, Y16-Y27), as VPDPWSSD adds
// through its accumulator; added in the group's epilogue (integer sums).
#define VTPAIR(off, off2, a0, a1, a2, a3) \
	VMOVDQU       off(SI), Y8; \
	VPDPWSSD.BCST off2(AX)(R8*1), Y8, a0; \
	VPDPWSSD.BCST off2+512(AX)(R8*1), Y8, a1; \
	VPDPWSSD.BCST off2+1024(AX)(R8*1), Y8, a2; \
	VPDPWSSD.BCST off2+1536(AX)(R8*1), Y8, a3

// VTSCALE adds row r's group total (acc) times its scale, times the inputs'
// dx, and its bias times the inputs' xsum to tot.
#define VTSCALE(acc, r, tot) \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSS r*4(DX), Y14; \
	VMULPS       Y12, Y14, Y14; \
	VFMADD231PS  Y14, acc, tot; \
	VBROADCASTSS 16+r*4(DX), Y15; \
	VFMADD231PS  Y15, Y13, tot

// func qbatchIntT4x8V(q unsafe.Pointer, rowBytes int, xt *int16, dx, xsum, sb *float32, dxStride, groups, gs int, q4 bool, w *int16, out *float32)
// writes out[8·r+j] = Σ_g sb[8g+r]·dx[g·n+j]·Σq·x_j + sb[8g+4+r]·xsum[g·n+j]
// for rows r = 0..3 (row r's codes r·rowBytes after row 0's) and the 8
// inputs j of the block at xt ((cols/2, 8, 2) int16); dx and xsum (both
// (groups, n), from the block's first input; dxStride = 4n bytes). w has
// room for 4·256 int16 at a 32-byte-friendly offset.
TEXT ·qbatchIntT4x8V(SB), NOSPLIT, $0-96
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
	VPBROADCASTB qbatchVNib<>(SB), X15
vtgroup:
	XORQ    R8, R8
	MOVQ    gs+64(FP), CX
	SHLQ    $1, CX
	CMPB    q4+72(FP), $0
	JEQ     vtwq8
vtwq4:
	VTWIDEN_Q4
	CMPQ    R8, CX
	JB      vtwq4
	JMP     vtprod
vtwq8:
	VTWIDEN_Q8
	CMPQ    R8, CX
	JB      vtwq8
vtprod:
	XORQ  R8, R8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXORD Y16, Y16, Y16
	VPXORD Y17, Y17, Y17
	VPXORD Y18, Y18, Y18
	VPXORD Y19, Y19, Y19
	VPXORD Y20, Y20, Y20
	VPXORD Y21, Y21, Y21
	VPXORD Y22, Y22, Y22
	VPXORD Y23, Y23, Y23
	VPXORD Y24, Y24, Y24
	VPXORD Y25, Y25, Y25
	VPXORD Y26, Y26, Y26
	VPXORD Y27, Y27, Y27
vtpair:
	VTPAIR(0, 0, Y0, Y1, Y2, Y3)
	VTPAIR(32, 4, Y16, Y17, Y18, Y19)
	VTPAIR(64, 8, Y20, Y21, Y22, Y23)
	VTPAIR(96, 12, Y24, Y25, Y26, Y27)
	ADDQ  $128, SI
	ADDQ  $16, R8
	CMPQ  R8, CX
	JB    vtpair

	// The four chains of each row (one per column pair of a step), added.
	VPADDD Y16, Y0, Y0
	VPADDD Y20, Y24, Y24
	VPADDD Y24, Y0, Y0
	VPADDD Y17, Y1, Y1
	VPADDD Y21, Y25, Y25
	VPADDD Y25, Y1, Y1
	VPADDD Y18, Y2, Y2
	VPADDD Y22, Y26, Y26
	VPADDD Y26, Y2, Y2
	VPADDD Y19, Y3, Y3
	VPADDD Y23, Y27, Y27
	VPADDD Y27, Y3, Y3

	VMOVUPS (R9), Y12
	VMOVUPS (R12), Y13
	VTSCALE(Y0, 0, Y4)
	VTSCALE(Y1, 1, Y5)
	VTSCALE(Y2, 2, Y6)
	VTSCALE(Y3, 3, Y7)
	VPBROADCASTB qbatchVNib<>(SB), X15
	ADDQ    $32, DX
	ADDQ    R14, R9
	ADDQ    R14, R12
	DECQ    BX
	JNZ     vtgroup

	MOVQ    out+88(FP), AX
	VMOVUPS Y4, (AX)
	VMOVUPS Y5, 32(AX)
	VMOVUPS Y6, 64(AX)
	VMOVUPS Y7, 96(AX)
	VZEROUPPER
	RET

// Two weight rows against a block of eight int16 inputs at 512 bits
// (qbatchInt2x8Z). A unit's 32 codes of each row, widened once to int16,
// fill a zmm, and each input's 32 values of the unit, one zmm, take one
// VPDPWSSD per row: 32 products per instruction, sixteen accumulators (Z16-Z23
// row 0's sums of inputs 0-7, Z24-Z31 row 1's), each its own chain. A group's
// sixteen sums are folded by a transpose of unpacks, adds and 128-bit lane
// shuffles into one vector, lane 8·r+j row r's sum of input j (integer
// adds: the exact group sums, as the lane kernel's), and its epilogue is
// qbatchIntT4x8's per output: one conversion, s·dx, and two FMAs, in the
// same order, so the outputs are that kernel's bits. Registers: DI row 0's
// codes (row 1's R13 further), SI the inputs (the block's first input of
// the unit; R11 the unit stride), R9 dx and R12 xsum ((groups, n) from the
// block's first input; R14 their stride), DX the rows' scales and biases
// ((groups, 4): s0 s1 b0 b1), BX groups left, R8 units per group, CX
// units left, R10 q4; Z0 Z1 the rows' codes, Z3 the totals, Z4-Z15
// temporaries.

DATA qbatchZNib<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA qbatchZNib<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL qbatchZNib<>(SB), RODATA|NOPTR, $16

#define ZUNPACK_Q8 \
	VPMOVZXBW (DI), Z0; \
	VPMOVZXBW (DI)(R13*1), Z1; \
	ADDQ      $32, DI

// ZNIB widens 16 bytes of nibbles at src into zr: the low nibbles, then the
// high ones, as the int16 inputs are ordered.
#define ZNIB(src, zr, yr) \
	VMOVDQU     src, X4; \
	VPSRLW      $4, X4, X5; \
	VPAND       X6, X4, X4; \
	VPAND       X6, X5, X5; \
	VINSERTI128 $1, X5, Y4, Y4; \
	VPMOVZXBW   Y4, zr

#define ZUNPACK_Q4 \
	ZNIB((DI), Z0, Y0); \
	ZNIB((DI)(R13*1), Z1, Y1); \
	ADDQ $16, DI

// ZFIRST starts the sixteen sums with a group's first unit; ZMADD adds a unit.
#define ZFIRST \
	VPMADDWD (SI), Z0, Z16; \
	VPMADDWD (SI), Z1, Z24; \
	VPMADDWD 64(SI), Z0, Z17; \
	VPMADDWD 64(SI), Z1, Z25; \
	VPMADDWD 128(SI), Z0, Z18; \
	VPMADDWD 128(SI), Z1, Z26; \
	VPMADDWD 192(SI), Z0, Z19; \
	VPMADDWD 192(SI), Z1, Z27; \
	VPMADDWD 256(SI), Z0, Z20; \
	VPMADDWD 256(SI), Z1, Z28; \
	VPMADDWD 320(SI), Z0, Z21; \
	VPMADDWD 320(SI), Z1, Z29; \
	VPMADDWD 384(SI), Z0, Z22; \
	VPMADDWD 384(SI), Z1, Z30; \
	VPMADDWD 448(SI), Z0, Z23; \
	VPMADDWD 448(SI), Z1, Z31; \
	ADDQ     R11, SI

#define ZMADD \
	VPDPWSSD (SI), Z0, Z16; \
	VPDPWSSD (SI), Z1, Z24; \
	VPDPWSSD 64(SI), Z0, Z17; \
	VPDPWSSD 64(SI), Z1, Z25; \
	VPDPWSSD 128(SI), Z0, Z18; \
	VPDPWSSD 128(SI), Z1, Z26; \
	VPDPWSSD 192(SI), Z0, Z19; \
	VPDPWSSD 192(SI), Z1, Z27; \
	VPDPWSSD 256(SI), Z0, Z20; \
	VPDPWSSD 256(SI), Z1, Z28; \
	VPDPWSSD 320(SI), Z0, Z21; \
	VPDPWSSD 320(SI), Z1, Z29; \
	VPDPWSSD 384(SI), Z0, Z22; \
	VPDPWSSD 384(SI), Z1, Z30; \
	VPDPWSSD 448(SI), Z0, Z23; \
	VPDPWSSD 448(SI), Z1, Z31; \
	ADDQ     R11, SI

// ZQUAD folds four sums a0-a3 into dst: per 128-bit lane, a0-a3's sums
// over that lane's four dwords.
#define ZQUAD(a0, a1, a2, a3, dst) \
	VPUNPCKLDQ  a1, a0, Z8; \
	VPUNPCKHDQ  a1, a0, Z9; \
	VPADDD      Z9, Z8, Z8; \
	VPUNPCKLDQ  a3, a2, Z10; \
	VPUNPCKHDQ  a3, a2, Z11; \
	VPADDD      Z11, Z10, Z10; \
	VPUNPCKLQDQ Z10, Z8, Z9; \
	VPUNPCKHQDQ Z10, Z8, Z11; \
	VPADDD      Z11, Z9, dst

// func qbatchInt2x8Z(q unsafe.Pointer, rowBytes int, x *int16, dx, xsum, sb *float32, n, groups, units int, q4 bool, out *float32)
// writes out[8·r+j] = Σ_g sb[4g+r]·dx[g·n+j]·Σq·x_j + sb[4g+2+r]·xsum[g·n+j]
// for rows r = 0, 1 (row 1's codes rowBytes after row 0's) and the 8
// inputs j at x (units of n·32 int16, from the block's first input; the 64
// bytes past the last unit readable), dx and xsum ((groups, n), from the
// block's first input, 8 readable).
TEXT ·qbatchInt2x8Z(SB), NOSPLIT, $0-88
	MOVQ    q+0(FP), DI
	MOVQ    rowBytes+8(FP), R13
	MOVQ    x+16(FP), SI
	MOVQ    dx+24(FP), R9
	MOVQ    xsum+32(FP), R12
	MOVQ    sb+40(FP), DX
	MOVQ    n+48(FP), R11
	MOVQ    groups+56(FP), BX
	MOVQ    units+64(FP), R8
	MOVBQZX q4+72(FP), R10
	MOVQ    R11, R14
	SHLQ    $2, R14
	SHLQ    $6, R11
	VPXORD  Z3, Z3, Z3
	VMOVDQU qbatchZNib<>(SB), X6
zgroup:
	MOVQ  R8, CX
	TESTQ R10, R10
	JZ    zq8first
	ZUNPACK_Q4
	ZFIRST
	DECQ  CX
	JZ    zscale
zq4:
	ZUNPACK_Q4
	ZMADD
	DECQ CX
	JNZ  zq4
	JMP  zscale
zq8first:
	ZUNPACK_Q8
	ZFIRST
	DECQ CX
	JZ   zscale
zq8:
	ZUNPACK_Q8
	ZMADD
	DECQ CX
	JNZ  zq8
zscale:
	// Fold: Z12 row 0's inputs 0-3, Z13 4-7, Z14 row 1's 0-3, Z15 4-7
	// (per 128-bit lane), then the lanes: Z4 = lane 8·r+j row r, input j.
	ZQUAD(Z16, Z17, Z18, Z19, Z12)
	ZQUAD(Z20, Z21, Z22, Z23, Z13)
	ZQUAD(Z24, Z25, Z26, Z27, Z14)
	ZQUAD(Z28, Z29, Z30, Z31, Z15)
	VSHUFI32X4 $0x44, Z13, Z12, Z8
	VSHUFI32X4 $0xEE, Z13, Z12, Z9
	VPADDD     Z9, Z8, Z8
	VSHUFI32X4 $0x44, Z15, Z14, Z10
	VSHUFI32X4 $0xEE, Z15, Z14, Z11
	VPADDD     Z11, Z10, Z10
	VSHUFI32X4 $0x88, Z10, Z8, Z4
	VSHUFI32X4 $0xDD, Z10, Z8, Z5
	VPADDD     Z5, Z4, Z4

	// tot += cvt(sums)·(s·dx), then += b·xsum: qbatchIntT4x8's TSCALE.
	VCVTDQ2PS       Z4, Z4
	VBROADCASTSS    (DX), Y8
	VBROADCASTSS    4(DX), Y9
	VINSERTF64X4    $1, Y9, Z8, Z8
	VBROADCASTF32X8 (R9), Z9
	VMULPS          Z9, Z8, Z8
	VFMADD231PS     Z8, Z4, Z3
	VBROADCASTSS    8(DX), Y10
	VBROADCASTSS    12(DX), Y11
	VINSERTF64X4    $1, Y11, Z10, Z10
	VBROADCASTF32X8 (R12), Z11
	VFMADD231PS     Z10, Z11, Z3
	ADDQ            $16, DX
	ADDQ            R14, R9
	ADDQ            R14, R12
	DECQ            BX
	JNZ             zgroup

	MOVQ      out+80(FP), AX
	VMOVUPS   Z3, (AX)
	VZEROUPPER
	RET
