// Pieces of the half-precision dot products shared by avx2_asm_amd64.s
// (f16cDot, bf16Dot) and avx512_rowshalf_amd64.s (their zmm versions, which
// end as they do to keep their bits). DI walks the halves, SI x, CX the
// halves left; Y0..Y3 are the four accumulators.

// HSUM_Y0 adds the 8 lanes of Y0 into X0's low float.
#define HSUM_Y0 \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VHADDPS X0, X0, X0; \
	VHADDPS X0, X0, X0

// F16_STEP8 and BF16_STEP8 add the next 8 halves' products into Y0.
#define F16_STEP8 \
	VCVTPH2PS (DI), Y4; \
	VFMADD231PS (SI), Y4, Y0; \
	ADDQ $16, DI; \
	ADDQ $32, SI; \
	SUBQ $8, CX

#define BF16_STEP8 \
	VPMOVZXWD (DI), Y4; \
	VPSLLD $16, Y4, Y4; \
	VFMADD231PS (SI), Y4, Y0; \
	ADDQ $16, DI; \
	ADDQ $32, SI; \
	SUBQ $8, CX

// DOT4_SUM leaves (Y0+Y1)+(Y2+Y3), summed across its lanes, in X0's low
// float, with the upper halves cleared for the return.
#define DOT4_SUM \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y2, Y0, Y0; \
	HSUM_Y0; \
	VZEROUPPER
