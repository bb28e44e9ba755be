package modeltest

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

//go:embed testdata/tokenizer.json testdata/tokenizer_config.json testdata/special_tokens_map.json
var tokenizerFiles embed.FS

var archNames = map[string]struct{ arch, modelType string }{
	"llama":   {"LlamaForCausalLM", "llama"},
	"mistral": {"MistralForCausalLM", "mistral"},
	"qwen2":   {"Qwen2ForCausalLM", "qwen2"},
	"qwen3":   {"Qwen3ForCausalLM", "qwen3"},
	// Qwen3's tensors run by engine/enginetest's family that uses every model.Op.
	"opstest": {"EngineTestOpsForCausalLM", "opstest"},
}

// Write writes the model described by spec into dir, which must exist.
func Write(dir string, spec Spec) error {
	s := spec.withDefaults()
	if err := s.check(); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if s.Arch == "idefics3" {
		return writeIdefics3(dir, s)
	}
	if s.Arch == "qwen2vl" {
		return writeQwen2VL(dir, s)
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), s.config()); err != nil {
		return err
	}
	genCfg := map[string]any{"bos_token_id": 1, "eos_token_id": s.EOS, "do_sample": false}
	if err := writeJSON(filepath.Join(dir, "generation_config.json"), genCfg); err != nil {
		return err
	}
	if IsEncoder(s.Arch) {
		if err := writeWordPiece(dir); err != nil {
			return err
		}
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		if IsEncoder(s.Arch) {
			break
		}
		b, err := tokenizerFiles.ReadFile("testdata/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	}
	if s.Arch == "gemma3mm" {
		if err := writeJSON(filepath.Join(dir, "preprocessor_config.json"), visionProcessor()); err != nil {
			return err
		}
	}
	g := &gen{s: s, r: rand.New(rand.NewPCG(s.Seed, 0x6d6c78))}
	if err := g.tensors(); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if s.Bare {
		g.bare()
	}
	if s.VisionLayout != "" {
		if err := g.visionLayout(s.VisionLayout); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	}
	return writeShards(dir, g.out, s)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	return nil
}

func (s Spec) config() map[string]any {
	torch := map[model.DType]string{model.F32: "float32", model.F16: "float16", model.BF16: "bfloat16"}[s.DType]
	c := map[string]any{
		"architectures":           []string{archNames[s.Arch].arch},
		"model_type":              archNames[s.Arch].modelType,
		"hidden_size":             s.Hidden,
		"intermediate_size":       s.Intermediate,
		"num_hidden_layers":       s.Layers,
		"num_attention_heads":     s.Heads,
		"num_key_value_heads":     s.KVHeads,
		"head_dim":                s.HeadDim,
		"vocab_size":              s.Vocab,
		"max_position_embeddings": s.MaxPos,
		"rms_norm_eps":            1e-5,
		"rope_theta":              s.RopeTheta,
		"hidden_act":              "silu",
		"tie_word_embeddings":     s.Tied,
		"bos_token_id":            1,
		"eos_token_id":            2,
		"torch_dtype":             torch,
	}
	if IsEncoder(s.Arch) {
		return s.encoderConfig(c)
	}
	switch s.Arch {
	case "llama":
		c["attention_bias"] = s.AttentionBias
		c["mlp_bias"] = s.MLPBias
		if r := s.RopeScaling; r != nil {
			rs := map[string]any{"rope_type": r.Type, "factor": r.Factor}
			if r.Type == "llama3" {
				rs["low_freq_factor"] = r.LowFreqFactor
				rs["high_freq_factor"] = r.HighFreqFactor
				rs["original_max_position_embeddings"] = r.OriginalMaxPositionEmbeddings
			}
			c["rope_scaling"] = rs
		}
	case "mistral":
		c["sliding_window"] = nil
		if s.SlidingWindow > 0 {
			c["sliding_window"] = s.SlidingWindow
		}
	case "qwen2", "qwen3":
		c["use_sliding_window"] = false
		c["sliding_window"] = 4096
		c["max_window_layers"] = s.Layers
		if s.Arch == "qwen3" {
			c["attention_bias"] = s.AttentionBias
		}
	default:
		if isMoE(s.Arch) {
			s.moeConfig(c)
			break
		}
		return s.familyConfig(c)
	}
	if s.QuantBits > 0 {
		q := map[string]any{"group_size": s.GroupSize, "bits": s.QuantBits}
		if s.QuantMode != "" {
			q["mode"] = s.QuantMode
		}
		for k, v := range s.QuantOverrides {
			if v == nil {
				q[k] = false
			} else {
				o := map[string]any{"group_size": v.GroupSize, "bits": v.Bits}
				if v.Mode != "" {
					o["mode"] = v.Mode
				}
				q[k] = o
			}
		}
		c["quantization"] = q
		c["quantization_config"] = q // mlx-lm writes both
	}
	return c
}

// gen draws the tensors in a fixed order from one seeded source.
type gen struct {
	s   Spec
	r   *rand.Rand
	out []safetensors.Tensor
}

func (g *gen) tensors() error {
	s := g.s
	if isFamily(s.Arch) {
		return g.familyTensors()
	}
	if isMoE(s.Arch) {
		return g.moeTensors()
	}
	if IsEncoder(s.Arch) {
		return g.encoderTensors()
	}
	qdim, kvdim := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	invSqrt := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	qkvBias := s.Arch == "qwen2" || (s.AttentionBias && (s.Arch == "llama" || s.Arch == "qwen3"))
	oBias := s.AttentionBias && (s.Arch == "llama" || s.Arch == "qwen3")
	mlpBias := s.MLPBias && s.Arch == "llama"
	steps := []error{g.linear("model.embed_tokens", s.Vocab, s.Hidden, 2*invSqrt(s.Hidden), false)}
	for i := range s.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		steps = append(steps,
			g.norm(p+"input_layernorm.weight", s.Hidden),
			g.linear(p+"self_attn.q_proj", qdim, s.Hidden, invSqrt(s.Hidden), qkvBias),
			g.linear(p+"self_attn.k_proj", kvdim, s.Hidden, invSqrt(s.Hidden), qkvBias),
			g.linear(p+"self_attn.v_proj", kvdim, s.Hidden, invSqrt(s.Hidden), qkvBias),
			g.linear(p+"self_attn.o_proj", s.Hidden, qdim, 0.5*invSqrt(qdim), oBias),
		)
		if s.Arch == "qwen3" || s.Arch == "opstest" {
			steps = append(steps, g.norm(p+"self_attn.q_norm.weight", s.HeadDim), g.norm(p+"self_attn.k_norm.weight", s.HeadDim))
		}
		steps = append(steps,
			g.norm(p+"post_attention_layernorm.weight", s.Hidden),
			g.linear(p+"mlp.gate_proj", s.Intermediate, s.Hidden, invSqrt(s.Hidden), mlpBias),
			g.linear(p+"mlp.up_proj", s.Intermediate, s.Hidden, invSqrt(s.Hidden), mlpBias),
			g.linear(p+"mlp.down_proj", s.Hidden, s.Intermediate, 0.5*invSqrt(s.Intermediate), mlpBias),
		)
	}
	steps = append(steps, g.norm("model.norm.weight", s.Hidden))
	if !s.Tied {
		steps = append(steps, g.linear("lm_head", s.Vocab, s.Hidden, 2*invSqrt(s.Hidden), false))
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *gen) normal(n int, mean, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(mean + std*g.r.NormFloat64())
	}
	return v
}

func (g *gen) float(name string, values []float32, shape ...int) error {
	b, err := model.EncodeFloats(g.s.DType, values)
	if err != nil {
		return err
	}
	g.out = append(g.out, safetensors.Tensor{Name: name, DType: safetensors.DType(g.s.DType), Shape: shape, Data: b})
	return nil
}

func (g *gen) norm(name string, n int) error { return g.float(name, g.normal(n, 1, 0.1), n) }

// linear writes module path as float or, when the spec quantizes it, as MLX
// codes, scales and biases.
func (g *gen) linear(path string, out, in int, std float64, bias bool) error {
	w := g.normal(out*in, 0, std)
	q, quantized := g.quant(path)
	if !quantized {
		if err := g.float(path+".weight", w, out, in); err != nil {
			return err
		}
	} else if err := g.quantized(path, w, out, in, q); err != nil {
		return err
	}
	if bias {
		return g.float(path+".bias", g.normal(out, 0, 0.1), out)
	}
	return nil
}

func (g *gen) quant(path string) (model.Quant, bool) {
	if g.s.QuantBits == 0 {
		return model.Quant{}, false
	}
	if o, ok := g.s.QuantOverrides[path]; ok {
		if o == nil {
			return model.Quant{}, false
		}
		return *o, true
	}
	return model.Quant{Bits: g.s.QuantBits, GroupSize: g.s.GroupSize, Mode: g.s.QuantMode}, true
}

func (g *gen) quantized(path string, w []float32, out, in int, q model.Quant) error {
	if q.Mode == "mxfp4" {
		return g.mxfp4(path, w, out, in)
	}
	if in%q.GroupSize != 0 || in*q.Bits%32 != 0 {
		return fmt.Errorf("%s: input size %d does not fit %d-bit groups of %d", path, in, q.Bits, q.GroupSize)
	}
	var codes []byte
	var scales, biases []float32
	for r := range out {
		c, s, b, err := model.QuantizeRow(w[r*in:(r+1)*in], q.Bits, q.GroupSize)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		codes, scales, biases = append(codes, c...), append(scales, s...), append(biases, b...)
	}
	// The codes are the bytes of a little-endian bit stream, which is exactly
	// the file image of MLX's uint32 words.
	g.out = append(g.out, safetensors.Tensor{Name: path + ".weight", DType: safetensors.U32, Shape: []int{out, in * q.Bits / 32}, Data: codes})
	if err := g.float(path+".scales", scales, out, in/q.GroupSize); err != nil {
		return err
	}
	return g.float(path+".biases", biases, out, in/q.GroupSize)
}

// writeShards writes one file, or Shards files of consecutive tensors plus an index.
func writeShards(dir string, ts []safetensors.Tensor, s Spec) error {
	meta := map[string]string{"format": "pt"}
	if s.QuantBits > 0 {
		meta["format"] = "mlx"
	}
	if s.Shards == 1 {
		return safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, meta)
	}
	index := safetensors.Index{Metadata: map[string]any{}, WeightMap: map[string]string{}}
	var total int
	for k := range s.Shards {
		lo, hi := k*len(ts)/s.Shards, (k+1)*len(ts)/s.Shards
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", k+1, s.Shards)
		for _, t := range ts[lo:hi] {
			index.WeightMap[t.Name] = name
			total += len(t.Data)
		}
		if err := safetensors.WriteFile(filepath.Join(dir, name), ts[lo:hi], meta); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	}
	index.Metadata["total_size"] = total
	return writeJSON(filepath.Join(dir, safetensors.IndexFile), index)
}

// bare renames the tensors as a base model saves them: no "model." prefix,
// no lm_head.
func (g *gen) bare() {
	out := g.out[:0]
	for _, t := range g.out {
		if strings.HasPrefix(t.Name, "lm_head.") {
			continue
		}
		t.Name = strings.TrimPrefix(t.Name, "model.")
		out = append(out, t)
	}
	g.out = out
}
