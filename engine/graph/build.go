package graph

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	// Graph code reads like the math it computes; gomlx documents this dot import.
	. "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// spec is the shape of the decoder as config.json gives it: what the graph
// inputs (caches, tokens) and the checks at load need. Everything else comes
// from the family's model.Definition.
type spec struct {
	layers, hidden, inter, heads, kvHeads, headDim, vocab int
	eps                                                   float64
	window                                                int // sliding window; 0 = full causal attention
	split                                                 int // row blocks of large weight matrices (see linear.go); 1 = none
	minSplit                                              int // smallest matrix (out*in) split in row blocks; 0 = minSplitElems
}

// layout maps weights to graph input positions. Inputs are, in order: the
// per-call values (see the in* constants), the K caches of every layer, the V
// caches of every layer, then the weights.
type layout struct {
	lins         map[*model.Linear]linearIdx
	vecs         map[*model.Tensor]int
	numWeights   int
	weightsStart int
}

// Per-call inputs.
const (
	inTokens = iota // (chunk) int32; padding rows hold token 0
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

// forward builds the graph for one chunk: the family's forward pass over
// graph operations (ops), then logits of the last real row or the hidden
// states of every row. It returns [result, K caches..., V caches...]. It is
// called once per distinct (chunk, cache length) shape; gomlx panics inside
// are turned into errors by Exec.
func (s *spec) forward(def model.Definition, lay *layout, kind outputKind, in []*Node) []*Node {
	tokens := in[inTokens]
	o := &ops{
		s: s, lay: lay, w: in[lay.weightsStart:], tokens: tokens, start: in[inStart], count: in[inCount],
		n:     tokens.Shape().Dimensions[0],
		kc:    in[numCallInputs : numCallInputs+s.layers],
		vc:    in[numCallInputs+s.layers : numCallInputs+2*s.layers],
		masks: map[int]*Node{}, ropes: map[*model.Rope][2]*Node{},
	}
	o.cacheLen = o.kc[0].Shape().Dimensions[0]
	o.write = cacheWriteRows(o.start, o.count, o.cacheLen)
	o.newK, o.newV = append([]*Node(nil), o.kc...), append([]*Node(nil), o.vc...)

	x := def.Embed(o)
	for l := range def.Layers() {
		x = def.Layer(o, l, x)
	}
	var result *Node
	switch kind {
	case outHidden:
		result = node(def.Norm(o, x))
	default:
		last := Reshape(SubScalar(o.count, 1), 1, 1)
		row := Gather(node(x), last) // (1, hidden)
		result = Reshape(node(def.Logits(o, def.Norm(o, row))), s.vocab)
	}
	out := make([]*Node, 0, 1+2*s.layers)
	out = append(out, result)
	out = append(out, o.newK...)
	return append(out, o.newV...)
}

// ops are model.Ops building one graph: values are *Node of shape (rows, cols).
type ops struct {
	s                    *spec
	lay                  *layout
	w                    []*Node // weight inputs
	tokens, start, count *Node
	n, cacheLen          int
	kc, vc               []*Node // caches in
	newK, newV           []*Node // caches out
	write                cacheWrite
	masks                map[int]*Node            // additive attention mask by window
	ropes                map[*model.Rope][2]*Node // cos, sin (n, Dims/2) by rope
}

// node asserts that v is one of ours: anything else is a bug in a family.
func node(v model.Value) *Node {
	n, ok := v.(*Node)
	if !ok {
		panic(fmt.Sprintf("graph: value of type %T", v))
	}
	return n
}

func (o *ops) lin(w *model.Linear) linearIdx {
	l, ok := o.lay.lins[w]
	if !ok {
		panic(fmt.Sprintf("graph: layer %s was not loaded", w.Weight.Name))
	}
	return l
}

func (o *ops) vec(t *model.Tensor) *Node {
	i, ok := o.lay.vecs[t]
	if !ok {
		panic(fmt.Sprintf("graph: vector %s was not loaded", t.Name))
	}
	return o.w[i]
}

func (o *ops) Embed(w *model.Linear) model.Value { return o.s.embed(o.tokens, o.w, o.lin(w)) }

func (o *ops) Linear(x model.Value, w *model.Linear) model.Value {
	return o.s.linear(node(x), o.w, o.lin(w))
}

func (o *ops) Linear2(x model.Value, a, b *model.Linear) (model.Value, model.Value) {
	return o.Linear(x, a), o.Linear(x, b)
}

func (o *ops) Linear3(x model.Value, a, b, c *model.Linear) (model.Value, model.Value, model.Value) {
	return o.Linear(x, a), o.Linear(x, b), o.Linear(x, c)
}

func (o *ops) RMSNorm(x model.Value, w *model.Tensor, eps, offset float64) model.Value {
	xn, wn := node(x), o.vec(w)
	if offset != 0 {
		wn = AddScalar(wn, offset)
	}
	rows, cols := xn.Shape().Dimensions[0], xn.Shape().Dimensions[1]
	g := wn.Shape().Dimensions[0]
	if g == cols {
		return rmsNorm(xn, wn, eps)
	}
	if cols%g != 0 {
		panic(fmt.Sprintf("graph: %s: %d weights for rows of %d", w.Name, g, cols))
	}
	return Reshape(rmsNorm(Reshape(xn, rows, cols/g, g), wn, eps), rows, cols)
}

func (o *ops) LayerNorm(x model.Value, w, b *model.Tensor, eps float64) model.Value {
	xn := node(x)
	c := Sub(xn, ReduceAndKeep(xn, ReduceMean, -1))
	vr := ReduceAndKeep(Square(c), ReduceMean, -1)
	y := Mul(Mul(c, Rsqrt(AddScalar(vr, eps))), ExpandLeftToRank(o.vec(w), 2))
	if b != nil {
		y = Add(y, ExpandLeftToRank(o.vec(b), 2))
	}
	return y
}

func (o *ops) RoPE(x model.Value, r *model.Rope) model.Value {
	xn := node(x)
	rows, cols := xn.Shape().Dimensions[0], xn.Shape().Dimensions[1]
	if r.HeadDim <= 0 || cols%r.HeadDim != 0 || r.Dims > r.HeadDim || len(r.Freqs)*2 != r.Dims {
		panic(fmt.Sprintf("graph: rope of %d/%d dims with %d frequencies on rows of %d", r.Dims, r.HeadDim, len(r.Freqs), cols))
	}
	heads, half := cols/r.HeadDim, r.Dims/2
	// r.Sections (M-RoPE) needs nothing here: this executor takes no
	// images, and a text token's three positions are all its index.
	cs := o.rotary(r)
	dims := []int{rows, heads, half}
	cos := BroadcastToDims(Reshape(cs[0], rows, 1, half), dims...)
	sin := BroadcastToDims(Reshape(cs[1], rows, 1, half), dims...)
	h := Reshape(xn, rows, heads, r.HeadDim)
	x1 := Slice(h, AxisRange(), AxisRange(), AxisRange(0, half))
	x2 := Slice(h, AxisRange(), AxisRange(), AxisRange(half, r.Dims))
	parts := []*Node{Sub(Mul(x1, cos), Mul(x2, sin)), Add(Mul(x2, cos), Mul(x1, sin))}
	if r.Dims < r.HeadDim {
		parts = append(parts, Slice(h, AxisRange(), AxisRange(), AxisRange(r.Dims, r.HeadDim)))
	}
	return Reshape(Concatenate(parts, -1), rows, cols)
}

// rotary is cos and sin (n, Dims/2) of the rows' positions for r. Angles are
// computed in float64, as the other executors do, so long positions keep
// their precision.
func (o *ops) rotary(r *model.Rope) [2]*Node {
	if cs, ok := o.ropes[r]; ok {
		return cs
	}
	g := o.start.Graph()
	posInt := Add(Iota(g, shapes.Make(dtypes.Int32, o.n), 0), o.start)
	pos := ConvertDType(posInt, dtypes.Float64)
	angles := func(freqs []float64) *Node {
		f := Const(g, freqs)
		return Mul(BroadcastToDims(Reshape(pos, o.n, 1), o.n, len(freqs)), BroadcastToDims(Reshape(f, 1, len(freqs)), o.n, len(freqs)))
	}
	a := angles(r.Freqs)
	if r.LongFreqs != nil {
		// Long factors for the rows at positions ≥ LongFrom (see model.Rope).
		long := GreaterOrEqual(posInt, Scalar(g, dtypes.Int32, r.LongFrom))
		long = BroadcastToDims(Reshape(long, o.n, 1), a.Shape().Dimensions...)
		a = Where(long, angles(r.LongFreqs), a)
	}
	cos, sin := Cos(a), Sin(a)
	if r.Scale != 0 && r.Scale != 1 {
		cos, sin = MulScalar(cos, r.Scale), MulScalar(sin, r.Scale)
	}
	cs := [2]*Node{ConvertDType(cos, dtypes.Float32), ConvertDType(sin, dtypes.Float32)}
	o.ropes[r] = cs
	return cs
}

func (o *ops) Attention(layer int, q, k, v model.Value, a *model.Attention) model.Value {
	n, hd, kvh := o.n, a.HeadDim, a.KVHeads
	if a.Heads%kvh != 0 || kvh != o.s.kvHeads || hd != o.s.headDim {
		panic(fmt.Sprintf("graph: attention of %d/%d heads of %d on a cache of %d heads of %d", a.Heads, kvh, hd, o.s.kvHeads, o.s.headDim))
	}
	group := a.Heads / kvh
	// The caches are kept (cacheLen, kvh, hd) so attention reads them without
	// a reshape, which the pure-Go backend would pay as a copy.
	o.newK[layer] = o.write.apply(Reshape(node(k), n, kvh, hd), o.kc[layer])
	o.newV[layer] = o.write.apply(Reshape(node(v), n, kvh, hd), o.vc[layer])
	keys, values := o.newK[layer], o.newV[layer]

	// Query head j uses KV head j/group (HF repeat_kv), so split heads as (kvh, group).
	qg := MulScalar(Reshape(node(q), n, kvh, group, hd), a.Scale)
	scores := DotGeneral(qg, []int{3}, []int{1}, keys, []int{2}, []int{1}) // (kvh, n, group, cacheLen)
	if a.Softcap > 0 {
		scores = MulScalar(Tanh(MulScalar(scores, 1/a.Softcap)), a.Softcap)
	}
	scores = Add(scores, o.mask(a.Window, group))
	var probs *Node
	if a.Sinks != nil {
		probs = sinkSoftmax(scores, o.vec(a.Sinks), kvh, n, group, o.cacheLen)
	} else {
		probs = Softmax(scores, -1)
	}
	ctx := DotGeneral(probs, []int{3}, []int{0}, values, []int{0}, []int{1}) // (kvh, n, group, hd)
	ctx = TransposeAllAxes(ctx, 1, 0, 2, 3)                                  // (n, kvh, group, hd)
	return Reshape(ctx, n, a.Heads*hd)
}

// sinkSoftmax is the softmax of scores (kvh, n, group, cacheLen) with one
// more logit per query head, sinks (kvh*group), that takes its share and is
// dropped (GPT-OSS's attention sinks).
func sinkSoftmax(scores, sinks *Node, kvh, n, group, cacheLen int) *Node {
	s := BroadcastToDims(Reshape(ConvertDType(sinks, scores.DType()), kvh, 1, group, 1), kvh, n, group, 1)
	p := Softmax(Concatenate([]*Node{scores, s}, -1), -1)
	return Slice(p, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, cacheLen))
}

// mask is the additive (kvHeads, n, group, cacheLen) mask of a window, made
// once per graph: row i (position start+i) sees cache slots 0..start+i, and
// with a sliding window only the last `window` of them. Slots past the
// sequence hold stale or zero values and are always masked, which is what
// lets Truncate just move the length.
func (o *ops) mask(window, group int) *Node {
	if m, ok := o.masks[window]; ok {
		return m
	}
	g := o.start.Graph()
	n, cacheLen := o.n, o.cacheLen
	slot := Iota(g, shapes.Make(dtypes.Int32, n, cacheLen), 1)
	pos := Add(Iota(g, shapes.Make(dtypes.Int32, n, cacheLen), 0), o.start)
	// A large finite negative instead of -Inf keeps exp() free of NaN on any backend.
	seen := LessOrEqual(slot, pos)
	if window > 0 {
		seen = LogicalAnd(seen, LessThan(Sub(pos, slot), Scalar(g, dtypes.Int32, window)))
	}
	bias := Where(seen, Scalar(g, dtypes.Float32, 0), Scalar(g, dtypes.Float32, -1e30))
	// Broadcast once here: the pure-Go backend pays for an implicit broadcast in every op.
	m := BroadcastToDims(Reshape(bias, 1, n, 1, cacheLen), o.s.kvHeads, n, group, cacheLen)
	o.masks[window] = m
	return m
}

func (o *ops) GLU(gate, up model.Value, act model.Activation) model.Value {
	g, u := node(gate), node(up)
	switch act {
	case model.SiLU:
		return Mul(Mul(g, Sigmoid(g)), u)
	case model.GELUTanh:
		inner := MulScalar(Add(g, MulScalar(Mul(Square(g), g), 0.044715)), math.Sqrt(2/math.Pi))
		return Mul(Mul(MulScalar(g, 0.5), OnePlus(Tanh(inner))), u)
	}
	panic(fmt.Sprintf("graph: activation %d", act))
}

func (o *ops) Add(x, y model.Value) model.Value { return Add(node(x), node(y)) }

func (o *ops) Mul(x, y model.Value) model.Value { return Mul(node(x), node(y)) }

func (o *ops) Scale(x model.Value, s float64) model.Value { return MulScalar(node(x), s) }

func (o *ops) Softcap(x model.Value, c float64) model.Value {
	return MulScalar(Tanh(MulScalar(node(x), 1/c)), c)
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
