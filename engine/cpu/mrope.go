package cpu

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// M-RoPE (model/mrope.go): a sequence of a model.MRoPE model positions the
// rows of a step holding images by their grids, and carries the rope delta
// the images leave to every later step, batched ones included (rowPos).

// stepPositions fills s.pos3 for a step of n tokens holding images and
// returns the marks its images leave, applied once the step has run.
func (s *sequence) stepPositions(n int) ([]ropeMark, error) {
	if !s.r.mrope || len(s.spans) == 0 {
		return nil, nil
	}
	s.pos3 = grow(s.pos3, n)
	first := s.pos + s.delta
	_, after, err := model.MRoPEPositions(s.pos3, first, s.spans, s.r.cfg.HiddenSize)
	if err != nil {
		return nil, fmt.Errorf("cpu: %w", err)
	}
	marks := make([]ropeMark, len(after))
	for k, sp := range s.spans {
		end := s.pos + sp.At + len(sp.Embeds)/s.r.cfg.HiddenSize // cache index after the image
		marks[k] = ropeMark{at: end, delta: after[k] - end}
	}
	return marks, nil
}

// restoreDelta sets the rope delta for a cache cut to n tokens: that of the
// last image wholly before n. The engine never cuts inside an image.
func (s *sequence) restoreDelta(n int) {
	for len(s.marks) > 0 && s.marks[len(s.marks)-1].at > n {
		s.marks = s.marks[:len(s.marks)-1]
	}
	s.delta = 0
	if len(s.marks) > 0 {
		s.delta = s.marks[len(s.marks)-1].delta
	}
}

// mropeHeads rotates each head of v, pair i by component pairs[i] of p.
func mropeHeads(v []float32, tab *kern.Rope, r *model.Rope, pairs []uint8, p [3]int) {
	h := tab.Half
	for k := 0; k+r.HeadDim <= len(v); k += r.HeadDim {
		a, b := v[k:k+h], v[k+h:k+2*h]
		for i := range a {
			at := p[pairs[i]]*h + i
			c, s := tab.Cos[at], tab.Sin[at]
			x0, x1 := a[i], b[i]
			a[i] = x0*c - x1*s
			b[i] = x1*c + x0*s
		}
	}
}
