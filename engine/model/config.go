package model

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Config is a parsed and validated config.json of a decoder-only model.
type Config struct {
	Architectures         []string
	ModelType             string
	HiddenSize            int
	IntermediateSize      int
	NumHiddenLayers       int
	NumAttentionHeads     int
	NumKeyValueHeads      int // equals NumAttentionHeads when absent (no grouped-query attention)
	HeadDim               int // HiddenSize/NumAttentionHeads when absent
	VocabSize             int
	MaxPositionEmbeddings int
	RMSNormEps            float64
	RopeTheta             float64
	RopeScaling           *RopeScaling // nil: plain RoPE
	TieWordEmbeddings     bool
	AttentionBias         bool // config.json attention_bias (Llama: q, k, v and o biases)
	MLPBias               bool // config.json mlp_bias: gate, up and down biases
	SlidingWindow         int  // 0: full causal attention; else a key j is seen from query i when i-j < SlidingWindow
	HiddenAct             string
	TorchDType            string // "float32", "float16", "bfloat16" or ""
	BOSTokenID            int    // -1 when absent
	EOSTokenIDs           []int
	Quantization          *Quantization // nil unless MLX-quantized
	// Raw is the whole config.json, for the keys only one family has.
	Raw []byte

	// Layout chosen by the architecture from the fields above (Arch.Configure).
	QKVBias bool // q/k/v projections carry an additive bias
	OBias   bool // o projection carries an additive bias
	QKNorm  bool // per-head RMSNorm on q and k before RoPE (Qwen3)

	// Family holds what a family's Configure read from config.json beyond the
	// fields above (Gemma's soft-caps, Granite's multipliers, ...), for its Build.
	Family any
}

// RopeScaling is rope_scaling (or rope_parameters) of config.json.
type RopeScaling struct {
	Type                          string // "llama3", "linear" or "longrope"
	Factor                        float64
	LowFreqFactor                 float64 // llama3 only
	HighFreqFactor                float64 // llama3 only
	OriginalMaxPositionEmbeddings int     // llama3 and longrope (0 there: the config's top-level key)
	// longrope (Phi-3): per-frequency divisors for short and long contexts and
	// the cos/sin multiplier (0: absent, the family derives it).
	ShortFactor, LongFactor []float64
	AttentionFactor         float64
	// yarn (GPT-OSS): the rotation counts bounding the interpolated band,
	// whether its bounds are rounded outwards, and the mscale pair of the
	// default attention factor. AttentionFactor is used when set (non-zero).
	BetaFast, BetaSlow   float64
	Truncate             bool
	Mscale, MscaleAllDim float64
	// MRoPESection is Qwen2-VL's mrope_section (Type "mrope"): how many
	// rotary pairs follow the temporal, height and width positions.
	MRoPESection []int
}

// Limits that no real model reaches; they keep a hostile config from asking
// for absurd allocations further down.
const (
	maxHidden   = 1 << 17
	maxInter    = 1 << 20
	maxLayers   = 1 << 10
	maxHeads    = 1 << 10
	maxHeadDim  = 1 << 10
	maxVocab    = 1 << 22
	maxPosition = 1 << 27
)

// ErrInvalidConfig marks a config.json that cannot describe a runnable model.
var ErrInvalidConfig = errors.New("invalid model config")

// rawConfig mirrors config.json; pointers tell absent (or null) from zero.
type rawConfig struct {
	Architectures         []string                   `json:"architectures"`
	ModelType             string                     `json:"model_type"`
	HiddenSize            *int                       `json:"hidden_size"`
	IntermediateSize      *int                       `json:"intermediate_size"`
	NumHiddenLayers       *int                       `json:"num_hidden_layers"`
	NumAttentionHeads     *int                       `json:"num_attention_heads"`
	NumKeyValueHeads      *int                       `json:"num_key_value_heads"`
	HeadDim               *int                       `json:"head_dim"`
	VocabSize             *int                       `json:"vocab_size"`
	MaxPositionEmbeddings *int                       `json:"max_position_embeddings"`
	RMSNormEps            *float64                   `json:"rms_norm_eps"`
	RopeTheta             *float64                   `json:"rope_theta"`
	RopeScaling           *rawRope                   `json:"rope_scaling"`
	RopeParameters        *rawRope                   `json:"rope_parameters"` // transformers ≥ 5
	TieWordEmbeddings     *bool                      `json:"tie_word_embeddings"`
	AttentionBias         *bool                      `json:"attention_bias"`
	MLPBias               *bool                      `json:"mlp_bias"`
	SlidingWindow         *int                       `json:"sliding_window"`
	UseSlidingWindow      *bool                      `json:"use_sliding_window"`
	HiddenAct             string                     `json:"hidden_act"`
	TorchDType            string                     `json:"torch_dtype"`
	DType                 string                     `json:"dtype"` // transformers ≥ 5 name of torch_dtype
	BOSTokenID            *int                       `json:"bos_token_id"`
	EOSTokenID            tokenIDs                   `json:"eos_token_id"`
	Quantization          map[string]json.RawMessage `json:"quantization"`
	QuantizationConfig    map[string]json.RawMessage `json:"quantization_config"`
}

type rawRope struct {
	Type                          string    `json:"type"`
	RopeType                      string    `json:"rope_type"`
	Factor                        *float64  `json:"factor"`
	LowFreqFactor                 *float64  `json:"low_freq_factor"`
	HighFreqFactor                *float64  `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings *int      `json:"original_max_position_embeddings"`
	RopeTheta                     *float64  `json:"rope_theta"`
	ShortFactor                   []float64 `json:"short_factor"`
	LongFactor                    []float64 `json:"long_factor"`
	AttentionFactor               *float64  `json:"attention_factor"`
	BetaFast                      *float64  `json:"beta_fast"`
	BetaSlow                      *float64  `json:"beta_slow"`
	Truncate                      *bool     `json:"truncate"`
	Mscale                        *float64  `json:"mscale"`
	MscaleAllDim                  *float64  `json:"mscale_all_dim"`
	MRoPESection                  []int     `json:"mrope_section"`
}

// tokenIDs accepts a single id, a list of ids or null.
type tokenIDs []int

func (t *tokenIDs) UnmarshalJSON(b []byte) error {
	var one *int
	if err := json.Unmarshal(b, &one); err == nil {
		if one == nil {
			*t = nil
		} else {
			*t = tokenIDs{*one}
		}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("token id must be an integer or a list of integers: %s", b)
	}
	*t = many
	return nil
}

// ParseConfig parses config.json, fills HF defaults, applies the architecture
// named by architectures[0] (ErrUnsupportedArch when none is registered) and
// validates the result.
func ParseConfig(data []byte) (*Config, error) {
	var raw rawConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	c, err := fromRaw(&raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	c.Raw = data
	arch, err := Lookup(c.Architectures)
	if err != nil {
		return nil, err
	}
	if arch.Configure != nil {
		if err := arch.Configure(c, data); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidConfig, arch.Name, err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func floatOr(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func fromRaw(r *rawConfig) (*Config, error) {
	c := &Config{
		Architectures:         r.Architectures,
		ModelType:             r.ModelType,
		HiddenSize:            intOr(r.HiddenSize, 0),
		IntermediateSize:      intOr(r.IntermediateSize, 0),
		NumHiddenLayers:       intOr(r.NumHiddenLayers, 0),
		NumAttentionHeads:     intOr(r.NumAttentionHeads, 0),
		VocabSize:             intOr(r.VocabSize, 0),
		MaxPositionEmbeddings: intOr(r.MaxPositionEmbeddings, 2048), // LlamaConfig's default
		RMSNormEps:            floatOr(r.RMSNormEps, 1e-6),
		RopeTheta:             floatOr(r.RopeTheta, 10000),
		TieWordEmbeddings:     r.TieWordEmbeddings != nil && *r.TieWordEmbeddings,
		AttentionBias:         r.AttentionBias != nil && *r.AttentionBias,
		MLPBias:               r.MLPBias != nil && *r.MLPBias,
		HiddenAct:             r.HiddenAct,
		TorchDType:            r.TorchDType,
		BOSTokenID:            intOr(r.BOSTokenID, -1),
		EOSTokenIDs:           r.EOSTokenID,
	}
	c.NumKeyValueHeads = intOr(r.NumKeyValueHeads, c.NumAttentionHeads)
	if c.NumAttentionHeads > 0 {
		c.HeadDim = intOr(r.HeadDim, c.HiddenSize/c.NumAttentionHeads)
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "silu"
	}
	if c.TorchDType == "" {
		c.TorchDType = r.DType
	}
	// Mistral, Qwen2 and Qwen3 write sliding_window even when unused; Qwen says so
	// with use_sliding_window=false, which the architecture packages check.
	if r.SlidingWindow != nil && (r.UseSlidingWindow == nil || *r.UseSlidingWindow) {
		c.SlidingWindow = *r.SlidingWindow
	}
	rope := r.RopeScaling
	if rope == nil {
		rope = r.RopeParameters
	}
	if rope != nil {
		if rope.RopeTheta != nil {
			c.RopeTheta = *rope.RopeTheta
		}
		s, err := ropeScaling(rope)
		if err != nil {
			return nil, err
		}
		if s != nil && s.Type == "yarn" && s.Factor == 0 && s.OriginalMaxPositionEmbeddings > 0 {
			// transformers' default: the context's growth over the original
			s.Factor = float64(c.MaxPositionEmbeddings) / float64(s.OriginalMaxPositionEmbeddings)
		}
		c.RopeScaling = s
	}
	q, err := parseQuantization(r.Quantization, r.QuantizationConfig)
	if err != nil {
		return nil, err
	}
	c.Quantization = q
	return c, nil
}

func ropeScaling(r *rawRope) (*RopeScaling, error) {
	typ := r.RopeType
	if typ == "" {
		typ = r.Type
	}
	// Qwen2-VL's configs say "mrope", which transformers renames "default"
	// (and saves so from 4.52 on): the sections are what marks M-RoPE.
	if len(r.MRoPESection) > 0 && (typ == "" || typ == "default" || typ == "mrope") {
		return &RopeScaling{Type: "mrope", Factor: 1, MRoPESection: r.MRoPESection}, nil
	}
	switch typ {
	case "mrope":
		return nil, errors.New("rope_scaling mrope needs mrope_section")
	case "", "default":
		return nil, nil
	case "linear":
		if r.Factor == nil {
			return nil, errors.New("rope_scaling linear needs factor")
		}
		return &RopeScaling{Type: typ, Factor: *r.Factor}, nil
	case "llama3":
		if r.Factor == nil || r.LowFreqFactor == nil || r.HighFreqFactor == nil || r.OriginalMaxPositionEmbeddings == nil {
			return nil, errors.New("rope_scaling llama3 needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
		}
		return &RopeScaling{Type: typ, Factor: *r.Factor, LowFreqFactor: *r.LowFreqFactor,
			HighFreqFactor: *r.HighFreqFactor, OriginalMaxPositionEmbeddings: *r.OriginalMaxPositionEmbeddings}, nil
	case "longrope", "su":
		// The architecture checks the factors against its rotary dimensions.
		if len(r.ShortFactor) == 0 || len(r.ShortFactor) != len(r.LongFactor) {
			return nil, errors.New("rope_scaling longrope needs short_factor and long_factor of the same length")
		}
		s := &RopeScaling{Type: "longrope", Factor: 1, ShortFactor: r.ShortFactor, LongFactor: r.LongFactor}
		if r.Factor != nil {
			s.Factor = *r.Factor
		}
		if r.AttentionFactor != nil {
			s.AttentionFactor = *r.AttentionFactor
		}
		if r.OriginalMaxPositionEmbeddings != nil {
			s.OriginalMaxPositionEmbeddings = *r.OriginalMaxPositionEmbeddings
		}
		return s, nil
	case "yarn":
		return yarnScaling(r)
	}
	return nil, fmt.Errorf("rope_scaling type %q is not supported (llama3, linear, longrope and yarn are)", typ)
}

// yarnScaling reads rope_scaling yarn with _compute_yarn_parameters'
// defaults: beta_fast 32, beta_slow 1 (a 0 counts as absent, as its "or"
// does), truncate true; a missing factor is filled in by fromRaw.
func yarnScaling(r *rawRope) (*RopeScaling, error) {
	if r.OriginalMaxPositionEmbeddings == nil {
		return nil, errors.New("rope_scaling yarn needs original_max_position_embeddings")
	}
	s := &RopeScaling{Type: "yarn", OriginalMaxPositionEmbeddings: *r.OriginalMaxPositionEmbeddings,
		BetaFast: 32, BetaSlow: 1, Truncate: true}
	set := func(dst *float64, p *float64) {
		if p != nil && *p != 0 {
			*dst = *p
		}
	}
	set(&s.Factor, r.Factor)
	set(&s.BetaFast, r.BetaFast)
	set(&s.BetaSlow, r.BetaSlow)
	set(&s.AttentionFactor, r.AttentionFactor)
	set(&s.Mscale, r.Mscale)
	set(&s.MscaleAllDim, r.MscaleAllDim)
	if r.Truncate != nil {
		s.Truncate = *r.Truncate
	}
	return s, nil
}
