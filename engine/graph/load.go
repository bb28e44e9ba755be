package graph

import (
	"cmp"
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

// load builds the layout and uploads every bound weight. Tensors are checked
// against the spec where it fixes their shape, so a wrong checkpoint fails
// here with a name, not in the graph.
func (ld *loader) load(ctx context.Context, def model.Definition, p model.Params, weightsStart int) (*layout, error) {
	s := ld.spec
	if def.Layers() != s.layers {
		return nil, fmt.Errorf("weights have %d layers, config says %d", def.Layers(), s.layers)
	}
	lay := &layout{weightsStart: weightsStart, lins: map[*model.Linear]linearIdx{}, vecs: map[*model.Tensor]int{}}
	byData := map[*byte]linearIdx{} // tied layers share one device copy
	for i, l := range p.Linears {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(l.Weight.Data) > 0 && l.Bias == nil {
			if idx, ok := byData[&l.Weight.Data[0]]; ok {
				lay.lins[l] = idx
				continue
			}
		}
		out, in := l.Dims()
		if i == 0 && (out != s.vocab || in != s.hidden) {
			return nil, fmt.Errorf("tensor %s: shape (%d, %d), want (%d, %d)", l.Weight.Name, out, in, s.vocab, s.hidden)
		}
		idx, err := ld.linear(in, true, part{*l, out})
		if err != nil {
			return nil, err
		}
		lay.lins[l] = idx
		if len(l.Weight.Data) > 0 && l.Bias == nil {
			byData[&l.Weight.Data[0]] = idx
		}
	}
	for _, t := range p.Vectors {
		if len(t.Shape) != 1 {
			return nil, fmt.Errorf("tensor %s: shape %v, want a vector", t.Name, t.Shape)
		}
		idx, err := ld.vector(*t, t.Shape[0])
		if err != nil {
			return nil, err
		}
		lay.vecs[t] = idx
	}
	lay.numWeights = len(ld.tensors)
	return lay, nil
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
	if sp := ld.spec.split; sp > 1 && total*in >= cmp.Or(ld.spec.minSplit, minSplitElems) {
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
