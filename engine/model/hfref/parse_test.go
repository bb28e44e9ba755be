package hfref_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/gemma2"
)

// TestRealConfigsParse: the config.json of real checkpoints (testdata/configs)
// pass the engine's parser and their family's Configure.
func TestRealConfigsParse(t *testing.T) {
	for name, check := range map[string]func(t *testing.T, c *model.Config){
		"smollm3-3b.json": func(t *testing.T, c *model.Config) {
			if c.NumHiddenLayers != 36 || c.RopeTheta != 5e6 || c.SlidingWindow != 0 {
				t.Errorf("%+v", c)
			}
		},
		"gemma-2-2b-it.json": func(t *testing.T, c *model.Config) {
			if c.HiddenAct != "gelu_pytorch_tanh" || !c.TieWordEmbeddings || c.HeadDim != 256 {
				t.Errorf("%+v", c)
			}
		},
		"phi-3.5-mini-instruct.json": func(t *testing.T, c *model.Config) {
			if r := c.RopeScaling; r == nil || r.Type != "longrope" || len(r.LongFactor) != 48 || c.SlidingWindow != 262144 {
				t.Errorf("rope %+v, window %d", c.RopeScaling, c.SlidingWindow)
			}
		},
		"gemma-3-4b-it.json": func(t *testing.T, c *model.Config) {
			// The sparse text_config gets Gemma3TextConfig's defaults.
			if c.NumHiddenLayers != 34 || c.NumAttentionHeads != 8 || c.NumKeyValueHeads != 4 || c.HeadDim != 256 ||
				c.VocabSize != 262208 || c.RopeScaling == nil || c.RopeScaling.Factor != 8 || len(c.EOSTokenIDs) != 2 {
				t.Errorf("%+v", c)
			}
		},
		"gemma-3-1b-it.json": func(t *testing.T, c *model.Config) {
			if c.Architectures[0] != "Gemma3ForCausalLM" || c.NumHiddenLayers != 26 || c.NumKeyValueHeads != 1 || c.HeadDim != 256 ||
				c.RopeTheta != 1e6 || c.RopeScaling != nil || !c.TieWordEmbeddings || len(c.EOSTokenIDs) != 2 {
				t.Errorf("%+v", c)
			}
			s, ok := c.Family.(*gemma2.Settings)
			if !ok || s.Window != 512 || !s.QKNorm || s.QueryPreAttnScalar != 256 || s.LocalFreqs == nil || len(s.Sliding) != 26 {
				t.Fatalf("family settings %+v", c.Family)
			}
			for l, sl := range s.Sliding {
				if sl != ((l+1)%6 != 0) {
					t.Errorf("layer %d sliding %v", l, sl)
				}
			}
		},
		"granite-3.3-2b-instruct.json": func(t *testing.T, c *model.Config) {
			if c.NumHiddenLayers != 40 || c.HiddenSize != 2048 || c.NumKeyValueHeads != 8 || c.RopeTheta != 1e7 || !c.TieWordEmbeddings || c.Family == nil {
				t.Errorf("%+v", c)
			}
		},
		"granite-3.3-8b-instruct.json": func(t *testing.T, c *model.Config) {
			if c.NumHiddenLayers != 40 || c.HiddenSize != 4096 || c.IntermediateSize != 12800 || c.VocabSize != 49159 || c.Family == nil {
				t.Errorf("%+v", c)
			}
		},
		"olmo-2-1124-7b-instruct.json": func(t *testing.T, c *model.Config) {
			if c.NumHiddenLayers != 32 || c.NumKeyValueHeads != 32 || c.RopeTheta != 5e5 || c.TieWordEmbeddings || c.RMSNormEps != 1e-6 {
				t.Errorf("%+v", c)
			}
		},
		"smolvlm-256m-instruct.json": func(t *testing.T, c *model.Config) {
			// Idefics3: text_config is the model's (LlamaForCausalLM's layout).
			if c.Architectures[0] != "Idefics3ForConditionalGeneration" || c.HiddenSize != 576 || c.NumHiddenLayers != 30 ||
				c.NumAttentionHeads != 9 || c.NumKeyValueHeads != 3 || c.HeadDim != 64 || c.VocabSize != 49280 ||
				c.RopeTheta != 100000 || c.RMSNormEps != 1e-5 || c.TieWordEmbeddings || c.TorchDType != "bfloat16" {
				t.Errorf("%+v", c)
			}
		},
		"phi-4-mini-instruct-mlx4.json": func(t *testing.T, c *model.Config) {
			if q := c.Quantization; q == nil || q.Bits != 4 || q.GroupSize != 64 || !c.TieWordEmbeddings || c.NumKeyValueHeads != 8 {
				t.Errorf("quantization %+v, %+v", c.Quantization, c)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "configs", name))
			if err != nil {
				t.Fatal(err)
			}
			c, err := model.ParseConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			check(t, c)
		})
	}
}

// TestGemma3MultimodalConfigParse: a Gemma3ForConditionalGeneration config
// with a sparse text_config (as Gemma 3 4B's) gets Gemma3TextConfig's defaults.
func TestGemma3MultimodalConfigParse(t *testing.T) {
	c, err := model.ParseConfig([]byte(`{"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
		"eos_token_id": [1, 106], "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
		"num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024},
		"torch_dtype": "bfloat16", "vision_config": {"model_type": "siglip_vision_model"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Architectures[0] != "Gemma3ForConditionalGeneration" || c.HiddenSize != 2560 || c.NumAttentionHeads != 8 ||
		c.NumKeyValueHeads != 4 || c.HeadDim != 256 || c.VocabSize != 262208 || c.RopeTheta != 1e6 ||
		c.RopeScaling == nil || c.RopeScaling.Factor != 8 || c.TorchDType != "bfloat16" || len(c.EOSTokenIDs) != 2 {
		t.Errorf("%+v", c)
	}
}

func TestFamilyConfigsRejected(t *testing.T) {
	for name, js := range map[string]string{
		"granite zero multiplier": `{"architectures": ["GraniteForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512, "logits_scaling": 0}`,
		"gemma2 silu":             `{"architectures": ["Gemma2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 16, "vocab_size": 512, "hidden_activation": "silu"}`,
		"phi3 factors":            `{"architectures": ["Phi3ForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512, "original_max_position_embeddings": 8, "rope_scaling": {"type": "longrope", "short_factor": [1, 1], "long_factor": [2, 2]}}`,
		"smollm3 layers":          `{"architectures": ["SmolLM3ForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512, "no_rope_layers": [1]}`,
		"olmo2 mlp bias":          `{"architectures": ["Olmo2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 512, "mlp_bias": true}`,
	} {
		if _, err := model.ParseConfig([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
