package model

import (
	"context"
	"fmt"
	"slices"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// bind lets the architecture bind its tensors and build its forward pass.
func (m *Model) bind(ctx context.Context) error {
	if m.Arch.Build == nil {
		return fmt.Errorf("%w: %s has no forward pass", ErrUnsupportedArch, m.Arch.Name)
	}
	b := &Binder{ctx: ctx, binder: binder{files: m.files, quant: m.Config.Quantization}}
	def, err := m.Arch.Build(m.Config, b)
	if err != nil {
		return err
	}
	m.Def, m.Params = def, b.params
	return nil
}

// Params are every tensor a family bound, in binding order, so executors can
// prepare them (convert, quantize, upload) before the first token.
type Params struct {
	Linears []*Linear // the embedding table first
	Vectors []*Tensor // norm weights and other small float vectors
	// MoEs are the sparse blocks, whose experts are also in Linears: a token
	// reads only the TopK experts of each, which decode bandwidth counts.
	MoEs []*MoE
}

// Binder hands a family the tensors it names, checked against the shapes it
// expects. Quantization (MLX scales and biases) is handled here, once for all
// families. Each bound tensor is recorded for the executors; the destination
// must therefore stay where it is (a field of the family's weights struct).
type Binder struct {
	ctx    context.Context
	binder binder
	params Params
}

// Err is the context's error: a family binding many layers checks it between them.
func (b *Binder) Err() error { return b.ctx.Err() }

// Has reports whether the model's files hold a tensor of that name.
func (b *Binder) Has(name string) bool { return b.binder.files.Has(name) }

// Linear binds module path as an (out, in) layer into dst: MLX-quantized when
// its scales exist, float otherwise, with path.bias when bias is set.
func (b *Binder) Linear(dst *Linear, path string, out, in int, bias bool) error {
	l, err := b.binder.linear(path, out, in, bias)
	if err != nil {
		return err
	}
	*dst = l
	b.params.Linears = append(b.params.Linears, dst)
	return nil
}

// Tie makes dst the same layer as src (tied embeddings and output head).
func (b *Binder) Tie(dst, src *Linear) {
	*dst = *src
	b.params.Linears = append(b.params.Linears, dst)
}

// Vector binds the float tensor name of n values into dst.
func (b *Binder) Vector(dst *Tensor, name string, n int) error {
	t, err := b.binder.float(name, n)
	if err != nil {
		return err
	}
	*dst = t
	b.params.Vectors = append(b.params.Vectors, dst)
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
	if q.Mode == "mxfp4" {
		var err error
		*l, err = b.mxfp4(path, []int{out}, in)
		return err
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

// Rebind binds m's mapped files again under config c, giving a model that
// shares m's files (valid while m is open; do not Close it). Tests use it to
// run a model the way an executor with a wrong config would.
func (m *Model) Rebind(ctx context.Context, c *Config) (*Model, error) {
	mm := &Model{Dir: m.Dir, Config: c, Gen: m.Gen, Arch: m.Arch, files: m.files}
	if err := mm.bind(ctx); err != nil {
		return nil, err
	}
	return mm, nil
}

// Rows binds module path as one fused (sum(outs), in) layer and hands its
// consecutive blocks of rows to dsts as layers of their own, so that a fused
// checkpoint (Phi-3's qkv_proj and gate_up_proj) reaches the executors as the
// ordinary layers they already run, quantized or not. The blocks alias the
// mapped file; only they are recorded, never the fused layer.
func (b *Binder) Rows(dsts []*Linear, path string, outs []int, in int) error {
	if len(dsts) != len(outs) {
		return fmt.Errorf("%s: %d destinations for %d blocks", path, len(dsts), len(outs))
	}
	total := 0
	for _, n := range outs {
		total += n
	}
	l, err := b.binder.linear(path, total, in, false)
	if err != nil {
		return err
	}
	from := 0
	for i, dst := range dsts {
		*dst = rows(l, from, from+outs[i])
		b.params.Linears = append(b.params.Linears, dst)
		from += outs[i]
	}
	return nil
}

// rows is rows [from, to) of l: every tensor of a layer (codes, scales,
// biases) holds one contiguous run of bytes per output row.
func rows(l Linear, from, to int) Linear {
	cut := func(t Tensor) Tensor {
		per := len(t.Data) / t.Shape[0]
		t.Data = t.Data[from*per : to*per : to*per]
		t.Shape = []int{to - from, t.Shape[1]}
		t.Name = fmt.Sprintf("%s[%d:%d]", t.Name, from, to)
		return t
	}
	l.Weight = cut(l.Weight)
	cutScales(&l, cut)
	return l
}
