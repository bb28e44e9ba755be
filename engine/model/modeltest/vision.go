package modeltest

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// The vision tower and projector of the tiny Gemma3ForConditionalGeneration
// ("gemma3mm"), in transformers 4.50's names (vision_tower.vision_model.*,
// multi_modal_projector.*) and always in float, as mlx-vlm leaves them:
// 16x16 images cut into 4x4 patches (a 4x4 grid), two SigLIP layers of width
// 16, pooled 2x2 to mm_tokens_per_image = 4 tokens.
const (
	visionHidden = 16
	visionInter  = 32
	visionLayers = 2
	visionHeads  = 2
	visionImage  = 16
	visionPatch  = 4
	visionTokens = 4
)

// The image tokens of the tiny vision model: <start_of_image>,
// <end_of_image> and the placeholder each image's embeddings replace,
// ordinary tokens of the tiny vocabulary (gemma-3's are 255999, 256000 and
// 262144 of its 262208).
const (
	visionBegin = 500
	visionEnd   = 501
	ImageToken  = 502
)

// visionProcessor is the tiny model's preprocessor_config.json: gemma-3's,
// with 16x16 images.
func visionProcessor() map[string]any {
	return map[string]any{
		"image_processor_type": "Gemma3ImageProcessor", "processor_class": "Gemma3Processor",
		"do_normalize": true, "do_rescale": true, "do_resize": true, "do_pan_and_scan": nil,
		"image_mean": []float64{0.5, 0.5, 0.5}, "image_std": []float64{0.5, 0.5, 0.5},
		"image_seq_length": visionTokens, "resample": 2, "rescale_factor": 1.0 / 255,
		"size": map[string]int{"height": visionImage, "width": visionImage},
	}
}

func visionConfig() map[string]any {
	return map[string]any{
		"model_type": "siglip_vision_model", "hidden_size": visionHidden, "intermediate_size": visionInter,
		"num_hidden_layers": visionLayers, "num_attention_heads": visionHeads, "num_channels": 3,
		"image_size": visionImage, "patch_size": visionPatch, "layer_norm_eps": 1e-6, "vision_use_head": false,
	}
}

// visionTensors draws the tower so that its activations stay of order one
// (see siglipTower), then Gemma 3's projector.
func (g *gen) visionTensors() error {
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	h := visionHidden
	steps := g.siglipTower("vision_tower.vision_model.", visionImage/visionPatch)
	steps = append(steps,
		g.float("multi_modal_projector.mm_soft_emb_norm.weight", g.normal(h, 0, 0.1), h),
		// (vision hidden, text hidden): a matmul operand, not an nn.Linear.
		g.float("multi_modal_projector.mm_input_projection_weight", g.normal(h*g.s.Hidden, 0, inv(h)), h, g.s.Hidden))
	return errors.Join(steps...)
}

// siglipTower draws the SigLIP tower both tiny vision models share under
// prefix p, a side×side grid of patches: LayerNorm weights around 1,
// projections scaled by 1/sqrt(fan-in). It returns each write's error.
func (g *gen) siglipTower(p string, side int) []error {
	inv := func(n int) float64 { return 1 / math.Sqrt(float64(n)) }
	h, patches := visionHidden, side*side
	fan := 3 * visionPatch * visionPatch
	steps := []error{
		g.float(p+"embeddings.patch_embedding.weight", g.normal(h*fan, 0, inv(fan)), h, 3, visionPatch, visionPatch),
		g.float(p+"embeddings.patch_embedding.bias", g.normal(h, 0, 0.1), h),
		g.float(p+"embeddings.position_embedding.weight", g.normal(patches*h, 0, 0.5), patches, h),
	}
	lin := func(name string, out, in int) {
		steps = append(steps,
			g.float(name+".weight", g.normal(out*in, 0, inv(in)), out, in),
			g.float(name+".bias", g.normal(out, 0, 0.1), out))
	}
	ln := func(name string) {
		steps = append(steps, g.float(name+".weight", g.normal(h, 1, 0.1), h), g.float(name+".bias", g.normal(h, 0, 0.1), h))
	}
	for l := range visionLayers {
		lp := fmt.Sprintf("%sencoder.layers.%d.", p, l)
		ln(lp + "layer_norm1")
		for _, n := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
			lin(lp+"self_attn."+n, h, h)
		}
		ln(lp + "layer_norm2")
		lin(lp+"mlp.fc1", visionInter, h)
		lin(lp+"mlp.fc2", h, visionInter)
	}
	ln(p + "post_layernorm")
	return steps
}

// visionLayout renames or reorders the tensors of gemma3mm (Spec.VisionLayout).
func (g *gen) visionLayout(layout string) error {
	switch layout {
	case "hf452":
		for i, t := range g.out {
			switch {
			case strings.HasPrefix(t.Name, "language_model.model."):
				g.out[i].Name = "model.language_model." + strings.TrimPrefix(t.Name, "language_model.model.")
			case strings.HasPrefix(t.Name, "vision_tower."), strings.HasPrefix(t.Name, "multi_modal_projector."):
				g.out[i].Name = "model." + t.Name
			}
		}
	case "mlx":
		for i, t := range g.out {
			if !strings.HasSuffix(t.Name, "patch_embedding.weight") {
				continue
			}
			o, c, p := t.Shape[0], t.Shape[1], t.Shape[2]
			size := t.DType.Size()
			data := make([]byte, len(t.Data))
			for a := range o {
				for ch := range c {
					for y := range p {
						for x := range p {
							from := ((a*c+ch)*p+y)*p + x
							to := ((a*p+y)*p+x)*c + ch
							copy(data[to*size:(to+1)*size], t.Data[from*size:(from+1)*size])
						}
					}
				}
			}
			g.out[i].Data, g.out[i].Shape = data, []int{o, p, p, c}
		}
	default:
		return fmt.Errorf("vision layout %q", layout)
	}
	return nil
}
