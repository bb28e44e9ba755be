package reference_test

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

var goldenDir = flag.String("golden-dir", "", "write the golden models into this directory for testdata/golden.py")

// goldenSpecs cover what stories260K does not: biases, q/k norms, sliding
// windows, llama3 and linear RoPE scaling, 16-bit dtypes, MLX dequantization at
// several widths including the word-straddling 3 and 6 bits, and per-layer
// quantization overrides.
var goldenSpecs = []modeltest.Spec{
	{Arch: "llama", DType: model.F32, AttentionBias: true, MLPBias: true, Seed: 31, RopeScaling: &model.RopeScaling{
		Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}},
	{Arch: "llama", DType: model.BF16, Heads: 4, KVHeads: 1, Seed: 32, RopeScaling: &model.RopeScaling{Type: "linear", Factor: 4}},
	{Arch: "mistral", DType: model.F16, SlidingWindow: 5, Seed: 33},
	{Arch: "qwen2", DType: model.BF16, Tied: true, Seed: 34},
	{Arch: "qwen3", DType: model.F32, AttentionBias: true, Seed: 35},
	{Arch: "llama", DType: model.F16, QuantBits: 4, GroupSize: 32, Seed: 36},
	{Arch: "qwen3", DType: model.BF16, QuantBits: 8, GroupSize: 64, Tied: true, Seed: 37},
	{Arch: "llama", DType: model.F16, QuantBits: 3, GroupSize: 64, Seed: 38, QuantOverrides: map[string]*model.Quant{
		"lm_head": nil, "model.layers.0.mlp.down_proj": {Bits: 6, GroupSize: 32}, "model.layers.1.self_attn.v_proj": {Bits: 2, GroupSize: 32}}},
	{Arch: "llama", DType: model.BF16, QuantBits: 5, GroupSize: 32, Shards: 2, Seed: 39},
}

func goldenPrompt(seed uint64) []int32 {
	r := rand.New(rand.NewPCG(seed, 7))
	p := make([]int32, 10)
	for i := range p {
		p[i] = int32(3 + r.IntN(509))
	}
	return p
}

type golden map[string]struct {
	Prompt []int32     `json:"prompt"`
	Logits [][]float64 `json:"logits"`
}

// TestGolden compares the reference, token by token, with logits computed by
// the independent numpy implementation in testdata/golden.py.
func TestGolden(t *testing.T) {
	if *goldenDir != "" {
		writeGoldenModels(t, *goldenDir)
		return
	}
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, spec := range goldenSpecs {
		t.Run(spec.Name(), func(t *testing.T) {
			want, ok := g[spec.Name()]
			if !ok || !slices.Equal(want.Prompt, goldenPrompt(spec.Seed)) {
				t.Fatal("no golden logits for this spec and prompt: regenerate testdata/golden.json (see golden.py)")
			}
			m := modeltest.Open(t, spec)
			seq, err := reference.NewRunner(m).NewSequence(len(want.Prompt))
			if err != nil {
				t.Fatal(err)
			}
			defer seq.Close()
			for pos, tok := range want.Prompt {
				got, err := seq.Forward(context.Background(), []int32{tok})
				if err != nil {
					t.Fatal(err)
				}
				for i, w := range want.Logits[pos] {
					// Both compute in float64 from the same stored values; the
					// difference is the float32 output and summation order.
					if math.Abs(float64(got[i])-w) > 1e-5*math.Max(1, math.Abs(w)) {
						t.Fatalf("position %d logit %d = %.7g, numpy %.7g", pos, i, got[i], w)
					}
				}
			}
		})
	}
}

func writeGoldenModels(t *testing.T, base string) {
	type entry struct {
		Dir    string  `json:"dir"`
		Prompt []int32 `json:"prompt"`
	}
	models := map[string]entry{}
	for _, spec := range goldenSpecs {
		dir := filepath.Join(base, spec.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := modeltest.Write(dir, spec); err != nil {
			t.Fatal(err)
		}
		models[spec.Name()] = entry{Dir: spec.Name(), Prompt: goldenPrompt(spec.Seed)}
	}
	b, _ := json.MarshalIndent(models, "", " ")
	if err := os.WriteFile(filepath.Join(base, "models.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d models to %s; now run testdata/golden.py %s", len(models), base, base)
}
