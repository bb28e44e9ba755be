package modeltest

import (
	"fmt"
	"math"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// gptossRope is the real checkpoints' rope_scaling (gpt-oss-20b and 120b):
// with a head_dim of 16 and rope_theta 150000 its ramp runs over rotated
// pairs 2 to 4, so kept, blended and slowed frequencies all occur.
var gptossRope = map[string]any{"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
	"original_max_position_embeddings": 4096, "truncate": false}

// gptossLimit is swiglu_limit, the real checkpoints' 7. The experts' gate
// and up weights are drawn large enough (gateUpStd) that a good share of
// their outputs pass ±7, so both clamps of the activation bite.
const gptossLimit = 7.0

// gateUpStd and downStd scale the experts' weights: gate and up outputs of
// standard deviation 4 for normalised inputs, and a down projection small
// enough to keep the residual stream of order one.
func gateUpStd(h int) float64 { return 4 / math.Sqrt(float64(h)) }
func downStd(i int) float64   { return 0.1 / math.Sqrt(float64(i)) }

// gptossConfig writes GptOssConfig's keys: layers alternating sliding and
// full attention from the first, a window of SlidingWindow (4 when unset).
func (s Spec) gptossConfig(c map[string]any) map[string]any {
	window := s.SlidingWindow
	if window == 0 {
		window = 4
	}
	types := make([]string, s.Layers)
	for l := range types {
		types[l] = "full_attention"
		if l%2 == 0 {
			types[l] = "sliding_attention"
		}
	}
	c["attention_bias"] = true
	c["attention_dropout"] = 0.0
	c["num_local_experts"] = s.Experts
	c["num_experts_per_tok"] = s.TopK
	c["experts_per_token"] = s.TopK
	c["swiglu_limit"] = gptossLimit
	c["sliding_window"] = window
	c["layer_types"] = types
	c["rope_theta"] = 150000.0
	c["rope_scaling"] = gptossRope
	c["initial_context_length"] = 4096
	c["output_router_logits"] = false
	c["router_aux_loss_coef"] = 0.9
	if s.QuantMode == "mxfp4" && s.QuantBits == 0 {
		c["quantization_config"] = map[string]any{"quant_method": "mxfp4", "modules_to_not_convert": []string{
			"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"}}
	}
	return c
}

// gptossTensors draws GPT-OSS's tensors: biased attention with sinks, a
// biased router, and experts with biases, in transformers' fused layout
// (gate_up_proj input-major with gate and up columns interleaved) or, with
// Stacked, mlx-lm's (experts.{gate,up,down}_proj, float or MLX-quantized).
func (g *gen) gptossTensors() error {
	s := g.s
	qd, kd, h, ei := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim, s.Hidden, s.Intermediate
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	steps := []error{g.linear("model.embed_tokens", s.Vocab, h, 2*inv(h), false)}
	for i := range s.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		steps = append(steps,
			g.norm(p+"input_layernorm.weight", h),
			g.linear(p+"self_attn.q_proj", qd, h, inv(h), true),
			g.linear(p+"self_attn.k_proj", kd, h, inv(h), true),
			g.linear(p+"self_attn.v_proj", kd, h, inv(h), true),
			g.linear(p+"self_attn.o_proj", h, qd, 0.5*inv(qd), true),
			// Sinks of order one take a visible share of each head's attention.
			g.float(p+"self_attn.sinks", g.normal(s.Heads, 0, 1), s.Heads),
			g.norm(p+"post_attention_layernorm.weight", h),
			g.linear(p+"mlp.router", s.Experts, h, 2*inv(h), true))
		ex := p + "mlp.experts."
		if s.Stacked {
			shapes := [3][2]int{{ei, h}, {ei, h}, {h, ei}}
			stds := [3]float64{gateUpStd(h), gateUpStd(h), downStd(ei)}
			for j, name := range [3]string{"gate_proj", "up_proj", "down_proj"} {
				steps = append(steps,
					g.stacked(ex+name, s.Experts, shapes[j][0], shapes[j][1], stds[j]),
					g.float(ex+name+".bias", g.normal(s.Experts*shapes[j][0], 0, 0.1), s.Experts, shapes[j][0]))
			}
			continue
		}
		if s.QuantMode == "mxfp4" && s.QuantBits == 0 {
			steps = append(steps,
				g.blocks(ex+"gate_up_proj", g.normal(s.Experts*2*ei*h, 0, gateUpStd(h)), s.Experts, 2*ei, h),
				g.float(ex+"gate_up_proj_bias", g.normal(s.Experts*2*ei, 0, 0.1), s.Experts, 2*ei),
				g.blocks(ex+"down_proj", g.normal(s.Experts*h*ei, 0, downStd(ei)), s.Experts, h, ei),
				g.float(ex+"down_proj_bias", g.normal(s.Experts*h, 0, 0.1), s.Experts, h))
			continue
		}
		steps = append(steps,
			g.float(ex+"gate_up_proj", g.normal(s.Experts*h*2*ei, 0, gateUpStd(h)), s.Experts, h, 2*ei),
			g.float(ex+"gate_up_proj_bias", g.normal(s.Experts*2*ei, 0, 0.1), s.Experts, 2*ei),
			g.float(ex+"down_proj", g.normal(s.Experts*ei*h, 0, downStd(ei)), s.Experts, ei, h),
			g.float(ex+"down_proj_bias", g.normal(s.Experts*h, 0, 0.1), s.Experts, h))
	}
	steps = append(steps, g.norm("model.norm.weight", h))
	if !s.Tied {
		steps = append(steps, g.linear("lm_head", s.Vocab, h, 2*inv(h), false))
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

// mxfp4 writes module path in MLX's "mxfp4" mode: (out, in/8) U32 codes and
// (out, in/32) U8 scales, no biases.
func (g *gen) mxfp4(path string, w []float32, out, in int) error {
	var codes, scales []byte
	for r := range out {
		c, s, err := model.QuantizeMXFP4Row(w[r*in : (r+1)*in])
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		codes, scales = append(codes, c...), append(scales, s...)
	}
	g.out = append(g.out,
		safetensors.Tensor{Name: path + ".weight", DType: safetensors.U32, Shape: []int{out, in / 8}, Data: codes},
		safetensors.Tensor{Name: path + ".scales", DType: safetensors.U8, Shape: []int{out, in / 32}, Data: scales})
	return nil
}

// blocks writes n (out, in) output-major matrices as the MXFP4 release
// does: path+"_blocks" (n, out, in/32, 16) U8 and path+"_scales" (n, out,
// in/32) U8.
func (g *gen) blocks(path string, w []float32, n, out, in int) error {
	var codes, scales []byte
	for r := range n * out {
		c, s, err := model.QuantizeMXFP4Row(w[r*in : (r+1)*in])
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		codes, scales = append(codes, c...), append(scales, s...)
	}
	g.out = append(g.out,
		safetensors.Tensor{Name: path + "_blocks", DType: safetensors.U8, Shape: []int{n, out, in / 32, 16}, Data: codes},
		safetensors.Tensor{Name: path + "_scales", DType: safetensors.U8, Shape: []int{n, out, in / 32}, Data: scales})
	return nil
}
