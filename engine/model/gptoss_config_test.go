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
	"github.com/mlx-manager/mlx-manager/engine/model/gptoss"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestGptOssRealConfig: openai/gpt-oss-20b's config.json parses into the
// family's settings: 32 experts of 2880, 4 per token, alternating sliding
// (128) and full layers, YaRN, the MXFP4 release's quantization, and the
// model card's 20.9B parameters of which 3.6B are read per token.
func TestGptOssRealConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "configs", "gpt-oss-20b.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := model.ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if q := c.Quantization; q == nil || q.Mode != "mxfp4" || q.Bits != 4 || q.GroupSize != 32 {
		t.Errorf("quantization %+v", c.Quantization)
	}
	g, ok := c.Family.(*gptoss.Config)
	if !ok {
		t.Fatalf("family settings %T", c.Family)
	}
	if g.Experts != 32 || g.TopK != 4 || g.Inter != 2880 || g.Limit != 7 || g.Window != 128 || len(g.Sliding) != 24 {
		t.Errorf("%+v", g)
	}
	for l, s := range g.Sliding {
		if s != (l%2 == 0) {
			t.Errorf("layer %d sliding %v", l, s)
		}
	}
	if !c.QKVBias || !c.OBias || c.SlidingWindow != 0 || c.HeadDim != 64 {
		t.Errorf("biases %v %v, window %d, head dim %d", c.QKVBias, c.OBias, c.SlidingWindow, c.HeadDim)
	}
	if r := c.RopeScaling; r == nil || r.Type != "yarn" || r.Factor != 32 || r.Truncate || r.OriginalMaxPositionEmbeddings != 4096 {
		t.Errorf("rope %+v", c.RopeScaling)
	}
	// The model card: 20.91B parameters, 3.61B active (the unembedding included).
	active, total := g.Active(c)
	if a, tt := float64(active)/1e9, float64(total)/1e9; a < 3.6 || a > 3.62 || tt < 20.9 || tt > 20.92 {
		t.Errorf("%.3fB active of %.3fB, the card says 3.61B of 20.91B", a, tt)
	}
}

// TestGptOssWeightErrors: GPT-OSS experts that do not match the config fail
// to open with ErrWeights naming the tensor, in both layouts.
func TestGptOssWeightErrors(t *testing.T) {
	for _, spec := range []modeltest.Spec{
		{Arch: "gptoss", Experts: 4},
		{Arch: "gptoss", Experts: 4, Stacked: true, QuantBits: 4, GroupSize: 32},
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
			c["intermediate_size"] = 96 // the files hold 128
			if b, err = json.Marshal(c); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := model.Open(context.Background(), dir)
			if err == nil {
				m.Close()
				t.Fatal("opened experts of 128 configured as 96")
			}
			if !errors.Is(err, model.ErrWeights) || !strings.Contains(err.Error(), "mlp.experts") {
				t.Errorf("error %v, want ErrWeights naming an expert tensor", err)
			}
		})
	}
}
