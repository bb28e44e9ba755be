//go:build !race

// Numeric only (two runners fed the same tokens, one step at a time), about ten
// times slower under the race detector: make test-norace runs it without it.

package cpu

import (
	"context"
	"math"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// qintKLBound is issue #19's bound on quantizing the input of Q8/Q4 products:
// the mean KL divergence of the next-token distribution from the exact
// (float32 input) path, in nats.
const qintKLBound = 1e-4

// TestIntActivations measures what integer activations (kern's qint.go) do
// to the next-token distribution: on every quantized conformance model and on
// stories260K quantized at load to 8 and 4 bits, the same tokens go through a
// runner with float32 input and one with int16 input (both with a float32 KV
// cache, so that only the activations differ); the mean KL divergence must
// stay within qintKLBound, and the greedy choices must be the same at every
// step.
func TestIntActivations(t *testing.T) {
	if !kern.HasIntKernels() {
		t.Logf("kernel set %s has no integer kernels: both runners compute alike", kern.Backend())
	}
	for _, spec := range enginetest.Models() {
		if spec.QuantBits == 0 {
			continue
		}
		t.Run(spec.Name(), func(t *testing.T) {
			m := modeltest.Open(t, spec)
			kl, _, same := compareActivations(t, m, Options{}, 48)
			t.Logf("mean KL %.3g nats over 48 steps", kl)
			if kl > qintKLBound || !same {
				t.Errorf("mean KL %.3g nats (bound %g), same greedy tokens: %v", kl, qintKLBound, same)
			}
		})
	}
	for _, bits := range []int{8, 4} {
		t.Run("stories260K-q"+string(rune('0'+bits)), func(t *testing.T) {
			m, err := model.Open(context.Background(), enginetest.Stories(t))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			kl, worst, same := compareActivations(t, m, Options{QuantizeBits: bits, QuantizeGroup: 32}, 300)
			t.Logf("mean KL %.3g nats, worst step %.3g, over 300 steps", kl, worst)
			if kl > qintKLBound {
				t.Errorf("mean KL %.3g nats, want ≤ %g", kl, qintKLBound)
			}
			if !same {
				t.Error("the greedy story differs with integer activations")
			}
		})
	}
}

// compareActivations runs steps greedy steps of the exact runner, feeding the
// integer one the same tokens, and returns the mean and worst KL(exact‖int)
// and whether the integer runner's greedy choice was the same at every step.
func compareActivations(t *testing.T, m *model.Model, opts Options, steps int) (mean, worst float64, same bool) {
	t.Helper()
	exactOpts, intOpts := opts, opts
	exactOpts.KVF32, exactOpts.FloatActivations = true, true
	intOpts.KVF32 = true
	exact := newSeq(t, newRunner(t, m, exactOpts), steps+8)
	approx := newSeq(t, newRunner(t, m, intOpts), steps+8)
	step := []int32{1, 403 % int32(m.Config.VocabSize), 407 % int32(m.Config.VocabSize)}
	var sum float64
	same = true
	for i := 0; i < steps; i++ {
		p, err := exact.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		q, err := approx.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		kl := klDiv(p, q)
		sum += kl
		worst = max(worst, kl)
		next := argmax(p)
		same = same && argmax(q) == next
		step = []int32{int32(next)}
	}
	return sum / float64(steps), worst, same
}

// klDiv is KL(softmax(p)‖softmax(q)) in nats.
func klDiv(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var kl float64
	for i := range lp {
		kl += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return max(kl, 0)
}

func logSoftmax(x []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - mx)
	}
	out := make([]float64, len(x))
	lse := mx + math.Log(s)
	for i, v := range x {
		out[i] = float64(v) - lse
	}
	return out
}
