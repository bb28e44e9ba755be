//go:build goexperiment.simd && amd64

#include "textflag.h"

// rowF32PF is dot1F32 (avx512_rows.go) for n a multiple of 16: four
// accumulators Z0-Z3 over 64 floats a step, folded to two (a0+a2, a1+a3),
// then 32 and 16 at a time, and a0+a1 stored to acc (FMA operands commute:
// the same bits). Each 64-float step prefetches the four lines 4 KiB
// ahead in w (past the row is the next row; past the matrix a prefetch
// does not fault).

// func rowF32PF(x, w *float32, n int, acc *[16]float32)
TEXT ·rowF32PF(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ acc+24(FP), DX
	SHLQ $2, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ AX, AX

l256:
	LEAQ 256(AX), BX
	CMPQ BX, CX
	JGT  t128
	PREFETCHT0 4096(DI)(AX*1)
	PREFETCHT0 4160(DI)(AX*1)
	PREFETCHT0 4224(DI)(AX*1)
	PREFETCHT0 4288(DI)(AX*1)
	VMOVUPS (DI)(AX*1), Z4
	VFMADD231PS (SI)(AX*1), Z4, Z0
	VMOVUPS 64(DI)(AX*1), Z5
	VFMADD231PS 64(SI)(AX*1), Z5, Z1
	VMOVUPS 128(DI)(AX*1), Z6
	VFMADD231PS 128(SI)(AX*1), Z6, Z2
	VMOVUPS 192(DI)(AX*1), Z7
	VFMADD231PS 192(SI)(AX*1), Z7, Z3
	MOVQ BX, AX
	JMP  l256

t128:
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1

l128:
	LEAQ 128(AX), BX
	CMPQ BX, CX
	JGT  t64
	VMOVUPS (DI)(AX*1), Z4
	VFMADD231PS (SI)(AX*1), Z4, Z0
	VMOVUPS 64(DI)(AX*1), Z5
	VFMADD231PS 64(SI)(AX*1), Z5, Z1
	MOVQ BX, AX
	JMP  l128

t64:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (DI)(AX*1), Z4
	VFMADD231PS (SI)(AX*1), Z4, Z0

done:
	VADDPS  Z1, Z0, Z0
	VMOVUPS Z0, (DX)
	VZEROUPPER
	RET
