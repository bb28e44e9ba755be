package kern

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Packed int8 prefill for MLX 4-bit weights, for kernel sets with an int8
// micro-kernel (impl.i8q4). The layout follows the float path (gemm.go):
//
//   - the tokens are quantized per block of i8Block columns and packed once
//     per call into panels of i8NR tokens: per block, i8Block/4 groups of
//     i8NR×4 int8 values (4 columns of each token, so one broadcast dword
//     of codes meets 8 tokens; the even columns first, then the odd
//     ones, as 4-bit codes are stored in the low and high nibbles), then
//     the 8 tokens' dx and exact Σx; a block of a panel is i8PanelBlock
//     bytes;
//   - the weights are split into chunks of packMC rows (the parallel unit);
//     each chunk walks the columns in blocks of packKC, whose codes are
//     unpacked to one byte each, per block of 32 the low nibbles then the
//     high ones (12 KiB, in L1 with the panel), with the
//     block's scale and bias per row, and used by every panel.
const (
	i8Block      = 32 // columns per activation scale: one int16 accumulation
	i8NR         = 8  // tokens per panel: one ymm of 8×4 bytes
	i8MR         = 4  // weight rows per micro-tile
	i8PanelBlock = i8Block*i8NR + 2*4*i8NR
)

// int8MicroFunc accumulates an i8MR×i8NR tile: for r < i8MR, j < i8NR,
// c[r*ldc+j] (+)= Σ_blocks sb[r*ldsb+2b]·dx_j·Σq·xq + sb[r*ldsb+2b+1]·Σx_j,
// q from w (row stride ldw bytes, one code per byte), the panel xp holding
// the blocks' inputs; starting from zero when first.
type int8MicroFunc func(c *float32, ldc int, w *byte, ldw int, sb *float32, ldsb int, xp *byte, blocks int, first bool)

// i8PackTask quantizes and packs the panels of tokens, one panel per chunk.
type i8PackTask struct {
	xp      []byte // (panels, cols/i8Block, i8PanelBlock)
	x       []float32
	n, cols int
}

func (t *i8PackTask) runChunk(p, _ int) {
	nb := t.cols / i8Block
	dst := t.xp[p*nb*i8PanelBlock : (p+1)*nb*i8PanelBlock]
	var xq [i8Block]int8
	for j := range i8NR {
		tok := p*i8NR + j
		for b := range nb {
			blk := dst[b*i8PanelBlock : (b+1)*i8PanelBlock]
			dx, xs := float32(0), float32(0)
			if tok < t.n {
				dx, xs = quantBlock(&xq, t.x[tok*t.cols+b*i8Block:tok*t.cols+(b+1)*i8Block])
			} else {
				xq = [i8Block]int8{}
			}
			for q := range i8Block / 4 {
				*(*[4]int8)(unsafe.Pointer(&blk[q*i8NR*4+j*4])) = *(*[4]int8)(xq[4*q:])
			}
			putF32(blk[i8Block*i8NR+4*j:], dx)
			putF32(blk[i8Block*i8NR+4*i8NR+4*j:], xs)
		}
	}
}

// quantBlock rounds x (i8Block values) to int8 as int8In.prepare does, the
// even columns first, then the odd ones (the order of unpack's codes), and
// returns dx and the exact Σx.
func quantBlock(xq *[i8Block]int8, x []float32) (dx, sum float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, v, -v)
		sum += v
	}
	var inv float32
	if amax > 0 {
		dx, inv = amax/int8Max, int8Max/amax
	}
	for k := range i8Block / 2 {
		xq[k] = roundInt8(x[2*k] * inv)
		xq[i8Block/2+k] = roundInt8(x[2*k+1] * inv)
	}
	return dx, sum
}

func putF32(b []byte, v float32) {
	_ = b[3]
	*(*uint32)(unsafe.Pointer(&b[0])) = math.Float32bits(v)
}

// finite reports whether x holds no Inf or NaN.
func finite(x []float32) bool {
	for _, v := range x {
		if !(v-v == 0) {
			return false
		}
	}
	return true
}

// i8Task is one MatMul through the int8 micro-kernel.
type i8Task struct {
	m     *Mat
	y     []float32 // (n, m.Rows)
	xp    []byte
	n     int
	codes [][]byte    // per thread: (packMC, packKC) codes, one per byte
	sb    [][]float32 // per thread: (packMC, packKC/i8Block, 2) scale and bias per block
	acc   [][]float32 // per thread: (packMC, panels·i8NR)
}

// matMulInt8Packed is MatMul for Q4 weights with int8 input through
// active.i8q4; false when x holds an Inf or a NaN.
func (e *Exec) matMulInt8Packed(y []float32, m *Mat, x []float32, n int) bool {
	x = x[:n*m.Cols]
	if !finite(x) {
		return false
	}
	t := &e.i8p
	if th := e.pool.Threads(); len(t.codes) != th {
		t.codes, t.sb, t.acc = make([][]byte, th), make([][]float32, th), make([][]float32, th)
	}
	panels := (n + i8NR - 1) / i8NR
	size := panels * (m.Cols / i8Block) * i8PanelBlock
	if cap(t.xp) < size {
		t.xp = make([]byte, size)
	}
	t.xp = t.xp[:size]
	pt := &e.i8pt
	*pt = i8PackTask{xp: t.xp, x: x, n: n, cols: m.Cols}
	e.run(pt, panels, n*m.Cols < parallelMin || panels == 1)
	pt.x, pt.xp = nil, nil
	t.m, t.y, t.n = m, y[:n*m.Rows], n
	chunks := (m.Rows + packMC - 1) / packMC
	e.run(t, chunks, m.Rows*m.Cols*n < parallelMin)
	t.m, t.y = nil, nil
	return true
}

func (t *i8Task) runChunk(c, tid int) {
	m := t.m
	cols := m.Cols
	r0 := c * packMC
	r1 := min(r0+packMC, m.Rows)
	nr := r1 - r0
	// Rows past nr up to a multiple of i8MR have zero codes, scales and
	// biases: their outputs are zero and dropped.
	padded := (nr + i8MR - 1) / i8MR * i8MR
	const ldsb = 2 * packKC / i8Block
	t.codes[tid] = grow(t.codes[tid], packMC*packKC)
	t.sb[tid] = grow(t.sb[tid], packMC*ldsb)
	panels := (t.n + i8NR - 1) / i8NR
	ldc := panels * i8NR
	t.acc[tid] = grow(t.acc[tid], packMC*ldc)
	codes, sb, acc := t.codes[tid], t.sb[tid], t.acc[tid][:padded*ldc]
	nb := cols / i8Block
	for kb := 0; kb < cols; kb += packKC {
		kc := min(packKC, cols-kb)
		t.unpack(codes, sb, r0, r1, padded, kb, kc)
		first := kb == 0
		for p := range panels {
			xp := &t.xp[(p*nb+kb/i8Block)*i8PanelBlock]
			for g := 0; g < padded; g += i8MR {
				active.i8q4(&acc[g*ldc+p*i8NR], ldc, &codes[g*packKC], packKC, &sb[g*ldsb], ldsb, xp, kc/i8Block, first)
			}
		}
	}
	rows := m.Rows
	for r := range nr {
		for tok, v := range acc[r*ldc : r*ldc+t.n] {
			t.y[tok*rows+r0+r] = v
		}
	}
}

// unpack writes the codes of rows r0..r1, columns kb..kb+kc, one per byte
// with a row stride of packKC, and each row's scale and bias per block of
// i8Block columns; rows up to padded are zero.
func (t *i8Task) unpack(codes []byte, sb []float32, r0, r1, padded, kb, kc int) {
	m := t.m
	const ldsb = 2 * packKC / i8Block
	ng := m.Cols / m.GroupSize
	for r := r0; r < r1; r++ {
		dst := codes[(r-r0)*packKC : (r-r0)*packKC+kc]
		src := m.Q[(r*m.Cols+kb)/2 : (r*m.Cols+kb+kc)/2]
		// Per block the 16 low nibbles (even columns), then the 16 high
		// ones: eight codes per 64-bit operation, no interleaving.
		const lo = 0x0f0f0f0f0f0f0f0f
		for b := 0; b < kc/2; b += i8Block / 2 {
			w0 := binary.LittleEndian.Uint64(src[b:])
			w1 := binary.LittleEndian.Uint64(src[b+8:])
			d := dst[2*b : 2*b+i8Block]
			binary.LittleEndian.PutUint64(d[0:], w0&lo)
			binary.LittleEndian.PutUint64(d[8:], w1&lo)
			binary.LittleEndian.PutUint64(d[16:], w0>>4&lo)
			binary.LittleEndian.PutUint64(d[24:], w1>>4&lo)
		}
		s := sb[(r-r0)*ldsb : (r-r0+1)*ldsb]
		for b := range kc / i8Block {
			g := r*ng + (kb+b*i8Block)/m.GroupSize
			s[2*b], s[2*b+1] = m.Scales.At(g), m.Biases.At(g)
		}
	}
	for r := r1 - r0; r < padded; r++ {
		clear(codes[r*packKC : r*packKC+kc])
		clear(sb[r*ldsb : (r+1)*ldsb])
	}
}
