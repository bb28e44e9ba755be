package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Quant is an MLX affine quantization setting.
type Quant struct {
	Bits      int
	GroupSize int
	Mode      string // "" or "affine": scale*q + bias; "mxfp4": E2M1 codes with power-of-two scales
}

// Quantization is the "quantization" object of an MLX config.json.
type Quantization struct {
	Quant // the default for every quantized layer
	// Layers overrides the default per module path ("model.layers.0.mlp.down_proj").
	// A nil value means the module is stored unquantized.
	Layers map[string]*Quant
}

// For returns the setting for a module path and whether the module is quantized
// according to the config. Whether a layer really is quantized is decided by the
// presence of its scales, as mlx-lm does for older conversions.
func (q *Quantization) For(module string) (Quant, bool) {
	if q == nil {
		return Quant{}, false
	}
	if o, ok := q.Layers[module]; ok {
		if o == nil {
			return Quant{}, false
		}
		return *o, true
	}
	return q.Quant, true
}

// parseQuantization reads mlx-lm's "quantization" (or its copy, "quantization_config").
// Non-MLX schemes in quantization_config (GPTQ, AWQ, bitsandbytes, ...) are refused.
func parseQuantization(q, qc map[string]json.RawMessage) (*Quantization, error) {
	if q == nil {
		if _, other := qc["quant_method"]; other {
			var method string
			_ = json.Unmarshal(qc["quant_method"], &method)
			if method == "mxfp4" {
				// Hugging Face's MXFP4 (GPT-OSS): experts stored as *_blocks
				// and *_scales, which the family binds; every other layer is
				// float.
				return &Quantization{Quant: Quant{Bits: 4, GroupSize: 32, Mode: "mxfp4"}, Layers: map[string]*Quant{}}, nil
			}
			return nil, fmt.Errorf("quantization method %q is not supported (MLX affine and mxfp4 are)", method)
		}
		q = qc
	}
	if q == nil {
		return nil, nil
	}
	out := &Quantization{Layers: map[string]*Quant{}}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	for _, k := range keys {
		v := q[k]
		var err error
		switch k {
		case "bits":
			err = json.Unmarshal(v, &out.Bits)
		case "group_size":
			err = json.Unmarshal(v, &out.GroupSize)
		case "mode":
			err = json.Unmarshal(v, &out.Mode)
			if err == nil && out.Mode != "affine" && out.Mode != "mxfp4" {
				err = fmt.Errorf("mode %q is not supported (affine and mxfp4 are)", out.Mode)
			}
		default:
			// Module paths always contain a dot (lm_head aside); other keys are
			// settings of newer mlx-lm versions that do not change affine decoding.
			if !strings.Contains(k, ".") && k != "lm_head" {
				continue
			}
			out.Layers[k], err = parseOverride(v)
		}
		if err != nil {
			return nil, fmt.Errorf("quantization %s: %v", k, err)
		}
	}
	return out, nil
}

// parseOverride reads a per-module entry: false (unquantized), true (default)
// or {"bits", "group_size"}.
func parseOverride(v json.RawMessage) (*Quant, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		if !b {
			return nil, nil
		}
		return nil, errors.New("true is not a setting; use an object")
	}
	var o struct {
		Bits      *int    `json:"bits"`
		GroupSize *int    `json:"group_size"`
		Mode      *string `json:"mode"`
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, err
	}
	if o.Bits == nil || o.GroupSize == nil {
		return nil, errors.New("override needs bits and group_size")
	}
	q := &Quant{Bits: *o.Bits, GroupSize: *o.GroupSize}
	if o.Mode != nil {
		if *o.Mode != "affine" && *o.Mode != "mxfp4" {
			return nil, fmt.Errorf("mode %q is not supported (affine and mxfp4 are)", *o.Mode)
		}
		q.Mode = *o.Mode
	}
	return q, nil
}

func (q Quant) validate() error {
	if q.Mode == "mxfp4" {
		if q.Bits != 4 || q.GroupSize != 32 {
			return fmt.Errorf("mxfp4 with %d bits in groups of %d (4 in groups of 32 is the format)", q.Bits, q.GroupSize)
		}
		return nil
	}
	switch q.Bits {
	case 2, 3, 4, 5, 6, 8:
	default:
		return fmt.Errorf("%d bits is not supported (2, 3, 4, 5, 6 and 8 are)", q.Bits)
	}
	switch q.GroupSize {
	case 32, 64, 128:
	default:
		return fmt.Errorf("group_size %d is not supported (32, 64 and 128 are)", q.GroupSize)
	}
	return nil
}

func (q *Quantization) validate() error {
	if q == nil {
		return nil
	}
	if err := q.Quant.validate(); err != nil {
		return fmt.Errorf("quantization: %v", err)
	}
	for k, o := range q.Layers {
		if o != nil {
			if err := o.validate(); err != nil {
				return fmt.Errorf("quantization %s: %v", k, err)
			}
		}
	}
	return nil
}
