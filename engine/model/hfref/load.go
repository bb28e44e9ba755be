package hfref

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// Load reads a model directory in the Hugging Face (or mlx-community) layout:
// config.json and every tensor in float64, MLX-quantized layers dequantized
// (w = scale*q + bias), and the text model of a Gemma3ForConditionalGeneration
// renamed to Gemma3ForCausalLM's names.
func Load(dir string) (map[string]any, Tensors, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("hfref: %w", err)
	}
	config, err := ParseConfig(b)
	if err != nil {
		return nil, nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("hfref: %w", err)
	}
	defer set.Close()
	quant := cfg(config).sub("quantization")
	w := Tensors{}
	for _, name := range set.Names() {
		if strings.HasSuffix(name, ".scales") || strings.HasSuffix(name, ".biases") || strings.HasSuffix(name, "_scales") {
			continue // read with their weight
		}
		if base, ok := strings.CutSuffix(name, "_blocks"); ok {
			v, err := unpackBlocks(set, name)
			if err != nil {
				return nil, nil, fmt.Errorf("hfref: %s: %w", name, err)
			}
			w[base] = v
			continue
		}
		t, err := set.Tensor(name)
		if err != nil {
			return nil, nil, fmt.Errorf("hfref: %w", err)
		}
		var v Tensor
		if t.DType == safetensors.U32 {
			v, err = dequantize(set, t, quant)
		} else {
			v, err = decode(t)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("hfref: %s: %w", name, err)
		}
		if !unstack(name, v, w) {
			w[textName(name)] = v
		}
	}
	fuseExperts(w)
	return config, w, nil
}

// textName maps the language model's names inside a Gemma3ForConditionalGeneration
// checkpoint (transformers 4.50: language_model.model.*, language_model.lm_head;
// 4.52 and later: model.language_model.*) onto Gemma3ForCausalLM's.
func textName(n string) string {
	for _, p := range [][2]string{
		{"language_model.model.", "model."},
		{"model.language_model.", "model."},
		{"language_model.lm_head.", "lm_head."},
		{"model.text_model.", "model."}, // Idefics3's LlamaModel
	} {
		if strings.HasPrefix(n, p[0]) {
			return p[1] + strings.TrimPrefix(n, p[0])
		}
	}
	return n
}

func decode(t safetensors.Tensor) (Tensor, error) {
	mt := model.Tensor{Name: t.Name, DType: model.DType(t.DType), Shape: t.Shape, Data: t.Data}
	f, err := mt.Float32s()
	if err != nil {
		return Tensor{}, err
	}
	out := Tensor{Shape: t.Shape, Data: make([]float64, len(f))}
	for i, x := range f {
		out.Data[i] = float64(x)
	}
	return out, nil
}

// dequantize expands an MLX affine-quantized weight: its bits come from the
// quantization settings of config.json (a per-module entry, else the default),
// its group size from the number of scales per row.
func dequantize(set *safetensors.Set, t safetensors.Tensor, quant cfg) (Tensor, error) {
	module := strings.TrimSuffix(t.Name, ".weight")
	bits := quant.int("bits", 0)
	mode := quant.str("mode", "affine")
	if o := quant.sub(module); o != nil {
		bits = o.int("bits", bits)
		mode = o.str("mode", "affine")
	}
	if mode == "mxfp4" {
		return dequantizeMXFP4(set, t)
	}
	if bits <= 0 || len(t.Shape) < 2 || len(t.Shape) > 3 {
		return Tensor{}, fmt.Errorf("U32 tensor %v without quantization bits in config.json", t.Shape)
	}
	st, err := set.Tensor(module + ".scales")
	if err != nil {
		return Tensor{}, err
	}
	bt, err := set.Tensor(module + ".biases")
	if err != nil {
		return Tensor{}, err
	}
	scales, err := decode(st)
	if err != nil {
		return Tensor{}, err
	}
	biases, err := decode(bt)
	if err != nil {
		return Tensor{}, err
	}
	// A stacked (experts, out, in) layer is experts*out rows of in.
	lead := t.Shape[:len(t.Shape)-1]
	rows, in := prod(lead), t.Shape[len(t.Shape)-1]*32/bits
	groups := len(scales.Data) / rows
	if groups == 0 || in%groups != 0 || len(biases.Data) != len(scales.Data) {
		return Tensor{}, fmt.Errorf("%d scales for %d rows of %d", len(scales.Data), rows, in)
	}
	rowBytes := t.Shape[len(t.Shape)-1] * 4
	out := Tensor{Shape: append(append([]int(nil), lead...), in), Data: make([]float64, rows*in)}
	s32, b32, row := make([]float32, groups), make([]float32, groups), make([]float32, in)
	for r := range rows {
		for g := range groups {
			s32[g], b32[g] = float32(scales.Data[r*groups+g]), float32(biases.Data[r*groups+g])
		}
		if err := model.DequantizeRow(t.Data[r*rowBytes:(r+1)*rowBytes], bits, in/groups, s32, b32, row); err != nil {
			return Tensor{}, err
		}
		for i, x := range row {
			out.Data[r*in+i] = float64(x)
		}
	}
	return out, nil
}
