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
