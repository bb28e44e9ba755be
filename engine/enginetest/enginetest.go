package enginetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// NewRunner builds the runner under test for an opened model.
type NewRunner func(m *model.Model) (model.Runner, error)

// llama3Rope makes every regime of llama3 scaling occur with head_dim 16:
// wavelengths run from 6 to 20000 positions, around the 16..64 band.
var llama3Rope = &model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}

// Models are the model variants RunAll checks. Dimensions are tiny so that
// the whole suite takes seconds; group size 128 needs inputs of 128.
func Models() []modeltest.Spec {
	wide := func(s modeltest.Spec) modeltest.Spec {
		s.Hidden, s.Intermediate, s.Heads, s.KVHeads, s.HeadDim = 128, 256, 4, 2, 32
		return s
	}
	return []modeltest.Spec{
		{Arch: "llama", DType: model.F32, Seed: 1},
		{Arch: "llama", DType: model.F16, Seed: 2},
		{Arch: "llama", DType: model.BF16, Seed: 3},
		{Arch: "llama", DType: model.F32, Tied: true, Heads: 4, KVHeads: 4, Seed: 4},
		{Arch: "llama", DType: model.F32, AttentionBias: true, MLPBias: true, RopeScaling: llama3Rope, Seed: 5},
		{Arch: "llama", DType: model.F32, RopeScaling: &model.RopeScaling{Type: "linear", Factor: 2}, RopeTheta: 500000, Seed: 6},
		// stories260K's odd shapes: 8 heads of 8, intermediate 172, plus an odd vocabulary.
		{Arch: "llama", DType: model.F32, Hidden: 64, Intermediate: 172, Heads: 8, KVHeads: 4, HeadDim: 8, Vocab: 515, Seed: 7},
		{Arch: "llama", DType: model.F32, Shards: 3, Seed: 8},
		{Arch: "mistral", DType: model.F16, SlidingWindow: 8, Seed: 9},
		{Arch: "qwen2", DType: model.BF16, Seed: 10},
		{Arch: "qwen2", DType: model.F32, Tied: true, Seed: 11},
		{Arch: "qwen3", DType: model.F32, Seed: 12},
		{Arch: "qwen3", DType: model.BF16, Tied: true, AttentionBias: true, Seed: 13},
		{Arch: "llama", DType: model.F16, QuantBits: 4, GroupSize: 32, Seed: 14},
		{Arch: "llama", DType: model.BF16, QuantBits: 4, GroupSize: 64, Seed: 15},
		wide(modeltest.Spec{Arch: "llama", DType: model.F16, QuantBits: 4, GroupSize: 128, Seed: 16}),
		{Arch: "llama", DType: model.BF16, QuantBits: 8, GroupSize: 32, Tied: true, Seed: 17},
		{Arch: "qwen3", DType: model.F16, QuantBits: 8, GroupSize: 64, Seed: 18},
		wide(modeltest.Spec{Arch: "qwen2", DType: model.BF16, QuantBits: 8, GroupSize: 128, Tied: true, Seed: 19}),
		{Arch: "llama", DType: model.F16, QuantBits: 4, GroupSize: 64, Seed: 20, QuantOverrides: map[string]*model.Quant{
			"lm_head": nil, "model.layers.1.mlp.down_proj": {Bits: 8, GroupSize: 32}}},
		// Every operation and descriptor variant of model.Ops (opsfamily.go).
		{Arch: "opstest", DType: model.F32, Layers: 4, Seed: 21},
		{Arch: "opstest", DType: model.BF16, QuantBits: 8, GroupSize: 32, Layers: 3, Seed: 22},
		// Sparse mixtures of experts (model.Ops.MoE): dense and sparse layers, stacked quantized experts.
		{Arch: "qwen3moe", DType: model.F32, SparseStep: 2, Seed: 23},
		{Arch: "mixtral", DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true, Seed: 24},
		// GPT-OSS: attention sinks, sliding and full layers, YaRN, clamped biased experts;
		// transformers' fused experts, and mlx-lm's stacked ones in MXFP4.
		{Arch: "gptoss", DType: model.F32, Seed: 25},
		{Arch: "gptoss", DType: model.BF16, QuantBits: 4, QuantMode: "mxfp4", Stacked: true, Seed: 26},
	}
}

// RunAll runs every check on every model variant of Models, then the
// stories260K check. Each failure names the model, the check and the first
// difference found.
func RunAll(t *testing.T, newRunner func(*model.Model) (model.Runner, error)) {
	for _, spec := range Models() {
		t.Run(spec.Name(), func(t *testing.T) { Run(t, spec, newRunner) })
	}
	t.Run("stories260K", func(t *testing.T) { RunStories(t, newRunner) })
}

// Run runs every check on the model of one spec.
func Run(t *testing.T, spec modeltest.Spec, newRunner func(*model.Model) (model.Runner, error)) {
	m := modeltest.Open(t, spec)
	e, err := newEnv(m, newRunner)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(context.Background(), e); err != nil {
				t.Errorf("%s\n(check: %s)", err, c.explain)
			}
		})
	}
}

// env is one model with the runner under test and the reference.
type env struct {
	m   *model.Model
	run model.Runner // under test
	ref model.Runner
	tol float64
}

func newEnv(m *model.Model, newRunner func(*model.Model) (model.Runner, error)) (*env, error) {
	r, err := newRunner(m)
	if err != nil {
		return nil, fmt.Errorf("new runner: %w", err)
	}
	return &env{m: m, run: r, ref: reference.NewRunner(m), tol: Tolerance(m.DType())}, nil
}

func (e *env) close(t *testing.T) {
	if err := e.run.Close(); err != nil {
		t.Errorf("close runner: %v", err)
	}
}

// prompt draws n token ids, avoiding the special ids 0..2.
func (e *env) prompt(n int, seed uint64) []int32 {
	r := rand.New(rand.NewPCG(seed, 99))
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(3 + r.IntN(e.m.Config.VocabSize-3))
	}
	return p
}

// pair opens a sequence on each runner; close it with pair.close.
type pair struct{ got, ref model.Sequence }

func (e *env) pair(maxLen int) (*pair, error) {
	g, err := e.run.NewSequence(maxLen)
	if err != nil {
		return nil, fmt.Errorf("new sequence: %w", err)
	}
	r, err := e.ref.NewSequence(maxLen)
	if err != nil {
		_ = g.Close()
		return nil, fmt.Errorf("reference sequence: %w", err)
	}
	return &pair{got: g, ref: r}, nil
}

func (p *pair) close() error {
	_ = p.ref.Close() // the reference's Close cannot fail
	if err := p.got.Close(); err != nil {
		return fmt.Errorf("close sequence: %w", err)
	}
	return nil
}

// forward feeds tokens to both sequences and compares the logits.
func (p *pair) forward(ctx context.Context, what string, tokens []int32, tol float64) (got, ref []float32, err error) {
	ref, err = p.ref.Forward(ctx, tokens)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: reference: %w", what, err)
	}
	got, err = p.got.Forward(ctx, tokens)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if p.got.Len() != p.ref.Len() {
		return nil, nil, fmt.Errorf("%s: Len() = %d, want %d", what, p.got.Len(), p.ref.Len())
	}
	return got, ref, compare(what+" logits", got, ref, tol)
}
