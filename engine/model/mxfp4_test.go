package model_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestMXFP4RoundTrip: values on the E2M1 grid of their group's scale come
// back exactly, and every value comes back within half a grid step.
func TestMXFP4RoundTrip(t *testing.T) {
	grid := []float32{0, 0.5, 1, 1.5, 2, 3, 4, 6}
	w := make([]float32, 64)
	for i := range 32 {
		w[i] = grid[i%8] * 0.25 // group 0: exactly representable at 2^-2
		if i%3 == 0 {
			w[i] = -w[i]
		}
		w[32+i] = float32(math.Sin(float64(i))) * 3 // group 1: anything
	}
	w[0] = 6 * 0.25 // the group's largest magnitude sets its scale
	codes, scales, err := model.QuantizeMXFP4Row(w)
	if err != nil {
		t.Fatal(err)
	}
	if scales[0] != 125 {
		t.Errorf("group 0 scale byte %d, want 125 (2^-2)", scales[0])
	}
	got := make([]float32, 64)
	if err := model.DequantizeMXFP4Row(codes, scales, got); err != nil {
		t.Fatal(err)
	}
	for i := range 32 {
		if got[i] != w[i] {
			t.Errorf("value %d: %v, want %v", i, got[i], w[i])
		}
	}
	step := math.Ldexp(1, int(scales[1])-127) // the coarsest gap (4 to 6) is 2 steps
	for i := 32; i < 64; i++ {
		if d := math.Abs(float64(got[i] - w[i])); d > step {
			t.Errorf("value %d: %v for %v", i, got[i], w[i])
		}
	}
}

// TestMXFP4Config: MLX's mode "mxfp4" parses (and must be 4 bits in groups
// of 32); Hugging Face's quant_method "mxfp4" parses too.
func TestMXFP4Config(t *testing.T) {
	base := `{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
		"num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 512, %s}`
	for _, tc := range []struct {
		quant string
		ok    bool
	}{
		{`"quantization": {"bits": 4, "group_size": 32, "mode": "mxfp4"}`, true},
		{`"quantization": {"bits": 4, "group_size": 64, "mode": "mxfp4"}`, false},
		{`"quantization": {"bits": 8, "group_size": 32, "mode": "mxfp4"}`, false},
		{`"quantization": {"bits": 4, "group_size": 32, "mode": "nvfp4"}`, false},
		{`"quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": ["lm_head"]}`, true},
	} {
		c, err := model.ParseConfig([]byte(strings.Replace(base, "%s", tc.quant, 1)))
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.quant, err)
		case tc.ok && (c.Quantization == nil || c.Quantization.Mode != "mxfp4"):
			t.Errorf("%s: quantization %+v", tc.quant, c.Quantization)
		case !tc.ok && !errors.Is(err, model.ErrInvalidConfig):
			t.Errorf("%s: %v, want ErrInvalidConfig", tc.quant, err)
		}
	}
}

// TestMXFP4Bind: an MLX mxfp4 GPT-OSS binds its experts and attention as
// MXFP4 layers and keeps an affine override (the routers) affine.
func TestMXFP4Bind(t *testing.T) {
	spec := modeltest.Spec{Arch: "gptoss", QuantBits: 4, QuantMode: "mxfp4", Stacked: true,
		QuantOverrides: map[string]*model.Quant{"model.layers.0.mlp.router": {Bits: 8, GroupSize: 32}}}
	m, err := model.Open(context.Background(), modeltest.New(t, spec))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var mx, affine int
	for _, l := range m.Params.Linears {
		switch {
		case l.MXFP4:
			mx++
			if l.Biases != nil || l.Scales.DType != model.U8 {
				t.Errorf("%s: mxfp4 with biases or %s scales", l.Weight.Name, l.Scales.DType)
			}
		case l.Bits == 8:
			affine++
		}
	}
	if affine != 1 || mx == 0 {
		t.Errorf("%d mxfp4 layers, %d 8-bit affine (the router override)", mx, affine)
	}
	row := make([]float32, 64)
	if err := m.Params.MoEs[0].Experts[1].Gate.Row(3, row); err != nil {
		t.Fatal(err)
	}
}
