package cpu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// tokens is n tokens of the tiny models' vocabulary.
func tokens(n, seed int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(3 + (seed+7*i+i*i)%200)
	}
	return out
}

// TestKVGrowsInBlocks: a 100-token conversation in an 8192-position window
// holds one block, not the window, and the runner's total follows its
// sequences through Truncate and Close.
func TestKVGrowsInBlocks(t *testing.T) {
	for _, o := range []Options{{KVF32: true}, {KVF16: true}} {
		t.Run(fmt.Sprintf("f16=%v", o.KVF16), func(t *testing.T) {
			m := modeltest.Open(t, modeltest.Spec{DType: model.F32, MaxPos: 8192})
			r := newRunner(t, m, o).(*Runner)
			c := m.Config
			per := int64(4)
			if o.KVF16 {
				per = 2
			}
			window := 2 * int64(c.NumHiddenLayers) * int64(c.NumKeyValueHeads*c.HeadDim) * 8192 * per
			block := window / 8192 * 256

			s := newSeq(t, r, 8192).(*sequence)
			if s.KVBytes() != 0 {
				t.Fatalf("empty sequence holds %d bytes", s.KVBytes())
			}
			ctx := context.Background()
			if _, err := s.Forward(ctx, tokens(100, 1)); err != nil {
				t.Fatal(err)
			}
			if got := s.KVBytes(); got != block || got > window/10 {
				t.Fatalf("100 tokens hold %d bytes; one block is %d, the window %d", got, block, window)
			}
			if _, err := s.Forward(ctx, tokens(200, 2)); err != nil {
				t.Fatal(err)
			}
			s2 := newSeq(t, r, 8192).(*sequence)
			if _, err := s2.Forward(ctx, tokens(10, 3)); err != nil {
				t.Fatal(err)
			}
			if s.KVBytes() != 2*block || r.KVBytes() != 3*block {
				t.Fatalf("300 and 10 tokens hold %d and %d bytes, runner %d; block %d", s.KVBytes(), s2.KVBytes(), r.KVBytes(), block)
			}
			if err := s.Truncate(256); err != nil {
				t.Fatal(err)
			}
			if s.KVBytes() != block || r.KVBytes() != 2*block {
				t.Fatalf("truncated to 256: %d bytes, runner %d; block %d", s.KVBytes(), r.KVBytes(), block)
			}
			if err := s.Truncate(0); err != nil {
				t.Fatal(err)
			}
			if s.KVBytes() != 0 {
				t.Fatalf("truncated to 0: %d bytes", s.KVBytes())
			}
			_ = s2.Close()
			_ = s.Close()
			if r.KVBytes() != 0 {
				t.Fatalf("closed sequences: runner holds %d bytes", r.KVBytes())
			}
		})
	}
}

// TestKVBlocksBitIdentical: a cache in blocks of 16 or 5 positions gives the
// logits of one whole-window block bit for bit, through chunked prefill,
// decode steps across block boundaries, a truncation and a regrowth, alone
// and batched. KVBlock 64 with sequences of 64 is the old contiguous cache.
func TestKVBlocksBitIdentical(t *testing.T) {
	// The BF16 model runs with bfloat16 prefill inputs (bgemm.go's kernel
	// where the CPU has it): its tiles must not depend on chunks either.
	for _, spec := range []modeltest.Spec{{DType: model.F32}, {Arch: "gemma2", DType: model.F32}, {DType: model.BF16}} {
		for _, half := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/f16=%v", spec.Name(), half), func(t *testing.T) {
				m := modeltest.Open(t, spec)
				run := func(block int) [][]float32 {
					bf16 := spec.DType == model.BF16
					r := newRunner(t, m, Options{KVF16: half, KVF32: !half, KVBlock: block, PrefillChunk: 7, BF16Prefill: bf16, bf16Anywhere: bf16})
					s := newSeq(t, r, 64)
					var out [][]float32
					step := func(toks []int32) {
						lg, err := s.Forward(context.Background(), toks)
						if err != nil {
							t.Fatal(err)
						}
						out = append(out, slices.Clone(lg))
					}
					step(tokens(20, 1))
					for i := range 14 {
						step(tokens(1, i))
					}
					if err := s.Truncate(13); err != nil {
						t.Fatal(err)
					}
					step(tokens(9, 5))
					s2 := newSeq(t, r, 64)
					lg, err := r.(model.Batcher).ForwardBatch(context.Background(), []model.Sequence{s, s2}, [][]int32{tokens(3, 6), tokens(33, 7)})
					if err != nil {
						t.Fatal(err)
					}
					return append(out, lg...)
				}
				want := run(64)
				for _, block := range []int{16, 5} {
					got := run(block)
					for i := range want {
						if !slices.Equal(got[i], want[i]) {
							t.Fatalf("blocks of %d: step %d's logits differ from one block's", block, i)
						}
					}
				}
			})
		}
	}
}

// budget is a model.MemoryBudget with a cap: Reserve fails beyond it.
type budget struct {
	mu        sync.Mutex
	cap, used int64
	reserves  int
}

var errFull = errors.New("budget full")

func (b *budget) Reserve(ctx context.Context, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.cap {
		return errFull
	}
	b.used += n
	b.reserves++
	return nil
}

func (b *budget) Release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}

// TestKVBudget: blocks are reserved before they are taken and released when
// dropped; a refused reservation fails the step with the budget's error and
// leaves the sequence as it was, alone or in a batch.
func TestKVBudget(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{DType: model.F32})
	r := newRunner(t, m, Options{KVF32: true, KVBlock: 8}).(*Runner)
	s0 := newSeq(t, r, 64).(*sequence)
	blk := s0.blockBytes()
	b := &budget{cap: 3 * blk}
	r.SetMemoryBudget(b)
	ctx := context.Background()
	s := newSeq(t, r, 64)
	if _, err := s.Forward(ctx, tokens(20, 1)); err != nil { // 3 blocks
		t.Fatal(err)
	}
	if b.used != 3*blk || r.KVBytes() != b.used {
		t.Fatalf("20 tokens: budget %d, runner %d, want %d", b.used, r.KVBytes(), 3*blk)
	}
	if _, err := s.Forward(ctx, tokens(4, 2)); err != nil { // still 3 blocks
		t.Fatal(err)
	}
	if _, err := s.Forward(ctx, tokens(1, 3)); !errors.Is(err, errFull) {
		t.Fatalf("a 4th block over the budget: %v", err)
	}
	if s.Len() != 24 || r.KVBytes() != 3*blk {
		t.Fatalf("after a refused block: %d tokens, %d bytes", s.Len(), r.KVBytes())
	}
	s2 := newSeq(t, r, 64)
	if _, err := r.ForwardBatch(ctx, []model.Sequence{s, s2}, [][]int32{tokens(1, 4), tokens(2, 5)}); !errors.Is(err, errFull) {
		t.Fatalf("a batch over the budget: %v", err)
	}
	if err := s.Truncate(15); err != nil {
		t.Fatal(err)
	}
	if b.used != 2*blk {
		t.Fatalf("truncated to 15: budget %d, want %d", b.used, 2*blk)
	}
	if _, err := r.ForwardBatch(ctx, []model.Sequence{s, s2}, [][]int32{tokens(1, 4), tokens(2, 5)}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_ = s2.Close()
	if b.used != 0 || r.KVBytes() != 0 {
		t.Fatalf("closed: budget %d, runner %d", b.used, r.KVBytes())
	}
}

// TestKVBudgetRunnerClose: closing the runner gives its budget every block
// at once; sequences closed later do not give them back twice.
func TestKVBudgetRunnerClose(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{DType: model.F32})
	r := newRunner(t, m, Options{KVF32: true, KVBlock: 8}).(*Runner)
	b := &budget{cap: 1 << 30}
	r.SetMemoryBudget(b)
	s := newSeq(t, r, 64)
	if _, err := s.Forward(context.Background(), tokens(20, 1)); err != nil {
		t.Fatal(err)
	}
	if b.used == 0 {
		t.Fatal("nothing reserved")
	}
	_ = r.Close()
	if b.used != 0 {
		t.Fatalf("runner closed: budget still holds %d", b.used)
	}
	_ = s.Close()
	if b.used != 0 || r.KVBytes() != 0 {
		t.Fatalf("sequence closed after the runner: budget %d, runner %d", b.used, r.KVBytes())
	}
}
