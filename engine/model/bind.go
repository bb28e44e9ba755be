package model

import (
	"context"
	"fmt"
	"slices"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// bind fills m.Weights from the mapped files, checking names, dtypes and shapes.
func (m *Model) bind(ctx context.Context) error {
	c, n := m.Config, m.Arch.Names
	b := binder{files: m.files, quant: c.Quantization}
	w := &m.Weights
	var err error
	if w.Embed, err = b.linear(n.Embed, c.VocabSize, c.HiddenSize, false); err != nil {
		return err
	}
	if w.Norm, err = b.float(n.Norm+".weight", c.HiddenSize); err != nil {
		return err
	}
	if c.TieWordEmbeddings {
		w.LMHead = w.Embed
	} else if w.LMHead, err = b.linear(n.LMHead, c.VocabSize, c.HiddenSize, false); err != nil {
		return err
	}
	w.Layers = make([]Layer, c.NumHiddenLayers)
	for i := range w.Layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.layer(&w.Layers[i], fmt.Sprintf(n.Layer, i)+".", n, c); err != nil {
			return err
		}
	}
	return nil
}

func (b *binder) layer(l *Layer, p string, n Names, c *Config) error {
	q, kv := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim
	h, inter := c.HiddenSize, c.IntermediateSize
	var err error
	bind := func(dst *Linear, name string, out, in int, bias bool) {
		if err == nil {
			*dst, err = b.linear(p+name, out, in, bias)
		}
	}
	bind(&l.Q, n.Q, q, h, c.QKVBias)
	bind(&l.K, n.K, kv, h, c.QKVBias)
	bind(&l.V, n.V, kv, h, c.QKVBias)
	bind(&l.O, n.O, h, q, c.OBias)
	bind(&l.Gate, n.Gate, inter, h, c.MLPBias)
	bind(&l.Up, n.Up, inter, h, c.MLPBias)
	bind(&l.Down, n.Down, h, inter, c.MLPBias)
	if err != nil {
		return err
	}
	if l.AttnNorm, err = b.float(p+n.AttnNorm+".weight", h); err != nil {
		return err
	}
	if l.MLPNorm, err = b.float(p+n.MLPNorm+".weight", h); err != nil {
		return err
	}
	if c.QKNorm {
		qn, err := b.float(p+n.QNorm+".weight", c.HeadDim)
		if err != nil {
			return err
		}
		kn, err := b.float(p+n.KNorm+".weight", c.HeadDim)
		if err != nil {
			return err
		}
		l.QNorm, l.KNorm = &qn, &kn
	}
	return nil
}

type binder struct {
	files *safetensors.Set
	quant *Quantization
}

// tensor fetches a tensor and checks its shape.
func (b *binder) tensor(name string, shape ...int) (Tensor, error) {
	st, err := b.files.Tensor(name)
	if err != nil {
		return Tensor{}, fmt.Errorf("%w: missing tensor %s", ErrWeights, name)
	}
	t := Tensor{Name: st.Name, DType: DType(st.DType), Shape: st.Shape, Data: st.Data}
	if !slices.Equal(t.Shape, shape) {
		return Tensor{}, fmt.Errorf("%w: tensor %s has shape %v, want %v", ErrWeights, name, t.Shape, shape)
	}
	return t, nil
}

// float fetches a float tensor of the given shape.
func (b *binder) float(name string, shape ...int) (Tensor, error) {
	t, err := b.tensor(name, shape...)
	if err != nil {
		return Tensor{}, err
	}
	if !t.DType.IsFloat() {
		return Tensor{}, fmt.Errorf("%w: tensor %s is %s, want F32, F16 or BF16", ErrWeights, name, t.DType)
	}
	return t, nil
}

// linear binds module path as an (out, in) layer: MLX-quantized when its scales
// exist (as mlx-lm decides), float otherwise.
func (b *binder) linear(path string, out, in int, bias bool) (Linear, error) {
	var l Linear
	var err error
	if b.files.Has(path + ".scales") {
		err = b.quantized(&l, path, out, in)
	} else {
		l.Weight, err = b.float(path+".weight", out, in)
	}
	if err != nil {
		return Linear{}, err
	}
	if bias {
		t, err := b.float(path+".bias", out)
		if err != nil {
			return Linear{}, err
		}
		l.Bias = &t
	}
	return l, nil
}

func (b *binder) quantized(l *Linear, path string, out, in int) error {
	q, ok := b.quant.For(path)
	if !ok {
		return fmt.Errorf("%w: %s.scales exists but config.json does not quantize %s", ErrWeights, path, path)
	}
	if in%q.GroupSize != 0 || in*q.Bits%32 != 0 {
		return fmt.Errorf("%w: %s: input size %d does not fit %d-bit groups of %d", ErrWeights, path, in, q.Bits, q.GroupSize)
	}
	w, err := b.tensor(path+".weight", out, in*q.Bits/32)
	if err != nil {
		return fmt.Errorf("%w (%d-bit quantized, groups of %d)", err, q.Bits, q.GroupSize)
	}
	if w.DType != U32 {
		return fmt.Errorf("%w: tensor %s is %s, want U32 codes", ErrWeights, w.Name, w.DType)
	}
	scales, err := b.float(path+".scales", out, in/q.GroupSize)
	if err != nil {
		return err
	}
	biases, err := b.float(path+".biases", out, in/q.GroupSize)
	if err != nil {
		return err
	}
	*l = Linear{Weight: w, Scales: &scales, Biases: &biases, Bits: q.Bits, GroupSize: q.GroupSize}
	return nil
}
