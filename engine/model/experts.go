package model

import (
	"fmt"
	"slices"
)

// Experts with biases, as GPT-OSS stores them. Its router has a bias and so
// has every projection of every expert, which Binder.MoE (Qwen3-MoE's and
// Mixtral's bias-free layouts) does not read.

// StackedExperts binds a sparse block whose router (experts, hidden) has a
// bias and whose experts are mlx-lm's SwitchGLU with bias=True: paths are the
// gate, up and down projections, each an (experts, out, in) weight (float or
// MLX-quantized, cut per expert without copying) with an (experts, out) bias.
func (b *Binder) StackedExperts(dst *MoE, router string, experts, hidden, inter int, paths [3]string) error {
	if experts <= 0 {
		return fmt.Errorf("%w: %s: %d experts", ErrWeights, router, experts)
	}
	if err := b.Linear(&dst.Router, router, experts, hidden, true); err != nil {
		return err
	}
	dst.Experts = make([]Expert, experts)
	shapes := [3][2]int{{inter, hidden}, {inter, hidden}, {hidden, inter}}
	for i, path := range paths {
		ls, err := b.binder.stacked(path, experts, shapes[i][0], shapes[i][1])
		if err != nil {
			return err
		}
		bias, err := b.binder.float(path+".bias", experts, shapes[i][0])
		if err != nil {
			return err
		}
		for e := range dst.Experts {
			p := dst.Experts[e].part(i)
			*p = ls[e]
			be := expertSlice(Linear{Weight: bias}, e, experts).Weight
			p.Bias = &be
			b.params.Linears = append(b.params.Linears, p)
		}
	}
	b.params.MoEs = append(b.params.MoEs, dst)
	return nil
}

// FusedExperts binds a sparse block in transformers' GptOssExperts layout:
// gateUp (experts, hidden, 2*inter), whose output columns alternate gate and
// up (gate_up[..., ::2] and [..., 1::2]), with gateUp+"_bias" (experts,
// 2*inter); down (experts, inter, hidden) with down+"_bias" (experts,
// hidden). Both are stored input-major, the transpose of a Linear, so each
// expert's projections are copied out as (out, in) layers in the stored
// float type: the executors then see the same layers as in mlx-lm's layout.
func (b *Binder) FusedExperts(dst *MoE, router string, experts, hidden, inter int, gateUp, down string) error {
	if experts <= 0 {
		return fmt.Errorf("%w: %s: %d experts", ErrWeights, router, experts)
	}
	if err := b.Linear(&dst.Router, router, experts, hidden, true); err != nil {
		return err
	}
	if b.Has(gateUp + "_blocks") {
		return b.fusedMXFP4(dst, experts, hidden, inter, gateUp, down)
	}
	gu, err := b.binder.float(gateUp, experts, hidden, 2*inter)
	if err != nil {
		return err
	}
	guBias, err := b.binder.float(gateUp+"_bias", experts, 2*inter)
	if err != nil {
		return err
	}
	dn, err := b.binder.float(down, experts, inter, hidden)
	if err != nil {
		return err
	}
	dnBias, err := b.binder.float(down+"_bias", experts, hidden)
	if err != nil {
		return err
	}
	dst.Experts = make([]Expert, experts)
	for e := range dst.Experts {
		if err := b.Err(); err != nil {
			return err
		}
		ex := &dst.Experts[e]
		// Column c of expert e's (hidden, 2*inter) block is output c.
		ex.Gate = transposed(gu, e, hidden, 2*inter, 0, 2, fmt.Sprintf("%s[%d].gate", gateUp, e))
		ex.Up = transposed(gu, e, hidden, 2*inter, 1, 2, fmt.Sprintf("%s[%d].up", gateUp, e))
		ex.Down = transposed(dn, e, inter, hidden, 0, 1, fmt.Sprintf("%s[%d]", down, e))
		ex.Gate.Bias = strided(guBias, e, 2*inter, 0, 2)
		ex.Up.Bias = strided(guBias, e, 2*inter, 1, 2)
		ex.Down.Bias = strided(dnBias, e, hidden, 0, 1)
		b.params.Linears = append(b.params.Linears, &ex.Gate, &ex.Up, &ex.Down)
	}
	b.params.MoEs = append(b.params.MoEs, dst)
	return nil
}

// transposed copies the output columns first, first+step, ... of expert e's
// (in, cols) block of t into an (out, in) float layer of t's type.
func transposed(t Tensor, e, in, cols, first, step int, name string) Linear {
	size := t.DType.Size()
	out := (cols - first + step - 1) / step
	src := t.Data[e*in*cols*size : (e+1)*in*cols*size]
	data := make([]byte, out*in*size)
	for o := range out {
		c := first + o*step
		for i := range in {
			copy(data[(o*in+i)*size:(o*in+i+1)*size], src[(i*cols+c)*size:(i*cols+c+1)*size])
		}
	}
	return Linear{Weight: Tensor{Name: name, DType: t.DType, Shape: []int{out, in}, Data: data}}
}

// strided copies values first, first+step, ... of row e of the (n, cols)
// tensor t into a vector of t's type.
func strided(t Tensor, e, cols, first, step int) *Tensor {
	size := t.DType.Size()
	n := (cols - first + step - 1) / step
	src := t.Data[e*cols*size : (e+1)*cols*size]
	data := make([]byte, 0, n*size)
	for c := first; c < cols; c += step {
		data = append(data, src[c*size:(c+1)*size]...)
	}
	return &Tensor{Name: fmt.Sprintf("%s[%d][%d::%d]", t.Name, e, first, step), DType: t.DType, Shape: []int{n}, Data: slices.Clip(data)}
}

// fusedMXFP4 binds FusedExperts' projections as the Hugging Face MXFP4
// release stores them (openai/gpt-oss-20b): gateUp+"_blocks" (experts,
// 2*inter, hidden/32, 16) U8, two E2M1 codes a byte with the even column in
// the low nibble, and gateUp+"_scales" (experts, 2*inter, hidden/32) U8
// exponents; likewise down (experts, hidden, inter/32, 16). These are
// output-major, MLX's mxfp4 layout byte for byte: down's experts alias the
// file and gate and up (the even and odd rows of gate_up) are copied out.
func (b *Binder) fusedMXFP4(dst *MoE, experts, hidden, inter int, gateUp, down string) error {
	blocks := func(name string, out, in int) (codes, scales Tensor, err error) {
		if in%32 != 0 {
			return codes, scales, fmt.Errorf("%w: %s: input size %d is not a whole number of mxfp4 groups of 32", ErrWeights, name, in)
		}
		if codes, err = b.binder.tensor(name+"_blocks", experts, out, in/32, 16); err != nil {
			return codes, scales, err
		}
		if scales, err = b.binder.tensor(name+"_scales", experts, out, in/32); err != nil {
			return codes, scales, err
		}
		if codes.DType != U8 || scales.DType != U8 {
			return codes, scales, fmt.Errorf("%w: %s_blocks and _scales are %s and %s, want U8", ErrWeights, name, codes.DType, scales.DType)
		}
		return codes, scales, nil
	}
	guCodes, guScales, err := blocks(gateUp, 2*inter, hidden)
	if err != nil {
		return err
	}
	dnCodes, dnScales, err := blocks(down, hidden, inter)
	if err != nil {
		return err
	}
	guBias, err := b.binder.float(gateUp+"_bias", experts, 2*inter)
	if err != nil {
		return err
	}
	dnBias, err := b.binder.float(down+"_bias", experts, hidden)
	if err != nil {
		return err
	}
	dst.Experts = make([]Expert, experts)
	for e := range dst.Experts {
		if err := b.Err(); err != nil {
			return err
		}
		ex := &dst.Experts[e]
		ex.Gate = mxfp4Rows(guCodes, guScales, e, 2*inter, hidden, 0, 2, fmt.Sprintf("%s[%d].gate", gateUp, e))
		ex.Up = mxfp4Rows(guCodes, guScales, e, 2*inter, hidden, 1, 2, fmt.Sprintf("%s[%d].up", gateUp, e))
		ex.Down = mxfp4Rows(dnCodes, dnScales, e, hidden, inter, 0, 1, fmt.Sprintf("%s[%d]", down, e))
		ex.Gate.Bias = strided(guBias, e, 2*inter, 0, 2)
		ex.Up.Bias = strided(guBias, e, 2*inter, 1, 2)
		ex.Down.Bias = strided(dnBias, e, hidden, 0, 1)
		b.params.Linears = append(b.params.Linears, &ex.Gate, &ex.Up, &ex.Down)
	}
	b.params.MoEs = append(b.params.MoEs, dst)
	return nil
}

// mxfp4Rows is the MXFP4 layer of rows first, first+step, ... of expert e's
// (rows, in) block of codes and scales: aliased when step is 1, copied
// otherwise.
func mxfp4Rows(codes, scales Tensor, e, rows, in, first, step int, name string) Linear {
	cb, sb := in/2, in/32 // bytes per row
	c := codes.Data[e*rows*cb : (e+1)*rows*cb]
	s := scales.Data[e*rows*sb : (e+1)*rows*sb]
	out := (rows - first + step - 1) / step
	if step != 1 {
		cc, sc := make([]byte, 0, out*cb), make([]byte, 0, out*sb)
		for r := first; r < rows; r += step {
			cc, sc = append(cc, c[r*cb:(r+1)*cb]...), append(sc, s[r*sb:(r+1)*sb]...)
		}
		c, s = cc, sc
	}
	return Linear{
		Weight:    Tensor{Name: name, DType: U32, Shape: []int{out, in / 8}, Data: c[:len(c):len(c)]},
		Scales:    &Tensor{Name: name + ".scales", DType: U8, Shape: []int{out, in / 32}, Data: s[:len(s):len(s)]},
		Bits:      4,
		GroupSize: 32,
		MXFP4:     true,
	}
}
