package kern

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestWarmSetShares: each thread's ranges start at the first row of its own
// share of the step (the rows Pool.runRanges hands it first), cover the
// same rows in every array of the matrix (codes, scales, biases), stay
// inside them, and come to about warmBytes.
func TestWarmSetShares(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, d := range []DType{F32, F16, BF16, Q8, Q4} {
		a, b := randMat(rng, d, 2048, 1024, 64, F16), randMat(rng, d, 512, 1024, 64, BF16)
		for _, threads := range []int{2, 3} {
			for _, budget := range []int{4 << 10, 1 << 20} {
				saved := warmBytes
				warmBytes = budget
				e := NewExec(NewPool(threads))
				x := randVec(rng, 1024)
				pa, pb := Product{make([]float32, a.Rows), a}, Product{make([]float32, b.Rows), b}
				e.MatVecs(x, pa, pb)
				e.pool.Close()
				mv := &e.mv // the step's layout stays; its products do not
				mv.ps[0], mv.ps[1] = pa, pb
				ws := mv.warmSet(threads)
				warmBytes = saved
				if ws == nil || ws.mats[0] != a || ws.mats[1] != b || len(ws.per) != threads {
					t.Fatalf("%s: no set for the step, or not its own: %+v", d, ws)
				}
				n := mv.first[2]
				for tid := range threads {
					c := shareFront(tid, n, threads)
					i := 0
					if c >= mv.first[1] {
						i = 1
					}
					m := []*Mat{a, b}[i]
					r0 := (c - mv.first[i]) * mv.rows[i]
					arrays := m.arrays()
					rs := ws.per[tid]
					if len(rs) != len(arrays) {
						t.Fatalf("%s t%d: %d ranges for %d arrays", d, tid, len(rs), len(arrays))
					}
					total, rows := 0, -1
					for k, r := range rs {
						base, size := arrays[k].p, arrays[k].row*m.Rows
						if r.p != base+uintptr(r0*arrays[k].row) {
							t.Fatalf("%s t%d array %d: starts at row %d, want the share's first row %d", d, tid, k, int(r.p-base)/arrays[k].row, r0)
						}
						if r.n%arrays[k].row != 0 || r.p+uintptr(r.n) > base+uintptr(size) {
							t.Fatalf("%s t%d array %d: %d bytes from row %d, rows of %d bytes, %d rows", d, tid, k, r.n, r0, arrays[k].row, m.Rows)
						}
						if k == 0 {
							rows = r.n / arrays[k].row
						} else if r.n/arrays[k].row != rows {
							t.Fatalf("%s t%d: array %d covers %d rows, the codes %d", d, tid, k, r.n/arrays[k].row, rows)
						}
						total += r.n
					}
					perRow := total / rows
					if want := min(max(1, budget/perRow), m.Rows-r0); rows != want {
						t.Fatalf("%s t%d: %d bytes (%d rows of %d) for a budget of %d", d, tid, total, rows, perRow, budget)
					}
				}
			}
		}
	}
}

// arrays are m's arrays as rowRanges reads them, for the test to check
// against: base address and bytes per row.
func (m *Mat) arrays() []struct {
	p   uintptr
	row int
} {
	type arr = struct {
		p   uintptr
		row int
	}
	ng := m.Cols / max(m.GroupSize, 1)
	switch m.DType {
	case F32:
		return []arr{{uintptr(unsafe.Pointer(&m.F32[0])), 4 * m.Cols}}
	case F16, BF16:
		return []arr{{uintptr(unsafe.Pointer(&m.U16[0])), 2 * m.Cols}}
	}
	f := func(fl *Floats) arr {
		if fl.DType == F32 {
			return arr{uintptr(unsafe.Pointer(&fl.F32[0])), 4 * ng}
		}
		return arr{uintptr(unsafe.Pointer(&fl.U16[0])), 2 * ng}
	}
	return []arr{{uintptr(unsafe.Pointer(&m.Q[0])), len(m.Q) / m.Rows}, f(&m.Scales), f(&m.Biases)}
}

// TestWarmOrder: after one round of steps A, B, C, each step publishes the
// set of the step that followed it last time, C's A's; a step whose
// successor changes publishes the new one from then on; routed products
// (Exec.SetRouted) are not learned. Builds that do not warm publish
// nothing.
func TestWarmOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	ms := []*Mat{randMat(rng, Q4, 512, 512, 64, F16), randMat(rng, Q4, 768, 512, 64, F16), randMat(rng, F16, 640, 512, 0, F16)}
	pool := NewPool(2)
	defer pool.Close()
	e := NewExec(pool)
	x := randVec(rng, 512)
	run := func(m *Mat) *warmSet {
		e.MatVec(make([]float32, m.Rows), m, x)
		return pool.warm.Load()
	}
	for _, m := range ms {
		if got := run(m); !canWarm && got != nil {
			t.Fatal("a build that does not warm (warm_other.go) published a set")
		}
	}
	if !canWarm {
		return
	}
	for round := 0; round < 2; round++ {
		for i, m := range ms {
			want := e.warm.steps[ms[(i+1)%len(ms)]].set
			if got := run(m); got == nil || got != want {
				t.Fatalf("round %d, step %d: published %p, want the next step's set %p", round, i, got, want)
			}
		}
	}
	// Routed products between A and B (a router's experts) are not learned:
	// A still publishes B's set, and the experts have none.
	x2 := randMat(rng, Q4, 512, 512, 64, F16)
	run(ms[0])
	e.SetRouted(true)
	run(x2)
	e.SetRouted(false)
	if got := run(ms[1]); got != e.warm.steps[ms[2]].set || e.warm.steps[ms[0]].after != e.warm.steps[ms[1]].set || e.warm.steps[x2] != nil {
		t.Fatal("routed products were learned")
	}
	run(ms[2])
	// A then C: A's successor is C from now on.
	run(ms[0])
	run(ms[2])
	if got := run(ms[0]); got != e.warm.steps[ms[2]].set {
		t.Fatalf("after A, C: A published %p, want C's set %p", got, e.warm.steps[ms[2]].set)
	}
}

// TestWarmStep: a thread's state walks its own ranges piece by piece to
// the end, starts over when a new set is published, and has nothing to do
// without a set or beyond the set's threads.
func TestWarmStep(t *testing.T) {
	p := NewPool(1)
	defer p.Close()
	buf := make([]byte, 3*warmPiece+100)
	base := uintptr(unsafe.Pointer(&buf[0]))
	ws := &warmSet{per: [][]warmRange{{{base, 2*warmPiece + 100}, {base + 2*warmPiece + 100, warmPiece}}}}
	var st warmState
	if st.step(p, 0) {
		t.Fatal("a step with no set published")
	}
	pieces := func() int {
		n := 0
		for st.step(p, 0) {
			n++
			if n > 100 {
				t.Fatal("step does not end")
			}
		}
		return n
	}
	p.warm.Store(ws)
	p.warmSeq.Add(1)
	if n := pieces(); n != 4 { // 2 KiB, 2 KiB, 100 bytes; 2 KiB
		t.Fatalf("%d pieces, want 4", n)
	}
	if st.step(p, 1) {
		t.Fatal("a step for a thread the set has no ranges for")
	}
	p.warmSeq.Add(1) // the same set published again: prefetched again
	if n := pieces(); n != 4 {
		t.Fatalf("after a new publication: %d pieces, want 4", n)
	}
}
