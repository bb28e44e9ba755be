package model

import (
	"fmt"
	"slices"
)

// The tensors of vision towers that are not stored as (out, in) layers are
// bound as ordinary Linears, so that every executor runs them with the
// products it already has.

// Conv binds path, a convolution whose kernel and stride are both size (a
// patch embedding), as an (out, channels·size·size) layer with path.bias.
// Its kernel is stored (out, channels, size, size) by transformers or (out,
// size, size, channels) by MLX; hwc reports the second, in which order the
// layer's input takes each patch's values. The layer is float.
func (b *Binder) Conv(dst *Linear, path string, out, channels, size int) (hwc bool, err error) {
	st, err := b.binder.files.Tensor(path + ".weight")
	if err != nil {
		return false, fmt.Errorf("%w: missing tensor %s.weight", ErrWeights, path)
	}
	switch {
	case slices.Equal(st.Shape, []int{out, channels, size, size}):
	case slices.Equal(st.Shape, []int{out, size, size, channels}):
		hwc = true
	default:
		return false, fmt.Errorf("%w: tensor %s.weight has shape %v, want [%d %d %d %d]", ErrWeights, path, st.Shape, out, channels, size, size)
	}
	w, err := b.binder.float(path+".weight", st.Shape...)
	if err != nil {
		return false, err
	}
	w.Shape = []int{out, channels * size * size}
	bias, err := b.binder.float(path+".bias", out)
	if err != nil {
		return false, err
	}
	*dst = Linear{Weight: w, Bias: &bias}
	b.params.Linears = append(b.params.Linears, dst)
	return hwc, nil
}

// Transposed binds name, a float matrix (in, out) used as x·W (Gemma 3's
// mm_input_projection_weight), as an (out, in) layer: a transposed copy.
func (b *Binder) Transposed(dst *Linear, name string, in, out int) error {
	t, err := b.binder.float(name, in, out)
	if err != nil {
		return err
	}
	size := t.DType.Size()
	data := make([]byte, len(t.Data))
	for i := range in {
		for o := range out {
			copy(data[(o*in+i)*size:(o*in+i+1)*size], t.Data[(i*out+o)*size:(i*out+o+1)*size])
		}
	}
	*dst = Linear{Weight: Tensor{Name: t.Name + ".T", DType: t.DType, Shape: []int{out, in}, Data: data}}
	b.params.Linears = append(b.params.Linears, dst)
	return nil
}

// Conv3D binds path, a 3-D convolution whose kernel and stride are both
// (frames, size, size) and which has no bias (Qwen2-VL's patch embedding),
// as an (out, channels·frames·size·size) layer. Its kernel is stored (out,
// channels, frames, size, size) by transformers or (out, frames, size, size,
// channels) by MLX; last reports the second, in which order the layer's
// input takes each patch's values. The layer is float.
func (b *Binder) Conv3D(dst *Linear, path string, out, channels, frames, size int) (last bool, err error) {
	st, err := b.binder.files.Tensor(path + ".weight")
	if err != nil {
		return false, fmt.Errorf("%w: missing tensor %s.weight", ErrWeights, path)
	}
	switch {
	case slices.Equal(st.Shape, []int{out, channels, frames, size, size}):
	case slices.Equal(st.Shape, []int{out, frames, size, size, channels}):
		last = true
	default:
		return false, fmt.Errorf("%w: tensor %s.weight has shape %v, want [%d %d %d %d %d]", ErrWeights, path, st.Shape,
			out, channels, frames, size, size)
	}
	w, err := b.binder.float(path+".weight", st.Shape...)
	if err != nil {
		return false, err
	}
	w.Shape = []int{out, channels * frames * size * size}
	*dst = Linear{Weight: w}
	b.params.Linears = append(b.params.Linears, dst)
	return last, nil
}

// RowsBias is Rows for a fused layer with a bias (Qwen2-VL's attn.qkv):
// each block of rows takes its block of the bias.
func (b *Binder) RowsBias(dsts []*Linear, path string, outs []int, in int) error {
	if len(dsts) != len(outs) {
		return fmt.Errorf("%s: %d destinations for %d blocks", path, len(dsts), len(outs))
	}
	total := 0
	for _, n := range outs {
		total += n
	}
	l, err := b.binder.linear(path, total, in, true)
	if err != nil {
		return err
	}
	per := len(l.Bias.Data) / total
	from := 0
	for i, dst := range dsts {
		to := from + outs[i]
		*dst = rows(l, from, to)
		bias := *l.Bias
		bias.Data = bias.Data[from*per : to*per : to*per]
		bias.Shape = []int{outs[i]}
		bias.Name = fmt.Sprintf("%s[%d:%d]", bias.Name, from, to)
		dst.Bias = &bias
		b.params.Linears = append(b.params.Linears, dst)
		from = to
	}
	return nil
}
