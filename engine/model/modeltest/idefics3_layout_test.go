package modeltest

import (
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// TestIdefics3MLXNames: the "mlx" layout renames every tensor to mlx-vlm's
// names and stores the patch kernel (out, ky, kx, channel).
func TestIdefics3MLXNames(t *testing.T) {
	dir := New(t, Spec{Arch: "idefics3", Seed: 1, VisionLayout: "mlx"})
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	for _, n := range []string{"language_model.model.embed_tokens.weight", "language_model.lm_head.weight",
		"vision_model.post_layernorm.weight", "connector.modality_projection.proj.weight"} {
		if !set.Has(n) {
			t.Errorf("no %s", n)
		}
	}
	k, err := set.Tensor("vision_model.embeddings.patch_embedding.weight")
	if err != nil || k.Shape[3] != 3 {
		t.Errorf("patch kernel %v, %v", k.Shape, err)
	}
	for _, n := range set.Names() {
		if len(n) > 6 && n[:6] == "model." {
			t.Errorf("%s kept transformers' name", n)
		}
	}
}
