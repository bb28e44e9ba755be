package idefics3

import (
	"os"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestSmolVLMConfig: SmolVLM-256M-Instruct's config.json gives tiles of
// 512 pixels in a 32x32 grid of patches, shuffled by 4 into 64 features,
// Idefics3Processor's image_seq_len.
func TestSmolVLMConfig(t *testing.T) {
	b, err := os.ReadFile("../hfref/testdata/configs/smolvlm-256m-instruct.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := model.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := c.Family.(*visionConfig)
	if !ok {
		t.Fatalf("family settings %T", c.Family)
	}
	if v.Hidden != 768 || v.Layers != 12 || v.Heads != 12 || v.ImageSize != 512 || v.Patch != 16 || v.scale != 4 ||
		v.imageToken != 49190 || v.tokens() != 64 {
		t.Errorf("%+v, %d tokens", v, v.tokens())
	}
}

func TestConfigRejected(t *testing.T) {
	base := `"architectures": ["Idefics3ForConditionalGeneration"], "text_config": {"model_type": "llama", "hidden_size": 64,
		"intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 600}`
	for _, c := range []struct{ extra, want string }{
		{`"scale_factor": 3, "vision_config": {"image_size": 16, "patch_size": 4}`, "scale_factor 3 does not divide"},
		{`"image_token_id": 600, "vision_config": {"image_size": 16, "patch_size": 4}`, "image_token_id 600 outside"},
		{`"vision_config": {"hidden_act": "relu"}`, `hidden_act "relu"`},
		{`"vision_config": {"image_size": 3, "patch_size": 4}`, "image_size 3, patch_size 4"},
	} {
		js := "{" + base + ", " + c.extra + "}"
		if _, err := model.ParseConfig([]byte(js)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.extra, err, c.want)
		}
	}
	js := `{"architectures": ["Idefics3ForConditionalGeneration"], "text_config": {"model_type": "mistral", "hidden_size": 64,
		"intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 600}, "image_token_id": 5}`
	if _, err := model.ParseConfig([]byte(js)); err == nil || !strings.Contains(err.Error(), `model_type "mistral"`) {
		t.Errorf("mistral text model: %v", err)
	}
}
