package api

import (
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// The two functions below repeat engine's describe and estimateBytes for a
// config.json that is not in a model folder (a Hub model's). They belong in the
// engine as engine.DescribeConfig and engine.EstimateMemory; once it exports them,
// these become one-line calls.

// describeConfig reads what a config.json says about a model without its files.
func describeConfig(id string, raw []byte) engine.ModelInfo {
	info := engine.ModelInfo{ID: id}
	cfg, err := model.ParseConfig(raw)
	if err != nil {
		info.Unsupported = err.Error()
		return info
	}
	info.ModelType = cfg.ModelType
	if len(cfg.Architectures) > 0 {
		info.Architecture = cfg.Architectures[0]
	}
	info.ContextLength = cfg.MaxPositionEmbeddings
	info.Parameters = parameterCount(cfg)
	info.Quantization = quantizationName(cfg)
	info.Supported = true
	return info
}

// parameterCount counts a Llama-style decoder's parameters from its dimensions.
func parameterCount(c *model.Config) int64 {
	h, kv := int64(c.HiddenSize), int64(c.NumKeyValueHeads*c.HeadDim)
	q := int64(c.NumAttentionHeads * c.HeadDim)
	embed := int64(c.VocabSize) * h
	layer := h*q + 2*h*kv + q*h + 3*h*int64(c.IntermediateSize) + 2*h
	if c.QKVBias {
		layer += q + 2*kv
	}
	if c.QKNorm {
		layer += 2 * int64(c.HeadDim)
	}
	n := embed + int64(c.NumHiddenLayers)*layer + h
	if !c.TieWordEmbeddings {
		n += embed
	}
	return n
}

func quantizationName(c *model.Config) string {
	if c.Quantization != nil {
		return fmt.Sprintf("%dbit", c.Quantization.Bits)
	}
	switch c.TorchDType {
	case "bfloat16":
		return "bf16"
	case "float16":
		return "f16"
	case "float32":
		return "f32"
	}
	return ""
}

// estimateMemory is what loading a model with this config and weightBytes of
// weights takes: the weights, an f32 KV cache for the engine's default context
// (or the model's, when shorter), and a margin for executor buffers; the figure
// the pool is charged with.
func estimateMemory(raw []byte, weightBytes int64) (int64, error) {
	cfg, err := model.ParseConfig(raw)
	if err != nil {
		return 0, fmt.Errorf("estimate memory: %w", err)
	}
	ctxLen := min(engine.DefaultContext, cfg.MaxPositionEmbeddings)
	kv := 2 * 4 * int64(cfg.NumHiddenLayers) * int64(cfg.NumKeyValueHeads) * int64(cfg.HeadDim) * int64(ctxLen)
	return weightBytes + kv + weightBytes/20 + 16<<20, nil
}
