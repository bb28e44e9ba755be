//go:build goexperiment.simd && amd64

#include "textflag.h"

// func qbatchSB4(sb, sc, bs *float32, ng, groups int)
// writes, for g < groups (a multiple of 4), sb[8g+r] = sc[r·ng+g] and
// sb[8g+4+r] = bs[r·ng+g], r = 0..3: four rows' scales and biases, each row's
// ng values in a run, as the lane kernel reads them (groups, 2, 4).
// Four groups a step: each row's four scales (and biases) are one load, and
// two 4×4 transposes by unpacks put them in group order. Plain moves: the
// same floats as the Go loop it replaces.
TEXT ·qbatchSB4(SB), NOSPLIT, $0-40
	MOVQ sb+0(FP), DI
	MOVQ sc+8(FP), SI
	MOVQ bs+16(FP), DX
	MOVQ ng+24(FP), R8
	SHLQ $2, R8               // a row's run in bytes
	LEAQ (R8)(R8*2), R9       // three rows' runs
	MOVQ groups+32(FP), CX
	SHRQ $2, CX
	JZ   sbdone

sbloop:
	VMOVUPS    (SI), X0
	VMOVUPS    (SI)(R8*1), X1
	VMOVUPS    (SI)(R8*2), X2
	VMOVUPS    (SI)(R9*1), X3
	VUNPCKLPS  X1, X0, X4     // r0g0 r1g0 r0g1 r1g1
	VUNPCKHPS  X1, X0, X5     // r0g2 r1g2 r0g3 r1g3
	VUNPCKLPS  X3, X2, X6     // r2g0 r3g0 r2g1 r3g1
	VUNPCKHPS  X3, X2, X7     // r2g2 r3g2 r2g3 r3g3
	VUNPCKLPD  X6, X4, X0     // group 0's four rows
	VUNPCKHPD  X6, X4, X1     // group 1's
	VUNPCKLPD  X7, X5, X2     // group 2's
	VUNPCKHPD  X7, X5, X3     // group 3's
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 32(DI)
	VMOVUPS    X2, 64(DI)
	VMOVUPS    X3, 96(DI)
	VMOVUPS    (DX), X8
	VMOVUPS    (DX)(R8*1), X9
	VMOVUPS    (DX)(R8*2), X10
	VMOVUPS    (DX)(R9*1), X11
	VUNPCKLPS  X9, X8, X4
	VUNPCKHPS  X9, X8, X5
	VUNPCKLPS  X11, X10, X6
	VUNPCKHPS  X11, X10, X7
	VUNPCKLPD  X6, X4, X8
	VUNPCKHPD  X6, X4, X9
	VUNPCKLPD  X7, X5, X10
	VUNPCKHPD  X7, X5, X11
	VMOVUPS    X8, 16(DI)
	VMOVUPS    X9, 48(DI)
	VMOVUPS    X10, 80(DI)
	VMOVUPS    X11, 112(DI)
	ADDQ       $16, SI
	ADDQ       $16, DX
	ADDQ       $128, DI
	DECQ       CX
	JNZ        sbloop

sbdone:
	RET
