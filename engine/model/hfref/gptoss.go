package hfref

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

func init() { Supported = append(Supported, "GptOssForCausalLM") }

// ossConfig is the sparse part of GptOssConfig.
type ossConfig struct {
	experts, topK int
	limit         float64 // swiglu_limit
}

// gptOss reads GptOssConfig (configuration_gpt_oss.py defaults): attention
// with biases (attention_bias true), layer_types alternating
// sliding_attention and full_attention from the first layer, a window of
// 128, YaRN rope_scaling, and the experts' swiglu_limit 7.
func (f *family) gptOss(c cfg) error {
	def := map[string]any{"num_hidden_layers": 36.0, "vocab_size": 201088.0, "hidden_size": 2880.0,
		"intermediate_size": 2880.0, "head_dim": 64.0, "num_attention_heads": 64.0, "num_key_value_heads": 8.0,
		"max_position_embeddings": 131072.0, "attention_bias": true,
		"rope_scaling": map[string]any{"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0, "truncate": false}}
	for k, v := range def {
		if !c.has(k) {
			c[k] = v
		}
	}
	if err := f.llamaLike(c, 150000, 1e-5); err != nil {
		return err
	}
	f.oss = ossConfig{experts: c.int("num_local_experts", 128), topK: c.int("num_experts_per_tok", 4),
		limit: c.num("swiglu_limit", 7)}
	f.window = c.int("sliding_window", 128)
	types, _ := c["layer_types"].([]any)
	if types != nil && len(types) != f.layers {
		return fmt.Errorf("%d layer_types for %d layers", len(types), f.layers)
	}
	for l := range f.layers {
		if types != nil {
			f.slidingLayer[l] = types[l] == "sliding_attention"
		} else {
			f.slidingLayer[l] = (l+1)%2 == 1
		}
	}
	return nil
}

// gptOssMLP is GptOssMLP: GptOssTopKRouter (router logits with bias,
// torch.topk of the logits, softmax over the k selected) and GptOssExperts
// (gate_up = x @ gate_up_proj[e] + bias, gate and up its even and odd
// columns, gate clamped above and up on both sides at the limit,
// (up + 1) * gate * sigmoid(alpha * gate) @ down_proj[e] + bias), each
// selected expert's output weighted by its score.
func (m *run) gptOssMLP(p string, x [][]float64) [][]float64 {
	const alpha = 1.702
	f, o := m.f, &m.f.oss
	h, inter := f.hidden, f.inter
	logits := m.linear(p+"mlp.router", x, o.experts, h, true)
	gu := m.tensor(p+"mlp.experts.gate_up_proj", o.experts, h, 2*inter)
	guBias := m.tensor(p+"mlp.experts.gate_up_proj_bias", o.experts, 2*inter)
	down := m.tensor(p+"mlp.experts.down_proj", o.experts, inter, h)
	downBias := m.tensor(p+"mlp.experts.down_proj_bias", o.experts, h)
	out := make([][]float64, len(x))
	for t := range x {
		order := make([]int, o.experts)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return logits[t][order[i]] > logits[t][order[j]] })
		top := order[:o.topK]
		vals := make([]float64, len(top))
		for i, e := range top {
			vals[i] = logits[t][e]
		}
		scores := softmaxOf(vals)
		out[t] = make([]float64, h)
		for i, e := range top {
			gated := make([]float64, inter)
			for j := range inter {
				gate, up := guBias[e*2*inter+2*j], guBias[e*2*inter+2*j+1]
				for k, v := range x[t] {
					row := gu[(e*h+k)*2*inter:]
					gate += v * row[2*j]
					up += v * row[2*j+1]
				}
				gate = math.Min(gate, o.limit)
				up = math.Max(math.Min(up, o.limit), -o.limit)
				glu := gate / (1 + math.Exp(-gate*alpha))
				gated[j] = (up + 1) * glu
			}
			for k := range h {
				y := downBias[e*h+k]
				for j, g := range gated {
					y += g * down[(e*inter+j)*h+k]
				}
				out[t][k] += scores[i] * y
			}
		}
	}
	return out
}

// fuseExperts turns mlx-lm's GPT-OSS experts (experts.{gate,up,down}_proj
// .weight (experts, out, in) and .bias (experts, out)) back into
// transformers' tensors, the inverse of mlx-lm's sanitize: gate_up_proj
// (experts, hidden, 2*inter) with gate in the even and up in the odd
// columns, down_proj (experts, inter, hidden), and their _bias.
func fuseExperts(w Tensors) {
	for name, gate := range w {
		p, ok := strings.CutSuffix(name, "mlp.experts.gate_proj.weight")
		if !ok || len(gate.Shape) != 3 {
			continue
		}
		ex := p + "mlp.experts."
		up, down := w[ex+"up_proj.weight"], w[ex+"down_proj.weight"]
		gb, ub, db := w[ex+"gate_proj.bias"], w[ex+"up_proj.bias"], w[ex+"down_proj.bias"]
		n, inter, h := gate.Shape[0], gate.Shape[1], gate.Shape[2]
		gu := Tensor{Shape: []int{n, h, 2 * inter}, Data: make([]float64, n*h*2*inter)}
		guBias := Tensor{Shape: []int{n, 2 * inter}, Data: make([]float64, n*2*inter)}
		dn := Tensor{Shape: []int{n, inter, h}, Data: make([]float64, n*inter*h)}
		for e := range n {
			for j := range inter {
				for k := range h {
					gu.Data[(e*h+k)*2*inter+2*j] = gate.Data[(e*inter+j)*h+k]
					gu.Data[(e*h+k)*2*inter+2*j+1] = up.Data[(e*inter+j)*h+k]
					dn.Data[(e*inter+j)*h+k] = down.Data[(e*h+k)*inter+j]
				}
				guBias.Data[e*2*inter+2*j] = gb.Data[e*inter+j]
				guBias.Data[e*2*inter+2*j+1] = ub.Data[e*inter+j]
			}
		}
		w[ex+"gate_up_proj"], w[ex+"gate_up_proj_bias"] = gu, guBias
		w[ex+"down_proj"], w[ex+"down_proj_bias"] = dn, db
	}
}

// yarn is _compute_yarn_parameters' input.
type yarn struct {
	factor, attnFactor, mscale, mscaleAllDim, betaFast, betaSlow float64
	origMax                                                      int
	truncate                                                     bool
}

// parseYarn reads rope_scaling yarn: original_max_position_embeddings
// defaults to max_position_embeddings, factor to the ratio of the two.
func parseYarn(c, s cfg, r rope) (rope, error) {
	y := &r.yarn
	y.origMax = s.int("original_max_position_embeddings", c.int("original_max_position_embeddings", r.maxPos))
	y.factor = s.num("factor", 0)
	if y.factor == 0 {
		y.factor = float64(r.maxPos) / float64(y.origMax)
	}
	y.attnFactor = s.num("attention_factor", 0)
	y.mscale, y.mscaleAllDim = s.num("mscale", 0), s.num("mscale_all_dim", 0)
	// `rope_parameters_dict.get("beta_fast") or 32`: a 0 counts as absent.
	y.betaFast, y.betaSlow = s.num("beta_fast", 0), s.num("beta_slow", 0)
	if y.betaFast == 0 {
		y.betaFast = 32
	}
	if y.betaSlow == 0 {
		y.betaSlow = 1
	}
	y.truncate = s.bool("truncate", true)
	if y.origMax <= 0 {
		return r, fmt.Errorf("yarn without original_max_position_embeddings")
	}
	return r, nil
}

// freqs is _compute_yarn_parameters: the inverse frequencies of dim rotated
// features and the attention factor.
func (y yarn) freqs(base float64, dim int) ([]float64, float64) {
	getMscale := func(scale, mscale float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*mscale*math.Log(scale) + 1
	}
	attn := y.attnFactor
	if attn == 0 {
		if y.mscale != 0 && y.mscaleAllDim != 0 {
			attn = getMscale(y.factor, y.mscale) / getMscale(y.factor, y.mscaleAllDim)
		} else {
			attn = getMscale(y.factor, 1)
		}
	}
	findCorrectionDim := func(rotations float64) float64 {
		return float64(dim) * math.Log(float64(y.origMax)/(rotations*2*math.Pi)) / (2 * math.Log(base))
	}
	low, high := findCorrectionDim(y.betaFast), findCorrectionDim(y.betaSlow)
	if y.truncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = math.Max(low, 0), math.Min(high, float64(dim-1))
	if low == high {
		high += 0.001
	}
	inv := make([]float64, dim/2)
	for i := range inv {
		posFreq := math.Pow(base, float64(2*i)/float64(dim))
		extrapolation, interpolation := 1/posFreq, 1/(y.factor*posFreq)
		ramp := math.Min(math.Max((float64(i)-low)/(high-low), 0), 1)
		extrapolationFactor := 1 - ramp
		inv[i] = interpolation*(1-extrapolationFactor) + extrapolation*extrapolationFactor
	}
	return inv, attn
}

// dequantizeMXFP4 expands an MLX "mxfp4" weight (lead..., in/8) U32 with its
// scales (lead..., in/32) U8, from the OCP format's definition: each 4-bit
// code, least significant first in each little-endian word, is E2M1 (sign,
// two exponent bits with bias 1, one mantissa bit; exponent 0 is m/2), and
// its group of 32 is scaled by 2^(scale-127).
func dequantizeMXFP4(set *safetensors.Set, t safetensors.Tensor) (Tensor, error) {
	module := strings.TrimSuffix(t.Name, ".weight")
	st, err := set.Tensor(module + ".scales")
	if err != nil {
		return Tensor{}, err
	}
	lead := t.Shape[:len(t.Shape)-1]
	in := t.Shape[len(t.Shape)-1] * 8
	n := prod(lead) * in
	if len(t.Data) != n/2 || len(st.Data) != n/32 {
		return Tensor{}, fmt.Errorf("mxfp4: %d code bytes and %d scales for %d values", len(t.Data), len(st.Data), n)
	}
	out := Tensor{Shape: append(append([]int(nil), lead...), in), Data: make([]float64, n)}
	for j := range n {
		code := int(t.Data[j/2]>>(4*(j%2))) & 15
		e, man := code>>1&3, float64(code&1)
		v := man / 2
		if e > 0 {
			v = math.Ldexp(1+man/2, e-1)
		}
		if code&8 != 0 {
			v = -v
		}
		out.Data[j] = v * math.Ldexp(1, int(st.Data[j/32])-127)
	}
	return out, nil
}

// unpackBlocks is transformers' convert_moe_packed_tensors for GPT-OSS's
// MXFP4 release: name (experts, out, in/32, 16) U8 holds two E2M1 codes a
// byte (low nibble first) and its _scales (experts, out, in/32) the
// exponents (value·2^(scale-127)); the result is transposed to the
// (experts, in, out) parameter GptOssExperts multiplies with.
func unpackBlocks(set *safetensors.Set, name string) (Tensor, error) {
	bt, err := set.Tensor(name)
	if err != nil {
		return Tensor{}, err
	}
	st, err := set.Tensor(strings.TrimSuffix(name, "_blocks") + "_scales")
	if err != nil {
		return Tensor{}, err
	}
	if len(bt.Shape) != 4 || bt.Shape[3] != 16 {
		return Tensor{}, fmt.Errorf("blocks of shape %v", bt.Shape)
	}
	n, out, in := bt.Shape[0], bt.Shape[1], bt.Shape[2]*32
	if len(st.Data) != n*out*in/32 || len(bt.Data) != n*out*in/2 {
		return Tensor{}, fmt.Errorf("%d scales for blocks %v", len(st.Data), bt.Shape)
	}
	lut := [16]float64{+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0}
	t := Tensor{Shape: []int{n, in, out}, Data: make([]float64, n*in*out)}
	for e := range n {
		for o := range out {
			row := (e*out + o) * in
			for i := range in {
				blk := bt.Data[(row+i)/2]
				idx := blk & 0x0F
				if i%2 == 1 {
					idx = blk >> 4
				}
				exp := int(st.Data[(row+i)/32]) - 127
				t.Data[(e*in+i)*out+o] = math.Ldexp(lut[idx], exp)
			}
		}
	}
	return t, nil
}
