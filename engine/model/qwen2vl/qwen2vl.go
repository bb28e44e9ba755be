// Package qwen2vl is Qwen2_5_VLForConditionalGeneration (Qwen2.5-VL 3B, 7B,
// 32B, 72B) and Qwen2VLForConditionalGeneration (Qwen2-VL), as transformers'
// modeling_qwen2_5_vl.py computes them: a Qwen2 text model (q, k and v
// biases, none on o) whose rotary embedding is multimodal, M-RoPE
// (engine/model/mrope.go): the head's rotary pairs are cut by
// rope_scaling.mrope_section into runs that follow an image token's
// temporal, height and width positions. Text tokens have three equal
// positions, so a prompt without images runs exactly as Qwen2's.
//
// config.json keeps the text model's keys at the top level (the released
// files, transformers < 4.52) or under text_config (as transformers ≥ 4.52
// saves it); rope_scaling's type is "mrope" in the first, "default" in the
// second, and mrope_section marks M-RoPE in both.
//
// Checkpoints name the text model's tensors as Qwen released them
// (model.layers.*, lm_head), as transformers ≥ 4.52 saves them
// (model.language_model.*, lm_head), or as mlx-vlm's sanitize renames them
// for mlx-community's conversions (language_model.model.*,
// language_model.lm_head), and the vision tower (engine/model/qwenvit,
// Qwen2.5-VL's or Qwen2-VL's) under visual., model.visual. or vision_tower.: a
// checkpoint with it reads images, each a run of <|image_pad|> tokens (one
// per merged block of its grid of patches) whose embeddings the tower gives,
// positioned by the grid. The text model attends causally over them. An
// image is one temporal step, whose temporal position is its start in both
// families (get_rope_index's second_per_grid_t is 0 for images in
// Qwen2.5-VL, its arange over one step 0 in Qwen2-VL).
package qwen2vl

import (
	"encoding/json"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	_ "github.com/mlx-manager/mlx-manager/engine/model/qwen2" // the text model's config is parsed as Qwen2ForCausalLM's
	"github.com/mlx-manager/mlx-manager/engine/model/qwenvit"
)

func init() {
	model.Register(model.Arch{Name: "Qwen2_5_VLForConditionalGeneration", Configure: configure, Build: Build})
	// Qwen2-VL's text model and M-RoPE are Qwen2.5-VL's; their towers differ.
	model.Register(model.Arch{Name: "Qwen2VLForConditionalGeneration", Configure: configure, Build: Build})
}

// Family is what configure reads beyond model.Config, for Build and the
// vision tower.
type Family struct {
	Sections [3]int // rope_scaling.mrope_section: rotary pairs per position component
	// ImageToken is <|image_pad|>, the placeholder of each image
	// embedding; VisionStart and VisionEnd (<|vision_start|>,
	// <|vision_end|>) surround an image's run of them.
	ImageToken, VisionStart, VisionEnd int32
	// Vision is config.json's vision_config, for the tower.
	Vision json.RawMessage
}

// Qwen2_5_VLConfig's defaults for its token ids.
const (
	defaultImageToken  = 151655
	defaultVisionStart = 151652
	defaultVisionEnd   = 151653
)

// layout is where a checkpoint keeps the text model, its head and the
// vision tower.
type layout struct{ text, head, vision string }

var layouts = []layout{
	{"model.language_model.", "lm_head", "model.visual."},                // transformers ≥ 4.52
	{"model.", "lm_head", "visual."},                                     // Qwen's releases
	{"language_model.model.", "language_model.lm_head", "vision_tower."}, // mlx-vlm
}

// configure parses the text model's keys as a Qwen2ForCausalLM config with
// the top level's dtype, quantization, special tokens and tied embeddings,
// takes it as the model's, and reads M-RoPE's sections and the image tokens.
func configure(c *model.Config, b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	text := map[string]json.RawMessage{}
	if tc, ok := top["text_config"]; ok && string(tc) != "null" {
		if err := json.Unmarshal(tc, &text); err != nil {
			return fmt.Errorf("text_config: %w", err)
		}
		for _, k := range []string{"torch_dtype", "dtype", "quantization", "quantization_config", "eos_token_id", "bos_token_id", "tie_word_embeddings"} {
			if v, ok := top[k]; ok {
				if _, set := text[k]; !set || k == "tie_word_embeddings" {
					text[k] = v
				}
			}
		}
	} else {
		for k, v := range top {
			if k != "vision_config" {
				text[k] = v
			}
		}
	}
	f, err := readFamily(top, text)
	if err != nil {
		return err
	}
	// Qwen2's parser knows rope_scaling only as plain RoPE's; the sections
	// are read here.
	delete(text, "rope_scaling")
	delete(text, "rope_parameters")
	delete(text, "model_type")
	text["architectures"] = json.RawMessage(`["Qwen2ForCausalLM"]`)
	js, err := json.Marshal(text)
	if err != nil {
		return err
	}
	tc, err := model.ParseConfig(js)
	if err != nil {
		return fmt.Errorf("text model: %w", err)
	}
	// Qwen2_5_VLAttention: head_dim is hidden_size / num_attention_heads,
	// whatever head_dim says.
	if tc.NumAttentionHeads <= 0 || tc.HiddenSize%tc.NumAttentionHeads != 0 {
		return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d", tc.HiddenSize, tc.NumAttentionHeads)
	}
	tc.HeadDim = tc.HiddenSize / tc.NumAttentionHeads
	if sum := f.Sections[0] + f.Sections[1] + f.Sections[2]; sum != tc.HeadDim/2 {
		return fmt.Errorf("rope_scaling mrope_section %v sums to %d, want head_dim/2 = %d", f.Sections, sum, tc.HeadDim/2)
	}
	for _, id := range []int32{f.ImageToken, f.VisionStart, f.VisionEnd} {
		if id < 0 || int(id) >= tc.VocabSize {
			return fmt.Errorf("image token %d outside the vocabulary of %d", id, tc.VocabSize)
		}
	}
	archs := c.Architectures
	*c = *tc
	c.Architectures = archs
	c.Raw = b
	c.RopeScaling = &model.RopeScaling{Type: "mrope", Factor: 1, MRoPESection: f.Sections[:]}
	c.Family = f
	return nil
}

// readFamily reads mrope_section (the text model's rope_scaling, else the
// top level's) and the token ids.
func readFamily(top, text map[string]json.RawMessage) (*Family, error) {
	var rope struct {
		Type     string `json:"type"`
		RopeType string `json:"rope_type"`
		Section  []int  `json:"mrope_section"`
	}
	raw := text["rope_scaling"]
	if len(raw) == 0 || string(raw) == "null" {
		raw = top["rope_scaling"]
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("rope_scaling has no mrope_section")
	}
	if err := json.Unmarshal(raw, &rope); err != nil {
		return nil, fmt.Errorf("rope_scaling: %w", err)
	}
	typ := rope.RopeType
	if typ == "" {
		typ = rope.Type
	}
	if typ != "" && typ != "mrope" && typ != "default" {
		return nil, fmt.Errorf("rope_scaling type %q is not supported (mrope is)", typ)
	}
	if len(rope.Section) != 3 || rope.Section[0] < 0 || rope.Section[1] < 0 || rope.Section[2] < 0 {
		return nil, fmt.Errorf("rope_scaling mrope_section %v: want three counts", rope.Section)
	}
	f := &Family{Sections: [3]int(rope.Section), ImageToken: defaultImageToken, VisionStart: defaultVisionStart,
		VisionEnd: defaultVisionEnd, Vision: top["vision_config"]}
	for k, dst := range map[string]*int32{"image_token_id": &f.ImageToken, "vision_start_token_id": &f.VisionStart,
		"vision_end_token_id": &f.VisionEnd} {
		if v, ok := top[k]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return f, nil
}

// Build binds the text model wherever the checkpoint keeps it.
func Build(c *model.Config, b *model.Binder) (model.Definition, error) {
	f, ok := c.Family.(*Family)
	if !ok {
		return nil, fmt.Errorf("qwen2vl: config was not configured by this family")
	}
	var at layout
	for _, l := range layouts {
		if b.Has(l.text + "embed_tokens.weight") {
			at = l
			break
		}
	}
	if at.text == "" {
		return nil, fmt.Errorf("%w: no embed_tokens under %s, %s or %s", model.ErrWeights,
			layouts[0].text, layouts[1].text, layouts[2].text)
	}
	text, err := llama.BuildAt(c, b, at.text, at.head)
	if err != nil {
		return nil, err
	}
	m := newModel(c, f, text)
	if !b.Has(at.vision + "patch_embed.proj.weight") {
		return m, nil
	}
	parse := qwenvit.ParseConfig
	if c.Architectures[0] == "Qwen2VLForConditionalGeneration" {
		parse = qwenvit.ParseQwen2VLConfig
	}
	vc, err := parse(f.Vision)
	if err != nil {
		return nil, err
	}
	if vc.OutHidden != c.HiddenSize {
		return nil, fmt.Errorf("vision_config out_hidden_size %d, the text model's hidden_size is %d", vc.OutHidden, c.HiddenSize)
	}
	t, err := qwenvit.Bind(vc, b, at.vision)
	if err != nil {
		return nil, fmt.Errorf("vision tower: %w", err)
	}
	spec := t.Spec(model.ImageSpec{Token: f.ImageToken, Begin: f.VisionStart, End: f.VisionEnd, Causal: true})
	return &multimodal{Model: m, Tower: t, spec: spec}, nil
}

// The executors find the tower and M-RoPE by these assertions: a method lost
// in a refactor would make the model text-only or position its images as
// text.
var (
	_ model.Vision = (*multimodal)(nil)
	_ model.MRoPE  = (*multimodal)(nil)
)

// multimodal is the text model with its vision tower.
type multimodal struct {
	*Model
	*qwenvit.Tower
	spec model.ImageSpec
}

// Image describes the images: grids of patches, each Merge×Merge block one
// <|image_pad|> between <|vision_start|> and <|vision_end|>, attended causally.
func (m *multimodal) Image() model.ImageSpec { return m.spec }

// The executors find M-RoPE by this assertion: a method lost in a refactor
// would position images' tokens as text.
var _ model.MRoPE = (*Model)(nil)

// Model is the text model: Llama-layout blocks whose attention rotates q
// and k by M-RoPE.
type Model struct {
	*llama.Model
	rope model.Rope
}

func newModel(c *model.Config, f *Family, text *llama.Model) *Model {
	return &Model{Model: text, rope: model.Rope{HeadDim: c.HeadDim, Dims: c.HeadDim,
		Freqs: model.RopeFreqsFor(c.RopeTheta, c.HeadDim, nil), Sections: f.Sections[:]}}
}

// MRoPE reports that images' tokens take three-dimensional positions.
func (m *Model) MRoPE() bool { return true }

// Layer is Qwen2_5_VLDecoderLayer: pre-norm attention with M-RoPE, then
// the SwiGLU MLP, each added to the residual stream.
func (m *Model) Layer(o model.Ops, l int, x model.Value) model.Value {
	a := m.SelfAttention(l)
	a.Rope = &m.rope
	x = o.Add(x, a.Forward(o, l, x))
	L := &m.Weights().Layers[l]
	h := o.RMSNorm(x, &L.MLPNorm, a.Eps, 0)
	return o.Add(x, model.GatedMLP(o, h, &L.Gate, &L.Up, &L.Down, model.SiLU))
}
