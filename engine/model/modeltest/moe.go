package modeltest

import (
	"fmt"
	"math"
	"slices"
)

// The mixture-of-experts families of issue #21.
var moeNames = map[string]struct{ arch, modelType string }{
	"qwen3moe": {"Qwen3MoeForCausalLM", "qwen3_moe"},
	"mixtral":  {"MixtralForCausalLM", "mixtral"},
	"gptoss":   {"GptOssForCausalLM", "gpt_oss"},
}

func init() {
	for k, v := range moeNames {
		archNames[k] = v
	}
}

// MoEFamilies lists the Spec.Arch values of the mixture-of-experts families.
func MoEFamilies() []string { return []string{"mixtral", "qwen3moe"} }

func isMoE(arch string) bool { _, ok := moeNames[arch]; return ok }

func (s Spec) moeDefaults() Spec {
	if !isMoE(s.Arch) {
		return s
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&s.Experts, 4)
	def(&s.TopK, 2)
	def(&s.ExpertInter, 64)
	def(&s.SparseStep, 1)
	return s
}

// expertInter is each expert's intermediate size: Mixtral's experts are
// intermediate_size wide, Qwen3-MoE's moe_intermediate_size.
func (s Spec) expertInter() int {
	if s.Arch == "mixtral" || s.Arch == "gptoss" {
		return s.Intermediate
	}
	return s.ExpertInter
}

// moeLayer reports whether layer l is sparse, as Qwen3MoeDecoderLayer decides.
func (s Spec) moeLayer(l int) bool {
	return s.Arch == "mixtral" || !slices.Contains(s.MLPOnly, l) && (l+1)%s.SparseStep == 0
}

func (s Spec) moeName() string {
	n := fmt.Sprintf("e%dk%d", s.Experts, s.TopK)
	if s.NormTopK {
		n += "-norm"
	}
	if s.Stacked {
		n += "-stacked"
	}
	if s.RouterTies {
		n += "-ties"
	}
	if s.SparseStep > 1 || len(s.MLPOnly) > 0 {
		n += fmt.Sprintf("-step%d-dense%v", s.SparseStep, s.MLPOnly)
	}
	return n
}

// moeConfig writes the family's config.json keys, as transformers does.
func (s Spec) moeConfig(c map[string]any) map[string]any {
	if s.Arch == "gptoss" {
		return s.gptossConfig(c)
	}
	c["attention_bias"] = false
	c["attention_dropout"] = 0.0
	c["num_experts_per_tok"] = s.TopK
	c["output_router_logits"] = false
	c["router_aux_loss_coef"] = 0.001
	switch s.Arch {
	case "qwen3moe":
		c["num_experts"] = s.Experts
		c["moe_intermediate_size"] = s.ExpertInter
		c["norm_topk_prob"] = s.NormTopK
		c["decoder_sparse_step"] = s.SparseStep
		c["mlp_only_layers"] = append([]int{}, s.MLPOnly...)
		c["use_sliding_window"] = false
		c["sliding_window"] = nil
		c["max_window_layers"] = s.Layers
	case "mixtral":
		c["num_local_experts"] = s.Experts
		c["router_jitter_noise"] = 0.0
		c["sliding_window"] = nil
		if s.SlidingWindow > 0 {
			c["sliding_window"] = s.SlidingWindow
		}
	}
	return c
}

// moeTensors draws the family's tensors: attention as Qwen3's (with q/k
// norms for qwen3moe), a router whose logits are of order one, and experts
// per expert or stacked as mlx-lm saves them.
func (g *gen) moeTensors() error {
	s := g.s
	if s.Arch == "gptoss" {
		return g.gptossTensors()
	}
	qd, kd := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	steps := []error{g.linear("model.embed_tokens", s.Vocab, s.Hidden, 2*inv(s.Hidden), false)}
	block, expert := "mlp.", [3]string{"gate_proj", "up_proj", "down_proj"}
	if s.Arch == "mixtral" {
		block, expert = "block_sparse_moe.", [3]string{"w1", "w3", "w2"}
	}
	ei := s.expertInter()
	for i := range s.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		steps = append(steps,
			g.norm(p+"input_layernorm.weight", s.Hidden),
			g.linear(p+"self_attn.q_proj", qd, s.Hidden, inv(s.Hidden), false),
			g.linear(p+"self_attn.k_proj", kd, s.Hidden, inv(s.Hidden), false),
			g.linear(p+"self_attn.v_proj", kd, s.Hidden, inv(s.Hidden), false),
			g.linear(p+"self_attn.o_proj", s.Hidden, qd, 0.5*inv(qd), false))
		if s.Arch == "qwen3moe" {
			steps = append(steps, g.norm(p+"self_attn.q_norm.weight", s.HeadDim), g.norm(p+"self_attn.k_norm.weight", s.HeadDim))
		}
		steps = append(steps, g.norm(p+"post_attention_layernorm.weight", s.Hidden))
		if !s.moeLayer(i) {
			steps = append(steps,
				g.linear(p+"mlp.gate_proj", s.Intermediate, s.Hidden, inv(s.Hidden), false),
				g.linear(p+"mlp.up_proj", s.Intermediate, s.Hidden, inv(s.Hidden), false),
				g.linear(p+"mlp.down_proj", s.Hidden, s.Intermediate, 0.5*inv(s.Intermediate), false))
			continue
		}
		b := p + block
		steps = append(steps, g.router(b+"gate", 2*inv(s.Hidden)))
		shapes := [3][2]int{{ei, s.Hidden}, {ei, s.Hidden}, {s.Hidden, ei}}
		stds := [3]float64{inv(s.Hidden), inv(s.Hidden), 0.5 * inv(ei)}
		if s.Stacked {
			for j, name := range [3]string{"gate_proj", "up_proj", "down_proj"} {
				steps = append(steps, g.stacked(b+"switch_mlp."+name, s.Experts, shapes[j][0], shapes[j][1], stds[j]))
			}
			continue
		}
		for e := range s.Experts {
			for j := range 3 {
				steps = append(steps, g.linear(fmt.Sprintf("%sexperts.%d.%s", b, e, expert[j]), shapes[j][0], shapes[j][1], stds[j], false))
			}
		}
	}
	steps = append(steps, g.norm("model.norm.weight", s.Hidden))
	if !s.Tied {
		steps = append(steps, g.linear("lm_head", s.Vocab, s.Hidden, 2*inv(s.Hidden), false))
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

// stacked writes n experts' (out, in) layers as one (n, out, in) tensor, or,
// quantized, (n, out, in*bits/32) codes with (n, out, in/group) scales and
// biases: mlx-lm's SwitchLinear.
func (g *gen) stacked(path string, n, out, in int, std float64) error {
	w := g.normal(n*out*in, 0, std)
	q, quantized := g.quant(path)
	if !quantized {
		return g.float(path+".weight", w, n, out, in)
	}
	// Quantize as (n*out, in) rows, then restore the expert axis.
	first := len(g.out)
	if err := g.quantized(path, w, n*out, in, q); err != nil {
		return err
	}
	for i := first; i < len(g.out); i++ {
		t := &g.out[i]
		t.Shape = []int{n, out, t.Shape[1]}
	}
	return nil
}

// router writes the (experts, hidden) gate; with RouterTies every expert from
// 1 on has expert 1's row.
func (g *gen) router(path string, std float64) error {
	s := g.s
	w := g.normal(s.Experts*s.Hidden, 0, std)
	if s.RouterTies {
		for e := 2; e < s.Experts; e++ {
			copy(w[e*s.Hidden:(e+1)*s.Hidden], w[s.Hidden:2*s.Hidden])
		}
	}
	if q, ok := g.quant(path); ok {
		return g.quantized(path, w, s.Experts, s.Hidden, q)
	}
	return g.float(path+".weight", w, s.Experts, s.Hidden)
}
