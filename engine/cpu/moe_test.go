package cpu

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// TestMoEDefaults runs the MoE families with the default options (half KV
// cache, int16 activations of quantized products) against the float64
// reference, prefill then decode.
func TestMoEDefaults(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{Arch: "qwen3moe", DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true, Seed: 2},
		{Arch: "mixtral", DType: model.F16, QuantBits: 8, GroupSize: 64, Seed: 2},
		{Arch: "gptoss", DType: model.BF16, QuantBits: 4, QuantMode: "mxfp4", Stacked: true, Seed: 2},
	} {
		t.Run(spec.Name(), func(t *testing.T) {
			m := modeltest.Open(t, spec)
			got, want := newSeq(t, newRunner(t, m, Options{}), 64), newSeq(t, reference.NewRunner(m), 64)
			ctx := context.Background()
			for i, step := range [][]int32{prompt, {7}, {300}, {45}} {
				a, err := got.Forward(ctx, step)
				if err != nil {
					t.Fatal(err)
				}
				b, err := want.Forward(ctx, step)
				if err != nil {
					t.Fatal(err)
				}
				// int16 activations and an F16 cache: qint_test.go's bound.
				compare(t, fmt.Sprintf("%s step %d", spec.Name(), i), a, b, 2e-2)
			}
		})
	}
}

// TestMoEForwardBatch: requests decoded together through ForwardBatch, whose
// rows are routed to experts across sequences, get the tokens they get alone.
func TestMoEForwardBatch(t *testing.T) {
	spec := modeltest.Spec{Arch: "qwen3moe", DType: model.F32, Experts: 8, TopK: 2, Seed: 4}
	r := newRunner(t, modeltest.Open(t, spec), Options{KVF32: true})
	cs := batchCases()[:4]
	got := runBatched(t, r, cs)
	for i, c := range cs {
		if want := greedy(t, r, c.prompt, c.n); !slices.Equal(got[i], want) {
			t.Errorf("request %d: batched %v, alone %v", i, got[i], want)
		}
	}
}

// TestMoEWeightBytes: a decoded token reads TopK of each block's experts, so
// routing to 2 of 8 experts reads 6/8 of the expert matrices less than
// routing to all 8.
func TestMoEWeightBytes(t *testing.T) {
	spec := modeltest.Spec{Arch: "qwen3moe", DType: model.F32, Experts: 8, TopK: 2, Layers: 2}
	all := spec
	all.TopK = 8
	sparse := newRunner(t, modeltest.Open(t, spec), Options{}).(*Runner).WeightBytes()
	dense := newRunner(t, modeltest.Open(t, all), Options{}).(*Runner).WeightBytes()
	// Spec's hidden size and moe_intermediate_size are both 64; F32 weights.
	experts := int64(spec.Layers * 8 * 3 * 64 * 64 * 4)
	if want := dense - experts*6/8; sparse != want {
		t.Errorf("top-2 of 8 reads %d bytes per token, want %d (all 8: %d)", sparse, want, dense)
	}
}

// TestMoEDecodeNoAlloc: routing and dispatch reuse the sequence's buffers.
func TestMoEDecodeNoAlloc(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{Arch: "mixtral", DType: model.BF16, QuantBits: 4, GroupSize: 32, Stacked: true})
	s := newSeq(t, newRunner(t, m, Options{}), 64)
	ctx := context.Background()
	if _, err := s.Forward(ctx, prompt); err != nil {
		t.Fatal(err)
	}
	tok := []int32{7}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := s.Forward(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per decoded token", n)
	}
}
