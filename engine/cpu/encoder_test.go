package cpu

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestEncodeConcurrent: sequences of one runner encode at the same time and
// each gets what it gets alone; a sequence that already holds tokens, a
// closed runner and bad token types are refused.
func TestEncodeConcurrent(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{Arch: "bertcls", Layers: 2, Seed: 3})
	r, err := New(m, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := [][]int32{{2, 40, 41, 3}, {2, 50, 3, 60, 61, 3}}
	types := [][]int32{nil, {0, 0, 0, 1, 1, 1}}
	encode := func(i int) ([]float32, []float32) {
		seq, err := r.NewSequence(len(ids[i]))
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		defer seq.Close()
		h, err := seq.(model.Encoder).Encode(context.Background(), ids[i], types[i])
		if err != nil {
			t.Error(err)
		}
		seq2, _ := r.NewSequence(len(ids[i]))
		defer seq2.Close()
		s, err := seq2.(model.Encoder).Classify(context.Background(), ids[i], types[i])
		if err != nil {
			t.Error(err)
		}
		return h, s
	}
	var want [2][2][]float32
	for i := range ids {
		want[i][0], want[i][1] = encode(i)
	}
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Go(func() {
			i := k % 2
			h, s := encode(i)
			if !slices.Equal(h, want[i][0]) || !slices.Equal(s, want[i][1]) {
				t.Errorf("input %d encoded differently alongside another", i)
			}
		})
	}
	wg.Wait()

	seq, _ := r.NewSequence(8)
	enc := seq.(model.Encoder)
	if _, err := enc.Encode(context.Background(), ids[0], []int32{0}); err == nil {
		t.Error("types of another length accepted")
	}
	if _, err := enc.Encode(context.Background(), ids[0], []int32{0, 0, 5, 0}); err == nil {
		t.Error("a token type outside the table accepted")
	}
	// The engine never runs an encoder causally; here it only fills the sequence.
	if _, err := seq.Forward(context.Background(), []int32{2}); err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(context.Background(), ids[0], nil); err == nil {
		t.Error("encode after tokens accepted")
	}
	_ = r.Close()
	seq2, err := r.NewSequence(4)
	if err == nil {
		if _, err := seq2.(model.Encoder).Encode(context.Background(), ids[0], nil); err == nil {
			t.Error("encode on a closed runner")
		}
	}
}

// TestEncodeBatch: inputs encoded together, each attending to itself with
// its own positions and token types, give what each gives alone.
func TestEncodeBatch(t *testing.T) {
	for _, arch := range []string{"bert", "xlmr", "nomic"} {
		m := modeltest.Open(t, modeltest.Spec{Arch: arch, Layers: 2, Seed: 4})
		r, err := New(m, Options{Threads: 2, KVF32: true, FloatActivations: true})
		if err != nil {
			t.Fatal(err)
		}
		ids := [][]int32{{2, 40, 41, 3}, {2, 50, 3, 60, 61, 62, 3}, {2, 3}}
		types := [][]int32{nil, {0, 0, 0, 1, 1, 1, 1}, nil}
		if arch == "xlmr" {
			types = nil
		}
		seq, err := r.NewSequence(13)
		if err != nil {
			t.Fatal(err)
		}
		got, err := seq.(model.Encoder).EncodeBatch(context.Background(), ids, types)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ids {
			one, _ := r.NewSequence(len(ids[i]))
			var ty []int32
			if types != nil {
				ty = types[i]
			}
			want, err := one.(model.Encoder).Encode(context.Background(), ids[i], ty)
			if err != nil {
				t.Fatal(err)
			}
			if len(got[i]) != len(want) {
				t.Fatalf("%s input %d: %d values, want %d", arch, i, len(got[i]), len(want))
			}
			for k := range want {
				if d := got[i][k] - want[k]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%s input %d value %d: %g in the batch, %g alone", arch, i, k, got[i][k], want[k])
				}
			}
		}
		_ = r.Close()
	}
}
