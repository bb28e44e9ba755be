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

// TestIntPrefill measures what int16 inputs in prefill (kern's igemm.go,
// the default with integer activations where the set has the kernel) do to
// the next-token distribution: the exact runner's greedy continuation is
// fed in chunks to a runner with float32 input and one with int16 input
// (both with a float32 KV cache, so only the activations differ), and the
// last position's distributions are compared after every chunk, on every
// quantized conformance model and on stories260K quantized at load to 8
// and 4 bits. Chunks of 17 and 40 tokens: more than batched decode takes
// (kern's qbatchMaxTokens), so every product with quantized weights goes
// through the packed prefill, in one and in several panels. Issue #19's
// bounds: mean KL ≤ qintKLBound and, on stories260K, the same greedy
// choices, and the same greedy story after a prompt prefilled each way.
func TestIntPrefill(t *testing.T) {
	if !kern.HasIntPrefill() {
		t.Logf("kernel set %s has no int16 prefill kernel: prefill keeps float inputs in both runners", kern.Backend())
	}
	for _, spec := range enginetest.Models() {
		if spec.QuantBits == 0 {
			continue
		}
		t.Run(spec.Name(), func(t *testing.T) {
			m := modeltest.Open(t, spec)
			for _, chunk := range []int{17, 40} {
				kl, worst, flips := compareIntPrefill(t, m, Options{}, chunk, 4)
				t.Logf("chunks of %d: mean KL %.3g nats, worst %.3g, %d of 4 greedy choices changed", chunk, kl, worst, flips)
				if kl > qintKLBound {
					t.Errorf("chunks of %d: mean KL %.3g nats, want ≤ %g", chunk, kl, qintKLBound)
				}
			}
		})
	}
	for _, q := range [][2]int{{8, 32}, {4, 32}, {4, 64}} {
		t.Run(fmt.Sprintf("stories260K-q%dg%d", q[0], q[1]), func(t *testing.T) {
			m, err := model.Open(context.Background(), enginetest.Stories(t))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			opts := Options{QuantizeBits: q[0], QuantizeGroup: q[1]}
			kl, worst, flips := compareIntPrefill(t, m, opts, 17, 12)
			t.Logf("mean KL %.3g nats, worst %.3g, %d of 12 greedy choices changed", kl, worst, flips)
			if kl > qintKLBound || flips != 0 {
				t.Errorf("mean KL %.3g nats (want ≤ %g), %d greedy choices changed (want 0)", kl, qintKLBound, flips)
			}
			if kern.HasIntPrefill() && kl == 0 {
				t.Error("int16 prefill changed nothing: its kernel did not run")
			}
			if a, b := greedyAfterPrompt(t, m, opts, true), greedyAfterPrompt(t, m, opts, false); fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("greedy story after a prompt prefilled with float inputs\n%v\nwith int16 inputs\n%v", a, b)
			}
		})
	}
}

// compareIntPrefill generates chunks·chunk tokens greedily with the exact
// runner (decode), then feeds them in chunks to a fresh exact sequence and
// to an int16 one, and returns the mean and worst KL(exact‖int16) of the
// chunks' last positions and how many times their argmax differed.
func compareIntPrefill(t *testing.T, m *model.Model, opts Options, chunk, chunks int) (mean, worst float64, flips int) {
	t.Helper()
	ctx := context.Background()
	exactOpts, intOpts := opts, opts
	exactOpts.KVF32, exactOpts.FloatActivations = true, true
	intOpts.KVF32 = true
	er, ir := newRunner(t, m, exactOpts), newRunner(t, m, intOpts)
	n := chunks * chunk
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
		part := toks[c*chunk : (c+1)*chunk]
		p, err := exact.Forward(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		q, err := approx.Forward(ctx, part)
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

// greedyAfterPrompt prefills a fixed 48-token prompt in one call, then
// decodes 150 tokens greedily, with float inputs throughout (exact) or
// int16 ones (the default): the story a user would get.
func greedyAfterPrompt(t *testing.T, m *model.Model, opts Options, exact bool) []int {
	t.Helper()
	ctx := context.Background()
	opts.KVF32, opts.FloatActivations = true, exact
	s := newSeq(t, newRunner(t, m, opts), 48+150+8)
	prompt := make([]int32, 48)
	prompt[0] = 1
	for i := 1; i < len(prompt); i++ {
		prompt[i] = int32((i*97 + 13) % m.Config.VocabSize)
	}
	logits, err := s.Forward(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for range 150 {
		next := argmax(logits)
		out = append(out, next)
		if logits, err = s.Forward(ctx, []int32{int32(next)}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
