package hfref

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestRealConfigs parses the config.json of real checkpoints and checks what
// the forward pass will read from them.
func TestRealConfigs(t *testing.T) {
	cases := map[string]func(t *testing.T, f *family){
		"smollm3-3b.json": func(t *testing.T, f *family) {
			if f.layers != 36 || f.heads != 16 || f.kvHeads != 4 || f.headDim != 128 || f.vocab != 128256 {
				t.Errorf("dimensions %+v", f)
			}
			for l, rope := range f.ropeLayer {
				if want := (l+1)%4 != 0; rope != want {
					t.Errorf("layer %d: rope %v, want %v", l, rope, want)
				}
				if f.slidingLayer[l] {
					t.Errorf("layer %d is sliding; SmolLM3-3B has use_sliding_window false", l)
				}
			}
			if f.globalRope.theta != 5e6 || f.globalRope.kind != "default" || f.tied {
				t.Errorf("rope %+v, tied %v", f.globalRope, f.tied)
			}
		},
		"gemma-2-2b-it.json": func(t *testing.T, f *family) {
			if f.layers != 26 || f.hidden != 2304 || f.headDim != 256 || !f.tied || f.window != 4096 {
				t.Errorf("dimensions %+v", f)
			}
			if f.attnSoftcap != 50 || f.finalSoftcap != 30 || f.scale != 1.0/16 || f.act != "gelu_pytorch_tanh" {
				t.Errorf("softcaps %g %g, scale %g, act %s", f.attnSoftcap, f.finalSoftcap, f.scale, f.act)
			}
			for l, s := range f.slidingLayer {
				if s != (l%2 == 0) {
					t.Errorf("layer %d sliding %v: Gemma 2 alternates, starting with a local layer", l, s)
				}
			}
			// bfloat16 keeps sqrt(2304) = 48 exact.
			if got := roundTo(f.dtype, math.Sqrt(2304)); got != 48 {
				t.Errorf("embedding scale %g", got)
			}
		},
		"phi-3.5-mini-instruct.json": func(t *testing.T, f *family) {
			r := f.globalRope
			if f.rotaryDim != 96 || r.kind != "longrope" || r.origMax != 4096 || len(r.long) != 48 || len(r.short) != 48 {
				t.Fatalf("rotary dim %d, rope %s orig %d, %d/%d factors", f.rotaryDim, r.kind, r.origMax, len(r.long), len(r.short))
			}
			// attention factor sqrt(1 + ln(131072/4096)/ln(4096)), the default transformers derives.
			cos, _ := r.table(f.rotaryDim, 1)
			if want := math.Sqrt(1 + math.Log(32)/math.Log(4096)); math.Abs(cos[0][0]-want) > 1e-12 {
				t.Errorf("attention factor %g, want %g", cos[0][0], want)
			}
			if f.tied || f.window != 262144 || !f.slidingLayer[0] {
				t.Errorf("tied %v, window %d", f.tied, f.window)
			}
		},
		"gemma-3-4b-it.json": func(t *testing.T, f *family) {
			if f.layers != 34 || f.hidden != 2560 || f.heads != 8 || f.kvHeads != 4 || f.headDim != 256 || f.window != 1024 || !f.tied {
				t.Errorf("dimensions %+v", f)
			}
			// Five local layers for each global one, the global ones with linear scaling.
			for l, s := range f.slidingLayer {
				if s != ((l+1)%6 != 0) {
					t.Errorf("layer %d sliding %v", l, s)
				}
			}
			if f.globalRope.kind != "linear" || f.globalRope.factor != 8 || f.localRope.theta != 10000 || f.finalSoftcap != 0 {
				t.Errorf("global rope %+v, local %+v, softcap %g", f.globalRope, f.localRope, f.finalSoftcap)
			}
		},
		"gemma-3-1b-it.json": func(t *testing.T, f *family) {
			if f.arch != "Gemma3ForCausalLM" || f.layers != 26 || f.hidden != 1152 || f.heads != 4 || f.kvHeads != 1 ||
				f.headDim != 256 || f.window != 512 || !f.tied || f.vocab != 262144 {
				t.Errorf("dimensions %+v", f)
			}
			// No layer_types: sliding_window_pattern 6 makes every sixth layer global.
			for l, s := range f.slidingLayer {
				if s != ((l+1)%6 != 0) {
					t.Errorf("layer %d sliding %v", l, s)
				}
			}
			if f.globalRope.theta != 1e6 || f.globalRope.kind != "default" || f.localRope.theta != 1e4 {
				t.Errorf("global rope %+v, local %+v", f.globalRope, f.localRope)
			}
			if f.scale != 1.0/16 || f.attnSoftcap != 0 || f.finalSoftcap != 0 || f.act != "gelu_pytorch_tanh" {
				t.Errorf("scale %g softcaps %g %g act %s", f.scale, f.attnSoftcap, f.finalSoftcap, f.act)
			}
			// bfloat16 rounds sqrt(1152) = 33.94 to 34.
			if got := roundTo(f.dtype, math.Sqrt(1152)); got != 34 {
				t.Errorf("embedding scale %g", got)
			}
		},
		"granite-3.3-2b-instruct.json": func(t *testing.T, f *family) {
			if f.layers != 40 || f.hidden != 2048 || f.heads != 32 || f.kvHeads != 8 || f.headDim != 64 || !f.tied || f.vocab != 49159 {
				t.Errorf("dimensions %+v", f)
			}
			// attention_multiplier replaces 1/sqrt(head_dim) (1/8 here) as the score scale.
			if f.embedMult != 12 || f.residualMult != 0.22 || f.scale != 0.015625 || f.logitsScaling != 8 {
				t.Errorf("multipliers %g %g %g %g", f.embedMult, f.residualMult, f.scale, f.logitsScaling)
			}
			if f.globalRope.theta != 1e7 || f.globalRope.kind != "default" || f.eps != 1e-5 {
				t.Errorf("rope %+v, eps %g", f.globalRope, f.eps)
			}
		},
		"granite-3.3-8b-instruct.json": func(t *testing.T, f *family) {
			if f.layers != 40 || f.hidden != 4096 || f.headDim != 128 || f.inter != 12800 || !f.tied {
				t.Errorf("dimensions %+v", f)
			}
			if f.embedMult != 12 || f.residualMult != 0.22 || f.scale != 0.0078125 || f.logitsScaling != 16 {
				t.Errorf("multipliers %g %g %g %g", f.embedMult, f.residualMult, f.scale, f.logitsScaling)
			}
		},
		"olmo-2-1124-7b-instruct.json": func(t *testing.T, f *family) {
			if f.layers != 32 || f.hidden != 4096 || f.heads != 32 || f.kvHeads != 32 || f.headDim != 128 || f.inter != 11008 || f.tied {
				t.Errorf("dimensions %+v", f)
			}
			if f.globalRope.theta != 5e5 || f.globalRope.kind != "default" || f.eps != 1e-6 || f.attnBias || f.mlpBias {
				t.Errorf("rope %+v, eps %g, biases %v %v", f.globalRope, f.eps, f.attnBias, f.mlpBias)
			}
		},
		"phi-4-mini-instruct-mlx4.json": func(t *testing.T, f *family) {
			if f.headDim != 128 || f.rotaryDim != 96 || f.kvHeads != 8 || !f.tied || f.vocab != 200064 {
				t.Errorf("head dim %d, rotary %d, kv %d, tied %v", f.headDim, f.rotaryDim, f.kvHeads, f.tied)
			}
			if r := f.globalRope; len(r.long) != 48 || r.long[47] != 47.77 || r.short[0] != 1 {
				t.Errorf("longrope factors %v / %v", r.long, r.short)
			}
		},
	}
	for name, check := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "configs", name))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := ParseConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			check(t, f)
		})
	}
}

// TestGemma3TextConfigDefaults: a Gemma3ForConditionalGeneration config.json
// holds a sparse text_config; the rest comes from Gemma3TextConfig's defaults,
// and rope_scaling applies to the global layers only.
func TestGemma3TextConfigDefaults(t *testing.T) {
	raw, err := ParseConfig([]byte(`{"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
		"text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
			"num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024},
		"torch_dtype": "bfloat16"}`))
	if err != nil {
		t.Fatal(err)
	}
	f, err := parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if f.heads != 8 || f.kvHeads != 4 || f.headDim != 256 || f.vocab != 262208 || !f.tied || f.window != 1024 {
		t.Errorf("defaults not applied: %+v", f)
	}
	if f.scale != 1.0/16 || f.attnSoftcap != 0 || f.finalSoftcap != 0 || f.act != "gelu_pytorch_tanh" {
		t.Errorf("scale %g softcaps %g %g act %s", f.scale, f.attnSoftcap, f.finalSoftcap, f.act)
	}
	for l, s := range f.slidingLayer {
		if want := (l+1)%6 != 0; s != want {
			t.Errorf("layer %d sliding %v, want %v", l, s, want)
		}
	}
	if f.globalRope.kind != "linear" || f.globalRope.factor != 8 || f.globalRope.theta != 1e6 || f.localRope.theta != 1e4 || f.localRope.kind != "default" {
		t.Errorf("global rope %+v, local %+v", f.globalRope, f.localRope)
	}
	// bfloat16 rounds sqrt(2560) = 50.596 to 50.5, as transformers' cast does.
	if got := roundTo(f.dtype, math.Sqrt(2560)); got != 50.5 {
		t.Errorf("embedding scale %g, want 50.5", got)
	}
}

func TestRoundTo(t *testing.T) {
	for _, c := range []struct {
		dtype string
		in    float64
		want  float64
	}{
		{"bfloat16", math.Sqrt(1152), 34},
		{"float16", math.Sqrt(2560), 50.59375},
		{"float32", 8, 8},
		{"float32", math.Sqrt(2), float64(float32(math.Sqrt(2)))},
	} {
		if got := roundTo(c.dtype, c.in); got != c.want {
			t.Errorf("roundTo(%s, %g) = %g, want %g", c.dtype, c.in, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	want := []float64{3, -4, 0, 1}
	if msg := Compare([]float32{3, -4, 0, 1.0001}, want); msg != "" {
		t.Errorf("within tolerance: %s", msg)
	}
	if msg := Compare([]float32{3, -4, 0.01, 1}, want); msg == "" {
		t.Error("an error of 0.4% of the RMS passed")
	}
	if msg := Compare([]float32{3, -4, float32(math.NaN()), 1}, want); msg == "" {
		t.Error("NaN passed")
	}
	if msg := Compare([]float32{3, -4}, want); msg == "" {
		t.Error("a short row passed")
	}
}
