package model

import "context"

// MemoryBudget is asked by an executor before it takes memory that grows as
// a model serves (KV cache blocks) and told when it gives that memory back,
// so that what sequences hold counts against the pool's budget next to the
// weights. The engine gives each loaded model one bound to its pool entry.
type MemoryBudget interface {
	// Reserve takes bytes more. It may wait for room (bounded by ctx and by
	// the pool's own limit) and fails, leaving nothing taken, when there is
	// none.
	Reserve(ctx context.Context, bytes int64) error
	// Release gives back bytes taken by Reserve.
	Release(bytes int64)
}

// Budgeted is a Runner whose growing memory can count against a budget. The
// budget is set once, before the first sequence is made.
type Budgeted interface {
	SetMemoryBudget(MemoryBudget)
}
