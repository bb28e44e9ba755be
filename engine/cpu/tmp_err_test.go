package cpu

import (
	"context"
	"math"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/model/reference"
)

func TestTmpQuantErr(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{DType: model.F32, QuantBits: 8, GroupSize: 64},
		{DType: model.F32, QuantBits: 4, GroupSize: 32},
		{DType: model.F32, QuantBits: 4, GroupSize: 64, Arch: "qwen3"},
	} {
		m := modeltest.Open(t, spec)
		got := newSeq(t, newRunner(t, m, Options{}), 32)
		want := newSeq(t, reference.NewRunner(m), 32)
		for i, tok := range []int32{1, 403, 407, 261, 378, 17, 300} {
			g, _ := got.Forward(context.Background(), []int32{tok})
			w, _ := want.Forward(context.Background(), []int32{tok})
			var worst float64
			for j := range g {
				worst = math.Max(worst, math.Abs(float64(g[j]-w[j])))
			}
			t.Logf("%s step %d: worst %.3g / rms %.3g = %.3g", spec.Name(), i, worst, rms(w), worst/rms(w))
		}
	}
}
