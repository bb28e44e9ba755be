package model_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/qwen3moe"
)

// TestMoERealConfigs: the config.json of real mixture-of-experts checkpoints
// (testdata/configs) parse, with the experts their families read.
func TestMoERealConfigs(t *testing.T) {
	for name, want := range map[string]struct {
		experts, topK, inter int
		norm                 bool
		active, total        float64 // billions of parameters
	}{
		"qwen3-30b-a3b.json":     {128, 8, 768, true, 3.3, 30.5},
		"mixtral-8x7b-v0.1.json": {8, 2, 14336, true, 12.9, 46.7},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "configs", name))
			if err != nil {
				t.Fatal(err)
			}
			c, err := model.ParseConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			s, ok := c.Family.(*qwen3moe.Sparse)
			if !ok {
				t.Fatalf("family settings %T", c.Family)
			}
			if s.Experts != want.experts || s.TopK != want.topK || s.Inter != want.inter || s.NormTopK != want.norm {
				t.Errorf("experts %d top %d inter %d norm %v, want %+v", s.Experts, s.TopK, s.Inter, s.NormTopK, want)
			}
			for l, moe := range s.MoELayers {
				if !moe {
					t.Errorf("layer %d is dense", l)
				}
			}
			// The model cards' figures: 3.3B of 30.5B, 12.9B of 46.7B. Their
			// active count includes the embedding table, of which decode reads one row.
			active, total := s.Active(c)
			active += int64(c.VocabSize * c.HiddenSize)
			if a, tt := float64(active)/1e9, float64(total)/1e9; a < want.active-0.1 || a > want.active+0.1 || tt < want.total-0.1 || tt > want.total+0.1 {
				t.Errorf("%.2fB active of %.2fB, the card says %.1fB of %.1fB", a, tt, want.active, want.total)
			}
		})
	}
	t.Run("gptq refused", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join("testdata", "configs", "qwen3-30b-a3b-gptq-int4.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.ParseConfig(b); !errors.Is(err, model.ErrInvalidConfig) {
			t.Errorf("GPTQ conversion: %v, want ErrInvalidConfig", err)
		}
	})
}
