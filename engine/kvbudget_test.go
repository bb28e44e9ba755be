package engine

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// TestKVChargedToPool: the KV cache a request takes is charged to the
// model in the pool; a prompt whose cache would take the model over the
// budget fails with pool.ErrNoRoom (a 503) before any memory is taken, and
// the model serves on.
func TestKVChargedToPool(t *testing.T) {
	e, err := New(Options{
		ModelsDir: t.TempDir(),
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, Logger: slog.New(slog.DiscardHandler)})
		},
		Pool:    pool.Config{BudgetBytes: 1 << 30},
		Logger:  slog.New(slog.DiscardHandler),
		Folders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	spec := modeltest.Spec{Seed: 1, MaxPos: 2048}
	dir := tinyModelSpec(t, spec)
	ctx := context.Background()
	if err := e.Load(ctx, dir, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	st := e.Status()[0]
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.ParseConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	block := 2 * 4 * int64(cfg.NumHiddenLayers*cfg.NumKeyValueHeads*cfg.HeadDim) * 256
	e.SetPoolConfig(PoolConfig{BudgetBytes: max(st.EstimateBytes, st.ResidentBytes) + block})

	if _, err := e.Complete(ctx, CompletionRequest{Model: dir, Prompt: "hello", Options: GenOptions{MaxTokens: 4}}, nil); err != nil {
		t.Fatal(err)
	}
	if st := e.Status()[0]; st.KVBytes != block { // the kept sequence's one block
		t.Fatalf("after a short request the model holds %d KV bytes, want one block of %d", st.KVBytes, block)
	}
	long := strings.Repeat("the quick brown fox jumps ", 60)
	if ids, err := e.Tokenize(ctx, dir, long, false, true); err != nil || len(ids) <= 256 || len(ids) >= 2048-8 {
		t.Fatalf("long prompt: %d tokens (%v), want 257..2039", len(ids), err)
	}
	_, err = e.Complete(ctx, CompletionRequest{Model: dir, Prompt: long, Options: GenOptions{MaxTokens: 4}}, nil)
	if !errors.Is(err, pool.ErrNoRoom) {
		t.Fatalf("a prompt needing two blocks in a budget of one: %v", err)
	}
	if c, _ := Classify(err); c.Kind != KindNoRoom {
		t.Errorf("classified %+v, want KindNoRoom", c)
	}
	if st := e.Status()[0]; st.KVBytes > block || e.Memory().UsedBytes > e.Memory().BudgetBytes {
		t.Fatalf("after the refused request: %+v, memory %+v", st, e.Memory())
	}
	if _, err := e.Complete(ctx, CompletionRequest{Model: dir, Prompt: "hello again", Options: GenOptions{MaxTokens: 4}}, nil); err != nil {
		t.Fatalf("a short request after the refused one: %v", err)
	}
}
