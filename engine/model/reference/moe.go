package reference

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// MoE follows model.MoE's definition row by row: softmax over every expert's
// logit, the TopK largest (lower index first on ties), their weights
// renormalised when asked, and each selected expert's gated feed-forward
// added with its weight.
func (o *ops) MoE(x model.Value, m *model.MoE) model.Value {
	xm := val(x)
	n := len(m.Experts)
	if m.TopK <= 0 || m.TopK > n {
		panic(fmt.Sprintf("reference: moe: top %d of %d experts", m.TopK, n))
	}
	logits := val(o.Linear(xm, &m.Router))
	out := newMat(xm.rows, xm.cols)
	for i := range xm.rows {
		l := logits.row(i)
		p := append([]float64(nil), l...)
		softmax(p)
		chosen := make([]bool, n)
		sel := make([]int, 0, m.TopK)
		for range m.TopK {
			best := -1
			for e := range n {
				if !chosen[e] && (best < 0 || l[e] > l[best]) {
					best = e
				}
			}
			chosen[best] = true
			sel = append(sel, best)
		}
		var sum float64
		for _, e := range sel {
			sum += p[e]
		}
		row := &mat{rows: 1, cols: xm.cols, d: xm.row(i)}
		for _, e := range sel {
			w := p[e]
			if m.NormTopK {
				w /= sum
			}
			ex := &m.Experts[e]
			g, u := val(o.Linear(row, &ex.Gate)), val(o.Linear(row, &ex.Up))
			var h *mat
			if m.Clamp != nil {
				h = newMat(g.rows, g.cols)
				for j := range h.d {
					h.d[j] = m.Clamp.Apply(g.d[j], u.d[j])
				}
			} else {
				h = val(o.GLU(g, u, m.Act))
			}
			y := val(o.Linear(h, &ex.Down))
			dst := out.row(i)
			for j, v := range y.d {
				dst[j] += w * v
			}
		}
	}
	return out
}
