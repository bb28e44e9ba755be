package hfref

import (
	"encoding/json"
	"fmt"
	"math"
)

// family is the part of a config.json the forward pass reads, with the
// defaults of the family's configuration_<family>.py filled in.
type family struct {
	arch string // architectures[0], with Gemma3ForConditionalGeneration reported as such

	hidden, inter, layers, heads, kvHeads, headDim, vocab int
	eps                                                   float64
	tied                                                  bool
	attnBias, mlpBias                                     bool
	act                                                   string // hidden_act / hidden_activation
	dtype                                                 string // torch_dtype: the Gemma embedding scale is rounded to it

	// RoPE. ropeLayer[l] false: the layer has no RoPE (SmolLM3 NoPE layers).
	ropeLayer    []bool
	globalRope   rope // full-attention layers (and every layer outside Gemma 3)
	localRope    rope // Gemma 3 sliding layers: rope_local_base_freq, never scaled
	rotaryDim    int  // int(head_dim * partial_rotary_factor)
	slidingLayer []bool
	window       int // sliding_window for the layers in slidingLayer

	scale        float64 // attention score scale
	attnSoftcap  float64 // 0: none
	finalSoftcap float64 // 0: none

	embedMult, residualMult, logitsScaling float64 // Granite; 1, 1, 1 elsewhere

	moe moeConfig // Qwen3-MoE and Mixtral; zero elsewhere
	oss ossConfig // GPT-OSS; zero elsewhere
}

// rope is one set of rotary parameters, as modeling_rope_utils computes them.
type rope struct {
	theta     float64
	kind      string // "default", "linear", "longrope", "llama3"
	factor    float64
	short     []float64 // longrope
	long      []float64 // longrope
	origMax   int       // longrope, llama3
	maxPos    int       // max_position_embeddings, for longrope's default attention factor
	attnScale float64   // longrope: explicit attention_factor, 0 when absent
	lowFreq   float64   // llama3
	highFreq  float64   // llama3
	yarn      yarn      // yarn
}

// cfg reads config.json keys with the family's defaults.
type cfg map[string]any

func (c cfg) has(k string) bool { v, ok := c[k]; return ok && v != nil }

func (c cfg) num(k string, def float64) float64 {
	if v, ok := c[k].(float64); ok {
		return v
	}
	return def
}

func (c cfg) int(k string, def int) int { return int(c.num(k, float64(def))) }

func (c cfg) bool(k string, def bool) bool {
	if v, ok := c[k].(bool); ok {
		return v
	}
	return def
}

func (c cfg) str(k, def string) string {
	if v, ok := c[k].(string); ok {
		return v
	}
	return def
}

func (c cfg) floats(k string) []float64 {
	a, _ := c[k].([]any)
	out := make([]float64, 0, len(a))
	for _, v := range a {
		f, _ := v.(float64)
		out = append(out, f)
	}
	return out
}

func (c cfg) sub(k string) cfg {
	m, _ := c[k].(map[string]any)
	return cfg(m)
}

// ParseConfig reads config.json.
func ParseConfig(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("hfref: config.json: %w", err)
	}
	return m, nil
}

// Supported lists the architectures this package implements.
var Supported = []string{"LlamaForCausalLM", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration",
	"Phi3ForCausalLM", "GraniteForCausalLM", "Olmo2ForCausalLM", "SmolLM3ForCausalLM",
	"Qwen3MoeForCausalLM", "MixtralForCausalLM", "Qwen3ForCausalLM", "Idefics3ForConditionalGeneration"}

func parse(raw map[string]any) (*family, error) {
	c := cfg(raw)
	archs, _ := c["architectures"].([]any)
	if len(archs) == 0 {
		return nil, fmt.Errorf("hfref: config.json names no architecture")
	}
	arch, _ := archs[0].(string)
	f := &family{arch: arch, embedMult: 1, residualMult: 1, logitsScaling: 1}
	if arch == "Gemma3ForConditionalGeneration" || arch == "Idefics3ForConditionalGeneration" {
		// The text model reads text_config alone; torch_dtype may sit at the top.
		tc := c.sub("text_config")
		if tc == nil {
			tc = cfg{}
		}
		if !tc.has("torch_dtype") {
			tc["torch_dtype"] = c.str("torch_dtype", "")
		}
		c = tc
	}
	var err error
	switch arch {
	case "LlamaForCausalLM": // the baseline the others differ from, to check the harness on
		err = f.llamaLike(c, 10000, 1e-6)
	case "Idefics3ForConditionalGeneration": // its text model is LlamaModel
		err = f.llamaLike(c, 10000, 1e-6)
		if tie, ok := raw["tie_word_embeddings"].(bool); ok {
			f.tied = tie
		}
	case "Gemma2ForCausalLM":
		err = f.gemma(c, 2)
	case "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration":
		err = f.gemma(c, 3)
	case "Phi3ForCausalLM":
		err = f.phi3(c)
	case "GraniteForCausalLM":
		err = f.llamaLike(c, 10000, 1e-6)
		f.embedMult = c.num("embedding_multiplier", 1)
		f.residualMult = c.num("residual_multiplier", 1)
		f.scale = c.num("attention_multiplier", 1)
		f.logitsScaling = c.num("logits_scaling", 1)
	case "Olmo2ForCausalLM":
		err = f.llamaLike(c, 10000, 1e-5)
	case "SmolLM3ForCausalLM":
		err = f.smollm3(c)
	case "Qwen3ForCausalLM": // modeling_qwen3.py: Llama's layers with q_norm and k_norm per head
		err = f.llamaLike(c, 10000, 1e-6)
		if err == nil && c.bool("use_sliding_window", false) {
			err = fmt.Errorf("use_sliding_window is not implemented here")
		}
	case "Qwen3MoeForCausalLM":
		err = f.qwen3Moe(c)
	case "MixtralForCausalLM":
		err = f.mixtral(c)
	case "GptOssForCausalLM":
		err = f.gptOss(c)
	default:
		return nil, fmt.Errorf("hfref: architecture %q is not one of %v", arch, Supported)
	}
	if err != nil {
		return nil, fmt.Errorf("hfref: %s: %w", arch, err)
	}
	return f, f.check()
}

// llamaLike reads the keys every family shares with LlamaConfig.
func (f *family) llamaLike(c cfg, theta, eps float64) error {
	f.hidden = c.int("hidden_size", 0)
	f.inter = c.int("intermediate_size", 0)
	f.layers = c.int("num_hidden_layers", 0)
	f.heads = c.int("num_attention_heads", 0)
	f.kvHeads = c.int("num_key_value_heads", f.heads)
	if f.heads > 0 {
		f.headDim = c.int("head_dim", f.hidden/f.heads)
	}
	f.vocab = c.int("vocab_size", 0)
	f.eps = c.num("rms_norm_eps", eps)
	f.tied = c.bool("tie_word_embeddings", false)
	f.attnBias = c.bool("attention_bias", false)
	f.mlpBias = c.bool("mlp_bias", false)
	f.act = c.str("hidden_act", "silu")
	f.dtype = c.str("torch_dtype", c.str("dtype", "float32"))
	f.rotaryDim = f.headDim
	f.scale = 1 / math.Sqrt(float64(f.headDim))
	f.ropeLayer = make([]bool, f.layers)
	f.slidingLayer = make([]bool, f.layers)
	for l := range f.ropeLayer {
		f.ropeLayer[l] = true
	}
	r, err := parseRope(c, c.num("rope_theta", theta))
	f.globalRope = r
	return err
}

// parseRope reads rope_scaling (transformers 4) or rope_parameters (5).
func parseRope(c cfg, theta float64) (rope, error) {
	r := rope{theta: theta, kind: "default", factor: 1, maxPos: c.int("max_position_embeddings", 2048)}
	s := c.sub("rope_scaling")
	if s == nil {
		s = c.sub("rope_parameters")
	}
	if s == nil {
		return r, nil
	}
	if s.has("rope_theta") {
		r.theta = s.num("rope_theta", theta)
	}
	r.kind = s.str("rope_type", s.str("type", "default"))
	switch r.kind {
	case "default":
	case "linear":
		r.factor = s.num("factor", 0)
		if r.factor <= 0 {
			return r, fmt.Errorf("linear rope without a factor")
		}
	case "longrope":
		r.short, r.long = s.floats("short_factor"), s.floats("long_factor")
		// Phi-3 keeps original_max_position_embeddings at the top level.
		r.origMax = s.int("original_max_position_embeddings", c.int("original_max_position_embeddings", 0))
		r.factor = s.num("factor", 0)
		r.attnScale = s.num("attention_factor", 0)
		if r.origMax <= 0 {
			return r, fmt.Errorf("longrope without original_max_position_embeddings")
		}
	case "llama3":
		r.factor = s.num("factor", 0)
		r.lowFreq, r.highFreq = s.num("low_freq_factor", 0), s.num("high_freq_factor", 0)
		r.origMax = s.int("original_max_position_embeddings", 0)
	case "yarn":
		return parseYarn(c, s, r)
	default:
		return r, fmt.Errorf("rope type %q", r.kind)
	}
	return r, nil
}

// gemma reads Gemma2Config (version 2) or Gemma3TextConfig (3).
func (f *family) gemma(c cfg, version int) error {
	theta := 10000.0
	if version == 3 {
		theta = 1e6
	}
	def := map[string]float64{"vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216,
		"num_hidden_layers": 26, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256}
	if version == 3 {
		def["vocab_size"] = 262208
	}
	for k, v := range def {
		if !c.has(k) {
			c[k] = v
		}
	}
	if !c.has("tie_word_embeddings") {
		c["tie_word_embeddings"] = true
	}
	if err := f.llamaLike(c, theta, 1e-6); err != nil {
		return err
	}
	f.act = c.str("hidden_activation", c.str("hidden_act", "gelu_pytorch_tanh"))
	f.scale = 1 / math.Sqrt(c.num("query_pre_attn_scalar", 256))
	f.window = c.int("sliding_window", 4096)
	if version == 2 {
		f.attnSoftcap = c.num("attn_logit_softcapping", 50)
		f.finalSoftcap = c.num("final_logit_softcapping", 30)
	} else {
		f.attnSoftcap = c.num("attn_logit_softcapping", 0)
		f.finalSoftcap = c.num("final_logit_softcapping", 0)
		f.localRope = rope{theta: c.num("rope_local_base_freq", 10000), kind: "default", factor: 1}
	}
	pattern := 2
	if version == 3 {
		pattern = c.int("sliding_window_pattern", 6)
	}
	types, _ := c["layer_types"].([]any)
	if types != nil && len(types) != f.layers {
		return fmt.Errorf("%d layer_types for %d layers", len(types), f.layers)
	}
	for l := range f.layers {
		if types != nil {
			f.slidingLayer[l] = types[l] == "sliding_attention"
		} else {
			f.slidingLayer[l] = (l+1)%pattern != 0
		}
	}
	return nil
}

// phi3 reads Phi3Config: partial rotary, longrope, and a sliding window over
// every layer when sliding_window is set.
func (f *family) phi3(c cfg) error {
	if err := f.llamaLike(c, 10000, 1e-5); err != nil {
		return err
	}
	f.rotaryDim = int(float64(f.headDim) * c.num("partial_rotary_factor", 1))
	if w := c.int("sliding_window", 0); w > 0 {
		f.window = w
		for l := range f.slidingLayer {
			f.slidingLayer[l] = true
		}
	}
	return nil
}

// smollm3 reads SmolLM3Config: no_rope_layers[l] == 1 means layer l uses RoPE;
// a sliding window only when use_sliding_window, and by default only on the
// NoPE layers.
func (f *family) smollm3(c cfg) error {
	if err := f.llamaLike(c, 2e6, 1e-6); err != nil {
		return err
	}
	interval := c.int("no_rope_layer_interval", 4)
	if nr := c.floats("no_rope_layers"); c.has("no_rope_layers") {
		if len(nr) != f.layers {
			return fmt.Errorf("%d no_rope_layers for %d layers", len(nr), f.layers)
		}
		for l, v := range nr {
			f.ropeLayer[l] = v != 0
		}
	} else {
		for l := range f.layers {
			f.ropeLayer[l] = (l+1)%interval != 0
		}
	}
	useSW, w := c.bool("use_sliding_window", false), c.int("sliding_window", 0)
	types, _ := c["layer_types"].([]any)
	for l := range f.layers {
		sliding := w > 0 && !f.ropeLayer[l]
		if types != nil && l < len(types) {
			sliding = types[l] == "sliding_attention"
		}
		f.slidingLayer[l] = useSW && w > 0 && sliding
	}
	f.window = w
	return nil
}

func (f *family) check() error {
	switch {
	case f.hidden <= 0 || f.inter <= 0 || f.layers <= 0 || f.heads <= 0 || f.kvHeads <= 0 || f.headDim <= 0 || f.vocab <= 0:
		return fmt.Errorf("hfref: %s: missing or non-positive dimension", f.arch)
	case f.heads%f.kvHeads != 0:
		return fmt.Errorf("hfref: %s: %d heads not a multiple of %d kv heads", f.arch, f.heads, f.kvHeads)
	case f.rotaryDim%2 != 0 || f.rotaryDim > f.headDim:
		return fmt.Errorf("hfref: %s: rotary dim %d for head dim %d", f.arch, f.rotaryDim, f.headDim)
	case f.globalRope.kind == "longrope" && (len(f.globalRope.short) != f.rotaryDim/2 || len(f.globalRope.long) != f.rotaryDim/2):
		return fmt.Errorf("hfref: %s: longrope factors of %d and %d for rotary dim %d", f.arch, len(f.globalRope.short), len(f.globalRope.long), f.rotaryDim)
	}
	for l, s := range f.slidingLayer {
		if s && f.window <= 0 {
			return fmt.Errorf("hfref: %s: layer %d is sliding without a window", f.arch, l)
		}
	}
	return nil
}
