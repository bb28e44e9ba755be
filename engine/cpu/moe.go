package cpu

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// moeScratch holds a sequence's routing of one MoE call, reused from step to
// step so that decoding allocates nothing.
type moeScratch struct {
	sel   []int     // (rows, TopK) selected experts
	w     []float32 // (rows, TopK) their weights
	count []int     // (experts) rows routed to each expert, then offsets
	rows  []int     // rows grouped by expert
	slot  []int     // the (row, k) slot of each entry of rows
	fill  []int     // (experts) next free entry of each expert's rows
	ps    []kern.Product
}

// MoE runs the block as model.MoE defines it. Decode (one row) reads only
// the TopK selected experts' matrices, their gate and up products in one
// parallel step; a chunk of rows is grouped by expert so that each expert
// used reads its weights once for all its rows, as a matrix product over the
// gathered rows.
func (s *sequence) MoE(x model.Value, m *model.MoE) model.Value {
	xb := val(x)
	n, k := xb.rows, m.TopK
	if k <= 0 || k > len(m.Experts) {
		panic(fmt.Sprintf("cpu: moe: top %d of %d experts", k, len(m.Experts)))
	}
	router := s.r.lin(&m.Router)
	s.checkIn(xb, router, &m.Router)
	logits := s.ar.get(n, router.w.Rows)
	s.linear(logits.d, router, xb.d, n)
	s.route(logits, m)

	first := s.r.lin(&m.Experts[0].Gate)
	inter := first.w.Rows
	out := s.ar.get(n, xb.cols)
	clear(out.d)
	if n == 1 {
		s.moeDecode(out.d, xb.d, m, inter)
		return out
	}
	s.moeChunk(out, xb, m, inter)
	return out
}

// route fills s.moe.sel and s.moe.w for every row of logits (rows, experts).
func (s *sequence) route(logits *buf, m *model.MoE) {
	n, k, ne := logits.rows, m.TopK, logits.cols
	sc := &s.moe
	sc.sel, sc.w = grow(sc.sel, n*k), grow(sc.w, n*k)
	for i := range n {
		l := logits.row(i)
		mx := l[0]
		for _, v := range l {
			mx = max(mx, v)
		}
		var total float64
		for _, v := range l {
			total += math.Exp(float64(v - mx))
		}
		sel, w := sc.sel[i*k:(i+1)*k], sc.w[i*k:(i+1)*k]
		var picked float64
		for j := range sel {
			best := -1
			for e := range ne {
				// Strictly greater: on equal logits the lower index stays.
				if (best < 0 || l[e] > l[best]) && !taken(sel[:j], e) {
					best = e
				}
			}
			sel[j] = best
			p := math.Exp(float64(l[best]-mx)) / total
			w[j] = float32(p)
			picked += p
		}
		if m.NormTopK {
			for j := range sel {
				w[j] = float32(math.Exp(float64(l[sel[j]]-mx)) / total / picked)
			}
		}
	}
}

func taken(sel []int, e int) bool {
	for _, x := range sel {
		if x == e {
			return true
		}
	}
	return false
}

// moeDecode adds the selected experts' outputs for one row x into out.
func (s *sequence) moeDecode(out, x []float32, m *model.MoE, inter int) {
	k := m.TopK
	g, u := s.ar.get(k, inter), s.ar.get(k, inter)
	y := s.ar.get(1, len(out))
	ps := s.moe.ps[:0]
	for j, e := range s.moe.sel[:k] {
		ex := &m.Experts[e]
		ps = append(ps, kern.Product{Y: g.row(j), M: s.r.lin(&ex.Gate).w}, kern.Product{Y: u.row(j), M: s.r.lin(&ex.Up).w})
	}
	s.moe.ps = ps
	s.e.SetRouted(true)
	defer s.e.SetRouted(false)
	s.e.MatVecs(x, ps...)
	for j, e := range s.moe.sel[:k] {
		ex := &m.Experts[e]
		if b := s.r.lin(&ex.Gate).bias; b != nil {
			kern.Add(g.row(j), b)
		}
		if b := s.r.lin(&ex.Up).bias; b != nil {
			kern.Add(u.row(j), b)
		}
	}
	expertGLU(g.d, u.d, m)
	for j, e := range s.moe.sel[:k] {
		s.linear(y.d, s.r.lin(&m.Experts[e].Down), g.row(j), 1)
		kern.Scale(y.d, s.moe.w[j])
		kern.Add(out, y.d)
	}
}

// moeChunk groups the rows of x by expert, runs each used expert once over
// its rows and adds the weighted results into out.
func (s *sequence) moeChunk(out, x *buf, m *model.MoE, inter int) {
	n, k, ne := x.rows, m.TopK, len(m.Experts)
	sc := &s.moe
	sc.count = grow(sc.count, ne+1)
	clear(sc.count)
	for _, e := range sc.sel[:n*k] {
		sc.count[e+1]++
	}
	for e := range ne {
		sc.count[e+1] += sc.count[e]
	}
	sc.rows, sc.slot = grow(sc.rows, n*k), grow(sc.slot, n*k)
	sc.fill = append(sc.fill[:0], sc.count[:ne]...)
	fill := sc.fill
	for i, e := range sc.sel[:n*k] {
		sc.rows[fill[e]], sc.slot[fill[e]] = i/k, i
		fill[e]++
	}
	xg, y := s.ar.get(n, x.cols), s.ar.get(n, x.cols)
	g, u := s.ar.get(n, inter), s.ar.get(n, inter)
	for e := range ne {
		from, to := sc.count[e], sc.count[e+1]
		c := to - from
		if c == 0 {
			continue
		}
		for j, r := range sc.rows[from:to] {
			copy(xg.row(j), x.row(r))
		}
		ex := &m.Experts[e]
		s.linear(g.d, s.r.lin(&ex.Gate), xg.d, c)
		s.linear(u.d, s.r.lin(&ex.Up), xg.d, c)
		expertGLU(g.d[:c*inter], u.d[:c*inter], m)
		s.linear(y.d, s.r.lin(&ex.Down), g.d, c)
		for j, r := range sc.rows[from:to] {
			yr := y.row(j)
			kern.Scale(yr, sc.w[sc.slot[from+j]])
			kern.Add(out.row(r), yr)
		}
	}
}

// expertGLU is the experts' activation of g and u into g: m.Clamp's when
// set, else act(g) * u.
func expertGLU(g, u []float32, m *model.MoE) {
	if c := m.Clamp; c != nil {
		for i, x := range g {
			g[i] = float32(c.Apply(float64(x), float64(u[i])))
		}
		return
	}
	glu(g, u, m.Act)
}

// glu is act(g) * u into g.
func glu(g, u []float32, act model.Activation) {
	switch act {
	case model.SiLU:
		kern.SiLUMul(g, u)
	case model.GELUTanh:
		for i, x := range g {
			g[i] = geluTanh(x) * u[i]
		}
	default:
		panic(fmt.Sprintf("cpu: activation %d", act))
	}
}

// activeBytes is how many of bytes (every matrix) one decoded token reads
// when only TopK of each MoE block's experts run.
func (r *Runner) activeBytes(bytes int64, moes []*model.MoE) int64 {
	for _, m := range moes {
		var experts int64
		for i := range m.Experts {
			ex := &m.Experts[i]
			experts += r.lin(&ex.Gate).w.Bytes() + r.lin(&ex.Up).w.Bytes() + r.lin(&ex.Down).w.Bytes()
		}
		bytes -= int64(float64(experts) * (1 - m.ActiveFraction()))
	}
	return bytes
}
