package cpu

import (
	"context"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// greedy decodes n tokens after prompt on a sequence of its own.
func greedy(t *testing.T, r model.Runner, prompt []int32, n int) []int32 {
	t.Helper()
	s := newSeq(t, r, 128)
	var out []int32
	step := prompt
	for len(out) < n {
		logits, err := s.Forward(context.Background(), step)
		if err != nil {
			t.Fatal(err)
		}
		next := int32(argmax(logits))
		out = append(out, next)
		step = []int32{next}
	}
	return out
}

// batchCase is a request of the batched run: it joins at step join, with its
// whole prompt in one row segment (prefill beside the others' decode steps).
type batchCase struct {
	prompt []int32
	n      int
	join   int
}

// runBatched decodes every case greedily through ForwardBatch, each step
// holding whichever cases have joined and not finished.
func runBatched(t *testing.T, r model.Runner, cases []batchCase) [][]int32 {
	t.Helper()
	b := r.(model.Batcher)
	seqs := make([]model.Sequence, len(cases))
	next := make([][]int32, len(cases))
	out := make([][]int32, len(cases))
	for step := 0; ; step++ {
		var ss []model.Sequence
		var ts [][]int32
		var who []int
		for i, c := range cases {
			if step < c.join || len(out[i]) == c.n {
				continue
			}
			if seqs[i] == nil {
				seqs[i], next[i] = newSeq(t, r, 128), c.prompt
			}
			ss, ts, who = append(ss, seqs[i]), append(ts, next[i]), append(who, i)
		}
		if len(ss) == 0 {
			if step > 64 {
				return out
			}
			continue
		}
		logits, err := b.ForwardBatch(context.Background(), ss, ts)
		if err != nil {
			t.Fatal(err)
		}
		for k, i := range who {
			tok := int32(argmax(logits[k]))
			out[i] = append(out[i], tok)
			next[i] = []int32{tok}
		}
	}
}

func batchCases() []batchCase {
	var cs []batchCase
	for i := range 8 {
		p := []int32{1}
		for j := range 3 + 5*i {
			p = append(p, int32(20+(7*i+13*j)%200))
		}
		cs = append(cs, batchCase{prompt: p, n: 6 + 3*(i%4), join: i % 3})
	}
	return cs
}

// TestForwardBatch: 8 requests of different lengths joining at different
// steps, decoded together, give each the tokens it gets alone.
func TestForwardBatch(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{DType: model.F32},
		{DType: model.F16, QuantBits: 8, GroupSize: 64},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32},
		{DType: model.F16},  // batched half kernel (kern/hbatch.go)
		{DType: model.BF16}, // the same, BF16
		{Arch: "gemma2", DType: model.F32},
	} {
		t.Run(spec.Name(), func(t *testing.T) {
			r := newRunner(t, modeltest.Open(t, spec), Options{KVF32: true})
			cs := batchCases()
			got := runBatched(t, r, cs)
			for i, c := range cs {
				if want := greedy(t, r, c.prompt, c.n); !slices.Equal(got[i], want) {
					t.Errorf("request %d: batched %v, alone %v", i, got[i], want)
				}
			}
		})
	}
}

// TestForwardBatchStories is TestForwardBatch on a real model.
func TestForwardBatchStories(t *testing.T) {
	m, err := model.Open(context.Background(), enginetest.Stories(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r := newRunner(t, m, Options{})
	cs := batchCases()
	got := runBatched(t, r, cs)
	for i, c := range cs {
		if want := greedy(t, r, c.prompt, c.n); !slices.Equal(got[i], want) {
			t.Errorf("request %d: batched %v, alone %v", i, got[i], want)
		}
	}
}

func TestForwardBatchErrors(t *testing.T) {
	r := newRunner(t, modeltest.Open(t, modeltest.Spec{DType: model.F32}), Options{})
	b := r.(model.Batcher)
	s1, s2 := newSeq(t, r, 8), newSeq(t, r, 8)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		seqs []model.Sequence
		toks [][]int32
	}{
		"mismatch":  {[]model.Sequence{s1, s2}, [][]int32{{1}}},
		"twice":     {[]model.Sequence{s1, s1}, [][]int32{{1}, {2}}},
		"too long":  {[]model.Sequence{s1, s2}, [][]int32{{1}, make([]int32, 9)}},
		"no tokens": {[]model.Sequence{s1, s2}, [][]int32{{1}, {}}},
	} {
		if _, err := b.ForwardBatch(ctx, tc.seqs, tc.toks); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if s1.Len() != 0 || s2.Len() != 0 {
		t.Errorf("a failed batch advanced the sequences to %d and %d", s1.Len(), s2.Len())
	}
}
