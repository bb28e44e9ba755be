package graph

import (
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	// Graph code reads like the math it computes; gomlx documents this dot import.
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// spec is the shape of the decoder, everything the graph needs besides weights.
type spec struct {
	layers, hidden, inter, heads, kvHeads, headDim, vocab int
	eps                                                   float64
	window                                                int // sliding window; 0 = full causal attention
	split                                                 int // row blocks of large weight matrices (see linear.go); 1 = none
}

// layerIdx locates one block's tensors among the graph inputs. Projections
// that read the same input are fused at load into one (out, in) matrix, so a
// block runs four matrix products instead of seven: qkv is q, k and v stacked
// (heads+2*kvHeads)*headDim rows deep, gateUp is gate then up.
type layerIdx struct {
	attnNorm, mlpNorm int
	qkNorm            int // (heads+kvHeads, headDim): q_norm repeated per q head, then k_norm per kv head; < 0 when absent
	qkv, o            linearIdx
	gateUp, down      linearIdx
}

// layout maps weights to graph input positions. Inputs are, in order: the
// per-call values (see the in* constants), the K caches of every layer, the V
// caches of every layer, then the weights listed in layout order.
type layout struct {
	layers       []layerIdx
	norm         int
	embed, head  linearIdx
	numWeights   int
	weightsStart int
}

// Per-call inputs.
const (
	inTokens = iota // (chunk) int32; padding rows hold token 0
	inCos           // (chunk, headDim) float32: cos of each row's angles, the half repeated twice
	inSin           // (chunk, headDim) float32: -sin then +sin, so rope is x*cos + swapHalves(x)*sin
	inStart         // () int32: position of row 0, the number of tokens already cached
	inCount         // () int32: rows that are real tokens; the rest is padding
	numCallInputs
)

// outputKind selects what a graph returns besides the updated caches.
type outputKind int

const (
	outLogits outputKind = iota // (vocab) logits of the last real row
	outHidden                   // (chunk, hidden) final-normed hidden states
)

// forward builds the graph for one chunk: embed, run every block while
// writing the chunk's K/V into the caches, final norm, then logits or hidden
// states. It returns [result, K caches..., V caches...]. It is called once per
// distinct (chunk, cache length) shape; gomlx panics inside are turned into
// errors by Exec.
func (s *spec) forward(lay *layout, kind outputKind, in []*Node) []*Node {
	tokens, start, count := in[inTokens], in[inStart], in[inCount]
	cos, sin := in[inCos], in[inSin]
	kc := in[numCallInputs : numCallInputs+s.layers]
	vc := in[numCallInputs+s.layers : numCallInputs+2*s.layers]
	w := in[lay.weightsStart:]

	n := tokens.Shape().Dimensions[0]
	cacheLen := kc[0].Shape().Dimensions[0]
	x := s.embed(tokens, w, lay.embed) // (n, hidden)
	// Operands shared by every layer are broadcast once here: the pure-Go
	// backend pays for an implicit broadcast in every op that needs one.
	mask := s.attentionMask(start, n, cacheLen)
	write := cacheWriteRows(start, count, cacheLen)
	qkHeads := []int{n, s.heads + s.kvHeads, s.headDim}
	cos = BroadcastToDims(Reshape(cos, n, 1, s.headDim), qkHeads...)
	sin = BroadcastToDims(Reshape(sin, n, 1, s.headDim), qkHeads...)

	newK := make([]*Node, s.layers)
	newV := make([]*Node, s.layers)
	for l, li := range lay.layers {
		h := rmsNorm(x, w[li.attnNorm], s.eps)
		var att *Node
		att, newK[l], newV[l] = s.attention(h, w, li, cos, sin, mask, write, kc[l], vc[l])
		x = Add(x, s.linear(att, w, li.o))
		h = rmsNorm(x, w[li.mlpNorm], s.eps)
		gu := s.linear(h, w, li.gateUp)
		gate := Slice(gu, AxisRange(), AxisRange(0, s.inter))
		up := Slice(gu, AxisRange(), AxisRange(s.inter, 2*s.inter))
		act := Mul(Mul(gate, Sigmoid(gate)), up)
		x = Add(x, s.linear(act, w, li.down))
	}
	x = rmsNorm(x, w[lay.norm], s.eps)

	var result *Node
	switch kind {
	case outHidden:
		result = x
	default:
		last := Reshape(SubScalar(count, 1), 1, 1)
		row := Gather(x, last) // (1, hidden)
		result = Reshape(s.linear(row, w, lay.head), s.vocab)
	}
	out := make([]*Node, 0, 1+2*s.layers)
	out = append(out, result)
	out = append(out, newK...)
	return append(out, newV...)
}

// attention runs one self-attention block on normed rows h (n, hidden) and
// returns its output (n, heads*headDim) with the updated K and V caches.
func (s *spec) attention(h *Node, w []*Node, li layerIdx, cos, sin, mask *Node, write cacheWrite,
	kCache, vCache *Node) (out, newK, newV *Node) {
	n := h.Shape().Dimensions[0]
	hd, kvh := s.headDim, s.kvHeads
	group := s.heads / kvh
	qkDim := (s.heads + kvh) * hd
	qkv := s.linear(h, w, li.qkv)
	// q and k heads share the per-head norm and rotation, so both run once on all of them.
	qk := Reshape(Slice(qkv, AxisRange(), AxisRange(0, qkDim)), n, s.heads+kvh, hd)
	v := Slice(qkv, AxisRange(), AxisRange(qkDim, qkDim+kvh*hd)) // (n, kvh*hd)
	if li.qkNorm >= 0 {
		qk = rmsNorm(qk, w[li.qkNorm], s.eps)
	}
	qk = rope(qk, cos, sin)
	q := Slice(qk, AxisRange(), AxisRange(0, s.heads))
	k := Slice(qk, AxisRange(), AxisRange(s.heads, s.heads+kvh))

	// The caches are kept (cacheLen, kvh, hd) so attention reads them without
	// a reshape, which the pure-Go backend would pay as a copy.
	newK = write.apply(k, kCache)
	newV = write.apply(Reshape(v, n, kvh, hd), vCache)
	keys, values := newK, newV

	// Query head j uses KV head j/group (HF repeat_kv), so split heads as (kvh, group).
	qg := MulScalar(Reshape(q, n, kvh, group, hd), 1/math.Sqrt(float64(hd)))
	scores := DotGeneral(qg, []int{3}, []int{1}, keys, []int{2}, []int{1}) // (kvh, n, group, cacheLen)
	scores = Add(scores, mask)
	probs := Softmax(scores, -1)
	ctx := DotGeneral(probs, []int{3}, []int{0}, values, []int{0}, []int{1}) // (kvh, n, group, hd)
	ctx = TransposeAllAxes(ctx, 1, 0, 2, 3)                                  // (n, kvh, group, hd)
	return Reshape(ctx, n, s.heads*hd), newK, newV
}

// attentionMask is an additive (kvHeads, n, group, cacheLen) mask: row i (position
// start+i) sees cache slots 0..start+i, and with a sliding window only the
// last `window` of them. Slots past the sequence hold stale or zero values and
// are always masked, which is what lets Truncate just move the length.
func (s *spec) attentionMask(start *Node, n, cacheLen int) *Node {
	g := start.Graph()
	slot := Iota(g, shapes.Make(dtypes.Int32, n, cacheLen), 1)
	pos := Add(Iota(g, shapes.Make(dtypes.Int32, n, cacheLen), 0), start)
	// A large finite negative instead of -Inf keeps exp() free of NaN on any backend.
	seen := LessOrEqual(slot, pos)
	if s.window > 0 {
		seen = LogicalAnd(seen, LessThan(Sub(pos, slot), Scalar(g, dtypes.Int32, s.window)))
	}
	bias := Where(seen, Scalar(g, dtypes.Float32, 0), Scalar(g, dtypes.Float32, -1e30))
	return BroadcastToDims(Reshape(bias, 1, n, 1, cacheLen), s.kvHeads, n, s.heads/s.kvHeads, cacheLen)
}

// cacheWrite places a chunk's rows into cache slots start..start+count-1.
// The pure-Go backend has no DynamicUpdateSlice, so the new cache is
// gathered, row by row, from the old cache followed by the chunk: a slot
// being written takes its chunk row, every other slot keeps its own.
type cacheWrite struct {
	rows *Node // (cacheLen, 1) int32: row of concat(cache, chunk) each slot takes
}

func cacheWriteRows(start, count *Node, cacheLen int) cacheWrite {
	g := start.Graph()
	slot := Iota(g, shapes.Make(dtypes.Int32, cacheLen), 0)
	rel := Sub(slot, start)
	hit := LogicalAnd(GreaterOrEqual(rel, ScalarZero(g, dtypes.Int32)), LessThan(rel, count))
	rows := Where(hit, AddScalar(rel, cacheLen), slot)
	return cacheWrite{rows: Reshape(rows, cacheLen, 1)}
}

// apply writes chunk (n, kvh, hd) into cache (cacheLen, kvh, hd).
func (c cacheWrite) apply(chunk, cache *Node) *Node {
	return Gather(Concatenate([]*Node{cache, chunk}, 0), c.rows)
}

// rmsNorm normalizes the last axis: x / sqrt(mean(x²) + eps) * weight.
func rmsNorm(x, weight *Node, eps float64) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Mul(x, Rsqrt(AddScalar(ms, eps))), ExpandLeftToRank(weight, x.Rank()))
}

// rope applies rotate_half rotary embeddings to x (n, heads, headDim): pairs
// are (i, i+headDim/2), HF's convention. cos and sin have x's shape, each
// row holding [c, c] and [-s, s] for its position (see rotary), so
// x' = x*cos + [x2, x1]*sin.
func rope(x, cos, sin *Node) *Node {
	d := x.Shape().Dimensions[2]
	half := d / 2
	x1 := Slice(x, AxisRange(), AxisRange(), AxisRange(0, half))
	x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(half, d))
	swapped := Concatenate([]*Node{x2, x1}, -1)
	return Add(Mul(x, cos), Mul(swapped, sin))
}
