package cpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The sequence implements model.VisionOps and model.Imager: a vision tower
// runs layer by layer on the sequence's arena like a chunk of tokens, on rows
// of patches and without the KV cache; its output replaces the embeddings of
// an image's placeholder tokens in a later ForwardImages.

func (s *sequence) Input(data []float32, rows, cols int) model.Value {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("cpu: input of %d values as (%d, %d)", len(data), rows, cols))
	}
	out := s.ar.get(rows, cols)
	copy(out.d, data)
	return out
}

func (s *sequence) Table(w *model.Linear) model.Value {
	l := s.r.lin(w)
	out := s.ar.get(l.w.Rows, l.w.Cols)
	for i := range l.w.Rows {
		l.w.Row(out.row(i), i)
	}
	return out
}

// SelfAttention runs each head as two matrix products over all the rows at
// once, Q·Kᵀ then softmax(scores)·V, on the packed GEMM: a tower's rows are
// many (1024 patches of a SmolVLM tile, 4096 of a Gemma 3 image) and all see
// each other, which the per-query attention kernel, made for a KV cache,
// would run one row at a time.
func (s *sequence) SelfAttention(q, k, v model.Value, a *model.Attention) model.Value {
	qb, kb, vb := val(q), val(k), val(v)
	dim := a.KVHeads * a.HeadDim
	if qb.cols != a.Heads*a.HeadDim || kb.cols != dim || vb.cols != dim || a.Heads%a.KVHeads != 0 ||
		qb.rows != kb.rows || kb.rows != vb.rows {
		panic(fmt.Sprintf("cpu: self-attention of %d/%d heads of %d on q %d, k %d, v %d",
			a.Heads, a.KVHeads, a.HeadDim, qb.cols, kb.cols, vb.cols))
	}
	n, hd, group := qb.rows, a.HeadDim, a.Heads/a.KVHeads
	qh, kh, oh := s.ar.get(n, hd), s.ar.get(n, hd), s.ar.get(n, hd) // one head's rows
	vt := s.ar.get(hd, n)                                           // its values transposed
	scores := s.ar.get(n, n)
	out := s.ar.get(n, qb.cols)
	keys := &kern.Mat{DType: kern.F32, Rows: n, Cols: hd, F32: kh.d[:n*hd]}
	values := &kern.Mat{DType: kern.F32, Rows: hd, Cols: n, F32: vt.d[:hd*n]}
	for h := range a.Heads {
		if g := h / group; h%group == 0 {
			for i := range n {
				copy(kh.row(i), kb.row(i)[g*hd:(g+1)*hd])
				for d, x := range vb.row(i)[g*hd : (g+1)*hd] {
					vt.d[d*n+i] = x
				}
			}
		}
		for i := range n {
			copy(qh.row(i), qb.row(i)[h*hd:(h+1)*hd])
		}
		s.e.MatMul(scores.d[:n*n], keys, qh.d[:n*hd], n)
		for i := range n {
			row := scores.row(i)
			kern.Scale(row, float32(a.Scale))
			kern.Softmax(row)
		}
		s.e.MatMul(oh.d[:n*hd], values, scores.d[:n*n], n)
		for i := range n {
			copy(out.row(i)[h*hd:(h+1)*hd], oh.row(i))
		}
	}
	return out
}

func (s *sequence) Pool(x model.Value, side, k int) model.Value {
	xb := val(x)
	if k <= 0 || side%k != 0 || xb.rows != side*side {
		panic(fmt.Sprintf("cpu: pool %d rows as a %dx%d grid by %d", xb.rows, side, side, k))
	}
	per := side / k
	out := s.ar.get(per*per, xb.cols)
	sum := make([]float64, xb.cols)
	for ty := range per {
		for tx := range per {
			clear(sum)
			for dy := range k {
				for dx := range k {
					for i, v := range xb.row((ty*k+dy)*side + tx*k + dx) {
						sum[i] += float64(v)
					}
				}
			}
			row := out.row(ty*per + tx)
			for i, v := range sum {
				row[i] = float32(v / float64(k*k))
			}
		}
	}
	return out
}

func (s *sequence) Shuffle(x model.Value, side, k int) model.Value {
	xb := val(x)
	if k <= 0 || side%k != 0 || xb.rows != side*side {
		panic(fmt.Sprintf("cpu: shuffle %d rows as a %dx%d grid by %d", xb.rows, side, side, k))
	}
	per := side / k
	out := s.ar.get(per*per, k*k*xb.cols)
	for r := range xb.rows {
		y, x := r/side, r%side
		at := ((y%k)*k + x%k) * xb.cols // the row's place in its block
		copy(out.row(y/k*per + x/k)[at:], xb.row(r))
	}
	return out
}

// ErrNoVision is returned for images given to a model without a vision tower.
var ErrNoVision = errors.New("cpu: the model has no vision tower")

// ImageEmbeds runs the vision tower, one layer per arena, as step does.
func (s *sequence) ImageEmbeds(ctx context.Context, pixels []float32) ([]float32, error) {
	if s.closed {
		return nil, ErrClosed
	}
	v, ok := s.r.def.(model.Vision)
	if !ok {
		return nil, ErrNoVision
	}
	spec := v.Image()
	if spec.Merge > 0 {
		return nil, fmt.Errorf("cpu: the vision tower reads each image at its own size: give its grid of patches to ImageGridEmbeds")
	}
	if want := spec.Channels * spec.Size * spec.Size; len(pixels) != want {
		return nil, fmt.Errorf("cpu: image of %d pixel values, want %dx%dx%d", len(pixels), spec.Channels, spec.Size, spec.Size)
	}
	return s.tower(ctx, v, pixels, spec.Tokens)
}

// tower runs v's tower on pixels, which give tokens embeddings.
func (s *sequence) tower(ctx context.Context, v model.Vision, pixels []float32, tokens int) ([]float32, error) {
	s.r.mu.RLock()
	defer s.r.mu.RUnlock()
	if s.r.closed {
		return nil, ErrClosed
	}
	x := &buf{}
	keep := func(val0 model.Value) {
		b := val(val0)
		x.store = grow(x.store, len(b.d))
		x.rows, x.cols, x.d = b.rows, b.cols, x.store[:len(b.d)]
		copy(x.d, b.d)
	}
	err := s.ops(func() { keep(v.VisionEmbed(s, pixels)) })
	for l := 0; err == nil && l < v.VisionLayers(); l++ {
		if err = ctx.Err(); err == nil {
			err = s.ops(func() { keep(v.VisionLayer(s, l, x)) })
		}
	}
	var out []float32
	if err == nil {
		err = s.ops(func() { out = append([]float32(nil), val(v.VisionHead(s, x)).d...) })
	}
	if err != nil {
		return nil, err
	}
	if len(out) != tokens*s.r.cfg.HiddenSize {
		return nil, fmt.Errorf("cpu: vision tower gave %d values, want %dx%d", len(out), tokens, s.r.cfg.HiddenSize)
	}
	return out, nil
}

// ForwardImages is Forward with images. Chunks end before an image rather
// than inside it (or, when an image starts a chunk, after it): the tokens of
// an image see each other's keys, so they go through the layers together.
func (s *sequence) ForwardImages(ctx context.Context, tokens []int32, spans []model.ImageSpan) ([]float32, error) {
	if len(spans) == 0 {
		return s.Forward(ctx, tokens)
	}
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.r.def.(model.Vision); !ok {
		return nil, ErrNoVision
	}
	plain, err := checkSpans(tokens, spans, s.r.cfg.HiddenSize)
	if err != nil {
		return nil, err
	}
	if err := s.check(plain); err != nil {
		return nil, err
	}
	if s.r.mrope { // the grids, checked before anything runs
		if _, _, err := model.MRoPEPositions(make([][3]int, len(tokens)), 0, spans, s.r.cfg.HiddenSize); err != nil {
			return nil, fmt.Errorf("cpu: %w", err)
		}
	}
	if err := s.grow(ctx, s.pos+len(tokens)); err != nil {
		return nil, err
	}
	s.r.mu.RLock()
	defer s.r.mu.RUnlock()
	if s.r.closed {
		return nil, ErrClosed
	}
	start, last := s.pos, 0
	defer func() { s.spans = nil }()
	for c0 := 0; c0 < len(tokens); c0 += last {
		n := min(s.chunk, len(tokens)-c0)
		s.spans = s.spans[:0]
		for _, sp := range spans {
			a, b := sp.At, sp.At+len(sp.Embeds)/s.r.cfg.HiddenSize
			if a < c0+n && c0+n < b {
				if a > c0 {
					n = a - c0
				} else {
					n = b - c0
				}
			}
		}
		for _, sp := range spans {
			if sp.At >= c0 && sp.At < c0+n {
				s.spans = append(s.spans, model.ImageSpan{At: sp.At - c0, Embeds: sp.Embeds, Grid: sp.Grid})
			}
		}
		if err := s.step(ctx, plain[c0:c0+n]); err != nil {
			s.pos = start
			s.restoreDelta(start)
			return nil, err
		}
		last = n
	}
	var logits *buf
	err = s.ops(func() {
		d := s.r.def
		logits = val(d.Logits(s, d.Norm(s, s.ar.view(s.x, last-1, 1))))
	})
	if err != nil {
		return nil, err
	}
	return logits.d, nil
}

// checkSpans checks that spans are in order, apart and within tokens, with
// whole rows of hidden values, and returns tokens with each span's
// placeholders (which may lie outside the vocabulary the embedding table
// covers) replaced by token 0: their embeddings are replaced anyway.
func checkSpans(tokens []int32, spans []model.ImageSpan, hidden int) ([]int32, error) {
	plain := append([]int32(nil), tokens...)
	end := 0
	for i, sp := range spans {
		n := len(sp.Embeds) / hidden
		if n == 0 || len(sp.Embeds)%hidden != 0 {
			return nil, fmt.Errorf("cpu: image %d: %d embedding values are not rows of %d", i, len(sp.Embeds), hidden)
		}
		if sp.At < end || sp.At+n > len(tokens) {
			return nil, fmt.Errorf("cpu: image %d at %d..%d overlaps another or leaves the %d tokens", i, sp.At, sp.At+n, len(tokens))
		}
		clear(plain[sp.At : sp.At+n])
		end = sp.At + n
	}
	return plain, nil
}

// splice replaces the embeddings of the step's image tokens (the residual
// stream after Embed) with the images'.
func (s *sequence) splice() {
	for _, sp := range s.spans {
		copy(s.x.d[sp.At*s.x.cols:], sp.Embeds)
	}
}

// imageAttention is the causal (or sliding) attention of a step holding
// images, in which a query of an image also sees the keys of its image's
// later tokens (transformers' token_type_ids mask, OR-ed with the causal and
// sliding ones). Each query's visible keys are then still one run, from
// min(image start, pos-Window+1) to the image's end, which the kernel's
// window placed at the image's last position covers.
//
// A model whose images attend causally (Idefics3) runs the step as text.
func (s *sequence) imageAttention(out, q *buf, layer int, a *model.Attention) {
	hidden := s.r.cfg.HiddenSize
	ka := s.kernAttn(a)
	run := func(first, n, pos0 int, window int) {
		ka.Window = window
		s.e.Attention(out.d[first*out.cols:(first+n)*out.cols], q.d[first*q.cols:(first+n)*q.cols], n, pos0,
			s.k[layer], s.v[layer], ka)
	}
	if v, ok := s.r.def.(model.Vision); ok && v.Image().Causal {
		run(0, q.rows, s.pos, a.Window)
		return
	}
	i := 0
	for _, sp := range s.spans {
		if sp.At > i {
			run(i, sp.At-i, s.pos+i, a.Window)
		}
		end := sp.At + len(sp.Embeds)/hidden
		last := s.pos + end - 1
		for r := sp.At; r < end; r++ {
			w := 0
			if a.Window > 0 {
				first := min(s.pos+sp.At, max(0, s.pos+r-a.Window+1))
				w = last - first + 1
			}
			run(r, 1, last, w)
		}
		i = end
	}
	if i < q.rows {
		run(i, q.rows-i, s.pos+i, a.Window)
	}
}
