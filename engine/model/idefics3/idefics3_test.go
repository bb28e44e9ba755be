package idefics3_test

import (
	"context"
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
	want := model.ImageSpec{Size: 16, Channels: 3, Tokens: 4, Token: modeltest.Idefics3Image, Begin: -1, End: -1, Causal: true}
	if got := v.Image(); got != want {
		t.Fatalf("image spec %+v, want %+v", got, want)
	}
}
