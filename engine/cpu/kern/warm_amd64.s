//go:build goexperiment.simd && amd64

#include "textflag.h"

// func prefetchRange(p uintptr, n int)
//
// PREFETCHT1: into L2 (and L3), not L1, which a warmBytes range would
// overflow. A prefetch never faults, whatever p points to.
TEXT ·prefetchRange(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	ADDQ AX, CX

loop:
	CMPQ       AX, CX
	JAE        done
	PREFETCHT1 (AX)
	ADDQ       $64, AX
	JMP        loop

done:
	RET
