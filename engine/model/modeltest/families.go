package modeltest

import (
	"fmt"
	"math"
	"slices"
)

// The families of issue #18. Their config.json carries what transformers
// writes for each (family-specific keys with realistic values scaled to the
// tiny model), and their tensors the family's own names and extra norms.
var familyNames = map[string]struct{ arch, modelType string }{
	"gemma2":   {"Gemma2ForCausalLM", "gemma2"},
	"gemma3":   {"Gemma3ForCausalLM", "gemma3_text"},
	"gemma3mm": {"Gemma3ForConditionalGeneration", "gemma3"}, // the text model under language_model.*
	"phi3":     {"Phi3ForCausalLM", "phi3"},
	"granite":  {"GraniteForCausalLM", "granite"},
	"olmo2":    {"Olmo2ForCausalLM", "olmo2"},
	"smollm3":  {"SmolLM3ForCausalLM", "smollm3"},
}

func init() {
	for k, v := range familyNames {
		archNames[k] = v
	}
}

// Families lists the Spec.Arch values of the issue #18 families.
func Families() []string {
	var out []string
	for k := range familyNames {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isFamily(arch string) bool { _, ok := familyNames[arch]; return ok }

func (s Spec) gemma() bool { return s.Arch == "gemma2" || s.Arch == "gemma3" || s.Arch == "gemma3mm" }

// Phi3Rotary is the partial_rotary_factor of the test Phi-3 models (Phi-4-mini's).
const Phi3Rotary = 0.75

// Phi3OriginalMax is the test Phi-3 models' original_max_position_embeddings:
// prompts longer than this switch longrope to its long factors.
const Phi3OriginalMax = 8

// familyConfig rewrites the Llama-style config c into the family's.
func (s Spec) familyConfig(c map[string]any) map[string]any {
	delete(c, "quantization")
	delete(c, "quantization_config")
	c["attention_bias"] = false
	switch s.Arch {
	case "gemma2", "gemma3", "gemma3mm":
		c["hidden_activation"] = "gelu_pytorch_tanh"
		c["hidden_act"] = "gelu_pytorch_tanh"
		c["rms_norm_eps"] = 1e-6
		c["query_pre_attn_scalar"] = s.HeadDim
		c["tie_word_embeddings"] = true
		c["sliding_window"] = s.window()
		c["pad_token_id"] = 0
		if s.Arch == "gemma2" {
			c["attn_logit_softcapping"] = 50.0
			c["final_logit_softcapping"] = 30.0
			c["cache_implementation"] = "hybrid"
			c["layer_types"] = s.layerTypes(func(l int) bool { return (l+1)%2 != 0 })
			break
		}
		c["attn_logit_softcapping"] = nil
		c["final_logit_softcapping"] = nil
		c["rope_theta"] = 1e6
		c["rope_local_base_freq"] = 10000.0
		c["sliding_window_pattern"] = 6
		c["layer_types"] = s.layerTypes(func(l int) bool { return (l+1)%6 != 0 })
		c["rope_scaling"] = nil
		if r := s.RopeScaling; r != nil {
			c["rope_scaling"] = map[string]any{"rope_type": r.Type, "factor": r.Factor}
		}
	case "phi3":
		rot := int(float64(s.HeadDim) * Phi3Rotary)
		short, long := make([]float64, rot/2), make([]float64, rot/2)
		for i := range short {
			// Shapes like Phi-3.5's: short factors near 1, long ones growing
			// with the wavelength.
			short[i] = 1 + 0.05*float64(i)
			long[i] = 1 + math.Pow(float64(i), 1.5)
		}
		c["partial_rotary_factor"] = Phi3Rotary
		c["original_max_position_embeddings"] = Phi3OriginalMax
		c["rope_scaling"] = map[string]any{"type": "longrope", "short_factor": short, "long_factor": long}
		c["sliding_window"] = s.MaxPos
		c["embd_pdrop"], c["resid_pdrop"], c["attention_dropout"] = 0.0, 0.0, 0.0
		c["pad_token_id"] = 0
	case "granite":
		c["embedding_multiplier"] = 12.0
		c["residual_multiplier"] = 0.22
		c["attention_multiplier"] = 1 / float64(s.HeadDim)
		c["logits_scaling"] = 8.0
		c["mlp_bias"] = false
	case "olmo2":
		c["rms_norm_eps"] = 1e-6
		c["rope_theta"] = 500000.0
		c["pad_token_id"] = 0
	case "smollm3":
		rope := make([]int, s.Layers)
		for l := range rope {
			if (l+1)%4 != 0 {
				rope[l] = 1
			}
		}
		c["no_rope_layers"] = rope
		c["no_rope_layer_interval"] = 4
		c["rope_theta"] = 2e6
		c["mlp_bias"] = false
		c["use_sliding_window"] = s.SlidingWindow > 0
		c["sliding_window"] = nil
		if s.SlidingWindow > 0 {
			c["sliding_window"] = s.SlidingWindow
		}
		c["layer_types"] = s.layerTypes(func(l int) bool { return s.SlidingWindow > 0 && rope[l] == 0 })
	}
	q := s.quantization()
	if s.Arch != "gemma3mm" {
		if q != nil {
			c["quantization"], c["quantization_config"] = q, q
		}
		return c
	}
	// Gemma3ForConditionalGeneration: the text model's settings under
	// text_config, mlx-vlm's quantization at the top.
	c["model_type"] = "gemma3_text"
	torch := c["torch_dtype"]
	delete(c, "torch_dtype")
	delete(c, "architectures")
	top := map[string]any{
		"architectures":       []string{"Gemma3ForConditionalGeneration"},
		"model_type":          "gemma3",
		"text_config":         c,
		"vision_config":       visionConfig(),
		"boi_token_index":     visionBegin,
		"eoi_token_index":     visionEnd,
		"image_token_index":   ImageToken,
		"mm_tokens_per_image": visionTokens,
		"torch_dtype":         torch,
		"eos_token_id":        []int{1, 106},
	}
	if q != nil {
		top["quantization"], top["quantization_config"] = q, q
	}
	return top
}

func (s Spec) window() int {
	if s.SlidingWindow > 0 {
		return s.SlidingWindow
	}
	return 4
}

func (s Spec) layerTypes(sliding func(int) bool) []string {
	t := make([]string, s.Layers)
	for l := range t {
		t[l] = "full_attention"
		if sliding(l) {
			t[l] = "sliding_attention"
		}
	}
	return t
}

func (s Spec) quantization() map[string]any {
	if s.QuantBits == 0 {
		return nil
	}
	q := map[string]any{"group_size": s.GroupSize, "bits": s.QuantBits}
	for k, v := range s.QuantOverrides {
		if v == nil {
			q[k] = false
		} else {
			q[k] = map[string]any{"group_size": v.GroupSize, "bits": v.Bits}
		}
	}
	return q
}

// familyTensors draws the family's tensors in the same spirit as tensors:
// activations of order one, attention scores of unit variance.
func (g *gen) familyTensors() error {
	s := g.s
	qd, kd := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	pre := "model."
	if s.Arch == "gemma3mm" {
		pre = "language_model.model." // mlx-community's names for the text model
	}
	// Gemma stores norm weights w of a (1 + w) scale: draw them around 0.
	norm := func(name string, n int) error {
		if s.gemma() {
			return g.float(name, g.normal(n, 0, 0.1), n)
		}
		return g.norm(name, n)
	}
	embedStd := 2 * inv(s.Hidden)
	if s.Arch == "granite" {
		// embedding_multiplier 12 scales the embeddings: keep them of order one after it.
		embedStd /= 12
	}
	steps := []error{g.linear(pre+"embed_tokens", s.Vocab, s.Hidden, embedStd, false)}
	for i := range s.Layers {
		p := fmt.Sprintf("%slayers.%d.", pre, i)
		if s.Arch != "olmo2" {
			steps = append(steps, norm(p+"input_layernorm.weight", s.Hidden))
		}
		if s.Arch == "phi3" {
			steps = append(steps, g.linear(p+"self_attn.qkv_proj", qd+2*kd, s.Hidden, inv(s.Hidden), false))
		} else {
			steps = append(steps,
				g.linear(p+"self_attn.q_proj", qd, s.Hidden, inv(s.Hidden), false),
				g.linear(p+"self_attn.k_proj", kd, s.Hidden, inv(s.Hidden), false),
				g.linear(p+"self_attn.v_proj", kd, s.Hidden, inv(s.Hidden), false))
		}
		steps = append(steps, g.linear(p+"self_attn.o_proj", s.Hidden, qd, 0.5*inv(qd), false))
		switch s.Arch {
		case "gemma3", "gemma3mm":
			steps = append(steps, norm(p+"self_attn.q_norm.weight", s.HeadDim), norm(p+"self_attn.k_norm.weight", s.HeadDim))
		case "olmo2":
			steps = append(steps, norm(p+"self_attn.q_norm.weight", qd), norm(p+"self_attn.k_norm.weight", kd))
		}
		steps = append(steps, norm(p+"post_attention_layernorm.weight", s.Hidden))
		if s.gemma() {
			steps = append(steps, norm(p+"pre_feedforward_layernorm.weight", s.Hidden))
		}
		if s.gemma() || s.Arch == "olmo2" {
			steps = append(steps, norm(p+"post_feedforward_layernorm.weight", s.Hidden))
		}
		if s.Arch == "phi3" {
			steps = append(steps, g.linear(p+"mlp.gate_up_proj", 2*s.Intermediate, s.Hidden, inv(s.Hidden), false))
		} else {
			steps = append(steps,
				g.linear(p+"mlp.gate_proj", s.Intermediate, s.Hidden, inv(s.Hidden), false),
				g.linear(p+"mlp.up_proj", s.Intermediate, s.Hidden, inv(s.Hidden), false))
		}
		steps = append(steps, g.linear(p+"mlp.down_proj", s.Hidden, s.Intermediate, 0.5*inv(s.Intermediate), false))
	}
	steps = append(steps, norm(pre+"norm.weight", s.Hidden))
	if !s.Tied && !s.gemma() {
		steps = append(steps, g.linear("lm_head", s.Vocab, s.Hidden, 2*inv(s.Hidden), false))
	}
	if s.Arch == "gemma3mm" {
		// The whole vision tower and projector (vision.go), drawn after the
		// text model so its weights do not depend on them.
		steps = append(steps, g.visionTensors())
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}
