package idefics3_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/idefics3"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

func TestOpen(t *testing.T) {
	m, err := model.Open(context.Background(), modeltest.New(t, modeltest.Spec{Arch: "idefics3", Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v, ok := m.Def.(model.Vision)
	if !ok {
		t.Fatal("no vision tower")
	}
	want := model.ImageSpec{Size: modeltest.Idefics3Tile, Channels: 3, Tokens: 4, Token: modeltest.Idefics3Image, Begin: -1, End: -1, Causal: true}
	if got := v.Image(); got != want {
		t.Fatalf("image spec %+v, want %+v", got, want)
	}
}

// TestSmolVLM2Class: a checkpoint naming SmolVLM2's class opens as the same
// model.
func TestSmolVLM2Class(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{Arch: "idefics3", Seed: 1})
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("Idefics3ForConditionalGeneration"), []byte("SmolVLMForConditionalGeneration"), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, ok := m.Def.(model.Vision); !ok || !v.Image().Causal || m.Config.Architectures[0] != "SmolVLMForConditionalGeneration" {
		t.Fatalf("%v: %T", m.Config.Architectures, m.Def)
	}
}
