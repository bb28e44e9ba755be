package cpu

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestImagesConcurrent: sequences of one runner run the vision tower and a
// prompt with an image at the same time, each getting what it gets alone
// (the oracle comparison is engine/model/hfref's TestVisionExecutors).
func TestImagesConcurrent(t *testing.T) {
	m := modeltest.Open(t, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 5})
	r, err := New(m, Options{Threads: 2, KVF32: true, FloatActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	img := m.Def.(model.Vision).Image()
	pixels := func(k int) []float32 {
		px := make([]float32, img.Channels*img.Size*img.Size)
		for i := range px {
			px[i] = float32((i*7+k*13)%17)/8 - 1
		}
		return px
	}
	prompt := []int32{2, 45, 500, img.Token, img.Token, img.Token, img.Token, 501, 7}
	run := func(k int) []float32 {
		seq, err := r.NewSequence(len(prompt))
		if err != nil {
			t.Error(err)
			return nil
		}
		defer seq.Close()
		im := seq.(model.Imager)
		e, err := im.ImageEmbeds(context.Background(), pixels(k))
		if err != nil {
			t.Error(err)
			return nil
		}
		l, err := im.ForwardImages(context.Background(), prompt, []model.ImageSpan{{At: 3, Embeds: e}})
		if err != nil {
			t.Error(err)
		}
		return slices.Clone(l)
	}
	want := [][]float32{run(0), run(1)}
	if slices.Equal(want[0], want[1]) {
		t.Fatal("two images gave the same logits")
	}
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Go(func() {
			if got := run(k % 2); !slices.Equal(got, want[k%2]) {
				t.Errorf("image %d ran differently alongside another", k%2)
			}
		})
	}
	wg.Wait()
}
