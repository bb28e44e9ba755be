package model_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all"
)

func readConfig(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseConfigReal(t *testing.T) {
	cases := []struct {
		file  string
		check func(t *testing.T, c *model.Config)
	}{
		{"stories260K.json", func(t *testing.T, c *model.Config) {
			if c.HiddenSize != 64 || c.IntermediateSize != 172 || c.NumHiddenLayers != 5 || c.NumAttentionHeads != 8 ||
				c.NumKeyValueHeads != 4 || c.HeadDim != 8 || c.VocabSize != 512 || c.MaxPositionEmbeddings != 512 {
				t.Errorf("dims %+v", c)
			}
			if !c.TieWordEmbeddings || c.RopeScaling != nil || c.RMSNormEps != 1e-5 || c.BOSTokenID != 1 || !slices.Equal(c.EOSTokenIDs, []int{2}) {
				t.Errorf("settings %+v", c)
			}
		}},
		{"llama31-8b.json", func(t *testing.T, c *model.Config) {
			want := model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 8192}
			if c.RopeScaling == nil || !reflect.DeepEqual(*c.RopeScaling, want) {
				t.Errorf("rope scaling %+v", c.RopeScaling)
			}
			if c.HeadDim != 128 || c.RopeTheta != 500000 || !slices.Equal(c.EOSTokenIDs, []int{128001, 128008, 128009}) {
				t.Errorf("%+v", c)
			}
			if c.QKVBias || c.OBias || c.QKNorm || c.TorchDType != "bfloat16" {
				t.Errorf("layout %+v", c)
			}
		}},
		{"qwen25-05b-mlx4.json", func(t *testing.T, c *model.Config) {
			if !c.QKVBias || c.OBias || c.QKNorm || c.SlidingWindow != 0 || c.HeadDim != 64 {
				t.Errorf("layout %+v", c)
			}
			q := c.Quantization
			if q == nil || q.Bits != 4 || q.GroupSize != 64 {
				t.Fatalf("quantization %+v", q)
			}
			if got, ok := q.For("model.layers.0.mlp.down_proj"); !ok || got != (model.Quant{Bits: 8, GroupSize: 32}) {
				t.Errorf("override = %v %v", got, ok)
			}
			if _, ok := q.For("lm_head"); ok {
				t.Error("lm_head is excluded by the config")
			}
			if got, ok := q.For("model.layers.3.self_attn.q_proj"); !ok || got.Bits != 4 {
				t.Errorf("default = %v %v", got, ok)
			}
		}},
		{"qwen3-06b.json", func(t *testing.T, c *model.Config) {
			if !c.QKNorm || c.QKVBias || c.HeadDim != 128 || c.SlidingWindow != 0 {
				t.Errorf("layout %+v", c)
			}
		}},
		{"mistral-7b.json", func(t *testing.T, c *model.Config) {
			if c.SlidingWindow != 4096 || c.QKVBias || c.NumKeyValueHeads != 8 {
				t.Errorf("layout %+v", c)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			c, err := model.ParseConfig(readConfig(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

const baseConfig = `"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,` +
	`"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":512`

func TestParseConfigDefaults(t *testing.T) {
	c, err := model.ParseConfig([]byte(`{` + baseConfig + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.NumKeyValueHeads != 4 || c.HeadDim != 16 || c.RopeTheta != 10000 || c.RMSNormEps != 1e-6 ||
		c.HiddenAct != "silu" || c.BOSTokenID != -1 || c.MaxPositionEmbeddings != 2048 {
		t.Errorf("defaults %+v", c)
	}
	c, err = model.ParseConfig([]byte(`{` + baseConfig + `,"rope_parameters":{"rope_type":"linear","factor":2,"rope_theta":1e6}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.RopeTheta != 1e6 || c.RopeScaling == nil || c.RopeScaling.Factor != 2 {
		t.Errorf("rope_parameters: %+v %+v", c, c.RopeScaling)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, extra, want string
	}{
		{"heads do not divide", `,"num_key_value_heads":3`, "not a multiple of num_key_value_heads"},
		{"zero hidden", `,"hidden_size":0`, "hidden_size is 0"},
		{"negative layers", `,"num_hidden_layers":-1`, "num_hidden_layers is -1"},
		{"huge vocab", `,"vocab_size":1000000000`, "vocab_size"},
		{"odd head dim", `,"head_dim":15`, "head_dim 15 is odd"},
		{"gelu", `,"hidden_act":"gelu"`, "hidden_act"},
		{"yarn", `,"rope_scaling":{"type":"yarn","factor":4}`, "yarn"},
		{"llama3 incomplete", `,"rope_scaling":{"rope_type":"llama3","factor":8}`, "needs factor"},
		{"bad eps", `,"rms_norm_eps":0`, "rms_norm_eps"},
		{"eos out of vocab", `,"eos_token_id":[2,999]`, "999"},
		{"eos wrong type", `,"eos_token_id":"x"`, "token id"},
		{"3-bit groups of 48", `,"quantization":{"bits":3,"group_size":48}`, "group_size 48"},
		{"7 bits", `,"quantization":{"bits":7,"group_size":64}`, "7 bits"},
		{"nvfp4", `,"quantization":{"bits":4,"group_size":16,"mode":"nvfp4"}`, "nvfp4"},
		{"mxfp4 groups of 64", `,"quantization":{"bits":4,"group_size":64,"mode":"mxfp4"}`, "mxfp4"},
		{"gptq", `,"quantization_config":{"quant_method":"gptq","bits":4}`, "gptq"},
		{"bad override", `,"quantization":{"bits":4,"group_size":64,"model.layers.0.mlp.up_proj":{"bits":4}}`, "needs bits and group_size"},
		{"fp8 dtype", `,"torch_dtype":"float8"`, "torch_dtype"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.ParseConfig([]byte(`{` + baseConfig + tc.extra + `}`))
			if !errors.Is(err, model.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrInvalidConfig mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("not json", func(t *testing.T) {
		if _, err := model.ParseConfig([]byte(`{`)); !errors.Is(err, model.ErrInvalidConfig) {
			t.Errorf("error %v", err)
		}
	})
	t.Run("qwen sliding window", func(t *testing.T) {
		js := strings.Replace(string(readConfig(t, "qwen3-06b.json")), `"use_sliding_window": false`, `"use_sliding_window": true`, 1)
		if _, err := model.ParseConfig([]byte(js)); err == nil || !strings.Contains(err.Error(), "use_sliding_window") {
			t.Errorf("error %v", err)
		}
	})
}

func TestUnsupportedArch(t *testing.T) {
	for _, js := range []string{`{"architectures":["GPT2LMHeadModel"]}`, `{}`} {
		_, err := model.ParseConfig([]byte(js))
		if !errors.Is(err, model.ErrUnsupportedArch) {
			t.Errorf("%s: error %v, want ErrUnsupportedArch", js, err)
		}
	}
	_, err := model.ParseConfig([]byte(`{"architectures":["GPT2LMHeadModel"]}`))
	if err == nil || !strings.Contains(err.Error(), "GPT2LMHeadModel") || !strings.Contains(err.Error(), "Qwen3ForCausalLM") {
		t.Errorf("error %v should name the architecture and the supported ones", err)
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	model.Register(model.Arch{Name: "LlamaForCausalLM"})
}

func TestGenerationConfig(t *testing.T) {
	cfg, err := model.ParseConfig(readConfig(t, "stories260K.json"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := model.ParseGenerationConfig([]byte(`{"bos_token_id":1,"eos_token_id":[2,1],"do_sample":false,"max_length":512}`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.EOSTokenIDs, []int{2, 1}) || g.Temperature != 1 || g.TopP != 1 || g.TopK != 50 || g.MaxLength != 512 {
		t.Errorf("%+v", g)
	}
	g, err = model.ParseGenerationConfig([]byte(`{"temperature":0.6,"top_p":0.9}`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.EOSTokenIDs, []int{2}) || g.Temperature != 0.6 || g.TopP != 0.9 || g.BOSTokenID != 1 {
		t.Errorf("inherits from config: %+v", g)
	}
	for _, bad := range []string{`{"top_p":0}`, `{"temperature":-1}`, `{"eos_token_id":600}`, `{"top_k":-2}`, `[`} {
		if _, err := model.ParseGenerationConfig([]byte(bad), cfg); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzParseConfig: any input either fails with an error or yields a config
// that passes Validate and has consistent attention dimensions.
func FuzzParseConfig(f *testing.F) {
	for _, name := range []string{"stories260K.json", "llama31-8b.json", "qwen25-05b-mlx4.json", "qwen3-06b.json", "mistral-7b.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{` + baseConfig + `,"rope_scaling":{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192}}`))
	f.Add([]byte(`{` + baseConfig + `,"quantization":{"bits":3,"group_size":32,"lm_head":false}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := model.ParseConfig(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if c.NumAttentionHeads%c.NumKeyValueHeads != 0 || c.HeadDim <= 0 || c.HeadDim%2 != 0 {
			t.Fatalf("inconsistent attention: %+v", c)
		}
		if n := len(model.RopeFreqs(c)); n != c.HeadDim/2 {
			t.Fatalf("%d rope freqs for head_dim %d", n, c.HeadDim)
		}
	})
}
