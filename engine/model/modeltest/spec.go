package modeltest

import (
	"fmt"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Spec describes a test model. Zero fields take the defaults listed.
type Spec struct {
	Arch         string      // "llama" (default), "mistral", "qwen2", "qwen3", or a family of Families()
	Hidden       int         // 64
	Intermediate int         // 128
	Layers       int         // 2
	Heads        int         // 4
	KVHeads      int         // 2
	HeadDim      int         // 16
	Vocab        int         // 512, the tokenizer's size; larger pads the vocabulary
	MaxPos       int         // 256
	DType        model.DType // F32
	QuantBits    int         // 0: float weights; else MLX affine bits (2, 3, 4, 5, 6, 8)
	GroupSize    int         // 64 when QuantBits > 0
	QuantMode    string      // "" (affine) or "mxfp4" (QuantBits 4, GroupSize 32): MLX's quantization mode; gptoss with QuantBits 0: the Hugging Face MXFP4 release (experts as _blocks/_scales)
	// QuantOverrides are per-module settings written to config.json: a nil value
	// keeps the module in float, as mlx-lm does for layers it skips.
	QuantOverrides map[string]*model.Quant
	Tied           bool
	Shards         int // 0 or 1: model.safetensors; more: an index and that many shards
	Seed           uint64
	AttentionBias  bool               // llama, qwen3: q, k, v and o biases (qwen2 always has q, k, v biases)
	MLPBias        bool               // llama only
	RopeScaling    *model.RopeScaling // llama only
	RopeTheta      float64            // 10000
	SlidingWindow  int                // mistral, smollm3; gemma2/3 (0: 4); 0: none
	EOS            []int              // generation_config eos_token_id; [2]
	// Mixture-of-experts families (qwen3moe, mixtral, gptoss; gptoss's experts
	// are Intermediate wide, Stacked is mlx-lm's experts.{gate,up,down}_proj
	// and otherwise transformers' fused gate_up_proj).
	Experts     int   // 4
	TopK        int   // 2
	ExpertInter int   // qwen3moe moe_intermediate_size: 64 (mixtral's experts are Intermediate wide)
	NormTopK    bool  // qwen3moe norm_topk_prob (mixtral always renormalises)
	SparseStep  int   // qwen3moe decoder_sparse_step: 1
	MLPOnly     []int // qwen3moe mlp_only_layers
	Stacked     bool  // experts stacked as mlx-lm's switch_mlp.{gate,up,down}_proj
	// RouterTies gives experts 1.. the same router row, so that every token
	// has equal logits across the top-k boundary: the tie rule decides.
	RouterTies bool
	// Bare writes a llama-layout model as its base model saves it, the way
	// Qwen3-Embedding ships: names without "model.", no lm_head.
	Bare bool
	// VisionLayout stores gemma3mm as other tools do: "hf452" in
	// transformers 4.52's names (model.language_model.*, model.vision_tower.*,
	// model.multi_modal_projector.*), "mlx" with the patch convolution's
	// kernel (out, ky, kx, channel) as mlx-vlm saves it; "": 4.50's names.
	// idefics3: "mlx" in mlx-vlm's names and kernel; "": transformers'.
	// qwen2vl: "" as Qwen released it, "hf452" with text_config and
	// model.language_model.*, "mlx" in mlx-vlm's names (qwen2vl.go).
	VisionLayout string
}

func (s Spec) withDefaults() Spec {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if s.Arch == "" {
		s.Arch = "llama"
	}
	def(&s.Hidden, 64)
	def(&s.Intermediate, 128)
	def(&s.Layers, 2)
	def(&s.Heads, 4)
	if IsEncoder(s.Arch) {
		def(&s.KVHeads, s.Heads) // encoders have no grouped-query attention
	}
	def(&s.KVHeads, 2)
	def(&s.HeadDim, 16)
	def(&s.Vocab, 512)
	def(&s.MaxPos, 256)
	def(&s.Shards, 1)
	if s.QuantMode == "mxfp4" {
		def(&s.GroupSize, 32)
	}
	if s.QuantBits > 0 {
		def(&s.GroupSize, 64)
	}
	if s.DType == "" {
		s.DType = model.F32
	}
	if s.RopeTheta == 0 {
		s.RopeTheta = 10000
	}
	if s.EOS == nil {
		s.EOS = []int{2}
	}
	return s.moeDefaults()
}

func (s Spec) check() error {
	if _, ok := archNames[s.Arch]; !ok {
		return fmt.Errorf("unknown arch %q", s.Arch)
	}
	if !s.DType.IsFloat() {
		return fmt.Errorf("dtype %q is not F32, F16 or BF16", s.DType)
	}
	if s.Vocab < 512 {
		return fmt.Errorf("vocab %d is smaller than the tokenizer's 512", s.Vocab)
	}
	if s.Heads%s.KVHeads != 0 || s.HeadDim%2 != 0 {
		return fmt.Errorf("%d heads, %d kv heads, head dim %d", s.Heads, s.KVHeads, s.HeadDim)
	}
	if s.QuantBits > 0 {
		for _, in := range []int{s.Hidden, s.Intermediate, s.Heads * s.HeadDim, max(s.expertInter(), s.GroupSize)} {
			if in%s.GroupSize != 0 || in*s.QuantBits%32 != 0 {
				return fmt.Errorf("input size %d does not fit %d-bit groups of %d", in, s.QuantBits, s.GroupSize)
			}
		}
	}
	if s.Shards < 1 {
		return fmt.Errorf("%d shards", s.Shards)
	}
	return nil
}

// Name is a short description for test names: "qwen3-bf16-q4g32-tied-3shards".
func (s Spec) Name() string {
	s = s.withDefaults()
	parts := []string{s.Arch, strings.ToLower(string(s.DType))}
	if s.QuantBits > 0 {
		parts = append(parts, fmt.Sprintf("q%dg%d%s", s.QuantBits, s.GroupSize, s.QuantMode))
	} else if s.QuantMode != "" {
		parts = append(parts, "hf-"+s.QuantMode)
	}
	if len(s.QuantOverrides) > 0 {
		parts = append(parts, "mixed")
	}
	if s.Tied {
		parts = append(parts, "tied")
	}
	if s.Shards > 1 {
		parts = append(parts, fmt.Sprintf("%dshards", s.Shards))
	}
	if s.AttentionBias {
		parts = append(parts, "bias")
	}
	if isMoE(s.Arch) {
		parts = append(parts, s.moeName())
	}
	if s.RopeScaling != nil {
		parts = append(parts, "rope-"+s.RopeScaling.Type)
	}
	if s.SlidingWindow > 0 {
		parts = append(parts, fmt.Sprintf("swa%d", s.SlidingWindow))
	}
	d := Spec{}.withDefaults()
	if s.Hidden != d.Hidden || s.Intermediate != d.Intermediate || s.Heads != d.Heads || s.KVHeads != d.KVHeads ||
		s.HeadDim != d.HeadDim || s.Vocab != d.Vocab || s.Layers != d.Layers {
		parts = append(parts, fmt.Sprintf("h%d-i%d-l%d-%dx%d-kv%d-v%d", s.Hidden, s.Intermediate, s.Layers, s.Heads, s.HeadDim, s.KVHeads, s.Vocab))
	}
	return strings.Join(parts, "-")
}
