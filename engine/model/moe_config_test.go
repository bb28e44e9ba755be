package model_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
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

// TestMoEWeightErrors: a checkpoint whose experts do not match its config
// fails to open with the tensor named, in both layouts.
func TestMoEWeightErrors(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{Arch: "qwen3moe", Experts: 4},
		{Arch: "mixtral", Experts: 4, Stacked: true},
		{Arch: "qwen3moe", Experts: 4, Stacked: true, QuantBits: 4, GroupSize: 32},
	} {
		t.Run(spec.Name(), func(t *testing.T) {
			dir := modeltest.New(t, spec)
			path := filepath.Join(dir, "config.json")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			key := "num_experts"
			if spec.Arch == "mixtral" {
				key = "num_local_experts"
			}
			c[key] = 6 // the files hold 4
			if b, err = json.Marshal(c); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := model.Open(context.Background(), dir)
			if err == nil {
				m.Close()
				t.Fatal("opened a model with 4 experts configured as 6")
			}
			if !errors.Is(err, model.ErrWeights) || !strings.Contains(err.Error(), "gate") {
				t.Errorf("error %v, want ErrWeights naming the router or an expert", err)
			}
		})
	}
}
