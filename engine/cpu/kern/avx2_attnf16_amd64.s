//go:build goexperiment.simd && amd64

#include "textflag.h"

// Attention over a half KV cache, a block of positions per call
// (avx2_attnf16.go).

// func f16cScores(s *float32, q *float32, k *uint16, stride, n, hd int)
TEXT ·f16cScores(SB), NOSPLIT, $0-48
	MOVQ s+0(FP), BX
	MOVQ q+8(FP), SI
	MOVQ k+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8 // bytes per row
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
	SHLQ $1, DX // bytes of halves per row
sc4:
	CMPQ CX, $4
	JLT  sc1
	LEAQ (DI)(R8*1), R9
	LEAQ (DI)(R8*2), R10
	LEAQ (R10)(R8*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
sc4inner:
	VMOVUPS (SI)(AX*2), Y8
	VCVTPH2PS (DI)(AX*1), Y4
	VCVTPH2PS (R9)(AX*1), Y5
	VCVTPH2PS (R10)(AX*1), Y6
	VCVTPH2PS (R11)(AX*1), Y7
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y8, Y5, Y1
	VFMADD231PS Y8, Y6, Y2
	VFMADD231PS Y8, Y7, Y3
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  sc4inner
	// [p0 p1 p2 p3] = per position (l0+l1)+(l2+l3) + (l4+l5)+(l6+l7), the
	// order of the single-position path below.
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (BX)
	ADDQ $16, BX
	LEAQ (R11)(R8*1), DI
	SUBQ $4, CX
	JMP  sc4
sc1:
	CMPQ CX, $0
	JLE  scdone
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
sc1inner:
	VCVTPH2PS (DI)(AX*1), Y4
	VFMADD231PS (SI)(AX*2), Y4, Y0
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  sc1inner
	VHADDPS Y0, Y0, Y0
	VHADDPS Y0, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	MOVSS X0, (BX)
	ADDQ $4, BX
	ADDQ R8, DI
	DECQ CX
	JMP  sc1
scdone:
	VZEROUPPER
	RET

// func f16cValues(out *float32, w *float32, v *uint16, stride, n, hd int)
TEXT ·f16cValues(SB), NOSPLIT, $0-48
	MOVQ out+0(FP), BX
	MOVQ w+8(FP), SI
	MOVQ v+16(FP), DI
	MOVQ stride+24(FP), R8
	SHLQ $1, R8
	MOVQ n+32(FP), CX
	MOVQ hd+40(FP), DX
va32:
	CMPQ DX, $32
	JLT  va8
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS 64(BX), Y2
	VMOVUPS 96(BX), Y3
	MOVQ DI, R9
	XORQ AX, AX
va32inner:
	CMPQ AX, CX
	JGE  va32store
	VBROADCASTSS (SI)(AX*4), Y8
	VCVTPH2PS (R9), Y4
	VCVTPH2PS 16(R9), Y5
	VCVTPH2PS 32(R9), Y6
	VCVTPH2PS 48(R9), Y7
	VFMADD231PS Y8, Y4, Y0
	VFMADD231PS Y8, Y5, Y1
	VFMADD231PS Y8, Y6, Y2
	VFMADD231PS Y8, Y7, Y3
	ADDQ R8, R9
	INCQ AX
	JMP  va32inner
va32store:
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, 64(BX)
	VMOVUPS Y3, 96(BX)
	ADDQ $128, BX
	ADDQ $64, DI
	SUBQ $32, DX
	JMP  va32
va8:
	CMPQ DX, $8
	JLT  vadone
	VMOVUPS (BX), Y0
	MOVQ DI, R9
	XORQ AX, AX
va8inner:
	CMPQ AX, CX
	JGE  va8store
	VBROADCASTSS (SI)(AX*4), Y8
	VCVTPH2PS (R9), Y4
	VFMADD231PS Y8, Y4, Y0
	ADDQ R8, R9
	INCQ AX
	JMP  va8inner
va8store:
	VMOVUPS Y0, (BX)
	ADDQ $32, BX
	ADDQ $16, DI
	SUBQ $8, DX
	JMP  va8
vadone:
	VZEROUPPER
	RET
