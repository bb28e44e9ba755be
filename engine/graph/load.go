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
	qDim, kvDim := s.heads*s.headDim, s.kvHeads*s.headDim
	if lay.embed, err = ld.linear(w.Embed, s.vocab, s.hidden, false); err != nil {
		return nil, err
	}
	for l := range w.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		L := &w.Layers[l]
		li := &lay.layers[l]
		steps := []struct {
			dst     *linearIdx
			src     model.Linear
			out, in int
		}{
			{&li.q, L.Q, qDim, s.hidden}, {&li.k, L.K, kvDim, s.hidden}, {&li.v, L.V, kvDim, s.hidden},
			{&li.o, L.O, s.hidden, qDim},
			{&li.gate, L.Gate, s.inter, s.hidden}, {&li.up, L.Up, s.inter, s.hidden}, {&li.down, L.Down, s.hidden, s.inter},
		}
		if li.attnNorm, err = ld.vector(L.AttnNorm, s.hidden); err != nil {
			return nil, err
		}
		for _, st := range steps {
			if *st.dst, err = ld.linear(st.src, st.out, st.in, true); err != nil {
				return nil, err
			}
		}
		if li.mlpNorm, err = ld.vector(L.MLPNorm, s.hidden); err != nil {
			return nil, err
		}
		if li.qNorm, li.kNorm, err = ld.qkNorm(L); err != nil {
			return nil, err
		}
	}
	if lay.norm, err = ld.vector(w.Norm, s.hidden); err != nil {
		return nil, err
	}
	if sameTensor(w.LMHead.Weight, w.Embed.Weight) {
		lay.head = lay.embed // tied: one device copy serves both
	} else if lay.head, err = ld.linear(w.LMHead, s.vocab, s.hidden, true); err != nil {
		return nil, err
	}
	lay.numWeights = len(ld.tensors)
	return lay, nil
}

func (ld *loader) qkNorm(L *model.Layer) (q, k int, err error) {
	if (L.QNorm == nil) != (L.KNorm == nil) {
		return -1, -1, fmt.Errorf("layer has only one of q_norm and k_norm")
	}
	if L.QNorm == nil {
		return -1, -1, nil
	}
	if q, err = ld.vector(*L.QNorm, ld.spec.headDim); err != nil {
		return -1, -1, err
	}
	if k, err = ld.vector(*L.KNorm, ld.spec.headDim); err != nil {
		return -1, -1, err
	}
	return q, k, nil
}

// sameTensor reports whether two tensors alias the same stored bytes, which is
// how tied embeddings arrive.
func sameTensor(a, b model.Tensor) bool {
	return len(a.Data) > 0 && len(a.Data) == len(b.Data) && &a.Data[0] == &b.Data[0]
}

// linear uploads an (out, in) weight, converted to float32 and dequantized
// when MLX-quantized, and its bias.
func (ld *loader) linear(l model.Linear, out, in int, allowBias bool) (linearIdx, error) {
	idx := linearIdx{w: -1, bias: -1}
	if gotOut, gotIn := l.Dims(); gotOut != out || gotIn != in {
		return idx, fmt.Errorf("tensor %s: shape (%d, %d), want (%d, %d)", l.Weight.Name, gotOut, gotIn, out, in)
	}
	var err error
	idx.w, err = ld.upload(l.Weight.Name, []int{out, in}, func(dst []float32) error {
		for r := range out {
			if err := l.Row(r, dst[r*in:(r+1)*in]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return idx, err
	}
	if l.Bias != nil {
		if !allowBias {
			return idx, fmt.Errorf("tensor %s: unexpected bias", l.Bias.Name)
		}
		if idx.bias, err = ld.vector(*l.Bias, out); err != nil {
			return idx, err
		}
	}
	return idx, nil
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
