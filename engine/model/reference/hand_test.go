package reference_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// handModel writes a one-layer model small enough to follow on paper:
// hidden 4, two query heads sharing one key/value head of dimension 2, an MLP
// of 2, a vocabulary of 3, unit norms and an eps too small to matter.
//
//	embeddings  e0 = [1 1 1 1], e1 = [2 0 0 0], e2 = [0 0 0 2]   (mean square 1)
//	q_proj = I4; k_proj picks x0,x1; v_proj picks x2,x3; o_proj = I4
//	gate picks x0,x3; up picks x0,x1; down writes its two outputs to x2,x3
//	lm_head rows: x0, x2, x1+x3
func handModel(t *testing.T, arch string, extra map[string]any, qNorm float32) string {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"architectures": []string{arch}, "hidden_size": 4, "intermediate_size": 2, "num_hidden_layers": 1,
		"num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 2, "vocab_size": 3,
		"max_position_embeddings": 8, "rms_norm_eps": 1e-12, "rope_theta": 10000.0,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	put := func(name string, shape []int, v ...float32) {
		data, err := model.EncodeFloats(model.F32, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: shape, Data: data})
	}
	p := "model.layers.0."
	put("model.embed_tokens.weight", []int{3, 4}, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 2)
	put(p+"input_layernorm.weight", []int{4}, 1, 1, 1, 1)
	put(p+"self_attn.q_proj.weight", []int{4, 4}, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)
	put(p+"self_attn.k_proj.weight", []int{2, 4}, 1, 0, 0, 0, 0, 1, 0, 0)
	put(p+"self_attn.v_proj.weight", []int{2, 4}, 0, 0, 1, 0, 0, 0, 0, 1)
	put(p+"self_attn.o_proj.weight", []int{4, 4}, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)
	if arch == "Qwen3ForCausalLM" {
		put(p+"self_attn.q_norm.weight", []int{2}, qNorm, qNorm)
		put(p+"self_attn.k_norm.weight", []int{2}, 1, 1)
	}
	put(p+"post_attention_layernorm.weight", []int{4}, 1, 1, 1, 1)
	put(p+"mlp.gate_proj.weight", []int{2, 4}, 1, 0, 0, 0, 0, 0, 0, 1)
	put(p+"mlp.up_proj.weight", []int{2, 4}, 1, 0, 0, 0, 0, 1, 0, 0)
	put(p+"mlp.down_proj.weight", []int{4, 2}, 0, 0, 0, 0, 1, 0, 0, 1)
	put("model.norm.weight", []int{4}, 1, 1, 1, 1)
	put("lm_head.weight", []int{3, 4}, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1)
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// handLogits works the two-token prompt [1, 0] through on paper.
//
// Position 0 (e1): the only key is itself, so attention returns v0 = (x2,x3) = 0
// and x stays [2 0 0 0]. MLP: gate = up = (2, 0), so x += [0 0 A 0] with
// A = silu(2)·2. Logits = [2, A, 0] / rms([2 0 A 0]).
//
// Position 1 (e0): q heads and k1 are (1,1) rotated by angle 1 (frequency 1 for
// head_dim 2): (c−s, c+s). k0 = (2,0) stays unrotated. Scores/√2:
// s0 = qs·(c−s)·k0x/√2 and s1 = qs·2/√2, where qs is the q_norm weight (1 without
// q_norm) and k0x = 2, or √2 after k_norm. With v0 = 0 and v1 = (1,1), each head
// returns p1·(1,1), so x = (1+p1)·[1 1 1 1]; its norm is [1 1 1 1], gate = up =
// (1,1) and x += [0 0 B B] with B = silu(1). Logits = [x0, x2, x1+x3] / rms(x).
func handLogits(qs, k0x float64, window bool) (pos0, pos1 []float64) {
	rms := func(x ...float64) float64 {
		var s float64
		for _, v := range x {
			s += v * v
		}
		return math.Sqrt(s / float64(len(x)))
	}
	a := silu(2) * 2
	r0 := rms(2, 0, a, 0)
	pos0 = []float64{2 / r0, a / r0, 0}

	s, c := math.Sincos(1)
	s0 := qs * (c - s) * k0x / math.Sqrt2
	s1 := qs * 2 / math.Sqrt2
	p1 := math.Exp(s1) / (math.Exp(s0) + math.Exp(s1))
	if window { // sliding_window 1: position 1 sees only itself
		p1 = 1
	}
	b := silu(1)
	x := []float64{1 + p1, 1 + p1, 1 + p1 + b, 1 + p1 + b}
	r1 := rms(x...)
	pos1 = []float64{x[0] / r1, x[2] / r1, (x[1] + x[3]) / r1}
	return pos0, pos1
}

func TestHandComputed(t *testing.T) {
	cases := []struct {
		name   string
		arch   string
		extra  map[string]any
		qNorm  float32
		qs     float64
		k0x    float64
		window bool
	}{
		{"llama", "LlamaForCausalLM", nil, 0, 1, 2, false},
		{"mistral window 1", "MistralForCausalLM", map[string]any{"sliding_window": 1}, 0, 1, 2, true},
		{"mistral window 2", "MistralForCausalLM", map[string]any{"sliding_window": 2}, 0, 1, 2, false},
		{"qwen3 q/k norms", "Qwen3ForCausalLM", nil, 2, 2, math.Sqrt2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := model.Open(context.Background(), handModel(t, c.arch, c.extra, c.qNorm))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			seq, err := reference.NewRunner(m).NewSequence(8)
			if err != nil {
				t.Fatal(err)
			}
			defer seq.Close()
			want0, want1 := handLogits(c.qs, c.k0x, c.window)
			for i, want := range [][]float64{want0, want1} {
				got, err := seq.Forward(context.Background(), []int32{[]int32{1, 0}[i]})
				if err != nil {
					t.Fatal(err)
				}
				for j := range want {
					// float32 output of float64 arithmetic: agreement to float32 precision.
					if math.Abs(float64(got[j])-want[j]) > 1e-6*math.Max(1, math.Abs(want[j])) {
						t.Errorf("position %d logit %d = %.7f, want %.7f", i, j, got[j], want[j])
					}
				}
			}
		})
	}
}
