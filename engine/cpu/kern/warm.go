package kern

// Warming the next product's first rows while a thread would otherwise wait.
//
// Decode is a chain of products with short serial steps between them (norms,
// RoPE, attention's hand-off, quantizing the next input). During those steps
// and while the submitter waits for the last chunk of a product, one thread
// or the other idles and the memory bus with it: in Q4 decode of the 0.5B
// model the worker waited ~0.7 ms of a 5.8 ms token. A thread's chunks of
// the next product start at a row known in advance (runRanges' shares), so
// an idle thread prefetches the first bytes of its own share of the product
// expected next into its cache, and that product then starts with them at
// hand. Which product comes next is learned per Exec: decode calls the same
// products in the same order every token. A hint only: a wrong guess costs
// bandwidth, never a result, and a prefetch of memory since unmapped does
// not fault.

import "unsafe"

// warmBytes is how much of its share each thread prefetches, at most: a
// core's L2 on Zen 4/5 (the idle spells add up to ~0.7 ms a token, but each
// is short, and what is fetched must still be there when the product
// starts). In interleaved runs of Q4 decode, 1 MiB beat none in 34 of 40
// pairs (+2.7%), 256 KiB was level with none, 2 MiB level with 1 MiB.
var warmBytes = 1 << 20

// warmPiece is how much an idle thread prefetches between two looks at the
// pool's state, so that a new task still starts within ~100 ns.
const warmPiece = 2 << 10

// warmSet is what each thread reads first in one MatVecs step: per thread
// (tid), byte ranges of the weights.
type warmSet struct {
	mats [maxProducts]*Mat // the step it was made for
	per  [][]warmRange
}

type warmRange struct {
	p uintptr
	n int
}

// warmState is one thread's progress through the last set published.
type warmState struct {
	seq  uint64
	i, o int
}

// step prefetches the next piece of tid's ranges in p's warm set; it
// reports false when there is nothing (left) to prefetch.
func (st *warmState) step(p *Pool, tid int) bool {
	if seq := p.warmSeq.Load(); st.seq != seq {
		st.seq, st.i, st.o = seq, 0, 0
	}
	ws := p.warm.Load()
	if ws == nil || tid >= len(ws.per) || st.i >= len(ws.per[tid]) {
		return false
	}
	r := ws.per[tid][st.i]
	n := min(warmPiece, r.n-st.o)
	prefetchRange(r.p+uintptr(st.o), n)
	if st.o += n; st.o >= r.n {
		st.i, st.o = st.i+1, 0
	}
	return true
}

// warmOrder is an Exec's learned order of MatVecs steps, each step by its
// first matrix.
type warmOrder struct {
	steps map[*Mat]*warmStep
	last  *warmStep
	off   bool // Exec.SetRouted
}

// warmStep is a step's own set and the set of the step that last followed
// it.
type warmStep struct {
	set, after *warmSet
}

// next records t's step as the successor of the previous one and returns
// the set of the step expected after t's.
func (o *warmOrder) next(t *matvecTask, threads int) *warmSet {
	if o.steps == nil {
		o.steps = map[*Mat]*warmStep{}
	}
	k := t.ps[0].M
	st := o.steps[k]
	if st == nil {
		st = &warmStep{}
		o.steps[k] = st
	}
	if st.set == nil || !st.set.fits(t) {
		st.set = t.warmSet(threads)
	}
	if o.last != nil {
		o.last.after = st.set
	}
	o.last = st
	return st.after
}

// fits reports whether ws was made for t's step: the same products.
func (ws *warmSet) fits(t *matvecTask) bool {
	for i := range ws.mats {
		var m *Mat
		if i < t.np {
			m = t.ps[i].M
		}
		if ws.mats[i] != m {
			return false
		}
	}
	return true
}

// warmSet is the first warmBytes of each thread's share of t's chunks, as
// Pool.runRanges splits them among threads.
func (t *matvecTask) warmSet(threads int) *warmSet {
	ws := &warmSet{per: make([][]warmRange, threads)}
	for i := range t.np {
		ws.mats[i] = t.ps[i].M
	}
	n := t.first[t.np]
	for tid := range threads {
		c := shareFront(tid, n, threads)
		i := 0
		for c >= t.first[i+1] {
			i++
		}
		m := t.ps[i].M
		r0 := (c - t.first[i]) * t.rows[i]
		ws.per[tid] = m.rowRanges(r0, warmBytes)
	}
	return ws
}

// rowRanges are the memory ranges of rows r0.. of m, as many rows as make
// about budget bytes (at least one).
func (m *Mat) rowRanges(r0, budget int) []warmRange {
	var as []rowArray
	switch m.DType {
	case F32:
		as = []rowArray{{unsafe.Pointer(unsafe.SliceData(m.F32)), 4 * m.Cols}}
	case F16, BF16:
		as = []rowArray{{unsafe.Pointer(unsafe.SliceData(m.U16)), 2 * m.Cols}}
	case MXFP4:
		as = []rowArray{{unsafe.Pointer(unsafe.SliceData(m.Q)), m.Cols / 2}, {unsafe.Pointer(unsafe.SliceData(m.Exps)), m.Cols / 32}}
	default:
		ng := m.Cols / m.GroupSize
		as = []rowArray{{unsafe.Pointer(unsafe.SliceData(m.Q)), m.codeRowBytes()}, floatsRows(&m.Scales, ng), floatsRows(&m.Biases, ng)}
	}
	per := 0
	for _, a := range as {
		per += a.row
	}
	rows := min(max(1, budget/max(per, 1)), m.Rows-r0)
	rs := make([]warmRange, 0, len(as))
	for _, a := range as {
		if a.p != nil && a.row > 0 && rows > 0 {
			rs = append(rs, warmRange{uintptr(a.p) + uintptr(r0*a.row), rows * a.row})
		}
	}
	return rs
}

// rowArray is one of a matrix's arrays: where it starts, bytes per row.
type rowArray struct {
	p   unsafe.Pointer
	row int
}

// floatsRows is f as a rowArray of n values per row.
func floatsRows(f *Floats, n int) rowArray {
	if f.DType == F32 {
		return rowArray{unsafe.Pointer(unsafe.SliceData(f.F32)), 4 * n}
	}
	return rowArray{unsafe.Pointer(unsafe.SliceData(f.U16)), 2 * n}
}
