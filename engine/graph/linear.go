package graph

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	// Graph code reads like the math it computes; gomlx documents this dot import.
	. "github.com/gomlx/gomlx/pkg/core/graph"
)

// Weight matrices keep the stored (out, in) layout: products contract the
// `in` axis of both operands, so the pure-Go backend never transposes a
// weight (an (in, out) layout there is about 20x slower).
//
// The pure-Go backend runs a matrix product on several cores only across its
// batch axis, and a linear layer has none: decode would use one core. So on
// that backend a large matrix is stored as `split` row blocks, (split,
// rowsPer, in) with rowsPer = ceil(out/split) and zero rows as padding, and
// the input is broadcast across the blocks; each core then streams its own
// block. Small matrices, where handing work to other cores costs more than it
// saves, and every matrix on XLA stay plain (out, in).

// minSplitElems is the smallest matrix (out*in) worth splitting: 1 MiB of
// float32 (spec.minSplit overrides it, so tests can split tiny matrices).
const minSplitElems = 1 << 18

// linearIdx locates a linear layer's tensors among the graph inputs.
type linearIdx struct {
	w     int // (out, in), or (split, rowsPer, in)
	bias  int // (out); < 0 when absent
	out   int
	split int // row blocks of w; 1 = plain (out, in)
}

// rowsPer is the height of one row block.
func (l linearIdx) rowsPer() int { return (l.out + l.split - 1) / l.split }

// linear is x·Wᵀ (+ bias) for x (n, in), giving (n, out).
func (s *spec) linear(x *Node, w []*Node, l linearIdx) *Node {
	n := x.Shape().Dimensions[0]
	var y *Node
	if l.split == 1 {
		y = DotGeneral(x, []int{1}, nil, w[l.w], []int{1}, nil)
	} else {
		xb := BroadcastPrefix(x, l.split)                                  // (split, n, in)
		y = DotGeneral(xb, []int{2}, []int{0}, w[l.w], []int{2}, []int{0}) // (split, n, rowsPer)
		y = Reshape(TransposeAllAxes(y, 1, 0, 2), n, l.split*l.rowsPer())
		if l.split*l.rowsPer() != l.out {
			y = Slice(y, AxisRange(), AxisRange(0, l.out))
		}
	}
	if l.bias >= 0 {
		y = Add(y, ExpandLeftToRank(w[l.bias], 2))
	}
	return y
}

// embed looks up the rows of tokens (n) in the embedding matrix, which may
// be split in row blocks when it doubles as the tied output head.
func (s *spec) embed(tokens *Node, w []*Node, l linearIdx) *Node {
	n := tokens.Shape().Dimensions[0]
	if l.split == 1 {
		return Gather(w[l.w], Reshape(tokens, n, 1))
	}
	per := Scalar(tokens.Graph(), dtypes.Int32, l.rowsPer())
	idx := Stack([]*Node{Div(tokens, per), Rem(tokens, per)}, -1) // (n, 2): block, row
	return Gather(w[l.w], idx)
}
