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
}

// linearIdx locates a linear layer's tensors among the graph inputs; bias < 0 when absent.
type linearIdx struct{ w, bias int }

// layerIdx locates one block's tensors among the graph inputs; qNorm/kNorm < 0 when absent.
type layerIdx struct {
	attnNorm, mlpNorm, qNorm, kNorm int
	q, k, v, o, gate, up, down      linearIdx
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
	inCos           // (chunk, headDim/2) float32 rotary cosines for each row's position
	inSin           // (chunk, headDim/2)
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
	x := Gather(w[lay.embed.w], Reshape(tokens, n, 1)) // (n, hidden)
	mask := s.attentionMask(start, n, kc[0].Shape().Dimensions[0])
	write := cacheWriteRows(start, count, n, kc[0].Shape().Dimensions[0])

	newK := make([]*Node, s.layers)
	newV := make([]*Node, s.layers)
	for l, li := range lay.layers {
		h := rmsNorm(x, w[li.attnNorm], s.eps)
		var att *Node
		att, newK[l], newV[l] = s.attention(h, w, li, cos, sin, mask, write, kc[l], vc[l])
		x = Add(x, linear(att, w, li.o))
		h = rmsNorm(x, w[li.mlpNorm], s.eps)
		gate := linear(h, w, li.gate)
		act := Mul(Mul(gate, Sigmoid(gate)), linear(h, w, li.up))
		x = Add(x, linear(act, w, li.down))
	}
	x = rmsNorm(x, w[lay.norm], s.eps)

	var result *Node
	switch kind {
	case outHidden:
		result = x
	default:
		last := Reshape(SubScalar(count, 1), 1, 1)
		row := Gather(x, last) // (1, hidden)
		result = Reshape(linear(row, w, lay.head), s.vocab)
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
	q := Reshape(linear(h, w, li.q), n, s.heads, hd)
	k := Reshape(linear(h, w, li.k), n, kvh, hd)
	v := linear(h, w, li.v) // (n, kvh*hd)
	if li.qNorm >= 0 {
		q = rmsNorm(q, w[li.qNorm], s.eps)
		k = rmsNorm(k, w[li.kNorm], s.eps)
	}
	q = rope(q, cos, sin)
	k = rope(k, cos, sin)

	newK = write.apply(Reshape(k, n, kvh*hd), kCache)
	newV = write.apply(v, vCache)
	cacheLen := kCache.Shape().Dimensions[0]
	keys := Reshape(newK, cacheLen, kvh, hd)
	values := Reshape(newV, cacheLen, kvh, hd)

	// Query head j uses KV head j/group (HF repeat_kv), so split heads as (kvh, group).
	qg := Reshape(q, n, kvh, group, hd)
	scores := DotGeneral(qg, []int{3}, []int{1}, keys, []int{2}, []int{1}) // (kvh, n, group, cacheLen)
	scores = Add(MulScalar(scores, 1/math.Sqrt(float64(hd))), mask)
	probs := Softmax(scores, -1)
	ctx := DotGeneral(probs, []int{3}, []int{0}, values, []int{0}, []int{1}) // (kvh, n, group, hd)
	ctx = TransposeAllAxes(ctx, 1, 0, 2, 3)                                  // (n, kvh, group, hd)
	return Reshape(ctx, n, s.heads*hd), newK, newV
}

// attentionMask is an additive (1, n, 1, cacheLen) mask: row i (position
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
	return Reshape(bias, 1, n, 1, cacheLen)
}

// cacheWrite places a chunk's rows into cache slots start..start+count-1.
// The pure-Go backend has no DynamicUpdateSlice, so the update gathers a
// cache-sized tensor from the chunk and selects it where the slot is written.
type cacheWrite struct {
	rows *Node // (cacheLen, 1) int32: the chunk row each slot would take
	hit  *Node // (cacheLen) bool: slot is written by this chunk
}

func cacheWriteRows(start, count *Node, n, cacheLen int) cacheWrite {
	g := start.Graph()
	slot := Iota(g, shapes.Make(dtypes.Int32, cacheLen), 0)
	rel := Sub(slot, start)
	hit := LogicalAnd(GreaterOrEqual(rel, ScalarZero(g, dtypes.Int32)), LessThan(rel, count))
	rows := Clamp(ScalarZero(g, dtypes.Int32), rel, Scalar(g, dtypes.Int32, n-1))
	return cacheWrite{rows: Reshape(rows, cacheLen, 1), hit: hit}
}

func (c cacheWrite) apply(chunk, cache *Node) *Node {
	return Where(c.hit, Gather(chunk, c.rows), cache)
}

// linear is x·Wᵀ (+ bias) with W kept (out, in): contracting the `in` axis of
// both operands avoids a per-call transpose, which the pure-Go backend would
// otherwise pay on every step.
func linear(x *Node, w []*Node, l linearIdx) *Node {
	y := DotGeneral(x, []int{x.Rank() - 1}, nil, w[l.w], []int{1}, nil)
	if l.bias >= 0 {
		y = Add(y, ExpandLeftToRank(w[l.bias], y.Rank()))
	}
	return y
}

// rmsNorm normalizes the last axis: x / sqrt(mean(x²) + eps) * weight.
func rmsNorm(x, weight *Node, eps float64) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Mul(x, Rsqrt(AddScalar(ms, eps))), ExpandLeftToRank(weight, x.Rank()))
}

// rope applies rotate_half rotary embeddings to x (n, heads, headDim) with
// per-row cos/sin (n, headDim/2): pairs are (i, i+headDim/2), HF's convention.
func rope(x, cos, sin *Node) *Node {
	dims := x.Shape().Dimensions
	n, half := dims[0], dims[2]/2
	c := Reshape(cos, n, 1, half)
	s := Reshape(sin, n, 1, half)
	x1 := Slice(x, AxisRange(), AxisRange(), AxisRange(0, half))
	x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(half, 2*half))
	return Concatenate([]*Node{
		Sub(Mul(x1, c), Mul(x2, s)),
		Add(Mul(x2, c), Mul(x1, s)),
	}, -1)
}
