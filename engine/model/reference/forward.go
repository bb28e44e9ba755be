package reference

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// step appends one token at position Len() and returns its final-normed hidden
// state (hidden). It follows HF's LlamaDecoderLayer: pre-norm attention and MLP
// blocks, each added to the residual stream.
func (s *sequence) step(token int32) ([]float64, error) {
	w := &s.r.m.Weights
	x, err := s.r.embed(token) // (hidden) residual stream
	if err != nil {
		return nil, err
	}
	for l := range w.Layers {
		layer := &w.Layers[l]
		h, err := s.r.rmsNorm(x, &layer.AttnNorm)
		if err != nil {
			return nil, err
		}
		a, err := s.attention(l, layer, h)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		add(x, a)
		if h, err = s.r.rmsNorm(x, &layer.MLPNorm); err != nil {
			return nil, err
		}
		m, err := s.r.mlp(layer, h)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", l, err)
		}
		add(x, m)
	}
	return s.r.rmsNorm(x, &w.Norm)
}

// attention computes the attention block's output (hidden) for the newest
// token, whose normed input is h, after caching its key and value.
func (s *sequence) attention(l int, layer *model.Layer, h []float64) ([]float64, error) {
	c := s.r.cfg
	d := c.HeadDim
	q, err := s.r.matVec(&layer.Q, h) // (heads*headDim)
	if err != nil {
		return nil, err
	}
	k, err := s.r.matVec(&layer.K, h) // (kvHeads*headDim)
	if err != nil {
		return nil, err
	}
	v, err := s.r.matVec(&layer.V, h) // (kvHeads*headDim)
	if err != nil {
		return nil, err
	}
	pos := len(s.keys[l])
	for hd := 0; hd < c.NumAttentionHeads; hd++ {
		if err := s.prepareHead(q[hd*d:(hd+1)*d], layer.QNorm, pos); err != nil {
			return nil, err
		}
	}
	for hd := 0; hd < c.NumKeyValueHeads; hd++ {
		if err := s.prepareHead(k[hd*d:(hd+1)*d], layer.KNorm, pos); err != nil {
			return nil, err
		}
	}
	s.keys[l] = append(s.keys[l], k)
	s.values[l] = append(s.values[l], v)

	first := 0 // oldest visible key
	if c.SlidingWindow > 0 {
		first = max(0, pos-c.SlidingWindow+1)
	}
	group := c.NumAttentionHeads / c.NumKeyValueHeads
	out := make([]float64, c.NumAttentionHeads*d) // (heads*headDim)
	for hd := 0; hd < c.NumAttentionHeads; hd++ {
		kv := hd / group // query heads share key/value heads in consecutive groups
		qh := q[hd*d : (hd+1)*d]
		scores := make([]float64, pos+1-first)
		for j := first; j <= pos; j++ {
			scores[j-first] = dot(qh, s.keys[l][j][kv*d:(kv+1)*d]) / math.Sqrt(float64(d))
		}
		softmax(scores)
		oh := out[hd*d : (hd+1)*d]
		for j := first; j <= pos; j++ {
			vj := s.values[l][j][kv*d : (kv+1)*d]
			for i := range oh {
				oh[i] += scores[j-first] * vj[i]
			}
		}
	}
	return s.r.matVec(&layer.O, out)
}

// prepareHead applies the optional per-head RMSNorm (Qwen3) and then RoPE to
// one head of q or k, in place.
func (s *sequence) prepareHead(x []float64, norm *model.Tensor, pos int) error {
	if norm != nil {
		n, err := s.r.rmsNorm(x, norm)
		if err != nil {
			return err
		}
		copy(x, n)
	}
	half := len(x) / 2
	for i, f := range s.r.freqs {
		sin, cos := math.Sincos(float64(pos) * f)
		a, b := x[i], x[i+half]
		x[i] = a*cos - b*sin
		x[i+half] = b*cos + a*sin
	}
	return nil
}

// mlp is down(silu(gate(h)) * up(h)).
func (r *Runner) mlp(layer *model.Layer, h []float64) ([]float64, error) {
	g, err := r.matVec(&layer.Gate, h)
	if err != nil {
		return nil, err
	}
	u, err := r.matVec(&layer.Up, h)
	if err != nil {
		return nil, err
	}
	for i := range g {
		g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
	}
	return r.matVec(&layer.Down, g)
}

// embed is the token's embedding row. Embeddings are looked up one row at a
// time rather than decoded whole, so vocabulary-sized tables are not copied.
func (r *Runner) embed(token int32) ([]float64, error) {
	row := make([]float32, r.cfg.HiddenSize)
	if err := r.m.Weights.Embed.Row(int(token), row); err != nil {
		return nil, err
	}
	return widen(row), nil
}
