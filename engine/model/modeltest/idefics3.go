package modeltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// The tiny Idefics3ForConditionalGeneration ("idefics3"), in transformers'
// names (model.text_model.*, model.vision_model.*,
// model.connector.modality_projection.proj, lm_head): a Llama text model of
// the Spec's sizes, tiles of 18x18 pixels cut into 4x4 patches (a 4x4 grid,
// the last 2 pixels unread, as SmolVLM-Instruct's 384 pixels in patches of
// 14) through two SigLIP layers of width 16, pixel-shuffled by 2 into
// Idefics3Tokens features. Its processor scales the longest edge to 36 and
// cuts tiles of 18, so an image is at most a 2x2 grid and the global tile.
// Its tokenizer has SmolVLM's image tokens as added special tokens, in
// SmolVLM's order, after the 512 of the tiny vocabulary.
const (
	Idefics3Tokens = 4
	Idefics3Tile   = 18
	Idefics3Vocab  = 576
	// Idefics3Image is <image> (SmolVLM-256M's 49190).
	Idefics3Image = 550
	// Idefics3Fake is <fake_token_around_image>, Idefics3Global <global-img>,
	// Idefics3Row the first of <row_r_col_c> (row 1 col 1; r, c up to 6, row
	// by row).
	Idefics3Fake   = 549
	Idefics3Global = 512
	Idefics3Row    = 513
	// Idefics3EOU is <end_of_utterance>, SmolVLM's end of a turn.
	Idefics3EOU = 551

	idefics3Scale = 2
)

func init() {
	archNames["idefics3"] = struct{ arch, modelType string }{"Idefics3ForConditionalGeneration", "idefics3"}
}

// idefics3Added are the tokenizer's added tokens from id 512 on.
func idefics3Added() []string {
	out := []string{"<global-img>"}
	for r := 1; r <= 6; r++ {
		for c := 1; c <= 6; c++ {
			out = append(out, fmt.Sprintf("<row_%d_col_%d>", r, c))
		}
	}
	return append(out, "<fake_token_around_image>", "<image>", "<end_of_utterance>")
}

// idefics3ChatTemplate is SmolVLM's turn format over string contents (its
// own template iterates content parts): "User: ...<end_of_utterance>\n",
// then "Assistant:".
const idefics3ChatTemplate = "<|im_start|>{% for message in messages %}{% if message['role'] == 'user' %}User{% elif message['role'] == 'assistant' %}Assistant{% else %}System{% endif %}: {{ message['content'] }}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"

func writeIdefics3(dir string, s Spec) error {
	s.Vocab = max(s.Vocab, Idefics3Vocab)
	text := s
	text.Arch = "llama"
	tc := text.config()
	torch := tc["torch_dtype"]
	for _, k := range []string{"architectures", "torch_dtype", "quantization", "quantization_config"} {
		delete(tc, k)
	}
	tc["model_type"] = "llama"
	tc["pad_token_id"] = 2
	top := map[string]any{
		"architectures": []string{"Idefics3ForConditionalGeneration"}, "model_type": "idefics3",
		"text_config": tc, "scale_factor": idefics3Scale, "image_token_id": Idefics3Image,
		"vocab_size": s.Vocab, "hidden_size": s.Hidden, "tie_word_embeddings": s.Tied, "torch_dtype": torch,
		"vision_config": map[string]any{
			"model_type": "idefics3_vision", "hidden_size": visionHidden, "intermediate_size": visionInter,
			"num_hidden_layers": visionLayers, "num_attention_heads": visionHeads, "num_channels": 3,
			"image_size": Idefics3Tile, "patch_size": visionPatch, "layer_norm_eps": 1e-6, "hidden_act": "gelu_pytorch_tanh",
		},
	}
	if q := s.quantization(); q != nil {
		top["quantization"], top["quantization_config"] = q, q
	}
	files := map[string]any{
		"config.json":            top,
		"generation_config.json": map[string]any{"bos_token_id": 1, "eos_token_id": []int{Idefics3EOU, 2}, "pad_token_id": 2},
		"preprocessor_config.json": map[string]any{
			"image_processor_type": "Idefics3ImageProcessor", "processor_class": "Idefics3Processor",
			"do_convert_rgb": true, "do_image_splitting": true, "do_normalize": true, "do_pad": true,
			"do_rescale": true, "do_resize": true, "image_mean": []float64{0.5, 0.5, 0.5},
			"image_std": []float64{0.5, 0.5, 0.5}, "max_image_size": map[string]int{"longest_edge": Idefics3Tile},
			"resample": 1, "rescale_factor": 1.0 / 255, "size": map[string]int{"longest_edge": 2 * Idefics3Tile},
		},
		"processor_config.json": map[string]any{"image_seq_len": Idefics3Tokens, "processor_class": "Idefics3Processor"},
	}
	for name, v := range files {
		if err := writeJSON(filepath.Join(dir, name), v); err != nil {
			return err
		}
	}
	if err := writeIdefics3Tokenizer(dir); err != nil {
		return err
	}
	g := &gen{s: text, r: rand.New(rand.NewPCG(s.Seed, 0x6d6c78))}
	if err := g.tensors(); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	for i, t := range g.out {
		if strings.HasPrefix(t.Name, "model.") {
			g.out[i].Name = "model.text_model." + strings.TrimPrefix(t.Name, "model.")
		}
	}
	if err := g.idefics3Vision(); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	switch s.VisionLayout {
	case "":
	case "mlx":
		// mlx-vlm's names, and its (out, ky, kx, channel) patch kernel.
		for i, t := range g.out {
			for _, r := range [][2]string{{"model.text_model.", "language_model.model."}, {"lm_head.", "language_model.lm_head."},
				{"model.vision_model.", "vision_model."}, {"model.connector.", "connector."}} {
				if strings.HasPrefix(t.Name, r[0]) {
					g.out[i].Name = r[1] + strings.TrimPrefix(t.Name, r[0])
					break
				}
			}
		}
		if err := g.visionLayout("mlx"); err != nil {
			return fmt.Errorf("modeltest: %w", err)
		}
	default:
		return fmt.Errorf("modeltest: idefics3 vision layout %q", s.VisionLayout)
	}
	return writeShards(dir, g.out, s)
}

// writeIdefics3Tokenizer writes the tiny tokenizer with the image tokens
// added and SmolVLM's turn format as its chat template.
func writeIdefics3Tokenizer(dir string) error {
	var tok map[string]any
	b, err := tokenizerFiles.ReadFile("testdata/tokenizer.json")
	if err == nil {
		err = json.Unmarshal(b, &tok)
	}
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	added, _ := tok["added_tokens"].([]any)
	decoder := map[string]any{}
	for i, s := range idefics3Added() {
		t := map[string]any{"id": 512 + i, "content": s, "single_word": false, "lstrip": false, "rstrip": false,
			"normalized": false, "special": true}
		added = append(added, t)
		decoder[fmt.Sprint(512+i)] = t
	}
	tok["added_tokens"] = added
	var tc map[string]any
	if b, err = tokenizerFiles.ReadFile("testdata/tokenizer_config.json"); err == nil {
		err = json.Unmarshal(b, &tc)
	}
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	tc["chat_template"] = idefics3ChatTemplate
	tc["add_bos_token"] = false // the template starts each prompt itself
	tc["eos_token"] = "<end_of_utterance>"
	if d, ok := tc["added_tokens_decoder"].(map[string]any); ok {
		for k, v := range decoder {
			d[k] = v
		}
	}
	for name, v := range map[string]any{"tokenizer.json": tok, "tokenizer_config.json": tc} {
		if err := writeJSON(filepath.Join(dir, name), v); err != nil {
			return err
		}
	}
	b, err = tokenizerFiles.ReadFile("testdata/special_tokens_map.json")
	if err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), b, 0o644); err != nil {
		return fmt.Errorf("modeltest: %w", err)
	}
	return nil
}

// idefics3Vision draws the tower (siglipTower) and connector, activations
// of order one.
func (g *gen) idefics3Vision() error {
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	steps := g.siglipTower("model.vision_model.", Idefics3Tile/visionPatch) // 4: the convolution is "valid"
	in := visionHidden * idefics3Scale * idefics3Scale
	steps = append(steps, g.float("model.connector.modality_projection.proj.weight", g.normal(g.s.Hidden*in, 0, inv(in)), g.s.Hidden, in))
	return errors.Join(steps...)
}
