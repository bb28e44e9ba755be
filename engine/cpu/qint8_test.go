//go:build !race

package cpu

import (
	"context"
	"fmt"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// int8Chunk is the prompt chunk of the int8 measurement: more tokens than
// batched decode takes (kern's qbatchMaxTokens), so that every product with
// quantized weights goes through the prefill path.
const int8Chunk = 17

// int8KLDense and int8KLMoE bound the mean KL divergence that int8 prefill
// activations cause, per block of 32 columns, on dense models and on
// mixtures of experts (where a rounding can flip a router's choice). They are
// regression limits of what was measured, not issue #19's 1e-4 nats
// (qintKLBound), which int8 input misses by 10-100× on every model measured
// (engine/cpu/design.md has the figures): hence Options.int8Block is off by
// default. A wrong kernel moves the distribution by whole nats.
const (
	int8KLDense = 1e-2
	int8KLMoE   = 0.2
)

// TestInt8Prefill measures what int8 prefill activations (kern's qint8.go)
// do to the next-token distribution: the same tokens (the exact runner's
// greedy continuation) are fed in chunks of int8Chunk to a runner with
// float32 input and to one whose prefill products take int8 input per block
// of 32 columns (llama.cpp's Q8_0 block; 16 on stories260K as well), both
// with a float32 KV cache and float decode, and the last position's
// distributions are compared after every chunk. On stories260K the greedy
// choice must not change with blocks of 32 (with 16 it does on Q8). Without the race detector: the int8 products run
// on the plain-Go reference.
func TestInt8Prefill(t *testing.T) {
	for _, spec := range enginetest.Models() {
		if spec.QuantBits == 0 || spec.QuantMode != "" {
			continue
		}
		t.Run(spec.Name(), func(t *testing.T) {
			m := modeltest.Open(t, spec)
			kl, worst, same := compareInt8(t, m, Options{}, 32, 6)
			t.Logf("block 32: mean KL %.3g nats, worst %.3g, same argmax %v (issue #19's bound %g)", kl, worst, same, qintKLBound)
			limit := int8KLDense
			if m.Config.ModelType == "mixtral" || m.Config.ModelType == "qwen3_moe" {
				limit = int8KLMoE
			}
			if kl > limit {
				t.Errorf("mean KL %.3g nats, want ≤ %g", kl, limit)
			}
		})
	}
	for _, bits := range []int{8, 4} {
		t.Run(fmt.Sprintf("stories260K-q%d", bits), func(t *testing.T) {
			m, err := model.Open(context.Background(), enginetest.Stories(t))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			for _, block := range []int{32, 16} {
				kl, worst, same := compareInt8(t, m, Options{QuantizeBits: bits, QuantizeGroup: 64}, block, 20)
				t.Logf("block %d: mean KL %.3g nats, worst %.3g, same argmax %v (issue #19's bound %g)", block, kl, worst, same, qintKLBound)
				if kl > int8KLDense || (block == 32 && !same) {
					t.Errorf("block %d: mean KL %.3g nats (want ≤ %g), same greedy choices %v", block, kl, int8KLDense, same)
				}
			}
		})
	}
}

// compareInt8 generates chunks·int8Chunk tokens greedily with the exact
// runner (decode), then feeds them in chunks to a fresh exact sequence and
// to an int8 one, and returns the mean and worst KL(exact‖int8) of the
// chunks' last positions and whether their argmax agreed every time.
func compareInt8(t *testing.T, m *model.Model, opts Options, block, chunks int) (mean, worst float64, same bool) {
	t.Helper()
	ctx := context.Background()
	exactOpts := opts
	exactOpts.KVF32, exactOpts.FloatActivations = true, true
	int8Opts := exactOpts
	int8Opts.int8Block = block
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
	same = true
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
		same = same && argmax(p) == argmax(q)
	}
	return sum / float64(chunks), worst, same
}
