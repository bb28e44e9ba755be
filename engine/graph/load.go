package graph

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// loader converts a model's weights to float32 device tensors in layout order.
type loader struct {
	backend backends.Backend
	spec    *spec
	tensors []*tensors.Tensor
	bytes   int64
}

// load builds the layout and uploads every weight. Tensors are checked against
// the spec so a wrong checkpoint fails here with a name, not in the graph.
func (ld *loader) load(ctx context.Context, w *model.Weights, weightsStart int) (*layout, error) {
	s := ld.spec
	if len(w.Layers) != s.layers {
		return nil, fmt.Errorf("weights have %d layers, config says %d", len(w.Layers), s.layers)
	}
	lay := &layout{weightsStart: weightsStart, layers: make([]layerIdx, s.layers)}
	var err error
	if lay.embed, err = ld.linear(s.hidden, false, part{w.Embed, s.vocab}); err != nil {
		return nil, err
	}
	for l := range w.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if lay.layers[l], err = ld.layer(&w.Layers[l]); err != nil {
			return nil, err
		}
	}
	if lay.norm, err = ld.vector(w.Norm, s.hidden); err != nil {
		return nil, err
	}
	if sameTensor(w.LMHead.Weight, w.Embed.Weight) {
		lay.head = lay.embed // tied: one device copy serves both
	} else if lay.head, err = ld.linear(s.hidden, true, part{w.LMHead, s.vocab}); err != nil {
		return nil, err
	}
	lay.numWeights = len(ld.tensors)
	return lay, nil
}

func (ld *loader) layer(L *model.Layer) (li layerIdx, err error) {
	s := ld.spec
	qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
	if li.attnNorm, err = ld.vector(L.AttnNorm, s.hidden); err != nil {
		return li, err
	}
	if li.qkv, err = ld.linear(s.hidden, true, part{L.Q, qDim}, part{L.K, kvDim}, part{L.V, kvDim}); err != nil {
		return li, err
	}
	if li.qkNorm, err = ld.qkNorm(L); err != nil {
		return li, err
	}
	if li.o, err = ld.linear(qDim, true, part{L.O, s.hidden}); err != nil {
		return li, err
	}
	if li.mlpNorm, err = ld.vector(L.MLPNorm, s.hidden); err != nil {
		return li, err
	}
	if li.gateUp, err = ld.linear(s.hidden, true, part{L.Gate, s.inter}, part{L.Up, s.inter}); err != nil {
		return li, err
	}
	li.down, err = ld.linear(s.inter, true, part{L.Down, s.hidden})
	return li, err
}

// qkNorm uploads Qwen3's per-head norms as one (heads+kvHeads, headDim)
// weight matching the fused q and k heads.
func (ld *loader) qkNorm(L *model.Layer) (int, error) {
	if (L.QNorm == nil) != (L.KNorm == nil) {
		return -1, fmt.Errorf("layer has only one of q_norm and k_norm")
	}
	if L.QNorm == nil {
		return -1, nil
	}
	s := ld.spec
	for _, t := range []*model.Tensor{L.QNorm, L.KNorm} {
		if len(t.Shape) != 1 || t.Shape[0] != s.headDim {
			return -1, fmt.Errorf("tensor %s: shape %v, want [%d]", t.Name, t.Shape, s.headDim)
		}
	}
	return ld.upload(L.QNorm.Name, []int{s.heads + s.kvHeads, s.headDim}, func(dst []float32) error {
		for h := range s.heads + s.kvHeads {
			t := L.QNorm
			if h >= s.heads {
				t = L.KNorm
			}
			if err := model.DecodeFloats(t.DType, t.Data, 0, dst[h*s.headDim:(h+1)*s.headDim]); err != nil {
				return fmt.Errorf("tensor %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

// sameTensor reports whether two tensors alias the same stored bytes, which is
// how tied embeddings arrive.
func sameTensor(a, b model.Tensor) bool {
	return len(a.Data) > 0 && len(a.Data) == len(b.Data) && &a.Data[0] == &b.Data[0]
}

// part is one linear layer of a fused projection and its expected output size.
type part struct {
	l   model.Linear
	out int
}

// linear uploads the parts' weights stacked into one (Σout, in) float32
// matrix, dequantized where MLX-quantized, and their biases stacked likewise
// (zeros for a part without one) when any part has a bias.
func (ld *loader) linear(in int, allowBias bool, parts ...part) (linearIdx, error) {
	idx := linearIdx{w: -1, bias: -1}
	total, hasBias := 0, false
	for _, p := range parts {
		if gotOut, gotIn := p.l.Dims(); gotOut != p.out || gotIn != in {
			return idx, fmt.Errorf("tensor %s: shape (%d, %d), want (%d, %d)", p.l.Weight.Name, gotOut, gotIn, p.out, in)
		}
		if p.l.Bias != nil {
			if !allowBias {
				return idx, fmt.Errorf("tensor %s: unexpected bias", p.l.Bias.Name)
			}
			if len(p.l.Bias.Shape) != 1 || p.l.Bias.Shape[0] != p.out {
				return idx, fmt.Errorf("tensor %s: shape %v, want [%d]", p.l.Bias.Name, p.l.Bias.Shape, p.out)
			}
			hasBias = true
		}
		total += p.out
	}
	idx.out, idx.split = total, 1
	dims := []int{total, in}
	if sp := ld.spec.split; sp > 1 && total*in >= minSplitElems {
		// Row blocks; FromShape zeroes the padding rows past total.
		idx.split = sp
		dims = []int{sp, idx.rowsPer(), in}
	}
	var err error
	idx.w, err = ld.upload(parts[0].l.Weight.Name, dims, func(dst []float32) error {
		row := 0
		for _, p := range parts {
			for r := range p.out {
				if err := p.l.Row(r, dst[(row+r)*in:(row+r+1)*in]); err != nil {
					return err
				}
			}
			row += p.out
		}
		return nil
	})
	if err != nil || !hasBias {
		return idx, err
	}
	idx.bias, err = ld.upload(parts[0].l.Weight.Name+" bias", []int{total}, func(dst []float32) error {
		off := 0
		for _, p := range parts {
			if b := p.l.Bias; b != nil {
				if err := model.DecodeFloats(b.DType, b.Data, 0, dst[off:off+p.out]); err != nil {
					return fmt.Errorf("tensor %s: %w", b.Name, err)
				}
			}
			off += p.out
		}
		return nil
	})
	return idx, err
}

// vector uploads a 1-D float tensor of n values.
func (ld *loader) vector(t model.Tensor, n int) (int, error) {
	if len(t.Shape) != 1 || t.Shape[0] != n {
		return -1, fmt.Errorf("tensor %s: shape %v, want [%d]", t.Name, t.Shape, n)
	}
	return ld.upload(t.Name, []int{n}, func(dst []float32) error {
		if err := model.DecodeFloats(t.DType, t.Data, 0, dst); err != nil {
			return fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		return nil
	})
}

// upload decodes straight into a tensor's storage and moves it to the device,
// sharing host memory where the backend allows, so the peak is one float32
// copy of one tensor beyond the mapped file.
func (ld *loader) upload(name string, dims []int, fill func([]float32) error) (idx int, err error) {
	defer recoverTo(&err)
	t := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	var fillErr error
	tensors.MustMutableFlatData(t, func(flat []float32) { fillErr = fill(flat) })
	if fillErr != nil {
		return -1, fillErr
	}
	if err := t.MaterializeOnDevice(ld.backend, true, 0); err != nil {
		return -1, fmt.Errorf("upload %s: %w", name, err)
	}
	ld.tensors = append(ld.tensors, t)
	ld.bytes += int64(t.Memory())
	return len(ld.tensors) - 1, nil
}

// release frees every uploaded tensor.
func (ld *loader) release() {
	for _, t := range ld.tensors {
		_ = t.FinalizeAll()
	}
	ld.tensors = nil
}
