package engine

import (
	"context"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestFamiliesGenerate runs each family of issue #18 through the engine's
// whole path (load, describe, template, prefill, decode, prefix reuse):
// correctness of the logits is engine/model/hfref's; this checks the plumbing.
func TestFamiliesGenerate(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, arch := range modeltest.Families() {
		t.Run(arch, func(t *testing.T) {
			dir := tinyModelSpec(t, modeltest.Spec{Arch: arch, Layers: 2, Seed: 5, QuantBits: 4, GroupSize: 32})
			info, err := e.Model(ctx, dir)
			if err != nil || info.Unsupported != "" {
				t.Fatalf("model info %+v, err %v", info, err)
			}
			for range 2 { // the second request reuses the first one's prefix
				res, err := e.Complete(ctx, CompletionRequest{Model: dir, Prompt: "Once upon a time there was",
					Options: GenOptions{MaxTokens: 4}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Usage.CompletionTokens == 0 {
					t.Errorf("no tokens generated: %+v", res)
				}
			}
		})
	}
}
