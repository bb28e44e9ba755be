package engine

import (
	"context"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// kvBudget charges a loaded model's KV cache, as its executor takes it block
// by block, to the model's entry in the pool: the budget then counts weights
// plus the KV actually held, and a sequence that would go over it waits for
// room or fails with pool.ErrNoRoom (503) rather than running out of memory.
type kvBudget struct {
	p  *pool.Pool
	id string
}

func (b kvBudget) Reserve(ctx context.Context, bytes int64) error { return b.p.Grow(ctx, b.id, bytes) }
func (b kvBudget) Release(bytes int64)                            { b.p.Shrink(b.id, bytes) }

// chargeKV connects l's executor to the pool's budget. An executor that
// cannot report its KV cache is charged up front, in ResidentBytes, for a
// float32 cache of DefaultContext tokens, as every model was before KV grew
// in blocks.
func (l *loaded) chargeKV(p *pool.Pool) {
	if b, ok := l.runner.(model.Budgeted); ok {
		b.SetMemoryBudget(kvBudget{p: p, id: l.id})
		return
	}
	c := l.m.Config
	l.kvUpFront = 2 * 4 * int64(c.NumHiddenLayers) * int64(c.NumKeyValueHeads) * int64(c.HeadDim) * int64(min(DefaultContext, c.MaxPositionEmbeddings))
}
