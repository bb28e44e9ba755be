//go:build goexperiment.simd && amd64

#include "textflag.h"

// qbatchIntQ4x4Z and qbatchIntQ4x8Z, named below, are the int16 kernels
// these replaced (the codes widened to int16 into a scratch, VPDPWSSD),
// removed once these ran everywhere they did; their layouts and folds are
// in engine/cpu/design.md ("Batched decode on AVX-512"). Their outputs,
// and so these kernels', are the pair kernel's (qbatchInt2x4V) and the
// AVX2 lane kernel's (qbatchIntT4x8) bits.

// Four weight rows against four int16 inputs with VPDPBUSD on the codes'
// bytes (qbatchIntB4x4Z): qbatchIntQ4x4Z's sums and outputs without
// widening the codes. Each input value x is split into two bytes, x =
// 256·hi + lo with hi = x>>8 (signed, -128..127) and lo = x&255
// (unsigned), laid out by qbatch.prepare (qbatch.xb): per unit of 32
// columns four zmm, the hi bytes of columns 0-15, their lo bytes, the hi
// bytes of 16-31, their lo bytes, lanes 4j..4j+3 of each input j's
// sixteen. A row's sixteen codes of a half unit are broadcast to each
// 128-bit lane (VBROADCASTI32X4, straight from the matrix for Q8; a Q4
// unit's 16 bytes give both halves by a mask and a shift), and
// VPDPBUSD multiplies unsigned bytes with signed ones:
//   hi·q: the codes on the unsigned side, hi on the signed;
//   lo·q: lo on the unsigned side, the codes on the signed. Q4's codes
//   (0..15) are the same bytes either way; Q8's are 0..255, so they go as
//   q^0x80 = q-128 and the sum is Σlo·(q-128) + 128·Σlo, where 128·Σlo per
//   lane and group (qbatch.cb) is the lo sum's start.
// Row r's sum of a lane is then 256·Σhi·q + Σlo·q = Σx·q: the same
// integers as the int16 kernels (int32 arithmetic wraps, but every true
// sum, the one a lane of VPDPWSSD would hold, fits in int32, so the
// wrapped result is it). Lanes 4j, 4j+1 hold columns 0-7 and 16-23 of
// each unit, 4j+2, 4j+3 columns 8-15 and 24-31: the pair kernel's two
// halves, which qbatchIntQ4x4Z sums apart; its fold gives qbatchIntQ4x4Z's
// two vectors (lane 4j+r: row r's half sum of input j) and from there the
// float epilogue is qbatchIntQ4x4Z's, instruction for instruction, so the
// outputs are its bits.
// The rows' scales and biases are read as the matrix stores them (F32, F16
// or BF16, qintScaleArgs's kind), four rows a stride apart, and widened in
// registers once a group (SBLOAD): the float32 values avx2Widen gives.
// Registers: DI row 0's codes (row r's r·R13 further; R11 3·R13), SI the
// inputs' bytes, R15 the Q8 lo sums' starts, R9 dx, R12 xsum, DX row 0's
// scale of the group, AX its bias, CX the rows' scale stride in bytes (R14
// 3·CX), BX groups left, R8 units left; Z16-Z19 the rows' hi sums, Z20-Z23
// their lo sums, Z3-Z6 a unit's inputs, Z7 the code mask (Q4 0x0f, Q8
// 0x80), Z8-Z15 codes and temporaries, Z0 Z1 Z2 the totals
// (qbatchIntQ4x4Z's).

// QBPREFETCH asks for the next four rows' codes of this unit, as
// QPREFETCH does (R10 the scratch).
#define QBPREFETCH \
	LEAQ       (DI)(R13*4), R10; \
	PREFETCHT0 (R10); \
	PREFETCHT0 (R10)(R13*1); \
	PREFETCHT0 (R10)(R13*2); \
	PREFETCHT0 (R10)(R11*1)

// QBROW8 adds row's products of a unit (Q8 codes at src) to hi and lo.
#define QBROW8(src, src16, hi, lo, c0, c1, d0, d1) \
	VBROADCASTI32X4 src, c0; \
	VBROADCASTI32X4 src16, c1; \
	VPXORD          Z7, c0, d0; \
	VPXORD          Z7, c1, d1; \
	VPDPBUSD        Z3, c0, hi; \
	VPDPBUSD        d0, Z4, lo; \
	VPDPBUSD        Z5, c1, hi; \
	VPDPBUSD        d1, Z6, lo

// QBROW4 is QBROW8 for a Q4 unit's 16 bytes at src (low nibbles columns
// 0-15, high nibbles 16-31, as the int16 inputs are ordered).
#define QBROW4(src, hi, lo, c0, c1) \
	VBROADCASTI32X4 src, c0; \
	VPSRLW          $4, c0, c1; \
	VPANDD          Z7, c0, c0; \
	VPANDD          Z7, c1, c1; \
	VPDPBUSD        Z3, c0, hi; \
	VPDPBUSD        c0, Z4, lo; \
	VPDPBUSD        Z5, c1, hi; \
	VPDPBUSD        c1, Z6, lo

// QFOLDB: lane 2i of dst a's lanes 2i and 2i+1 added, lane 2i+1 b's
// (qbatchIntQ4x8Z's fold). Z13 the scratch.
#define QFOLDB(a, b, dst) \
	VPBLENDMD b, a, K1, dst; \
	VPBLENDMD a, b, K1, Z13; \
	VPSHUFD   $0xb1, Z13, Z13; \
	VPADDD    Z13, dst, dst

// SBLOAD puts the group's scales of rows 0-3 (DX, DX+CX, DX+2·CX,
// DX+R14) in lanes 0-3 of s and their biases (the same offsets from bp) in
// lanes 0-3 of b as float32, widened as avx2Widen widens them (F16 by
// VCVTPH2PS, BF16 by a 16-bit shift, which is exact), and steps DX and bp
// to the next group. The kind is qintScaleArgs's, at kind+72(FP).
#define SBLOAD(bp, s, b, lf16, lbf16, ldone) \
	CMPQ      kind+72(FP), $1; \
	JEQ       lf16; \
	JGT       lbf16; \
	VMOVSS    (DX), s; \
	VINSERTPS $0x10, (DX)(CX*1), s, s; \
	VINSERTPS $0x20, (DX)(CX*2), s, s; \
	VINSERTPS $0x30, (DX)(R14*1), s, s; \
	VMOVSS    (bp), b; \
	VINSERTPS $0x10, (bp)(CX*1), b, b; \
	VINSERTPS $0x20, (bp)(CX*2), b, b; \
	VINSERTPS $0x30, (bp)(R14*1), b, b; \
	ADDQ      $4, DX; \
	ADDQ      $4, bp; \
	JMP       ldone; \
lf16: \
	VPXOR     s, s, s; \
	VPINSRW   $0, (DX), s, s; \
	VPINSRW   $1, (DX)(CX*1), s, s; \
	VPINSRW   $2, (DX)(CX*2), s, s; \
	VPINSRW   $3, (DX)(R14*1), s, s; \
	VCVTPH2PS s, s; \
	VPXOR     b, b, b; \
	VPINSRW   $0, (bp), b, b; \
	VPINSRW   $1, (bp)(CX*1), b, b; \
	VPINSRW   $2, (bp)(CX*2), b, b; \
	VPINSRW   $3, (bp)(R14*1), b, b; \
	VCVTPH2PS b, b; \
	ADDQ      $2, DX; \
	ADDQ      $2, bp; \
	JMP       ldone; \
lbf16: \
	VPXOR     s, s, s; \
	VPINSRW   $1, (DX), s, s; \
	VPINSRW   $3, (DX)(CX*1), s, s; \
	VPINSRW   $5, (DX)(CX*2), s, s; \
	VPINSRW   $7, (DX)(R14*1), s, s; \
	VPXOR     b, b, b; \
	VPINSRW   $1, (bp), b, b; \
	VPINSRW   $3, (bp)(CX*1), b, b; \
	VPINSRW   $5, (bp)(CX*2), b, b; \
	VPINSRW   $7, (bp)(R14*1), b, b; \
	ADDQ      $2, DX; \
	ADDQ      $2, bp; \
ldone:

// SBPREFETCH asks, at a kernel's start, for the lines of this call's four
// rows' scales and biases (4·CX bytes from DX and from bp, the rows'
// being adjacent) and of the next four rows' (the next call's): a quad's
// scales are a few lines in a tensor apart from the codes, which no
// hardware prefetcher follows, and SBLOAD takes a group's at a time, so
// their misses would otherwise come one group after another. R8 and R10
// the scratch.
#define SBPREFETCH(bp, loop) \
	MOVQ       CX, R8; \
	SHLQ       $3, R8; \
	XORQ       R10, R10; \
loop: \
	PREFETCHT0 (DX)(R10*1); \
	PREFETCHT0 (bp)(R10*1); \
	ADDQ       $64, R10; \
	CMPQ       R10, R8; \
	JBE        loop

#define QBLOAD \
	VMOVDQU64 (SI), Z3; \
	VMOVDQU64 64(SI), Z4; \
	VMOVDQU64 128(SI), Z5; \
	VMOVDQU64 192(SI), Z6

// func qbatchIntB4x4Z(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)
// computes qbatchIntQ4x4Z's out[4j+r] for rows r = 0..3 and the four inputs
// j at xb ((cols/32, 4, 4, 16) bytes), cb ((groups, 16) int32, Q8 only),
// row r's scales and biases at sc and bs plus r·sstride bytes, of the kind,
// and stores input j's four outputs at y plus j·yStride bytes, j < ny.
TEXT ·qbatchIntB4x4Z(SB), NOSPLIT, $0-136
	MOVQ  q+0(FP), DI
	MOVQ  rowBytes+8(FP), R13
	MOVQ  xb+16(FP), SI
	MOVQ  cb+24(FP), R15
	MOVQ  dx+32(FP), R9
	MOVQ  xsum+40(FP), R12
	MOVQ  sc+48(FP), DX
	MOVQ  bs+56(FP), AX
	MOVQ  sstride+64(FP), CX
	LEAQ  (CX)(CX*2), R14
	SBPREFETCH(AX, b44pf)
	MOVL  $0xaaaa, BX
	KMOVW BX, K1
	MOVQ  groups+88(FP), BX
	LEAQ  (R13)(R13*2), R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	CMPB  q4+104(FP), $0
	JNE   b44q4
	MOVL  $0x80808080, R10
	VPBROADCASTD R10, Z7

b44q8group:
	VMOVDQU64 (R15), Z20
	VMOVDQA64 Z20, Z21
	VMOVDQA64 Z20, Z22
	VMOVDQA64 Z20, Z23
	VPXORD    Z16, Z16, Z16
	VPXORD    Z17, Z17, Z17
	VPXORD    Z18, Z18, Z18
	VPXORD    Z19, Z19, Z19
	ADDQ      $64, R15
	MOVQ      gs+96(FP), R8
	SHRQ      $5, R8
b44q8unit:
	QBPREFETCH
	QBLOAD
	QBROW8((DI), 16(DI), Z16, Z20, Z8, Z9, Z10, Z11)
	QBROW8((DI)(R13*1), 16(DI)(R13*1), Z17, Z21, Z12, Z13, Z14, Z15)
	QBROW8((DI)(R13*2), 16(DI)(R13*2), Z18, Z22, Z8, Z9, Z10, Z11)
	QBROW8((DI)(R11*1), 16(DI)(R11*1), Z19, Z23, Z12, Z13, Z14, Z15)
	ADDQ $32, DI
	ADDQ $256, SI
	DECQ R8
	JNZ  b44q8unit
	JMP  b44epi

b44q4:
	MOVL $0x0f0f0f0f, R10
	VPBROADCASTD R10, Z7
b44q4group:
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	MOVQ   gs+96(FP), R8
	SHRQ   $5, R8
b44q4unit:
	QBPREFETCH
	QBLOAD
	QBROW4((DI), Z16, Z20, Z8, Z9)
	QBROW4((DI)(R13*1), Z17, Z21, Z10, Z11)
	QBROW4((DI)(R13*2), Z18, Z22, Z12, Z13)
	QBROW4((DI)(R11*1), Z19, Z23, Z14, Z15)
	ADDQ $16, DI
	ADDQ $256, SI
	DECQ R8
	JNZ  b44q4unit

b44epi:
	SBLOAD(AX, X3, X6, b44f16, b44bf16, b44sb)
	// Each row's sum: 256·hi + lo (int32, wrapping: the exact sums).
	VPSLLD $8, Z16, Z16
	VPSLLD $8, Z17, Z17
	VPSLLD $8, Z18, Z18
	VPSLLD $8, Z19, Z19
	VPADDD Z20, Z16, Z16
	VPADDD Z21, Z17, Z17
	VPADDD Z22, Z18, Z18
	VPADDD Z23, Z19, Z19
	// Rows 0-1 and 2-3 folded (lane 4j+2h+r: row r's half h of input
	// j), then the two halves apart: lane 4j+r of Z4 (Z5) row r's first
	// (second) half of input j, qbatchIntQ4x4Z's Z4 and Z5.
	QFOLDB(Z16, Z17, Z8)
	QFOLDB(Z18, Z19, Z9)
	VPUNPCKLQDQ Z9, Z8, Z4
	VPUNPCKHQDQ Z9, Z8, Z5
	// qbatchIntQ4x4Z's epilogue.
	VMOVDQU64       qbatchBDup4<>(SB), Z10
	VMOVUPS         (R9), X14
	VPERMPS         Z14, Z10, Z14
	VMOVUPS         (R12), X15
	VPERMPS         Z15, Z10, Z15
	VCVTDQ2PS       Z4, Z4
	VCVTDQ2PS       Z5, Z5
	VSHUFF32X4      $0, Z3, Z3, Z12
	VMULPS          Z14, Z12, Z12
	VFMADD231PS     Z12, Z4, Z0
	VFMADD231PS     Z12, Z5, Z1
	VSHUFF32X4      $0, Z6, Z6, Z13
	VFMADD231PS     Z13, Z15, Z2
	MOVQ dxStride+80(FP), R10
	ADDQ R10, R9
	ADDQ R10, R12
	DECQ BX
	JZ   b44done
	CMPB q4+104(FP), $0
	JNE  b44q4group
	JMP  b44q8group
b44done:
	// 128-bit lane j of the totals is input j's four rows: stored at y
	// plus j·yStride, for the first ny inputs.
	VADDPS        Z1, Z0, Z0
	VADDPS        Z2, Z0, Z0
	MOVQ          y+112(FP), AX
	MOVQ          yStride+120(FP), CX
	MOVQ          ny+128(FP), BX
	VMOVUPS       X0, (AX)
	CMPQ          BX, $1
	JLE           b44ret
	VEXTRACTF32X4 $1, Z0, (AX)(CX*1)
	CMPQ          BX, $2
	JLE           b44ret
	VEXTRACTF32X4 $2, Z0, (AX)(CX*2)
	CMPQ          BX, $3
	JLE           b44ret
	LEAQ          (AX)(CX*2), AX
	VEXTRACTF32X4 $3, Z0, (AX)(CX*1)
b44ret:
	VZEROUPPER
	RET

// lane k of the duplicated dx (and xsum): input k/4's.
DATA qbatchBDup4<>+0(SB)/8, $0x0000000000000000
DATA qbatchBDup4<>+8(SB)/8, $0x0000000000000000
DATA qbatchBDup4<>+16(SB)/8, $0x0000000100000001
DATA qbatchBDup4<>+24(SB)/8, $0x0000000100000001
DATA qbatchBDup4<>+32(SB)/8, $0x0000000200000002
DATA qbatchBDup4<>+40(SB)/8, $0x0000000200000002
DATA qbatchBDup4<>+48(SB)/8, $0x0000000300000003
DATA qbatchBDup4<>+56(SB)/8, $0x0000000300000003
GLOBL qbatchBDup4<>(SB), RODATA|NOPTR, $64

// func qbatchPrepXBZ(xw *int16, xb *byte, cb *int32, groups, upg int)
// is qbatchPrepXB for one input: xb and cb point at its lanes of its quad
// (the quad's start plus 16·(j%4) bytes, plus 4·(j%4) int32), groups of
// upg units. The low bytes are VPMOVWB's truncation, the high ones an
// arithmetic shift's; each lane's four low bytes summed by VPDPBUSD with
// ones, the two halves of a unit added, then times 128.
TEXT ·qbatchPrepXBZ(SB), NOSPLIT, $0-40
	MOVQ xw+0(FP), SI
	MOVQ xb+8(FP), DI
	MOVQ cb+16(FP), DX
	MOVQ groups+24(FP), BX
	MOVQ upg+32(FP), CX
	MOVL $0x01010101, AX
	VPBROADCASTD AX, Y5
xbgroup:
	VPXORD Y4, Y4, Y4
	MOVQ   CX, R8
xbunit:
	VMOVDQU64    (SI), Z0
	VPMOVWB      Z0, Y1
	VPSRAW       $8, Z0, Z2
	VPMOVWB      Z2, Y2
	VMOVDQU      X2, (DI)
	VEXTRACTI128 $1, Y2, 128(DI)
	VMOVDQU      X1, 64(DI)
	VEXTRACTI128 $1, Y1, 192(DI)
	VPDPBUSD     Y5, Y1, Y4
	ADDQ         $64, SI
	ADDQ         $256, DI
	DECQ         R8
	JNZ          xbunit
	VEXTRACTI128 $1, Y4, X3
	VPADDD       X3, X4, X4
	VPSLLD       $7, X4, X4
	VMOVDQU      X4, (DX)
	ADDQ         $64, DX
	DECQ         BX
	JNZ          xbgroup
	VZEROUPPER
	RET

// Four weight rows against a block of eight int16 inputs with VPDPBUSD
// (qbatchIntB4x8Z): qbatchIntQ4x8Z's outputs the way qbatchIntB4x4Z gives
// qbatchIntQ4x4Z's. The block is two quads of qbatch.xb (the second
// 8·cols bytes after the first, AX); each half unit of a row's codes,
// broadcast once, meets both quads' hi and lo bytes: four VPDPBUSD, 64
// products each. A row's sums of quad p, 256·hi + lo, are folded to exact
// group sums (integer adds, any order gives them) with lane 2m+r of Z4
// (rows 0-1; Z5 rows 2-3) holding row r's sum of input j' (m = 2j') or 4+j'
// (m = 2j'+1), and from there qbatchIntQ4x8Z's epilogue per output in its
// order (QSCALE), its dx and xsum permuted alike (qbatchBDup8); the totals
// are put back in input order (VPERMQ) at the end. Registers as
// qbatchIntB4x4Z's, with Z16-Z19 the rows' hi sums of quad 0, Z20-Z23 of
// quad 1, Z24-Z27 and Z28-Z31 their lo sums, Z0 Z1 the totals (lane 2j+r),
// and the biases' pointer in the frame (bsp: every register is taken).

#define QB8ROW8(src, h0, l0, h1, l1, c, d) \
	VBROADCASTI32X4 src, c; \
	VPXORD          Z7, c, d; \
	VPDPBUSD        Z3, c, h0; \
	VPDPBUSD        d, Z4, l0; \
	VPDPBUSD        Z5, c, h1; \
	VPDPBUSD        d, Z6, l1

#define QB8ROW4(c, h0, l0, h1, l1) \
	VPDPBUSD Z3, c, h0; \
	VPDPBUSD c, Z4, l0; \
	VPDPBUSD Z5, c, h1; \
	VPDPBUSD c, Z6, l1

#define QB4CODES(src, c0, c1) \
	VBROADCASTI32X4 src, c0; \
	VPSRLW          $4, c0, c1; \
	VPANDD          Z7, c0, c0; \
	VPANDD          Z7, c1, c1

// QSCALEB adds a group's outputs of two rows to tot: s and b their scales
// and biases in lanes 0-1 (SBLOAD's lanes r, r+1).
#define QSCALEB(acc, s, b, tot) \
	VCVTDQ2PS    acc, acc; \
	VBROADCASTSD s, Z12; \
	VMULPS       Z14, Z12, Z12; \
	VFMADD231PS  Z12, acc, tot; \
	VBROADCASTSD b, Z13; \
	VFMADD231PS  Z13, Z15, tot

// YSTORE stores x at the next input's place (AX+CX), or returns when
// the ny inputs (BX left) are stored.
#define YSTORE(x, ret) \
	DECQ    BX; \
	JLE     ret; \
	ADDQ    CX, AX; \
	VMOVUPS x, (AX)

// func qbatchIntB4x8Z(q unsafe.Pointer, rowBytes int, xb *byte, cb *int32, dx, xsum *float32, sc, bs unsafe.Pointer, sstride, kind, dxStride, groups, gs int, q4 bool, y *float32, yStride, ny int)
// computes qbatchIntQ4x8Z's out[16·(r/2)+2j+r%2] for rows r = 0..3 and the
// eight inputs j of the two quads at xb, cb (qbatch.xb, cb), the scales
// and biases as qbatchIntB4x4Z's, and stores input j's four outputs as
// qbatchIntB4x4Z does, j < ny.
TEXT ·qbatchIntB4x8Z(SB), NOSPLIT, $8-136
	MOVQ  q+0(FP), DI
	MOVQ  rowBytes+8(FP), R13
	MOVQ  xb+16(FP), SI
	MOVQ  cb+24(FP), R15
	MOVQ  dx+32(FP), R9
	MOVQ  xsum+40(FP), R12
	MOVQ  sc+48(FP), DX
	MOVQ  bs+56(FP), BX
	MOVQ  BX, bsp-8(SP)
	MOVQ  sstride+64(FP), CX
	LEAQ  (CX)(CX*2), R14
	SBPREFETCH(BX, b48pf)
	MOVL  $0xaaaa, BX
	KMOVW BX, K1
	MOVQ  groups+88(FP), BX
	MOVQ  gs+96(FP), AX
	IMULQ BX, AX
	SHLQ  $3, AX
	LEAQ  (R13)(R13*2), R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	CMPB  q4+104(FP), $0
	JNE   b48q4
	MOVL  $0x80808080, R10
	VPBROADCASTD R10, Z7

b48q8group:
	MOVQ      groups+88(FP), R10
	SHLQ      $6, R10
	VMOVDQU64 (R15), Z24
	VMOVDQU64 (R15)(R10*1), Z28
	VMOVDQA64 Z24, Z25
	VMOVDQA64 Z24, Z26
	VMOVDQA64 Z24, Z27
	VMOVDQA64 Z28, Z29
	VMOVDQA64 Z28, Z30
	VMOVDQA64 Z28, Z31
	VPXORD    Z16, Z16, Z16
	VPXORD    Z17, Z17, Z17
	VPXORD    Z18, Z18, Z18
	VPXORD    Z19, Z19, Z19
	VPXORD    Z20, Z20, Z20
	VPXORD    Z21, Z21, Z21
	VPXORD    Z22, Z22, Z22
	VPXORD    Z23, Z23, Z23
	ADDQ      $64, R15
	MOVQ      gs+96(FP), R8
	SHRQ      $5, R8
b48q8unit:
	QBPREFETCH
	VMOVDQU64 (SI), Z3
	VMOVDQU64 64(SI), Z4
	VMOVDQU64 (SI)(AX*1), Z5
	VMOVDQU64 64(SI)(AX*1), Z6
	QB8ROW8((DI), Z16, Z24, Z20, Z28, Z8, Z9)
	QB8ROW8((DI)(R13*1), Z17, Z25, Z21, Z29, Z10, Z11)
	QB8ROW8((DI)(R13*2), Z18, Z26, Z22, Z30, Z12, Z13)
	QB8ROW8((DI)(R11*1), Z19, Z27, Z23, Z31, Z14, Z15)
	VMOVDQU64 128(SI), Z3
	VMOVDQU64 192(SI), Z4
	VMOVDQU64 128(SI)(AX*1), Z5
	VMOVDQU64 192(SI)(AX*1), Z6
	QB8ROW8(16(DI), Z16, Z24, Z20, Z28, Z8, Z9)
	QB8ROW8(16(DI)(R13*1), Z17, Z25, Z21, Z29, Z10, Z11)
	QB8ROW8(16(DI)(R13*2), Z18, Z26, Z22, Z30, Z12, Z13)
	QB8ROW8(16(DI)(R11*1), Z19, Z27, Z23, Z31, Z14, Z15)
	ADDQ $32, DI
	ADDQ $256, SI
	DECQ R8
	JNZ  b48q8unit
	JMP  b48epi

b48q4:
	MOVL $0x0f0f0f0f, R10
	VPBROADCASTD R10, Z7
b48q4group:
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31
	MOVQ   gs+96(FP), R8
	SHRQ   $5, R8
b48q4unit:
	QBPREFETCH
	QB4CODES((DI), Z8, Z9)
	QB4CODES((DI)(R13*1), Z10, Z11)
	QB4CODES((DI)(R13*2), Z12, Z13)
	QB4CODES((DI)(R11*1), Z14, Z15)
	VMOVDQU64 (SI), Z3
	VMOVDQU64 64(SI), Z4
	VMOVDQU64 (SI)(AX*1), Z5
	VMOVDQU64 64(SI)(AX*1), Z6
	QB8ROW4(Z8, Z16, Z24, Z20, Z28)
	QB8ROW4(Z10, Z17, Z25, Z21, Z29)
	QB8ROW4(Z12, Z18, Z26, Z22, Z30)
	QB8ROW4(Z14, Z19, Z27, Z23, Z31)
	VMOVDQU64 128(SI), Z3
	VMOVDQU64 192(SI), Z4
	VMOVDQU64 128(SI)(AX*1), Z5
	VMOVDQU64 192(SI)(AX*1), Z6
	QB8ROW4(Z9, Z16, Z24, Z20, Z28)
	QB8ROW4(Z11, Z17, Z25, Z21, Z29)
	QB8ROW4(Z13, Z18, Z26, Z22, Z30)
	QB8ROW4(Z15, Z19, Z27, Z23, Z31)
	ADDQ $16, DI
	ADDQ $256, SI
	DECQ R8
	JNZ  b48q4unit

b48epi:
	MOVQ bsp-8(SP), R10
	SBLOAD(R10, X3, X6, b48f16, b48bf16, b48sb)
	MOVQ R10, bsp-8(SP)
	// Each row's sums of each quad: 256·hi + lo.
	VPSLLD $8, Z16, Z16
	VPSLLD $8, Z17, Z17
	VPSLLD $8, Z18, Z18
	VPSLLD $8, Z19, Z19
	VPSLLD $8, Z20, Z20
	VPSLLD $8, Z21, Z21
	VPSLLD $8, Z22, Z22
	VPSLLD $8, Z23, Z23
	VPADDD Z24, Z16, Z16
	VPADDD Z25, Z17, Z17
	VPADDD Z26, Z18, Z18
	VPADDD Z27, Z19, Z19
	VPADDD Z28, Z20, Z20
	VPADDD Z29, Z21, Z21
	VPADDD Z30, Z22, Z22
	VPADDD Z31, Z23, Z23
	// Rows 0-1: lane 4j'+2h+r of Z8 (quad 0) and Z9 (quad 1) row r's
	// part h; the quads' qwords interleaved and the parts added.
	QFOLDB(Z16, Z17, Z8)
	QFOLDB(Z20, Z21, Z9)
	VPUNPCKLQDQ Z9, Z8, Z10
	VPUNPCKHQDQ Z9, Z8, Z11
	VPADDD      Z11, Z10, Z4
	QFOLDB(Z18, Z19, Z8)
	QFOLDB(Z22, Z23, Z9)
	VPUNPCKLQDQ Z9, Z8, Z10
	VPUNPCKHQDQ Z9, Z8, Z11
	VPADDD      Z11, Z10, Z5
	VMOVDQU64   qbatchBDup8<>(SB), Z10
	VMOVUPS     (R9), Y14
	VPERMPS     Z14, Z10, Z14
	VMOVUPS     (R12), Y15
	VPERMPS     Z15, Z10, Z15
	QSCALEB(Z4, X3, X6, Z0)
	VPSHUFD $0xee, X3, X3
	VPSHUFD $0xee, X6, X6
	QSCALEB(Z5, X3, X6, Z1)
	MOVQ dxStride+80(FP), R10
	ADDQ R10, R9
	ADDQ R10, R12
	DECQ BX
	JZ   b48done
	CMPB q4+104(FP), $0
	JNE  b48q4group
	JMP  b48q8group
b48done:
	// Input j's rows 0-1 are qword j of Z0 and rows 2-3 of Z1: input 2k's
	// four rows 128-bit lane k of Z2, input 2k+1's of Z3, stored at y plus
	// j·yStride for the first ny inputs (YSTORE).
	VMOVDQU64   qbatchBOut8<>(SB), Z10
	VPERMQ      Z0, Z10, Z0
	VPERMQ      Z1, Z10, Z1
	VPUNPCKLQDQ Z1, Z0, Z2
	VPUNPCKHQDQ Z1, Z0, Z3
	MOVQ        y+112(FP), AX
	MOVQ        yStride+120(FP), CX
	MOVQ        ny+128(FP), BX
	VMOVUPS     X2, (AX)
	YSTORE(X3, b48ret)
	VEXTRACTF32X4 $1, Z2, X4
	YSTORE(X4, b48ret)
	VEXTRACTF32X4 $1, Z3, X4
	YSTORE(X4, b48ret)
	VEXTRACTF32X4 $2, Z2, X4
	YSTORE(X4, b48ret)
	VEXTRACTF32X4 $2, Z3, X4
	YSTORE(X4, b48ret)
	VEXTRACTF32X4 $3, Z2, X4
	YSTORE(X4, b48ret)
	VEXTRACTF32X4 $3, Z3, X4
	YSTORE(X4, b48ret)
b48ret:
	VZEROUPPER
	RET

// lane 2m+r of the sums (and of the duplicated dx and xsum): input m/2
// for even m, 4+m/2 for odd.
DATA qbatchBDup8<>+0(SB)/8, $0x0000000000000000
DATA qbatchBDup8<>+8(SB)/8, $0x0000000400000004
DATA qbatchBDup8<>+16(SB)/8, $0x0000000100000001
DATA qbatchBDup8<>+24(SB)/8, $0x0000000500000005
DATA qbatchBDup8<>+32(SB)/8, $0x0000000200000002
DATA qbatchBDup8<>+40(SB)/8, $0x0000000600000006
DATA qbatchBDup8<>+48(SB)/8, $0x0000000300000003
DATA qbatchBDup8<>+56(SB)/8, $0x0000000700000007
GLOBL qbatchBDup8<>(SB), RODATA|NOPTR, $64

// The totals' qwords back in input order.
DATA qbatchBOut8<>+0(SB)/8, $0
DATA qbatchBOut8<>+8(SB)/8, $2
DATA qbatchBOut8<>+16(SB)/8, $4
DATA qbatchBOut8<>+24(SB)/8, $6
DATA qbatchBOut8<>+32(SB)/8, $1
DATA qbatchBOut8<>+40(SB)/8, $3
DATA qbatchBOut8<>+48(SB)/8, $5
DATA qbatchBOut8<>+56(SB)/8, $7
GLOBL qbatchBOut8<>(SB), RODATA|NOPTR, $64
