//go:build !race

package hfref_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

// encoderExecutors are the executors that run encoders; engine/graph refuses them.
var encoderExecutors = map[string]hfref.NewRunner{
	"reference": func(m *model.Model) (model.Runner, error) { return reference.NewRunner(m), nil },
	"cpu": func(m *model.Model) (model.Runner, error) {
		return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true})
	},
}

// A [CLS] query [SEP] document [SEP] pair of the test WordPiece vocabulary.
var (
	pairIDs   = []int32{2, 120, 95, 140, 3, 101, 77, 160, 133, 88, 3}
	pairTypes = []int32{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}
)

// TestEncoders checks every encoder family on every executor that runs
// encoders, in float and MLX-quantized storage: the pooled (mean and CLS),
// normalised sentence vectors within 1e-5 of transformers' and
// sentence-transformers' computation in float64, and a cross-encoder's
// sigmoid score likewise.
func TestEncoders(t *testing.T) {
	forms := []modeltest.Spec{
		{DType: model.F32},
		{DType: model.F16},
		{DType: model.F16, QuantBits: 8, GroupSize: 32},
		{DType: model.BF16, QuantBits: 4, GroupSize: 32},
	}
	for _, arch := range modeltest.Encoders() {
		for _, form := range forms {
			form.Arch, form.Layers, form.Seed = arch, 2, 23
			dir := modeltest.New(t, form)
			config, w, err := hfref.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			types := pairTypes
			if arch == "xlmr" || arch == "xlmrcls" {
				types = nil // type_vocab_size 1
			}
			ids := make([]int, len(pairIDs))
			var tys []int
			for i, id := range pairIDs {
				ids[i] = int(id)
				if types != nil {
					tys = append(tys, int(types[i]))
				}
			}
			m, err := model.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close() })
			for name, nr := range encoderExecutors {
				t.Run(form.Name()+"/"+name, func(t *testing.T) {
					r, err := nr(m)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					seq, err := r.NewSequence(len(pairIDs))
					if err != nil {
						t.Fatal(err)
					}
					defer seq.Close()
					enc, ok := seq.(model.Encoder)
					if !ok {
						t.Fatalf("%T is not a model.Encoder", seq)
					}
					if arch == "bertcls" || arch == "xlmrcls" || arch == "modernbertcls" {
						want, err := hfref.Classify(config, w, ids, tys)
						if err != nil {
							t.Fatal(err)
						}
						got, err := enc.Classify(context.Background(), pairIDs, types)
						if err != nil {
							t.Fatal(err)
						}
						if len(got) != 1 {
							t.Fatalf("%d logits, want 1", len(got))
						}
						sg, sw := sigmoid(float64(got[0])), sigmoid(want[0])
						if math.Abs(sg-sw) > 1e-5 {
							t.Fatalf("score %.7f, want %.7f (logits %g, %g)", sg, sw, got[0], want[0])
						}
						return
					}
					want, err := hfref.Encode(config, w, ids, tys)
					if err != nil {
						t.Fatal(err)
					}
					got, err := enc.Encode(context.Background(), pairIDs, types)
					if err != nil {
						t.Fatal(err)
					}
					hidden := len(want[0])
					if len(got) != len(ids)*hidden {
						t.Fatalf("%d values, want %d", len(got), len(ids)*hidden)
					}
					for _, mode := range []string{"mean", "cls"} {
						wv, err := hfref.Pool(want, mode, true)
						if err != nil {
							t.Fatal(err)
						}
						rows := make([][]float64, len(ids))
						for i := range rows {
							rows[i] = make([]float64, hidden)
							for j := range hidden {
								rows[i][j] = float64(got[i*hidden+j])
							}
						}
						gv, _ := hfref.Pool(rows, mode, true)
						if d := maxDiff(gv, wv); d > 1e-5 {
							t.Errorf("%s pooling: max difference %.2g", mode, d)
						}
					}
				})
			}
		}
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("lengths %d and %d", len(a), len(b)))
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}
