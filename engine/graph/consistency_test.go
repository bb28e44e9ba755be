package graph

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

// These tests check the executor against itself: the same tokens fed at once,
// in chunks, one by one, after a Truncate, or through Hidden must agree. The
// numbers themselves are checked against the float64 reference by enginetest.

var tinySpec = spec{layers: 2, hidden: 32, inter: 48, heads: 4, kvHeads: 2, headDim: 8, vocab: 50, eps: 1e-5}

// randomWeights builds F32 weights for s; qkNorm and bias add Qwen3 and Qwen2 parts.
func randomWeights(s spec, seed uint64, qkNorm, bias bool) *llama.Weights {
	rng := rand.New(rand.NewPCG(seed, 1))
	tensor := func(name string, scale, offset float64, shape ...int) model.Tensor {
		n := numel(shape)
		b := make([]byte, 4*n)
		for i := range n {
			v := float32(offset + scale*(2*rng.Float64()-1))
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return model.Tensor{Name: name, DType: "F32", Shape: shape, Data: b}
	}
	lin := func(name string, out, in int, withBias bool) model.Linear {
		l := model.Linear{Weight: tensor(name+".weight", 1/math.Sqrt(float64(in)), 0, out, in)}
		if withBias {
			b := tensor(name+".bias", 0.1, 0, out)
			l.Bias = &b
		}
		return l
	}
	w := &llama.Weights{Embed: lin("embed", s.vocab, s.hidden, false), Norm: tensor("norm", 0.2, 1, s.hidden)}
	for l := range s.layers {
		p := fmt.Sprintf("layers.%d.", l)
		L := llama.Layer{
			AttnNorm: tensor(p+"input_layernorm", 0.2, 1, s.hidden),
			Q:        lin(p+"q", s.heads*s.headDim, s.hidden, bias),
			K:        lin(p+"k", s.kvHeads*s.headDim, s.hidden, bias),
			V:        lin(p+"v", s.kvHeads*s.headDim, s.hidden, bias),
			O:        lin(p+"o", s.hidden, s.heads*s.headDim, false),
			MLPNorm:  tensor(p+"post_attention_layernorm", 0.2, 1, s.hidden),
			Gate:     lin(p+"gate", s.inter, s.hidden, false),
			Up:       lin(p+"up", s.inter, s.hidden, false),
			Down:     lin(p+"down", s.hidden, s.inter, false),
		}
		if qkNorm {
			q, k := tensor(p+"q_norm", 0.2, 1, s.headDim), tensor(p+"k_norm", 0.2, 1, s.headDim)
			L.QNorm, L.KNorm = &q, &k
		}
		w.Layers = append(w.Layers, L)
	}
	w.LMHead = w.Embed
	return w
}

// newTestRunner runs the Llama family's forward pass over weights w with
// s's sizes, rope_theta 10000 and s.window.
func newTestRunner(ctx context.Context, s spec, w *llama.Weights, opts Options) (*runner, error) {
	c := &model.Config{
		HiddenSize: s.hidden, IntermediateSize: s.inter, NumHiddenLayers: s.layers,
		NumAttentionHeads: s.heads, NumKeyValueHeads: s.kvHeads, HeadDim: s.headDim, VocabSize: s.vocab,
		RMSNormEps: s.eps, RopeTheta: 10000, SlidingWindow: s.window,
	}
	def, p := llama.FromWeights(c, *w)
	return newRunner(ctx, s, def, p, opts)
}

func newTinyRunner(t *testing.T, s spec, qkNorm, bias bool) *runner {
	t.Helper()
	r, err := newTestRunner(context.Background(), s, randomWeights(s, 7, qkNorm, bias),
		Options{Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func tokensFor(n, vocab int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32((i*7 + 3) % vocab)
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func forwardAll(t *testing.T, r *runner, steps [][]int32) []float32 {
	t.Helper()
	seq, err := r.NewSequence(256)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	var logits []float32
	for _, st := range steps {
		if logits, err = seq.Forward(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	return append([]float32(nil), logits...)
}

func TestTruncateAndHidden(t *testing.T) {
	r := newTinyRunner(t, tinySpec, false, false)
	ctx := context.Background()
	toks := tokensFor(12, tinySpec.vocab)
	want := forwardAll(t, r, [][]int32{toks})

	seq, err := r.NewSequence(64)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	if _, err := seq.Forward(ctx, append(append([]int32{}, toks[:8]...), 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if err := seq.Truncate(8); err != nil {
		t.Fatal(err)
	}
	got, err := seq.Forward(ctx, toks[8:])
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(want, got); d > 1e-4 {
		t.Errorf("after truncate logits differ by %g", d)
	}
	if seq.Len() != 12 {
		t.Errorf("Len = %d, want 12", seq.Len())
	}

	hseq, err := r.NewSequence(64)
	if err != nil {
		t.Fatal(err)
	}
	defer hseq.Close()
	hidden, err := hseq.Hidden(ctx, toks)
	if err != nil {
		t.Fatal(err)
	}
	if len(hidden) != len(toks)*tinySpec.hidden {
		t.Fatalf("hidden has %d values, want %d", len(hidden), len(toks)*tinySpec.hidden)
	}
	// The last hidden row times the tied head is the last token's logits.
	last := hidden[(len(toks)-1)*tinySpec.hidden:]
	emb := make([]float32, tinySpec.vocab*tinySpec.hidden)
	embT := randomWeights(tinySpec, 7, false, false).Embed.Weight
	if err := model.DecodeFloats(embT.DType, embT.Data, 0, emb); err != nil {
		t.Fatal(err)
	}
	logits := make([]float32, tinySpec.vocab)
	for v := range logits {
		var acc float64
		for i, h := range last {
			acc += float64(h) * float64(emb[v*tinySpec.hidden+i])
		}
		logits[v] = float32(acc)
	}
	if d := maxAbsDiff(want, logits); d > 1e-4 {
		t.Errorf("hidden·head differs from Forward logits by %g", d)
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// TestSplitAgrees checks that storing matrices in row blocks (with padding
// rows when the block count does not divide them) changes nothing.
func TestSplitAgrees(t *testing.T) {
	toks := tokensFor(20, tinySpec.vocab)
	var want []float32
	for _, split := range []int{1, 2, 3, 7} {
		s := tinySpec
		s.split, s.minSplit = split, 1
		r := newTinyRunner(t, s, true, true)
		q := &r.def.(*llama.Model).Weights().Layers[0].Q
		if got := r.lay.lins[q].split; got != split {
			t.Fatalf("q stored in %d blocks, want %d", got, split)
		}
		got := forwardAll(t, r, [][]int32{toks[:11], toks[11:12], toks[12:]})
		if want == nil {
			want = got
			continue
		}
		if d := maxAbsDiff(want, got); d > 1e-4 {
			t.Errorf("split %d: logits differ from split 1 by %g", split, d)
		}
	}
}
