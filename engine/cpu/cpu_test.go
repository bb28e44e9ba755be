package cpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// tolerance of logits relative to their RMS, per weight dtype: float32
// rounding only for F32, more for the bigger roundings of a half KV cache.
func tolerance(d model.DType, opts Options) float64 {
	t := map[model.DType]float64{model.F32: 1e-3, model.F16: 1e-2, model.BF16: 4e-2}[d]
	if opts.halfKV() {
		t = max(t, 1e-2)
	}
	return t
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Max(1, math.Sqrt(s/float64(len(x))))
}

func compare(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	sc := rms(want)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol*sc) {
			t.Fatalf("%s: value %d is %v, reference %v (difference %.3g > %.3g)", what, i, got[i], want[i], d, tol*sc)
		}
	}
}

func newRunner(t *testing.T, m *model.Model, opts Options) model.Runner {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	r, err := New(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func newSeq(t *testing.T, r model.Runner, n int) model.Sequence {
	t.Helper()
	s, err := r.NewSequence(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var prompt = []int32{1, 403, 407, 261, 378, 17, 300}

// matchReference runs prompt, then steps-1 single tokens, through the cpu
// executor and the float64 reference on spec's model, compares each step's
// logits, and returns the cpu executor's sequence.
func matchReference(t *testing.T, spec modeltest.Spec, opts Options, prompt []int32, ctxLen, steps int) model.Sequence {
	t.Helper()
	m := modeltest.Open(t, spec)
	tol := tolerance(m.DType(), opts)
	got := newSeq(t, newRunner(t, m, opts), ctxLen)
	want := newSeq(t, reference.NewRunner(m), ctxLen)
	step := prompt
	for i := 0; i < steps; i++ {
		g, err := got.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		w, err := want.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, fmt.Sprintf("step %d", i), g, w, tol)
		step = []int32{int32(10 + 37*i)}
	}
	return got
}

// TestMatchesReference runs prefill then decode steps on models of every
// layout and compares the logits with the float64 reference.
func TestMatchesReference(t *testing.T) {
	cases := []struct {
		spec modeltest.Spec
		opts Options
	}{
		{modeltest.Spec{}, Options{}},
		{modeltest.Spec{Tied: true, Hidden: 96, Intermediate: 172, HeadDim: 24}, Options{PrefillChunk: 3}},
		{modeltest.Spec{DType: model.F16, QuantBits: 4, GroupSize: 32}, Options{}},
		{modeltest.Spec{DType: model.BF16, QuantBits: 8, GroupSize: 128, Hidden: 128, Intermediate: 256, HeadDim: 32}, Options{}},
		{modeltest.Spec{DType: model.F16, QuantBits: 3, GroupSize: 32}, Options{}},
		{modeltest.Spec{QuantBits: 4, GroupSize: 64}, Options{}}, // float32 scales: exact kernels
		{modeltest.Spec{QuantBits: 8, GroupSize: 32, Hidden: 96}, Options{}},
		{modeltest.Spec{Arch: "qwen2", DType: model.BF16}, Options{}},
		{modeltest.Spec{Arch: "qwen3", Tied: true}, Options{KVF16: true}},
		{modeltest.Spec{Arch: "mistral", SlidingWindow: 4}, Options{PrefillChunk: 2}},
		{modeltest.Spec{AttentionBias: true, MLPBias: true, RopeScaling: &model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}}, Options{}},
		{modeltest.Spec{Heads: 4, KVHeads: 4}, Options{Threads: 1}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/chunk%d/kv16=%v", c.spec.Name(), c.opts.PrefillChunk, c.opts.halfKV()), func(t *testing.T) {
			got := matchReference(t, c.spec, c.opts, prompt, 32, 4)
			if got.Len() != len(prompt)+3 {
				t.Fatalf("Len %d, want %d", got.Len(), len(prompt)+3)
			}
		})
	}
}

// TestQuantizeAtLoad checks that weights quantized at load stay close to the
// float model, 8 bits closer than 4, and that they are smaller.
func TestQuantizeAtLoad(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{DType: model.F16, Hidden: 128, Intermediate: 256})
	want, err := newSeq(t, reference.NewRunner(m), 16).Forward(context.Background(), prompt)
	if err != nil {
		t.Fatal(err)
	}
	floatBytes := newRunner(t, m, Options{}).(*Runner).WeightBytes()
	errs := map[int]float64{}
	for _, bits := range []int{8, 4} {
		r := newRunner(t, m, Options{QuantizeBits: bits})
		got, err := newSeq(t, r, 16).Forward(context.Background(), prompt)
		if err != nil {
			t.Fatal(err)
		}
		var d float64
		for i := range got {
			d += math.Pow(float64(got[i]-want[i]), 2)
		}
		errs[bits] = math.Sqrt(d/float64(len(got))) / rms(want)
		if b := r.(*Runner).WeightBytes(); b >= floatBytes {
			t.Errorf("%d bits: weights read %d bytes per token, float %d", bits, b, floatBytes)
		}
	}
	// The steps differ 17-fold (255 vs 15 levels); random test models are
	// built to be sensitive, so 4 bits moves their logits a lot.
	t.Logf("relative RMS error of the logits: 8 bits %.3g, 4 bits %.3g", errs[8], errs[4])
	if errs[8] > 0.05 || errs[4] > 0.6 || 8*errs[8] >= errs[4] {
		t.Errorf("relative RMS error of the logits: 8 bits %.3g, 4 bits %.3g", errs[8], errs[4])
	}
}

func TestHiddenAndTruncate(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{Arch: "qwen3"})
	r := newRunner(t, m, Options{PrefillChunk: 4, KVF32: true, FloatActivations: true})
	ctx := context.Background()
	got, want := newSeq(t, r, 20), newSeq(t, reference.NewRunner(m), 20)
	gh, err := got.Hidden(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := want.Hidden(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "hidden", gh, wh, 1e-3)

	// Reuse the first three tokens and continue differently.
	if err := got.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if err := want.Truncate(3); err != nil {
		t.Fatal(err)
	}
	g, err := got.Forward(ctx, []int32{5, 6})
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.Forward(ctx, []int32{5, 6})
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "after truncate", g, w, 1e-3)
	if err := got.Truncate(6); err == nil {
		t.Error("truncate past the end succeeded")
	}
}

func TestErrors(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{})
	r := newRunner(t, m, Options{})
	ctx := context.Background()
	s := newSeq(t, r, 4)
	for name, toks := range map[string][]int32{
		"empty": {}, "negative": {-1}, "beyond vocabulary": {512}, "too long": {1, 2, 3, 4, 5},
	} {
		if _, err := s.Forward(ctx, toks); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if s.Len() != 0 {
		t.Errorf("failed calls left %d tokens", s.Len())
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Forward(cancelled, []int32{1}); !errors.Is(err, context.Canceled) || s.Len() != 0 {
		t.Errorf("cancelled forward: %v, %d tokens", err, s.Len())
	}
	if _, err := r.NewSequence(0); err == nil {
		t.Error("sequence of length 0 created")
	}
	if _, err := r.NewSequence(m.Config.MaxPositionEmbeddings + 1); err == nil {
		t.Error("sequence longer than max_position_embeddings created")
	}
	if _, err := New(m, Options{QuantizeBits: 5}); err == nil {
		t.Error("QuantizeBits 5 accepted")
	}
	_ = r.Close()
	if _, err := s.Forward(ctx, []int32{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("forward after runner Close: %v", err)
	}
	if _, err := r.NewSequence(4); !errors.Is(err, ErrClosed) {
		t.Errorf("new sequence after Close: %v", err)
	}
}

// TestDecodeNoAlloc checks the hot loop: a decode step allocates nothing.
func TestDecodeNoAlloc(t *testing.T) {
	for _, spec := range []modeltest.Spec{{}, {DType: model.BF16, QuantBits: 4, GroupSize: 32}} {
		m := modeltest.Open(t, spec)
		s := newSeq(t, newRunner(t, m, Options{}), 64)
		ctx := context.Background()
		if _, err := s.Forward(ctx, prompt); err != nil {
			t.Fatal(err)
		}
		tok := []int32{7}
		n := testing.AllocsPerRun(20, func() {
			if _, err := s.Forward(ctx, tok); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per decoded token", spec.Name(), n)
		}
	}
}

// TestConcurrentSequences decodes on several sequences of one runner at once
// (they share the worker pool) and checks each against a solo run.
func TestConcurrentSequences(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{DType: model.F16, QuantBits: 8, GroupSize: 64})
	r := newRunner(t, m, Options{})
	ctx := context.Background()
	solo := make([][]float32, 4)
	for g := range solo {
		s := newSeq(t, r, 16)
		for _, tok := range []int32{1, int32(20 + g), 30} { // the same steps as below
			out, err := s.Forward(ctx, []int32{tok})
			if err != nil {
				t.Fatal(err)
			}
			solo[g] = append(solo[g][:0], out...)
		}
	}
	var wg sync.WaitGroup
	for g := range solo {
		s := newSeq(t, r, 16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tok := range []int32{1, int32(20 + g), 30} {
				out, err := s.Forward(ctx, []int32{tok})
				if err != nil {
					t.Error(err)
					return
				}
				if tok == 30 {
					for i := range out {
						if out[i] != solo[g][i] { // same kernels, same order: bit for bit
							t.Errorf("sequence %d: logit %d is %v alone, %v concurrently", g, i, solo[g][i], out[i])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}
