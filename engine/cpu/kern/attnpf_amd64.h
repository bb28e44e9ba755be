// Decode's cache rows are cold (the weights' stream has evicted them since
// the last token) and a head's rows lie a stride apart, a few to a page:
// too few for the hardware prefetchers, so each kernel prefetches the rows
// AHEAD positions past those it reads (engine/cpu/design.md). A hint, never
// a read: it may run past the cache. Shared by the AVX2 and AVX-512
// attention kernels.
#define AHEAD 32

// PFROW prefetches the row at ptr (DX bytes from its first line; two
// lines a step, heads of 64 halves in one), then moves ptr to the next row
// (R8 bytes on); AX is clobbered.
#define PFROW(ptr, lbl) \
	XORQ       AX, AX; \
lbl: \
	PREFETCHT0 (ptr)(AX*1); \
	PREFETCHT0 64(ptr)(AX*1); \
	ADDQ       $128, AX; \
	CMPQ       AX, DX; \
	JLT        lbl; \
	ADDQ       R8, ptr

// The three-head kernels (z16Scores3, z16Values3, f16cScores3,
// f16cValues3) read one block's rows of a head per call, 32 KiB at most:
// the rows past a call's last are another head's, and its first rows had
// no prefetch. So they take next, the rows the caller reads after theirs
// (the same head in the next block; after the keys, the values), and once
// their prefetch reaches their last row it goes on there: one stream
// across calls, which can run twice as far ahead (AHEAD3) with nothing
// fetched in vain. 0(SP) holds the call's end, 8(SP) the row to go on at;
// without next the end is the top of memory and the prefetch runs past as
// the other kernels' does.
#define AHEAD3 64

// NEXTSETUP sets 0(SP) = base + rows·R8 and 8(SP) = next; AX is clobbered.
#define NEXTSETUP(rows, base, next) \
	MOVQ  rows, AX; \
	IMULQ R8, AX; \
	ADDQ  base, AX; \
	MOVQ  AX, 0(SP); \
	MOVQ  next, AX; \
	MOVQ  AX, 8(SP); \
	TESTQ AX, AX; \
	JNZ   3(PC); \
	MOVQ  $-1, AX; \
	MOVQ  AX, 0(SP)

// PFNEXT moves the prefetch pointer ptr to the continuation once it has
// reached the end, then never again.
#define PFNEXT(ptr, lbl) \
	CMPQ ptr, 0(SP); \
	JCS  lbl; \
	SUBQ 0(SP), ptr; \
	ADDQ 8(SP), ptr; \
	MOVQ $-1, 0(SP); \
lbl:

// VALPF starts a values pass's prefetch pointer ptr AHEAD3 rows past DI,
// its continuation at the same columns of next (DI - v bytes in); CX rows.
#define VALPF(ptr, next, v) \
	IMUL3Q $AHEAD3, R8, ptr; \
	ADDQ   DI, ptr; \
	MOVQ   CX, AX; \
	IMULQ  R8, AX; \
	ADDQ   DI, AX; \
	MOVQ   AX, 0(SP); \
	MOVQ   next, AX; \
	TESTQ  AX, AX; \
	JNZ    4(PC); \
	MOVQ   $-1, AX; \
	MOVQ   AX, 0(SP); \
	JMP    4(PC); \
	ADDQ   DI, AX; \
	SUBQ   v, AX; \
	MOVQ   AX, 8(SP)
