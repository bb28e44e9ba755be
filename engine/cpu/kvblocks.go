package cpu

import (
	"context"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The KV cache grows a block of positions at a time. Blocks are plain Go
// allocations: a block freed by Truncate or Close is garbage at once, so
// memory held follows tokens held, and the bytes are counted three ways that
// always agree: the sequence's KVBytes, the runner's KVBytes, and what the
// runner's MemoryBudget (the pool) was asked for.

// blockBytes is the memory of one block: keys and values of every layer.
func (s *sequence) blockBytes() int64 {
	per := int64(4)
	if s.r.opts.KVF16 {
		per = 2
	}
	return int64(s.block) * int64(s.kvDim) * int64(2*len(s.k)) * per
}

// KVBytes is the memory of the KV blocks the sequence holds. Safe to call
// from any goroutine.
func (s *sequence) KVBytes() int64 { return s.kvBytes.Load() }

// grow makes sure the blocks cover positions 0..n-1, taking the memory from
// the runner's budget first; on error nothing was taken.
func (s *sequence) grow(ctx context.Context, n int) error {
	need := (n+s.block-1)/s.block - s.blocks
	if need <= 0 {
		return nil
	}
	bytes := int64(need) * s.blockBytes()
	if err := s.r.reserve(ctx, bytes); err != nil {
		return fmt.Errorf("cpu: kv cache of %d more tokens: %w", n-s.blocks*s.block, err)
	}
	per := s.block * s.kvDim
	for range need {
		if s.r.opts.KVF16 {
			all := make([]uint16, 2*len(s.k)*per)
			for l := range s.k {
				s.k[l].F16 = append(s.k[l].F16, all[2*l*per:(2*l+1)*per:(2*l+1)*per])
				s.v[l].F16 = append(s.v[l].F16, all[(2*l+1)*per:(2*l+2)*per:(2*l+2)*per])
			}
		} else {
			all := make([]float32, 2*len(s.k)*per)
			for l := range s.k {
				s.k[l].F32 = append(s.k[l].F32, all[2*l*per:(2*l+1)*per:(2*l+1)*per])
				s.v[l].F32 = append(s.v[l].F32, all[(2*l+1)*per:(2*l+2)*per:(2*l+2)*per])
			}
		}
	}
	s.blocks += need
	s.kvBytes.Add(bytes)
	return nil
}

// shrink drops the blocks past the first keep, giving their memory back.
func (s *sequence) shrink(keep int) {
	drop := s.blocks - keep
	if drop <= 0 {
		return
	}
	for l := range s.k {
		s.k[l].F32, s.v[l].F32 = cut(s.k[l].F32, keep), cut(s.v[l].F32, keep)
		s.k[l].F16, s.v[l].F16 = cut(s.k[l].F16, keep), cut(s.v[l].F16, keep)
	}
	s.blocks = keep
	bytes := int64(drop) * s.blockBytes()
	s.kvBytes.Add(-bytes)
	s.r.release(bytes)
}

// cut keeps the first n blocks, clearing the others' slots so that the
// garbage collector can free them.
func cut[T any](blocks [][]T, n int) [][]T {
	if len(blocks) <= n {
		return blocks
	}
	clear(blocks[n:])
	return blocks[:n]
}

// KVBytes is the memory of the KV blocks held by all of the runner's open
// sequences. Safe to call from any goroutine.
func (r *Runner) KVBytes() int64 { return r.kvBytes.Load() }

// SetMemoryBudget makes the runner's sequences reserve their KV blocks from
// b before they take them (model.Budgeted); call it before making sequences.
func (r *Runner) SetMemoryBudget(b model.MemoryBudget) {
	r.budgetMu.Lock()
	r.budget = b
	r.budgetMu.Unlock()
}

// reserve takes bytes from the budget, then counts them as held. The budget
// may wait for room, so no lock is held while it does.
func (r *Runner) reserve(ctx context.Context, bytes int64) error {
	r.budgetMu.Lock()
	b := r.budget
	r.budgetMu.Unlock()
	if b != nil {
		if err := b.Reserve(ctx, bytes); err != nil {
			return err
		}
	}
	r.budgetMu.Lock()
	defer r.budgetMu.Unlock()
	if b != nil && r.budget != b { // the runner closed meanwhile
		b.Release(bytes)
		return ErrClosed
	}
	r.kvBytes.Add(bytes)
	return nil
}

// release gives back bytes of blocks dropped. After Close the budget has
// been given everything back at once, and is not told again.
func (r *Runner) release(bytes int64) {
	r.budgetMu.Lock()
	defer r.budgetMu.Unlock()
	r.kvBytes.Add(-bytes)
	if r.budget != nil {
		r.budget.Release(bytes)
	}
}

// closeBudget gives the budget back every block still held, when the runner
// closes: sequences left open hold memory only until they are garbage, and
// the model's budget ends with it.
func (r *Runner) closeBudget() {
	r.budgetMu.Lock()
	defer r.budgetMu.Unlock()
	if r.budget != nil {
		r.budget.Release(r.kvBytes.Load())
		r.budget = nil
	}
}
