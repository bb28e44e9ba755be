package graph

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	// Graph code reads like the math it computes; gomlx documents this dot import.
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// MoE computes the block densely, as the cross-check it is: every expert on
// every row, each weighted by the routing weight of its row, zero for the
// experts a row did not select. A graph has static shapes, and gathering a
// data-dependent set of rows per expert would need shapes that change with
// the routing. The selection follows model.MoE's tie rule exactly: expert e
// is selected when fewer than TopK experts rank before it, an expert ranking
// before e when its logit is larger, or equal with a lower index.
func (o *ops) MoE(x model.Value, m *model.MoE) model.Value {
	xn := node(x)
	ne := len(m.Experts)
	if m.TopK <= 0 || m.TopK > ne {
		panic(fmt.Sprintf("graph: moe: top %d of %d experts", m.TopK, ne))
	}
	n := xn.Shape().Dimensions[0]
	g := xn.Graph()
	logits := node(o.Linear(xn, &m.Router)) // (n, experts)
	dims := []int{n, ne, ne}
	mine := BroadcastToDims(Reshape(logits, n, ne, 1), dims...)  // [i, e, f] = logit e
	other := BroadcastToDims(Reshape(logits, n, 1, ne), dims...) // [i, e, f] = logit f
	e := Iota(g, shapes.Make(dtypes.Int32, dims...), 1)
	f := Iota(g, shapes.Make(dtypes.Int32, dims...), 2)
	before := LogicalOr(GreaterThan(other, mine), LogicalAnd(Equal(other, mine), LessThan(f, e)))
	rank := ReduceSum(ConvertDType(before, dtypes.Float32), 2) // (n, experts)
	selected := LessThan(rank, Scalar(g, dtypes.Float32, float64(m.TopK)))
	w := Where(selected, Softmax(logits, -1), ZerosLike(logits))
	if m.NormTopK {
		w = Div(w, BroadcastToDims(ReduceAndKeep(w, ReduceSum, -1), n, ne))
	}
	var out *Node
	for i := range m.Experts {
		ex := &m.Experts[i]
		var h model.Value
		if c := m.Clamp; c != nil {
			h = clampGLU(node(o.Linear(xn, &ex.Gate)), node(o.Linear(xn, &ex.Up)), c)
		} else {
			h = o.GLU(o.Linear(xn, &ex.Gate), o.Linear(xn, &ex.Up), m.Act)
		}
		y := node(o.Linear(h, &ex.Down))
		wi := Slice(w, AxisRange(), AxisRange(i, i+1)) // (n, 1)
		y = Mul(y, BroadcastToDims(wi, y.Shape().Dimensions...))
		if out == nil {
			out = y
		} else {
			out = Add(out, y)
		}
	}
	return out
}

// clampGLU is model.Clamp's activation: (clamp(u, ±Limit) + 1) · g'·sigmoid(Alpha·g')
// with g' = min(g, Limit).
func clampGLU(g, u *Node, c *model.Clamp) *Node {
	gc := Min(g, Scalar(g.Graph(), g.DType(), c.Limit))
	uc := Max(Min(u, Scalar(u.Graph(), u.DType(), c.Limit)), Scalar(u.Graph(), u.DType(), -c.Limit))
	return Mul(OnePlus(uc), Mul(gc, Sigmoid(MulScalar(gc, c.Alpha))))
}
