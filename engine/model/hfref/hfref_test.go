//go:build !race

// The float64 oracle over every family and storage form, one goroutine: make
// test-norace runs these without the race detector, which made them five to
// forty times slower.

package hfref_test

import (
	"context"
	"maps"
	"math"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// prompt is longer than every test model's sliding window (4) and than
// Phi-3's original context (8), so windows and longrope's long factors are
// both exercised.
var prompt = []int{1, 45, 300, 7, 220, 19, 402, 88, 5, 511, 64, 130, 9, 260}

func load(t *testing.T, s modeltest.Spec) (map[string]any, hfref.Tensors) {
	t.Helper()
	c, w, err := hfref.Load(modeltest.New(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

func logits(t *testing.T, c map[string]any, w hfref.Tensors, ids []int) [][]float64 {
	t.Helper()
	out, err := hfref.Logits(c, w, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(ids) {
		t.Fatalf("%d rows of logits for %d tokens", len(out), len(ids))
	}
	return out
}

// relErr is the largest difference between a and b relative to b's RMS.
func relErr(a, b []float64) float64 {
	var ss, worst float64
	for i := range b {
		ss += b[i] * b[i]
		worst = math.Max(worst, math.Abs(a[i]-b[i]))
	}
	return worst / math.Sqrt(ss/float64(len(b)))
}

// rmsErr is the RMS of a-b relative to b's.
func rmsErr(a, b []float64) float64 {
	var d, ss float64
	for i := range b {
		ss += b[i] * b[i]
		d += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(d / ss)
}

// TestLlamaSpecialCases checks the parts every family shares with Llama against
// engine/model/reference, an implementation written separately and itself
// checked against goldens: SmolLM3 with RoPE on every layer and Granite with
// neutral multipliers are Llama.
func TestLlamaSpecialCases(t *testing.T) {
	spec := modeltest.Spec{Arch: "llama", Layers: 3, Seed: 3}
	m := modeltest.Open(t, spec)
	seq, err := reference.NewRunner(m).NewSequence(len(prompt))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	var want [][]float64
	for _, id := range prompt {
		l, err := seq.Forward(context.Background(), []int32{int32(id)})
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float64, len(l))
		for i, v := range l {
			row[i] = float64(v)
		}
		want = append(want, row)
	}
	base, w := load(t, spec)
	for name, edit := range map[string]func(c map[string]any){
		"smollm3 all rope": func(c map[string]any) {
			c["architectures"] = []any{"SmolLM3ForCausalLM"}
			c["no_rope_layers"] = []any{1.0, 1.0, 1.0}
		},
		"granite neutral": func(c map[string]any) {
			c["architectures"] = []any{"GraniteForCausalLM"}
			c["embedding_multiplier"], c["residual_multiplier"], c["logits_scaling"] = 1.0, 1.0, 1.0
			c["attention_multiplier"] = 0.25 // 1/sqrt(head_dim 16)
		},
		"phi3 full rotary": func(c map[string]any) {
			c["architectures"] = []any{"Phi3ForCausalLM"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := maps.Clone(base)
			edit(c)
			ww := w
			if name == "phi3 full rotary" {
				ww = fuse(t, w, 3)
			}
			got := logits(t, c, ww, prompt)
			for p := range prompt {
				if e := relErr(got[p], want[p]); e > 1e-5 {
					t.Errorf("position %d: error %.2g of the RMS", p, e)
				}
			}
		})
	}
}

// fuse rewrites Llama's separate projections as Phi-3's fused ones: q, k, v
// rows stacked into qkv_proj, gate then up rows into gate_up_proj.
func fuse(t *testing.T, w hfref.Tensors, layers int) hfref.Tensors {
	t.Helper()
	out := maps.Clone(w)
	cat := func(dst string, srcs ...string) {
		var rows int
		var data []float64
		for _, s := range srcs {
			rows += w[s].Shape[0]
			data = append(data, w[s].Data...)
			delete(out, s)
		}
		out[dst] = hfref.Tensor{Shape: []int{rows, w[srcs[0]].Shape[1]}, Data: data}
	}
	for l := range layers {
		p := "model.layers." + string(rune('0'+l)) + "."
		cat(p+"self_attn.qkv_proj.weight", p+"self_attn.q_proj.weight", p+"self_attn.k_proj.weight", p+"self_attn.v_proj.weight")
		cat(p+"mlp.gate_up_proj.weight", p+"mlp.gate_proj.weight", p+"mlp.up_proj.weight")
	}
	return out
}

// TestFamiliesRun runs every family in every storage form and checks that the
// logits are finite and spread, and that quantized forms stay near the float one.
func TestFamiliesRun(t *testing.T) {
	for _, arch := range modeltest.Families() {
		t.Run(arch, func(t *testing.T) {
			layers := 3
			if arch == "gemma3" || arch == "gemma3mm" || arch == "smollm3" {
				layers = 6 // 5 local + 1 global; 3 RoPE + 1 NoPE + 2 RoPE
			}
			var f32 [][]float64
			for _, form := range []modeltest.Spec{
				{DType: model.F32},
				{DType: model.F16},
				{DType: model.BF16},
				{DType: model.BF16, QuantBits: 8, GroupSize: 32},
				{DType: model.F16, QuantBits: 4, GroupSize: 32},
			} {
				form.Arch, form.Layers, form.Seed = arch, layers, 11
				c, w := load(t, form)
				got := logits(t, c, w, prompt)
				last := got[len(got)-1]
				var ss float64
				for _, v := range last {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("%s: non-finite logit", form.Name())
					}
					ss += v * v
				}
				if rms := math.Sqrt(ss / float64(len(last))); rms < 0.1 {
					t.Errorf("%s: logits RMS %.3g: the model is degenerate", form.Name(), rms)
				}
				if form.DType == model.F32 {
					f32 = got
					continue
				}
				// Rounding and quantization move the logits a little, never wholesale.
				tol := map[int]float64{0: 0.05, 8: 0.1, 4: 0.5}[form.QuantBits]
				if e := rmsErr(last, f32[len(f32)-1]); e > tol {
					t.Errorf("%s: %.2g of the RMS away from F32", form.Name(), e)
				}
			}
		})
	}
}

// TestGemma3ConditionalGeneration: the text model of a multimodal checkpoint
// is the same model as Gemma3ForCausalLM with the same weights.
func TestGemma3ConditionalGeneration(t *testing.T) {
	c1, w1 := load(t, modeltest.Spec{Arch: "gemma3", Layers: 6, Seed: 5})
	c2, w2 := load(t, modeltest.Spec{Arch: "gemma3mm", Layers: 6, Seed: 5})
	a, b := logits(t, c1, w1, prompt), logits(t, c2, w2, prompt)
	for p := range a {
		if e := relErr(b[p], a[p]); e != 0 {
			t.Errorf("position %d differs by %.2g", p, e)
		}
	}
}

// TestSlidingWindow: with every layer sliding (Phi-3 with a small window), the
// last position cannot see tokens more than layers*(window-1) back.
func TestSlidingWindow(t *testing.T) {
	c, w := load(t, modeltest.Spec{Arch: "phi3", Layers: 2, Seed: 2})
	c["sliding_window"] = 3.0
	ids := append([]int(nil), prompt[:8]...)
	// Keep the sequence within original_max_position_embeddings: the same
	// (short) rope factors for both runs.
	a := logits(t, c, w, ids)
	ids[0] = 77 // 7 positions before the last, beyond 2*(3-1) = 4
	b := logits(t, c, w, ids)
	if e := relErr(b[7], a[7]); e != 0 {
		t.Errorf("the last position saw a token outside the window: %.2g", e)
	}
	ids[0], ids[3] = prompt[0], 77 // 4 positions back: inside
	b = logits(t, c, w, ids)
	if relErr(b[7], a[7]) == 0 {
		t.Error("the last position did not see a token inside the window")
	}
}

// TestLongRopeFactors: Phi-3's longrope uses the short factors for a sequence
// up to original_max_position_embeddings and the long ones beyond, for every
// position of the sequence, as transformers' dynamic_rope_update does.
func TestLongRopeFactors(t *testing.T) {
	c, w := load(t, modeltest.Spec{Arch: "phi3", Layers: 2, Seed: 4})
	n := modeltest.Phi3OriginalMax
	short := logits(t, c, w, prompt[:n])
	shorter := logits(t, c, w, prompt[:n-2])
	long := logits(t, c, w, prompt[:n+1])
	if e := relErr(shorter[2], short[2]); e > 1e-12 {
		t.Errorf("within the original context a longer sequence changed position 2 by %.2g", e)
	}
	if relErr(long[2], short[2]) < 1e-6 {
		t.Error("past the original context position 2 kept the short factors")
	}
}

// TestSoftcap: Gemma 2's final soft-capping bounds every logit by the cap.
func TestSoftcap(t *testing.T) {
	c, w := load(t, modeltest.Spec{Arch: "gemma2", Layers: 2, Seed: 6})
	c["final_logit_softcapping"] = 2.0
	var seen float64
	for _, row := range logits(t, c, w, prompt) {
		for _, v := range row {
			if math.Abs(v) > 2 {
				t.Fatalf("logit %g beyond the cap 2", v)
			}
			seen = math.Max(seen, math.Abs(v))
		}
	}
	if seen < 1 {
		t.Errorf("largest logit %g: the cap was never approached, the test proves nothing", seen)
	}
}

func TestRejects(t *testing.T) {
	c, w := load(t, modeltest.Spec{Arch: "olmo2", Seed: 1})
	for name, edit := range map[string]func(c map[string]any){
		"unknown arch":   func(c map[string]any) { c["architectures"] = []any{"GPT2LMHeadModel"} },
		"no arch":        func(c map[string]any) { delete(c, "architectures") },
		"bad kv heads":   func(c map[string]any) { c["num_key_value_heads"] = 3.0 },
		"missing tensor": func(c map[string]any) { c["num_hidden_layers"] = 5.0 },
		"bad rope":       func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "mystery"} },
	} {
		t.Run(name, func(t *testing.T) {
			cc := maps.Clone(c)
			edit(cc)
			if _, err := hfref.Logits(cc, w, prompt); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := hfref.Logits(c, w, []int{1, 100000}); err == nil {
		t.Error("a token outside the vocabulary was accepted")
	}
}
