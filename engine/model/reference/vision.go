package reference

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The reference implements model.VisionOps and model.Imager in float64, as
// plainly as the rest: the tower in one pass, and a prompt with images one
// token at a time except each image, whose tokens see each other.

func (o *ops) Input(data []float32, rows, cols int) model.Value {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("reference: input of %d values as (%d, %d)", len(data), rows, cols))
	}
	out := newMat(rows, cols)
	for i, v := range data {
		out.d[i] = float64(v)
	}
	return out
}

func (o *ops) Table(w *model.Linear) model.Value {
	d := must(o.s.r.w.linear(w))
	out := newMat(d.out, d.in)
	copy(out.d, d.w)
	return out
}

func (o *ops) SelfAttention(q, k, v model.Value, a *model.Attention) model.Value {
	qm, km, vm := val(q), val(k), val(v)
	d := a.HeadDim
	if qm.cols != a.Heads*d || km.cols != a.KVHeads*d || vm.cols != a.KVHeads*d || a.Heads%a.KVHeads != 0 || km.rows != vm.rows {
		panic(fmt.Sprintf("reference: self-attention of %d/%d heads of %d on q %d, k %d, v %d", a.Heads, a.KVHeads, d, qm.cols, km.cols, vm.cols))
	}
	group := a.Heads / a.KVHeads
	out := newMat(qm.rows, qm.cols)
	scores := make([]float64, km.rows)
	for i := range qm.rows {
		for h := range a.Heads {
			kv := h / group
			qh := qm.row(i)[h*d : (h+1)*d]
			for j := range km.rows {
				scores[j] = dot(qh, km.row(j)[kv*d:(kv+1)*d]) * a.Scale
			}
			softmax(scores)
			oh := out.row(i)[h*d : (h+1)*d]
			for j, p := range scores {
				for c, x := range vm.row(j)[kv*d : (kv+1)*d] {
					oh[c] += p * x
				}
			}
		}
	}
	return out
}

func (o *ops) Pool(x model.Value, side, k int) model.Value {
	xm := val(x)
	if k <= 0 || side%k != 0 || xm.rows != side*side {
		panic(fmt.Sprintf("reference: pool %d rows as a %dx%d grid by %d", xm.rows, side, side, k))
	}
	per := side / k
	out := newMat(per*per, xm.cols)
	for r := range xm.rows {
		y, x := r/side, r%side
		row := out.row(y/k*per + x/k)
		for i, v := range xm.row(r) {
			row[i] += v / float64(k*k)
		}
	}
	return out
}

func (o *ops) Shuffle(x model.Value, side, k int) model.Value {
	xm := val(x)
	if k <= 0 || side%k != 0 || xm.rows != side*side {
		panic(fmt.Sprintf("reference: shuffle %d rows as a %dx%d grid by %d", xm.rows, side, side, k))
	}
	per := side / k
	out := newMat(per*per, k*k*xm.cols)
	for r := range xm.rows {
		y, x := r/side, r%side
		at := ((y%k)*k + x%k) * xm.cols // the row's place in its block
		copy(out.row(y/k*per + x/k)[at:], xm.row(r))
	}
	return out
}

// imageRange widens the keys query row i sees, first..pos, to the whole of
// its image when it is one of an image's tokens (and the model's images
// attend both ways).
func (o *ops) imageRange(i, first, pos int) (int, int) {
	if v, ok := o.s.r.def.(model.Vision); ok && v.Image().Causal {
		return first, pos
	}
	hidden := o.s.r.cfg.HiddenSize
	for _, sp := range o.spans {
		if end := sp.At + len(sp.Embeds)/hidden; i >= sp.At && i < end {
			return min(first, o.pos+sp.At), o.pos + end - 1
		}
	}
	return first, pos
}

var errNoVision = errors.New("reference: the model has no vision tower")

func (s *sequence) ImageEmbeds(ctx context.Context, pixels []float32) ([]float32, error) {
	if s.closed {
		return nil, ErrClosed
	}
	v, ok := s.r.def.(model.Vision)
	if !ok {
		return nil, errNoVision
	}
	spec := v.Image()
	if spec.Merge > 0 {
		return nil, fmt.Errorf("reference: the vision tower reads each image at its own size: give its grid of patches to ImageGridEmbeds")
	}
	if want := spec.Channels * spec.Size * spec.Size; len(pixels) != want {
		return nil, fmt.Errorf("reference: image of %d pixel values, want %d", len(pixels), want)
	}
	return s.tower(ctx, v, pixels, [3]int{}, spec.Tokens)
}

// tower runs v's tower on pixels of grid, which give tokens embeddings.
func (s *sequence) tower(ctx context.Context, v model.Vision, pixels []float32, grid [3]int, tokens int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []float32
	err := s.do(func(o *ops) {
		o.grid = grid
		x := v.VisionEmbed(o, pixels)
		for l := range v.VisionLayers() {
			x = v.VisionLayer(o, l, x)
		}
		for _, e := range val(v.VisionHead(o, x)).d {
			out = append(out, float32(e))
		}
	})
	if err != nil {
		return nil, err
	}
	if len(out) != tokens*s.r.cfg.HiddenSize {
		return nil, fmt.Errorf("reference: vision tower gave %d values, want %dx%d", len(out), tokens, s.r.cfg.HiddenSize)
	}
	return out, nil
}

func (s *sequence) ForwardImages(ctx context.Context, tokens []int32, spans []model.ImageSpan) ([]float32, error) {
	if len(spans) == 0 {
		return s.Forward(ctx, tokens)
	}
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.r.def.(model.Vision); !ok {
		return nil, errNoVision
	}
	hidden := s.r.cfg.HiddenSize
	if len(tokens) == 0 || s.Len()+len(tokens) > s.maxLen {
		return nil, fmt.Errorf("forward: %d tokens after %d in a sequence of %d", len(tokens), s.Len(), s.maxLen)
	}
	image := make([]int, len(tokens)) // per token: 1 + its span, 0 for text
	end := 0
	for i, sp := range spans {
		n := len(sp.Embeds) / hidden
		if n == 0 || len(sp.Embeds)%hidden != 0 || sp.At < end || sp.At+n > len(tokens) {
			return nil, fmt.Errorf("forward: image %d at %d of %d values does not fit the %d tokens", i, sp.At, len(sp.Embeds), len(tokens))
		}
		for t := sp.At; t < sp.At+n; t++ {
			image[t] = i + 1
		}
		end = sp.At + n
	}
	for t, id := range tokens {
		if image[t] == 0 && (id < 0 || int(id) >= s.r.cfg.VocabSize) {
			return nil, fmt.Errorf("forward: token %d outside the vocabulary of %d", id, s.r.cfg.VocabSize)
		}
	}
	start := s.Len()
	var last *mat
	for t := 0; t < len(tokens); {
		n, step := 1, []int32{tokens[t]}
		var in []model.ImageSpan
		if image[t] > 0 {
			sp := spans[image[t]-1]
			n = len(sp.Embeds) / hidden
			step = make([]int32, n) // the placeholders are not looked up
			in = []model.ImageSpan{{At: 0, Embeds: sp.Embeds, Grid: sp.Grid}}
		}
		var pos3 [][3]int
		var after []int
		if s.r.mrope() && in != nil {
			pos3 = make([][3]int, n)
			var err error
			if _, after, err = model.MRoPEPositions(pos3, s.Len()+s.delta, in, hidden); err != nil {
				_ = s.Truncate(start)
				return nil, fmt.Errorf("reference: %w", err)
			}
		}
		if err := ctx.Err(); err != nil {
			_ = s.Truncate(start)
			return nil, err
		}
		err := s.do(func(o *ops) {
			o.tokens, o.spans, o.pos3 = step, in, pos3
			d := s.r.def
			x := val(d.Embed(o))
			for _, sp := range in {
				for i, e := range sp.Embeds {
					x.d[sp.At*hidden+i] = float64(e)
				}
			}
			var y model.Value = x
			for l := range d.Layers() {
				y = d.Layer(o, l, y)
			}
			h := val(d.Norm(o, y))
			last = &mat{rows: 1, cols: h.cols, d: h.row(h.rows - 1)}
		})
		if err != nil {
			_ = s.Truncate(start)
			return nil, err
		}
		if after != nil {
			end := s.Len()
			s.delta = after[0] - end
			s.marks = append(s.marks, [2]int{end, s.delta})
		}
		t += n
	}
	var logits *mat
	if err := s.do(func(o *ops) { logits = val(s.r.def.Logits(o, last)) }); err != nil {
		return nil, err
	}
	s.logits = s.logits[:0]
	for _, v := range logits.d {
		s.logits = append(s.logits, float32(v))
	}
	return s.logits, nil
}
