//go:build !race

package cpu

import (
	"context"
	"fmt"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// int8Chunk is the prompt chunk of the int8 measurement: more tokens than
// batched decode takes (kern's qbatchMaxTokens), so that every product with
// quantized weights goes through the prefill path.
const int8Chunk = 17

// int8KLDense and int8KLMoE bound the mean KL divergence that int8 prefill
// activations cause on dense models and on mixtures of experts (where a
// rounding can flip a router's choice). They are regression limits of what
// was measured, not issue #19's 1e-4 nats (qintKLBound), which int8 input
// misses by 10-100× on every model measured (engine/cpu/design.md has the
// figures): hence Options.Int8Prefill is off by default. A wrong kernel
// moves the distribution by whole nats.
const (
	int8Flips   = 1
	int8KLDense = 1e-2
	int8KLMoE   = 0.2
)

// TestInt8Prefill measures what int8 prefill activations (Options.Int8Prefill,
// kern's qint8pack.go) do to the next-token distribution: the same tokens
// (the exact runner's greedy continuation) are fed in chunks of int8Chunk to
// a runner with float32 input and to one with int8 prefill input, both with
// a float32 KV cache and float decode, and the last position's distributions
// are compared after every chunk, on the 4-bit conformance models and on
// stories260K quantized at load to 4 bits. Issue #19 also asks for the same
// greedy text on stories260K: with groups of 64 one choice of 20 changes
// where the exact logits are 0.27 apart, not a tie (another reason the
// option is off); int8Flips bounds that. Without the race detector: ~5 s
// under it.
func TestInt8Prefill(t *testing.T) {
	if !kern.HasInt8Prefill() {
		t.Logf("kernel set %s has no int8 prefill kernel: both runners compute alike", kern.Backend())
	}
	for _, spec := range enginetest.Models() {
		if spec.QuantBits != 4 || spec.QuantMode != "" {
			continue
		}
		t.Run(spec.Name(), func(t *testing.T) {
			m := modeltest.Open(t, spec)
			kl, worst, flips := compareInt8(t, m, Options{}, 6)
			t.Logf("mean KL %.3g nats, worst %.3g, %d of 6 greedy choices changed (issue #19's bound %g nats)", kl, worst, flips, qintKLBound)
			limit := int8KLDense
			if m.Config.ModelType == "mixtral" {
				limit = int8KLMoE
			}
			if kl > limit {
				t.Errorf("mean KL %.3g nats, want ≤ %g", kl, limit)
			}
		})
	}
	for _, gs := range []int{32, 64} {
		t.Run(fmt.Sprintf("stories260K-q4g%d", gs), func(t *testing.T) {
			m, err := model.Open(context.Background(), enginetest.Stories(t))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			kl, worst, flips := compareInt8(t, m, Options{QuantizeBits: 4, QuantizeGroup: gs}, 20)
			t.Logf("mean KL %.3g nats, worst %.3g, %d of 20 greedy choices changed (issue #19's bound %g nats)", kl, worst, flips, qintKLBound)
			if kl > int8KLDense || flips > int8Flips {
				t.Errorf("mean KL %.3g nats (want ≤ %g), %d greedy choices changed (want ≤ %d)", kl, int8KLDense, flips, int8Flips)
			}
			if kern.HasInt8Prefill() && kl == 0 {
				t.Error("int8 prefill changed nothing: its kernel did not run")
			}
		})
	}
}

// compareInt8 generates chunks·int8Chunk tokens greedily with the exact
// runner (decode), then feeds them in chunks to a fresh exact sequence and
// to an int8 one, and returns the mean and worst KL(exact‖int8) of the
// chunks' last positions and how many times their argmax differed.
func compareInt8(t *testing.T, m *model.Model, opts Options, chunks int) (mean, worst float64, flips int) {
	t.Helper()
	ctx := context.Background()
	exactOpts := opts
	exactOpts.KVF32, exactOpts.FloatActivations = true, true
	int8Opts := exactOpts
	int8Opts.Int8Prefill = true
	er, ir := newRunner(t, m, exactOpts), newRunner(t, m, int8Opts)
	n := chunks * int8Chunk
	gen := newSeq(t, er, n+8)
	toks := []int32{1}
	logits, err := gen.Forward(ctx, toks)
	if err != nil {
		t.Fatal(err)
	}
	for len(toks) < n {
		toks = append(toks, int32(argmax(logits)))
		if logits, err = gen.Forward(ctx, toks[len(toks)-1:]); err != nil {
			t.Fatal(err)
		}
	}
	exact, approx := newSeq(t, er, n+8), newSeq(t, ir, n+8)
	var sum float64
	for c := range chunks {
		chunk := toks[c*int8Chunk : (c+1)*int8Chunk]
		p, err := exact.Forward(ctx, chunk)
		if err != nil {
			t.Fatal(err)
		}
		q, err := approx.Forward(ctx, chunk)
		if err != nil {
			t.Fatal(err)
		}
		kl := klDiv(p, q)
		sum += kl
		worst = max(worst, kl)
		if a := argmax(p); a != argmax(q) {
			t.Logf("chunk %d: greedy %d became %d, exact logit gap %.3g", c, a, argmax(q), p[a]-p[argmax(q)])
			flips++
		}
	}
	return sum / float64(chunks), worst, flips
}
