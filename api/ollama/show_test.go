package ollama

import (
	"encoding/json"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine"
)

// mistralConfig is Mistral-7B-v0.1's config.json, transcribed (not a
// verbatim copy) from the Hugging Face repository.
const mistralConfig = `{
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
  "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000}`

func TestModelInfoFrom(t *testing.T) {
	var cfg map[string]any
	if err := json.Unmarshal([]byte(mistralConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	d := engine.ModelDetails{ModelInfo: engine.ModelInfo{ModelType: "mistral", Parameters: 7241732096, ContextLength: 32768}, Config: cfg}
	got := ModelInfoFrom(d)
	// The keys and values Ollama's /api/show gives the GGUF of this model.
	want := map[string]any{
		"general.architecture": "llama", "general.parameter_count": int64(7241732096),
		"llama.context_length": 32768, "llama.embedding_length": 4096.0, "llama.block_count": 32.0,
		"llama.feed_forward_length": 14336.0, "llama.attention.head_count": 32.0, "llama.attention.head_count_kv": 8.0,
		"llama.attention.layer_norm_rms_epsilon": 1e-05, "llama.rope.freq_base": 10000.0, "llama.rope.dimension_count": 128.0,
		"llama.vocab_size": 32000.0, "llama.attention.sliding_window": 4096.0,
		"tokenizer.ggml.bos_token_id": 1.0, "tokenizer.ggml.eos_token_id": 2.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v (%T), want %v (%T)", k, got[k], got[k], v, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected key %s = %v", k, got[k])
		}
	}
}

func TestCapabilities(t *testing.T) {
	for _, tc := range []struct {
		name, template string
		want           []string
	}{
		{"no template", "", []string{"completion"}},
		{"tools", "{% if tools %}{{ tools | tojson }}{% endif %}", []string{"completion", "tools"}},
		{"reasoning", "{% if enable_thinking is defined %}<think>{% endif %}", []string{"completion", "thinking"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Capabilities(engine.ModelDetails{ChatTemplate: tc.template})
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}
