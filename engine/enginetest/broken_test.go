//go:build !race

// Numeric checks that only compute: make test-norace runs them without the race
// detector, which made them ten to twenty times slower (350 s of CI time on two
// cores for the four conformance and reference suites) while the concurrency
// they touch is raced by the executors' own tests.

package enginetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// wrapRunner and wrapSeq let a test break one behaviour of the reference.
type wrapRunner struct {
	model.Runner
	wrap func(model.Sequence) model.Sequence
}

func (w wrapRunner) NewSequence(n int) (model.Sequence, error) {
	s, err := w.Runner.NewSequence(n)
	if err != nil {
		return nil, err
	}
	return w.wrap(s), nil
}

type noisy struct {
	model.Sequence
	by float32
}

func (s noisy) Forward(ctx context.Context, t []int32) ([]float32, error) {
	l, err := s.Sequence.Forward(ctx, t)
	if err == nil {
		l[7] += s.by
	}
	return l, err
}

type lazyTruncate struct{ model.Sequence }

func (lazyTruncate) Truncate(int) error { return nil }

type clamping struct{ model.Sequence }

func (s clamping) Forward(ctx context.Context, t []int32) ([]float32, error) {
	if len(t) == 0 {
		t = []int32{0}
	}
	c := make([]int32, len(t))
	for i, v := range t {
		c[i] = min(max(v, 0), 511)
	}
	return s.Sequence.Forward(ctx, c)
}

// mutated runs the reference on a model whose config or weights were changed
// by f, the way an executor with that bug would compute.
func mutated(f func(c *model.Config, w *llama.Weights)) func(*model.Model) (model.Runner, error) {
	return func(m *model.Model) (model.Runner, error) {
		c := *m.Config
		var scratch llama.Weights
		f(&c, &scratch) // config changes first: they decide what is bound
		mm, err := m.Rebind(context.Background(), &c)
		if err != nil {
			return nil, err
		}
		lw, ok := mm.Def.(*llama.Model)
		if !ok {
			return nil, fmt.Errorf("%s: weights cannot be mutated", m.Arch.Name)
		}
		f(&c, lw.Weights())
		return reference.NewRunner(mm), nil
	}
}

func wrapped(wrap func(model.Sequence) model.Sequence) func(*model.Model) (model.Runner, error) {
	return func(m *model.Model) (model.Runner, error) {
		return wrapRunner{Runner: reference.NewRunner(m), wrap: wrap}, nil
	}
}

// TestCatchesBrokenRunners gives the suite runners with one classic bug each
// and requires the named checks to fail (and the suite not to pass them all).
func TestCatchesBrokenRunners(t *testing.T) {
	llamaBF16 := modeltest.Spec{Arch: "llama", DType: model.BF16, Seed: 1}
	cases := []struct {
		name   string
		spec   modeltest.Spec
		runner func(*model.Model) (model.Runner, error)
		fail   []string
	}{
		// Logits are about N(0, 2): 0.01 is 5× the F32 tolerance, 0.25 3× the BF16 one.
		{"logit off by 0.01 in f32", modeltest.Spec{Seed: 1}, wrapped(func(s model.Sequence) model.Sequence { return noisy{s, 0.01} }), []string{"prefill", "steps", "decode"}},
		{"logit off by 0.25 in bf16", llamaBF16, wrapped(func(s model.Sequence) model.Sequence { return noisy{s, 0.25} }), []string{"prefill", "steps", "decode"}},
		{"truncate ignored", llamaBF16, wrapped(func(s model.Sequence) model.Sequence { return lazyTruncate{s} }), []string{"truncate"}},
		{"bad tokens clamped", llamaBF16, wrapped(func(s model.Sequence) model.Sequence { return clamping{s} }), []string{"errors"}},
		{"rope theta wrong", llamaBF16, mutated(func(c *model.Config, _ *llama.Weights) { c.RopeTheta = 5000 }), []string{"steps", "long"}},
		{"llama3 scaling ignored", modeltest.Spec{Arch: "llama", RopeScaling: llama3Rope, Seed: 5},
			mutated(func(c *model.Config, _ *llama.Weights) { c.RopeScaling = nil }), []string{"long"}},
		{"eps ignored", llamaBF16, mutated(func(c *model.Config, _ *llama.Weights) { c.RMSNormEps = 0.5 }), []string{"prefill"}},
		{"sliding window ignored", modeltest.Spec{Arch: "mistral", SlidingWindow: 8, Seed: 9},
			mutated(func(c *model.Config, _ *llama.Weights) { c.SlidingWindow = 0 }), []string{"long"}},
		{"sliding window off by one", modeltest.Spec{Arch: "mistral", SlidingWindow: 8, Seed: 9},
			mutated(func(c *model.Config, _ *llama.Weights) { c.SlidingWindow = 9 }), []string{"long"}},
		{"q/k norms skipped", modeltest.Spec{Arch: "qwen3", Seed: 12}, mutated(func(_ *model.Config, w *llama.Weights) {
			for i := range w.Layers {
				w.Layers[i].QNorm, w.Layers[i].KNorm = nil, nil
			}
		}), []string{"prefill"}},
		{"q bias skipped", modeltest.Spec{Arch: "qwen2", Seed: 10}, mutated(func(_ *model.Config, w *llama.Weights) {
			for i := range w.Layers {
				w.Layers[i].Q.Bias = nil
			}
		}), []string{"steps"}},
		{"kv heads not shared in groups", modeltest.Spec{Arch: "llama", Heads: 4, KVHeads: 2, Seed: 1}, mutated(func(_ *model.Config, w *llama.Weights) {
			// Swapping the two kv heads' rows is what an executor mapping head h to
			// kv head h%2 instead of h/2 computes.
			for i := range w.Layers {
				w.Layers[i].K = swapHalves(w.Layers[i].K)
			}
		}), []string{"prefill"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := modeltest.Open(t, c.spec)
			e, err := newEnv(m, c.runner)
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]error{}
			for _, ch := range checks {
				if err := ch.run(context.Background(), e); err != nil {
					failed[ch.name] = err
				}
			}
			for _, name := range c.fail {
				if failed[name] == nil {
					t.Errorf("check %q passed the broken runner", name)
				}
			}
			if len(failed) > 0 {
				t.Logf("caught by %d checks, e.g. %v", len(failed), failed[c.fail[0]])
			}
		})
	}
}

// swapHalves returns a layer whose first and second halves of output rows are
// exchanged (float weights only).
func swapHalves(l model.Linear) model.Linear {
	w := l.Weight
	half := len(w.Data) / 2
	data := append(append([]byte(nil), w.Data[half:]...), w.Data[:half]...)
	w.Data = data
	l.Weight = w
	return l
}
