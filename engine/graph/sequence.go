package graph

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	gg "github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// buckets are the shapes a runner compiles graphs for. Every distinct
// (chunk, cache length) pair is a graph, so both come from short lists: a
// call's tokens are cut into chunks of at most maxChunk, the last padded up to
// the next chunk bucket, and caches grow through powers of two from minCache.
// How fine the lists are follows the backend's compile cost.
type buckets struct {
	chunks   []int // ascending; the last is the largest chunk
	minCache int
}

var (
	// The pure-Go backend "compiles" in about a millisecond, so padding waste
	// is the cost that matters: fine buckets.
	fineBuckets = buckets{chunks: []int{1, 2, 4, 8, 16, 32, 64}, minCache: 16}
	// XLA compiles each shape for seconds: few buckets.
	coarseBuckets = buckets{chunks: []int{1, 8, 64}, minCache: 64}
)

func (b buckets) maxChunk() int { return b.chunks[len(b.chunks)-1] }

// chunk is the smallest chunk bucket that holds n ≤ maxChunk tokens.
func (b buckets) chunk(n int) int {
	for _, c := range b.chunks {
		if n <= c {
			return c
		}
	}
	return b.maxChunk()
}

// cache is the smallest power of two ≥ need, at least minCache.
func (b buckets) cache(need int) int {
	if need <= b.minCache {
		return b.minCache
	}
	return 1 << bits.Len(uint(need-1))
}

// sequence is a model.Sequence: its KV cache lives on the device as one
// (cacheLen, kvHeads, headDim) tensor per layer for K and for V.
type sequence struct {
	r      *runner
	maxLen int
	length int

	cacheLen int               // current bucket; 0 before the first step
	k, v     []*tensors.Tensor // (cacheLen, kvHeads, headDim) per layer; nil before the first step
	logits   []float32
	closed   bool
}

var _ model.Sequence = (*sequence)(nil)

// Len implements model.Sequence.
func (s *sequence) Len() int { return s.length }

// Truncate implements model.Sequence. Slots past n stay in the cache but are
// masked out and overwritten by the next tokens.
func (s *sequence) Truncate(n int) error {
	if s.closed {
		return fmt.Errorf("truncate: %w", ErrClosed)
	}
	if n < 0 || n > s.length {
		return fmt.Errorf("truncate to %d: sequence has %d tokens", n, s.length)
	}
	s.length = n
	return nil
}

// Close implements model.Sequence.
func (s *sequence) Close() (err error) {
	defer recoverTo(&err)
	if s.closed {
		return nil
	}
	s.closed = true
	s.dropCache()
	return nil
}

// recoverReset turns a gomlx panic into an error; the cache may be half
// donated at that point, so the sequence restarts empty.
func (s *sequence) recoverReset(err *error) {
	if r := recover(); r != nil {
		s.reset()
		*err = fmt.Errorf("gomlx: %v", r)
	}
}

// reset empties the sequence after a failure that may have consumed the cache.
func (s *sequence) reset() {
	s.dropCache()
	s.length = 0
}

func (s *sequence) dropCache() {
	for _, t := range append(s.k, s.v...) {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
	s.k, s.v, s.cacheLen = nil, nil, 0
}

// Forward implements model.Sequence.
func (s *sequence) Forward(ctx context.Context, tokens []int32) ([]float32, error) {
	if err := s.appendTokens(ctx, outLogits, tokens, nil); err != nil {
		return nil, fmt.Errorf("forward: %w", err)
	}
	return s.logits, nil
}

// Hidden implements model.Sequence.
func (s *sequence) Hidden(ctx context.Context, tokens []int32) ([]float32, error) {
	out := make([]float32, 0, len(tokens)*s.r.spec.hidden)
	if err := s.appendTokens(ctx, outHidden, tokens, &out); err != nil {
		return nil, fmt.Errorf("hidden: %w", err)
	}
	return out, nil
}

// appendTokens validates tokens, then runs them chunk by chunk, checking ctx
// between chunks. Hidden states are appended to hidden when it is non-nil;
// the logits of the final chunk land in s.logits.
func (s *sequence) appendTokens(ctx context.Context, kind outputKind, tokens []int32, hidden *[]float32) (err error) {
	defer s.recoverReset(&err)
	if s.closed {
		return ErrClosed
	}
	if len(tokens) == 0 {
		return fmt.Errorf("no tokens")
	}
	if s.length+len(tokens) > s.maxLen {
		return fmt.Errorf("%d tokens after %d exceed the sequence's max length %d", len(tokens), s.length, s.maxLen)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= s.r.spec.vocab {
			return fmt.Errorf("token %d at %d is outside the vocabulary of %d", t, i, s.r.spec.vocab)
		}
	}
	startLen := s.length
	for len(tokens) > 0 {
		if err := ctx.Err(); err != nil {
			// All or nothing: the chunks already run are dropped like a Truncate.
			s.length = startLen
			return err
		}
		n := min(len(tokens), s.r.buckets.maxChunk())
		result, err := s.step(kind, tokens[:n])
		if err != nil {
			return err
		}
		if hidden != nil {
			*hidden = append(*hidden, result[:n*s.r.spec.hidden]...)
		} else {
			s.logits = result
		}
		tokens = tokens[n:]
	}
	return nil
}

// step runs one chunk of n ≤ maxChunk tokens at position s.length, padded to
// a chunk bucket, and returns the flat result.
func (s *sequence) step(kind outputKind, tokens []int32) ([]float32, error) {
	n := len(tokens)
	chunk := s.r.buckets.chunk(n)
	if err := s.ensureCache(s.length + n); err != nil {
		s.reset()
		return nil, err
	}
	inputs := s.callInputs(tokens, chunk)
	// Exec copies them to the device and keeps the copies on the tensors:
	// free those now rather than whenever the garbage collector runs.
	defer func() {
		for _, t := range inputs {
			_ = t.FinalizeAll()
		}
	}()
	args := make([]any, 0, numCallInputs+2*len(s.k)+len(s.r.weights))
	args = append(args, inputs[0], int32(s.length), int32(n))
	args, err := s.donateCaches(args)
	if err != nil {
		s.reset()
		return nil, err
	}
	out, err := s.r.run(kind, graphKey{kind: kind, chunk: chunk, cacheLen: s.cacheLen}, args)
	layers := len(s.k)
	if err == nil && len(out) != 1+2*layers {
		err = fmt.Errorf("graph returned %d outputs, want %d", len(out), 1+2*layers)
	}
	if err != nil {
		// The donated caches are gone: the sequence restarts empty.
		s.k, s.v, s.cacheLen, s.length = nil, nil, 0, 0
		return nil, err
	}
	copy(s.k, out[1:1+layers])
	copy(s.v, out[1+layers:])
	result, err := tensors.CopyFlatData[float32](out[0])
	_ = out[0].FinalizeAll()
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	s.length += n
	return result, nil
}

// callInputs builds the per-call tensors: tokens padded with id 0 to chunk rows.
func (s *sequence) callInputs(tokens []int32, chunk int) []*tensors.Tensor {
	padded := make([]int32, chunk)
	copy(padded, tokens)
	return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(padded, chunk)}
}

// donateCaches appends the K then V caches as donated buffers: the backend
// may update them in place, and the old tensors are invalid from here on,
// whatever happens to the step.
func (s *sequence) donateCaches(args []any) ([]any, error) {
	for _, c := range [][]*tensors.Tensor{s.k, s.v} {
		for _, t := range c {
			d, err := gg.DonateTensorBuffer(t, s.r.backend, 0)
			if err != nil {
				return nil, fmt.Errorf("donate cache: %w", err)
			}
			args = append(args, d)
		}
	}
	return args, nil
}

// ensureCache makes the cache hold at least need slots, moving to a bigger
// bucket when needed. Growing copies through the host; it happens a handful
// of times per sequence, and keeps pad/DynamicUpdateSlice (missing in the
// pure-Go backend) out of the graphs.
func (s *sequence) ensureCache(need int) error {
	if need <= s.cacheLen {
		return nil
	}
	size := s.r.buckets.cache(need)
	sp := s.r.spec
	layers := sp.layers
	if s.k == nil {
		s.k = make([]*tensors.Tensor, layers)
		s.v = make([]*tensors.Tensor, layers)
	}
	for _, c := range [][]*tensors.Tensor{s.k, s.v} {
		for l := range c {
			grown := tensors.FromShape(shapes.Make(dtypes.Float32, size, sp.kvHeads, sp.headDim))
			if old := c[l]; old != nil {
				prev, err := tensors.CopyFlatData[float32](old)
				if err != nil {
					return fmt.Errorf("grow cache: %w", err)
				}
				tensors.MustMutableFlatData(grown, func(flat []float32) { copy(flat, prev) })
				_ = old.FinalizeAll()
			}
			c[l] = grown
		}
	}
	s.cacheLen = size
	return nil
}
