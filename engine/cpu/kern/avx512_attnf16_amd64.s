//go:build goexperiment.simd && amd64

#include "textflag.h"
#include "attnpf_amd64.h"

// The lane order that turns four positions' 4-lane sums, one 128-bit
// chunk each, into four chunks of one lane per position.
DATA z16ScoreIdx<>+0(SB)/4, $0
DATA z16ScoreIdx<>+4(SB)/4, $4
DATA z16ScoreIdx<>+8(SB)/4, $8
DATA z16ScoreIdx<>+12(SB)/4, $12
DATA z16ScoreIdx<>+16(SB)/4, $1
DATA z16ScoreIdx<>+20(SB)/4, $5
DATA z16ScoreIdx<>+24(SB)/4, $9
DATA z16ScoreIdx<>+28(SB)/4, $13
DATA z16ScoreIdx<>+32(SB)/4, $2
DATA z16ScoreIdx<>+36(SB)/4, $6
DATA z16ScoreIdx<>+40(SB)/4, $10
DATA z16ScoreIdx<>+44(SB)/4, $14
DATA z16ScoreIdx<>+48(SB)/4, $3
DATA z16ScoreIdx<>+52(SB)/4, $7
DATA z16ScoreIdx<>+56(SB)/4, $11
DATA z16ScoreIdx<>+60(SB)/4, $15
GLOBL z16ScoreIdx<>(SB), RODATA|NOPTR, $64

// RED4 reduces the 16-lane accumulators of four positions A, B, C, D to
// their four scores in XA (A's first), the same tree for every position
// and independent of the others: the 128-bit chunks c0..c3 as
// (c0+c2)+(c1+c3), then that sum's lanes l0..l3 as (l0+l2)+(l1+l3). IDX
// holds z16ScoreIdx; T1, T2 (XT1 the low quarter of T1) are clobbered, as
// are B, C, D.
#define RED4(A, B, C, D, YA, XA, T1, T2, YT1, XT1, IDX) \
	VSHUFF64X2 $0x44, B, A, T1 \
	VSHUFF64X2 $0xEE, B, A, T2 \
	VADDPS T2, T1, A \
	VSHUFF64X2 $0x44, D, C, T1 \
	VSHUFF64X2 $0xEE, D, C, T2 \
	VADDPS T2, T1, C \
	VSHUFF64X2 $0x88, C, A, T1 \
	VSHUFF64X2 $0xDD, C, A, T2 \
	VADDPS T2, T1, A \
	VPERMPS A, IDX, A \
	VEXTRACTF64X4 $1, A, YT1 \
	VADDPS YT1, YA, YA \
	VEXTRACTF128 $1, YA, XT1 \
	VADDPS XT1, XA, XA

// Attention over a half KV cache on AVX-512, a block of positions per call
// (avx512_attnf16.go): avx2_attnf16_amd64.s's kernels with zmm registers,
// sixteen halves per VCVTPH2PS.

// Scores: per position a 16-lane accumulator, four positions reduced
// together by RED4; a lone position goes through RED4 beside three zero
// accumulators, so its score is the bits it would get among four.

// func z16Scores(s *float32, q *float32, k *uint16, stride, n, hd int)
TEXT ·z16Scores(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), BX
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8 // bytes per row
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
	SHLQ $1, DX // bytes of halves per row
	VMOVUPS z16ScoreIdx<>(SB), Z31
	IMUL3Q $AHEAD, R8, R13
	ADDQ DI, R13 // the row AHEAD positions on
zs4:
	CMPQ CX, $4
	JLT  zs1
	LEAQ (DI)(R8*1), R9
	LEAQ (DI)(R8*2), R10
	LEAQ (R10)(R8*1), R11
	PFROW(R13, zspf0)
	PFROW(R13, zspf1)
	PFROW(R13, zspf2)
	PFROW(R13, zspf3)
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ AX, AX
zs4inner:
	VMOVUPS (SI)(AX*2), Z8
	VCVTPH2PS (DI)(AX*1), Z4
	VCVTPH2PS (R9)(AX*1), Z5
	VCVTPH2PS (R10)(AX*1), Z6
	VCVTPH2PS (R11)(AX*1), Z7
	VFMADD231PS Z8, Z4, Z0
	VFMADD231PS Z8, Z5, Z1
	VFMADD231PS Z8, Z6, Z2
	VFMADD231PS Z8, Z7, Z3
	ADDQ $32, AX
	CMPQ AX, DX
	JLT  zs4inner
	RED4(Z0, Z1, Z2, Z3, Y0, X0, Z4, Z5, Y4, X4, Z31)
	VMOVUPS X0, (BX)
	ADDQ $16, BX
	LEAQ (R11)(R8*1), DI
	SUBQ $4, CX
	JMP  zs4
zs1:
	CMPQ CX, $0
	JLE  zsdone
	VPXORD Z0, Z0, Z0
	XORQ AX, AX
zs1inner:
	VCVTPH2PS (DI)(AX*1), Z4
	VFMADD231PS (SI)(AX*2), Z4, Z0
	ADDQ $32, AX
	CMPQ AX, DX
	JLT  zs1inner
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	RED4(Z0, Z1, Z2, Z3, Y0, X0, Z4, Z5, Y4, X4, Z31)
	MOVSS X0, (BX)
	ADDQ $4, BX
	ADDQ R8, DI
	DECQ CX
	JMP  zs1
zsdone:
	VZEROUPPER
	RET

// z16Scores3 is z16Scores for three heads sharing the rows of k, as
// f16cScores3: whole fours of positions only, per head and position the
// operations of z16Scores' four-position path.

// func z16Scores3(s *float32, ns int, q *float32, qs int, k *uint16, stride, n, hd int, next *uint16)
TEXT ·z16Scores3(SB), NOSPLIT, $16-72
	MOVQ s+0(FP), BX
	MOVQ ns+8(FP), R12
	SHLQ $2, R12 // bytes between heads' scores
	MOVQ q+16(FP), SI
	MOVQ qs+24(FP), R13
	SHLQ $2, R13
	LEAQ (SI)(R13*1), R14
	LEAQ (R14)(R13*1), R15
	MOVQ k+32(FP), DI
	MOVQ stride+40(FP), R8
	SHLQ $1, R8 // bytes per row
	MOVQ n+48(FP), CX
	MOVQ hd+56(FP), DX
	SHLQ $1, DX // bytes of halves per row
	VMOVUPS z16ScoreIdx<>(SB), Z31
	IMUL3Q $AHEAD3, R8, R13
	ADDQ DI, R13 // the row AHEAD3 positions on
	NEXTSETUP(CX, DI, next+64(FP))
z3four:
	CMPQ CX, $4
	JLT  z3done
	PFNEXT(R13, z3pfok)
	LEAQ (DI)(R8*1), R9
	LEAQ (DI)(R8*2), R10
	LEAQ (R10)(R8*1), R11
	PFROW(R13, z3pf0)
	PFROW(R13, z3pf1)
	PFROW(R13, z3pf2)
	PFROW(R13, z3pf3)
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	XORQ AX, AX
z3inner:
	VCVTPH2PS (DI)(AX*1), Z12
	VCVTPH2PS (R9)(AX*1), Z13
	VCVTPH2PS (R10)(AX*1), Z14
	VCVTPH2PS (R11)(AX*1), Z15
	VMOVUPS (SI)(AX*2), Z16
	VMOVUPS (R14)(AX*2), Z17
	VMOVUPS (R15)(AX*2), Z18
	VFMADD231PS Z16, Z12, Z0
	VFMADD231PS Z16, Z13, Z1
	VFMADD231PS Z16, Z14, Z2
	VFMADD231PS Z16, Z15, Z3
	VFMADD231PS Z17, Z12, Z4
	VFMADD231PS Z17, Z13, Z5
	VFMADD231PS Z17, Z14, Z6
	VFMADD231PS Z17, Z15, Z7
	VFMADD231PS Z18, Z12, Z8
	VFMADD231PS Z18, Z13, Z9
	VFMADD231PS Z18, Z14, Z10
	VFMADD231PS Z18, Z15, Z11
	ADDQ $32, AX
	CMPQ AX, DX
	JLT  z3inner
	RED4(Z0, Z1, Z2, Z3, Y0, X0, Z12, Z13, Y12, X12, Z31)
	VMOVUPS X0, (BX)
	RED4(Z4, Z5, Z6, Z7, Y4, X4, Z12, Z13, Y12, X12, Z31)
	VMOVUPS X4, (BX)(R12*1)
	RED4(Z8, Z9, Z10, Z11, Y8, X8, Z12, Z13, Y12, X12, Z31)
	VMOVUPS X8, (BX)(R12*2)
	ADDQ $16, BX
	LEAQ (R11)(R8*1), DI
	SUBQ $4, CX
	JMP  z3four
z3done:
	VZEROUPPER
	RET

// Values: per lane one FMA per position in position order, from out's
// value, as f16cValues: the same bits as the AVX2 kernels.

// func z16Values(out *float32, w *float32, v *uint16, stride, n, hd int)
TEXT ·z16Values(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), BX
	MOVQ w+8(FP), SI
	MOVQ v+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
	IMUL3Q $AHEAD, R8, R12 // AHEAD rows on
zv64:
	CMPQ DX, $64
	JLT  zv16
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VMOVUPS 128(BX), Z2
	VMOVUPS 192(BX), Z3
	MOVQ DI, R9
	XORQ AX, AX
zv64inner:
	CMPQ AX, CX
	JGE  zv64store
	PREFETCHT0 (R9)(R12*1)
	PREFETCHT0 64(R9)(R12*1)
	VBROADCASTSS (SI)(AX*4), Z8
	VCVTPH2PS (R9), Z4
	VCVTPH2PS 32(R9), Z5
	VCVTPH2PS 64(R9), Z6
	VCVTPH2PS 96(R9), Z7
	VFMADD231PS Z8, Z4, Z0
	VFMADD231PS Z8, Z5, Z1
	VFMADD231PS Z8, Z6, Z2
	VFMADD231PS Z8, Z7, Z3
	ADDQ R8, R9
	INCQ AX
	JMP  zv64inner
zv64store:
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	VMOVUPS Z2, 128(BX)
	VMOVUPS Z3, 192(BX)
	ADDQ $256, BX
	ADDQ $128, DI
	SUBQ $64, DX
	JMP  zv64
zv16:
	CMPQ DX, $16
	JLT  zvdone
	VMOVUPS (BX), Z0
	MOVQ DI, R9
	XORQ AX, AX
zv16inner:
	CMPQ AX, CX
	JGE  zv16store
	PREFETCHT0 (R9)(R12*1)
	VBROADCASTSS (SI)(AX*4), Z8
	VCVTPH2PS (R9), Z4
	VFMADD231PS Z8, Z4, Z0
	ADDQ R8, R9
	INCQ AX
	JMP  zv16inner
zv16store:
	VMOVUPS Z0, (BX)
	ADDQ $64, BX
	ADDQ $32, DI
	SUBQ $16, DX
	JMP  zv16
zvdone:
	VZEROUPPER
	RET

// z16Values3 is z16Values for three heads sharing the rows of v, as
// f16cValues3: each row converted once and added, weighted by w + h·ws
// floats, to out + h·os floats; 64 columns at a time, then 16.

// func z16Values3(out *float32, os int, w *float32, ws int, v *uint16, stride, n, hd int, next *uint16)
TEXT ·z16Values3(SB), NOSPLIT, $16-72
	MOVQ out+0(FP), BX
	MOVQ os+8(FP), R12
	SHLQ $2, R12
	MOVQ w+16(FP), SI
	MOVQ ws+24(FP), R13
	SHLQ $2, R13
	LEAQ (SI)(R13*1), R14
	LEAQ (R14)(R13*1), R15
	MOVQ v+32(FP), DI
	MOVQ stride+40(FP), R8
	SHLQ $1, R8
	MOVQ n+48(FP), CX
	MOVQ hd+56(FP), DX
	LEAQ (BX)(R12*1), R10 // head 1's out
	LEAQ (R10)(R12*1), R11 // head 2's out
z3v64:
	CMPQ DX, $64
	JLT  z3v16
	VALPF(R12, next+64(FP), v+32(FP))
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VMOVUPS 128(BX), Z2
	VMOVUPS 192(BX), Z3
	VMOVUPS (R10), Z4
	VMOVUPS 64(R10), Z5
	VMOVUPS 128(R10), Z6
	VMOVUPS 192(R10), Z7
	VMOVUPS (R11), Z8
	VMOVUPS 64(R11), Z9
	VMOVUPS 128(R11), Z10
	VMOVUPS 192(R11), Z11
	MOVQ DI, R9
	XORQ AX, AX
z3v64inner:
	CMPQ AX, CX
	JGE  z3v64store
	PFNEXT(R12, z3v64pf)
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R8, R12
	VCVTPH2PS (R9), Z12
	VCVTPH2PS 32(R9), Z13
	VCVTPH2PS 64(R9), Z14
	VCVTPH2PS 96(R9), Z15
	VBROADCASTSS (SI)(AX*4), Z16
	VBROADCASTSS (R14)(AX*4), Z17
	VBROADCASTSS (R15)(AX*4), Z18
	VFMADD231PS Z16, Z12, Z0
	VFMADD231PS Z16, Z13, Z1
	VFMADD231PS Z16, Z14, Z2
	VFMADD231PS Z16, Z15, Z3
	VFMADD231PS Z17, Z12, Z4
	VFMADD231PS Z17, Z13, Z5
	VFMADD231PS Z17, Z14, Z6
	VFMADD231PS Z17, Z15, Z7
	VFMADD231PS Z18, Z12, Z8
	VFMADD231PS Z18, Z13, Z9
	VFMADD231PS Z18, Z14, Z10
	VFMADD231PS Z18, Z15, Z11
	ADDQ R8, R9
	INCQ AX
	JMP  z3v64inner
z3v64store:
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	VMOVUPS Z2, 128(BX)
	VMOVUPS Z3, 192(BX)
	VMOVUPS Z4, (R10)
	VMOVUPS Z5, 64(R10)
	VMOVUPS Z6, 128(R10)
	VMOVUPS Z7, 192(R10)
	VMOVUPS Z8, (R11)
	VMOVUPS Z9, 64(R11)
	VMOVUPS Z10, 128(R11)
	VMOVUPS Z11, 192(R11)
	ADDQ $256, BX
	ADDQ $256, R10
	ADDQ $256, R11
	ADDQ $128, DI
	SUBQ $64, DX
	JMP  z3v64
z3v16:
	CMPQ DX, $16
	JLT  z3vdone
	VMOVUPS (BX), Z0
	VMOVUPS (R10), Z4
	VMOVUPS (R11), Z8
	VALPF(R12, next+64(FP), v+32(FP))
	MOVQ DI, R9
	XORQ AX, AX
z3v16inner:
	CMPQ AX, CX
	JGE  z3v16store
	PFNEXT(R12, z3v16pf)
	PREFETCHT0 (R12)
	ADDQ R8, R12
	VCVTPH2PS (R9), Z12
	VBROADCASTSS (SI)(AX*4), Z16
	VBROADCASTSS (R14)(AX*4), Z17
	VBROADCASTSS (R15)(AX*4), Z18
	VFMADD231PS Z16, Z12, Z0
	VFMADD231PS Z17, Z12, Z4
	VFMADD231PS Z18, Z12, Z8
	ADDQ R8, R9
	INCQ AX
	JMP  z3v16inner
z3v16store:
	VMOVUPS Z0, (BX)
	VMOVUPS Z4, (R10)
	VMOVUPS Z8, (R11)
	ADDQ $64, BX
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $32, DI
	SUBQ $16, DX
	JMP  z3v16
z3vdone:
	VZEROUPPER
	RET
