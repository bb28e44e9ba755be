package nomicbert

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// v15 has nomic-embed-text-v1.5's architecture keys: the rotary and window
// keys as a public vLLM issue quotes them from its config.json
// (n_positions 8192, max_trained_positions 2048, rotary_emb_base 1000,
// rope_parameters of a transformers 5 save), the sizes and the rest as
// NomicBertConfig names them for a 12-layer, 768-wide BERT with a padded
// vocabulary. No verbatim copy of the file could be found.
const v15 = `{
  "activation_function": "swiglu",
  "architectures": ["NomicBertModel"],
  "causal": false,
  "layer_norm_epsilon": 1e-12,
  "max_position_embeddings": 2048,
  "max_trained_positions": 2048,
  "mlp_fc1_bias": false,
  "mlp_fc2_bias": false,
  "model_type": "nomic_bert",
  "n_embd": 768,
  "n_head": 12,
  "n_inner": 3072,
  "n_layer": 12,
  "n_positions": 8192,
  "pad_vocab_size_multiple": 64,
  "prenorm": false,
  "qkv_proj_bias": false,
  "rope_parameters": {"rope_theta": 1000.0, "rope_type": "default"},
  "rotary_emb_base": 1000,
  "rotary_emb_fraction": 1.0,
  "rotary_emb_interleaved": false,
  "rotary_emb_scale_base": null,
  "rotary_scaling_factor": null,
  "torch_dtype": "float32",
  "type_vocab_size": 2,
  "vocab_size": 30522
}`

func TestConfigure(t *testing.T) {
	c, err := model.ParseConfig([]byte(v15))
	if err != nil {
		t.Fatal(err)
	}
	f := c.Family.(*Config)
	got := []int{c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim,
		c.VocabSize, c.MaxPositionEmbeddings, c.IntermediateSize, f.RotaryDims, f.TypeVocab}
	want := []int{768, 12, 12, 12, 64, 30528, 2048, 3072, 64, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hidden, layers, heads, kv heads, head dim, vocab, window, inter, rotary, types = %v, want %v", got, want)
		}
	}
	if c.RopeTheta != 1000 || f.Eps != 1e-12 || f.FC1Bias || f.FC2Bias {
		t.Errorf("rope theta %g, eps %g, biases %v %v", c.RopeTheta, f.Eps, f.FC1Bias, f.FC2Bias)
	}
	for _, bad := range []struct{ key, value, msg string }{
		{"activation_function", `"gelu"`, "swiglu"},
		{"prenorm", "true", "post-norm"},
		{"qkv_proj_bias", "true", "qkv_proj_bias"},
		{"rotary_emb_interleaved", "true", "interleaved"},
		{"rotary_emb_fraction", "0.0", "absolute positions"},
	} {
		raw := strings.Replace(v15, `"`+bad.key+`": `, `"`+bad.key+`": `+bad.value+`, "was_`+bad.key+`": `, 1)
		_, err := model.ParseConfig([]byte(raw))
		if !errors.Is(err, model.ErrInvalidConfig) || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("%s %s: %v", bad.key, bad.value, err)
		}
	}
}
