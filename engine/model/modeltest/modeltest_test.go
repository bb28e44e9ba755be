package modeltest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
)

func TestWriteOpensEveryVariant(t *testing.T) {
	specs := []Spec{
		{},
		{Arch: "mistral", DType: model.F16, SlidingWindow: 8},
		{Arch: "qwen2", DType: model.BF16, Tied: true},
		{Arch: "qwen3", AttentionBias: true, Shards: 3},
		{Arch: "llama", MLPBias: true, AttentionBias: true, RopeScaling: &model.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}},
		{QuantBits: 4, GroupSize: 32, DType: model.F16},
		{Arch: "qwen3", QuantBits: 8, GroupSize: 64, DType: model.BF16, Tied: true},
		{QuantBits: 3, GroupSize: 64, QuantOverrides: map[string]*model.Quant{"lm_head": nil, "model.layers.1.mlp.down_proj": {Bits: 8, GroupSize: 32}}},
	}
	for _, s := range specs {
		t.Run(s.Name(), func(t *testing.T) {
			dir := New(t, s)
			m, err := model.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			c := m.Config
			if c.VocabSize != 512 || c.HiddenSize != 64 || len(m.Def.(*llama.Model).Weights().Layers) != 2 {
				t.Errorf("config %+v", c)
			}
			if s.Tied != (&m.Def.(*llama.Model).Weights().LMHead.Weight.Data[0] == &m.Def.(*llama.Model).Weights().Embed.Weight.Data[0]) {
				t.Errorf("tied=%v but lm_head and embeddings sharing is the opposite", s.Tied)
			}
			if want := s.QuantBits; m.Def.(*llama.Model).Weights().Embed.Bits != want {
				t.Errorf("embeddings have %d bits, want %d", m.Def.(*llama.Model).Weights().Embed.Bits, want)
			}
			if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestQuantOverridesBound(t *testing.T) {
	m := Open(t, Spec{QuantBits: 4, GroupSize: 64, QuantOverrides: map[string]*model.Quant{
		"lm_head": nil, "model.layers.1.mlp.down_proj": {Bits: 8, GroupSize: 32}}})
	w := m.Def.(*llama.Model).Weights()
	if w.LMHead.Bits != 0 || w.LMHead.Weight.DType != model.F32 {
		t.Errorf("lm_head: %d bits %s", w.LMHead.Bits, w.LMHead.Weight.DType)
	}
	if d := w.Layers[1].Down; d.Bits != 8 || d.GroupSize != 32 {
		t.Errorf("layer 1 down_proj: %d bits, groups of %d", d.Bits, d.GroupSize)
	}
	if d := w.Layers[0].Down; d.Bits != 4 || d.GroupSize != 64 {
		t.Errorf("layer 0 down_proj: %d bits, groups of %d", d.Bits, d.GroupSize)
	}
}

func TestDeterministic(t *testing.T) {
	s := Spec{Arch: "qwen3", QuantBits: 4, GroupSize: 32, DType: model.BF16, Seed: 7}
	a, b, c := New(t, s), New(t, s), New(t, Spec{Arch: "qwen3", QuantBits: 4, GroupSize: 32, DType: model.BF16, Seed: 8})
	read := func(dir string) []byte {
		x, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if !bytes.Equal(read(a), read(b)) {
		t.Error("the same spec gave different files")
	}
	if bytes.Equal(read(a), read(c)) {
		t.Error("different seeds gave the same file")
	}
}

// TestWeightScale checks the documented scale: unit-variance q·k scores need
// q_proj rows of norm about 1.
func TestWeightScale(t *testing.T) {
	m := Open(t, Spec{Hidden: 128, Heads: 4, HeadDim: 32})
	row := make([]float32, 128)
	var sum float64
	for r := range 64 {
		if err := m.Def.(*llama.Model).Weights().Layers[0].Q.Row(r, row); err != nil {
			t.Fatal(err)
		}
		for _, v := range row {
			sum += float64(v) * float64(v)
		}
	}
	if ms := sum / 64; ms < 0.8 || ms > 1.2 {
		t.Errorf("mean squared q_proj row norm %.3f, want about 1", ms)
	}
}

func TestSpecRejected(t *testing.T) {
	for _, s := range []Spec{
		{Arch: "gpt2"},
		{Vocab: 100},
		{QuantBits: 4, GroupSize: 128}, // hidden 64 is not a multiple of 128
		{Heads: 4, KVHeads: 3},
		{DType: "F64"},
	} {
		if err := Write(t.TempDir(), s); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
