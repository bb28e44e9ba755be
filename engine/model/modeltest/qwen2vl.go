package modeltest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// The tiny Qwen2_5_VLForConditionalGeneration ("qwen2vl"), its text side:
// a Qwen2 text model of the Spec's sizes (head_dim is hidden/heads, as
// Qwen2_5_VLAttention computes it: 16 by default) with M-RoPE's
// mrope_section Qwen2VLSections (Qwen2.5-VL's 16, 24, 24 scaled to 8
// pairs), and the image tokens after the tiny vocabulary. VisionLayout
// chooses the layout: "" as Qwen released it (text keys at the top of
// config.json, rope_scaling type "mrope", model.layers.*, lm_head),
// "hf452" as transformers ≥ 4.52 saves it (text_config, rope type
// "default", model.language_model.*), "mlx" as mlx-vlm converts it
// (language_model.model.*, language_model.lm_head). It has no vision tower.
const (
	Qwen2VLStart = 512 // <|vision_start|>
	Qwen2VLEnd   = 513 // <|vision_end|>
	Qwen2VLImage = 514 // <|image_pad|>
	Qwen2VLVocab = 520
)

// Qwen2VLSections is the tiny model's mrope_section.
var Qwen2VLSections = []int{2, 3, 3}

func init() {
	archNames["qwen2vl"] = struct{ arch, modelType string }{"Qwen2_5_VLForConditionalGeneration", "qwen2_5_vl"}
}

func writeQwen2VL(dir string, s Spec) error {
	s.Vocab = max(s.Vocab, Qwen2VLVocab)
	if s.Hidden != s.Heads*s.HeadDim {
		return fmt.Errorf("modeltest: qwen2vl: hidden %d is not heads %d x head_dim %d", s.Hidden, s.Heads, s.HeadDim)
	}
	text := s
	text.Arch = "qwen2"
	tc := text.config()
	delete(tc, "head_dim") // Qwen2.5-VL's configs have none
	ids := map[string]any{"vision_start_token_id": Qwen2VLStart, "vision_end_token_id": Qwen2VLEnd,
		"image_token_id": Qwen2VLImage, "video_token_id": Qwen2VLImage + 1, "vision_token_id": Qwen2VLImage + 2}
	var top map[string]any
	switch s.VisionLayout {
	case "", "mlx":
		top = tc
		top["rope_scaling"] = map[string]any{"type": "mrope", "mrope_section": Qwen2VLSections}
	case "hf452":
		top = map[string]any{"tie_word_embeddings": tc["tie_word_embeddings"], "torch_dtype": tc["torch_dtype"]}
		for _, k := range []string{"quantization", "quantization_config"} {
			if v, ok := tc[k]; ok {
				top[k] = v
				delete(tc, k)
			}
		}
		delete(tc, "tie_word_embeddings")
		tc["model_type"] = "qwen2_5_vl_text"
		tc["rope_scaling"] = map[string]any{"type": "default", "rope_type": "default", "mrope_section": Qwen2VLSections}
		top["text_config"] = tc
	default:
		return fmt.Errorf("modeltest: qwen2vl layout %q", s.VisionLayout)
	}
	top["architectures"] = []string{archNames["qwen2vl"].arch}
	top["model_type"] = archNames["qwen2vl"].modelType
	for k, v := range ids {
		top[k] = v
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), top); err != nil {
		return err
	}
	genCfg := map[string]any{"bos_token_id": 1, "eos_token_id": s.EOS, "do_sample": false}
	if err := writeJSON(filepath.Join(dir, "generation_config.json"), genCfg); err != nil {
		return err
	}
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		b, err := tokenizerFiles.ReadFile("testdata/" + name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	}
	g := &gen{s: text, r: rand.New(rand.NewPCG(s.Seed, 0x6d6c78))}
	if err := g.tensors(); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	renames := map[string][][2]string{
		"hf452": {{"model.", "model.language_model."}},
		"mlx":   {{"model.", "language_model.model."}, {"lm_head.", "language_model.lm_head."}},
	}[s.VisionLayout]
	for i, t := range g.out {
		for _, r := range renames {
			if strings.HasPrefix(t.Name, r[0]) {
				g.out[i].Name = r[1] + strings.TrimPrefix(t.Name, r[0])
				break
			}
		}
	}
	return writeShards(dir, g.out, s)
}

// WriteQwen2VL writes into dir (which must exist) the tiny Qwen2.5-VL of
// spec (Arch "qwen2vl", Hidden v's OutHidden) with the vision tower v under
// its layout's prefix (visual., model.visual., or vision_tower. with mlx-vlm's
// patch kernel), its vision_config, and WriteQwenTowerModel's
// preprocessor_config.json; a Qwen2-VL (Qwen2VLForConditionalGeneration)
// when v is Qwen2-VL's tower.
func WriteQwen2VL(dir string, spec Spec, v QwenVision) error {
	if err := Write(dir, spec); err != nil {
		return err
	}
	prefix := map[string]string{"": "visual.", "hf452": "model.visual.", "mlx": "vision_tower."}[spec.VisionLayout]
	v.MLX = spec.VisionLayout == "mlx"
	v = v.withDefaults()
	path := filepath.Join(dir, "config.json")
	var c map[string]any
	if err := readJSON(path, &c); err != nil {
		return err
	}
	c["vision_config"] = v.Config()
	if v.Qwen2VL {
		c["architectures"], c["model_type"] = []string{"Qwen2VLForConditionalGeneration"}, "qwen2_vl"
	}
	if err := writeJSON(path, c); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "preprocessor_config.json"), qwenProcessor(v)); err != nil {
		return err
	}
	return WriteQwenVision(dir, prefix, v)
}

// qwenProcessor is Qwen2VLImageProcessor's preprocessor_config.json for
// the patches of v: areas of 256 to 1024 pixels, as WriteQwenTowerModel's.
func qwenProcessor(v QwenVision) map[string]any {
	return map[string]any{
		"image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2_5_VLProcessor",
		"min_pixels": 256, "max_pixels": 1024, "patch_size": v.Patch, "temporal_patch_size": v.TemporalPatch,
		"merge_size": v.Merge, "image_mean": []float64{0.48145466, 0.4578275, 0.40821073},
		"image_std": []float64{0.26862954, 0.26130258, 0.27577711},
	}
}
