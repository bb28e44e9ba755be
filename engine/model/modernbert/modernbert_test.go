package modernbert_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modernbert"
)

// base is ModernBERT-base's shape in transformers 4.48's keys (global and
// local RoPE bases, global_attn_every_n_layers, no layer_types).
const base = `{"architectures": ["ModernBertForMaskedLM"], "model_type": "modernbert", "hidden_size": 768,
	"intermediate_size": 1152, "num_hidden_layers": 22, "num_attention_heads": 12, "vocab_size": 50368,
	"max_position_embeddings": 8192, "global_attn_every_n_layers": 3, "local_attention": 128,
	"global_rope_theta": 160000.0, "local_rope_theta": 10000.0, "norm_eps": 1e-05, "norm_bias": false,
	"hidden_activation": "gelu", "attention_bias": false, "mlp_bias": false, "tie_word_embeddings": true`

func TestConfigure(t *testing.T) {
	for name, c := range map[string]struct {
		js          string
		global      []int // the full-attention layers
		gTh, lTh    float64
		radius      int
		errContains string
	}{
		"4.48 keys": {js: base + `}`, global: []int{0, 3, 6, 9, 12, 15, 18, 21}, gTh: 160000, lTh: 10000, radius: 64},
		"transformers 5": {js: base + `, "layer_types": ["full_attention"` + strings.Repeat(`, "sliding_attention"`, 21) + `],
			"rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 80000},
			"sliding_attention": {"rope_type": "default", "rope_theta": 20000}}}`, global: []int{0}, gTh: 80000, lTh: 20000, radius: 64},
		"bad pooling": {js: strings.Replace(base, "ModernBertForMaskedLM", "ModernBertForSequenceClassification", 1) +
			`, "classifier_pooling": "max"}`, errContains: "classifier_pooling"},
		"yarn":          {js: base + `, "rope_scaling": {"rope_type": "yarn", "factor": 4}}`, errContains: "rope_scaling"},
		"tanh gelu":     {js: base + `, "hidden_activation": "gelu_pytorch_tanh"}`, errContains: "hidden_activation"},
		"biases":        {js: base + `, "attention_bias": true}`, errContains: "attention_bias"},
		"short types":   {js: base + `, "layer_types": ["full_attention"]}`, errContains: "layer_types"},
		"unknown types": {js: base + `, "layer_types": ["chunked"` + strings.Repeat(`, "sliding_attention"`, 21) + `]}`, errContains: "chunked"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := model.ParseConfig([]byte(c.js))
			if c.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.errContains) {
					t.Fatalf("err %v, want one naming %s", err, c.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, ok := cfg.Family.(*modernbert.Config)
			if !ok {
				t.Fatalf("family settings %T", cfg.Family)
			}
			var global []int
			for i, g := range f.Global {
				if g {
					global = append(global, i)
				}
			}
			if len(f.Global) != 22 || !slices.Equal(global, c.global) {
				t.Errorf("global layers %v, want %v", global, c.global)
			}
			if f.GlobalTheta != c.gTh || f.LocalTheta != c.lTh || f.Radius != c.radius || f.Eps != 1e-5 || cfg.HeadDim != 64 {
				t.Errorf("%+v, head dim %d", f, cfg.HeadDim)
			}
		})
	}
}

// TestConfigureHead: a ModernBertForSequenceClassification config has
// ModernBertConfig's head defaults (cls pooling) and PretrainedConfig's
// num_labels (the size of id2label).
func TestConfigureHead(t *testing.T) {
	js := strings.Replace(base, "ModernBertForMaskedLM", "ModernBertForSequenceClassification", 1)
	for name, c := range map[string]struct {
		js     string
		labels int
		mean   bool
	}{
		"defaults":     {js + `}`, 2, false},
		"one label":    {js + `, "id2label": {"0": "LABEL_0"}, "classifier_pooling": "mean"}`, 1, true},
		"num_labels 3": {js + `, "num_labels": 3}`, 3, false},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := model.ParseConfig([]byte(c.js))
			if err != nil {
				t.Fatal(err)
			}
			f := cfg.Family.(*modernbert.Config)
			if f.Labels != c.labels || f.MeanPool != c.mean {
				t.Errorf("%d labels, mean %v; want %d, %v", f.Labels, f.MeanPool, c.labels, c.mean)
			}
		})
	}
}
