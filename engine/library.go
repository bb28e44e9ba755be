package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// resolveDir finds a model's folder: a repo id in the models dir (HF cache layout),
// or, when the engine takes folders (the CLI's, Options.Folders), any folder that
// holds a config.json or a tokenizer.json, or a folder an admin registered under
// a "local/<name>" name (AddLocalModel). This is the one place a model name is
// checked: a server's engine never opens a folder a request names.
func (e *Engine) resolveDir(id string) (string, error) {
	if dir, ok := e.local.get(id); ok {
		return dir, nil
	}
	cache := e.cache
	if looksLikePath(id) {
		if !e.folders {
			return "", fmt.Errorf("%w: %q is not a model id (org/name)", ErrModelNotFound, id)
		}
		for _, f := range []string{"config.json", "tokenizer.json"} {
			if st, err := os.Stat(filepath.Join(id, f)); err == nil && st.Mode().IsRegular() {
				return id, nil
			}
		}
		return "", fmt.Errorf("%w: %s holds no config.json or tokenizer.json", ErrModelNotFound, id)
	}
	dir, err := cache.SnapshotDir(id)
	if err != nil {
		if errors.Is(err, hub.ErrNotCached) || errors.Is(err, hub.ErrInvalidRepoID) {
			return "", fmt.Errorf("%w: %s is not in the models dir %s", ErrModelNotFound, id, cache.Root)
		}
		return "", fmt.Errorf("find %s: %w", id, err)
	}
	return dir, nil
}

// looksLikePath tells a folder path from a repo id ("org/name").
func looksLikePath(id string) bool {
	return filepath.IsAbs(id) || strings.HasPrefix(id, ".") || strings.Count(id, "/") != 1 || strings.HasPrefix(id, "~")
}

// describe reads what a model folder says about itself, without loading weights.
func describe(id, dir string) ModelInfo {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return ModelInfo{ID: id, Path: dir, Unsupported: "no config.json"}
	}
	info := DescribeConfig(id, raw)
	info.Path = dir
	info.Kind = modelKind(dir, info.Architecture)
	info.NoChatTemplate = !chat.HasTemplate(dir)
	if info.Vision {
		_, err := os.Stat(filepath.Join(dir, "preprocessor_config.json"))
		info.Vision = err == nil
	}
	return info
}

// DescribeConfig reads what a config.json says (architecture, parameters,
// quantization, context length, whether an executor supports it) without any
// other file, for models on the Hub as well as local ones.
func DescribeConfig(id string, raw []byte) ModelInfo {
	info := ModelInfo{ID: id, Architecture: architectureOf(raw)}
	info.Kind = modelKind("", info.Architecture)
	if isYesNoReranker(id, info.Architecture) {
		info.Kind = KindReranker
	}
	if info.Architecture != "" {
		// Named but not registered: say so, with the list, before the config's
		// other fields (which an unknown family may use differently) are read.
		if err := checkArchitecture("", raw); err != nil {
			info.Unsupported = err.Error()
			return info
		}
	}
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
	info.Vision = visionArchs[info.Architecture] && strings.Contains(string(raw), `"vision_config"`)
	info.Supported = true
	return info
}

// parameterCount counts a Llama-style decoder's parameters from its dimensions.
func parameterCount(c *model.Config) int64 {
	if sc, ok := c.Family.(model.SparseCounter); ok {
		_, total := sc.Active(c) // every expert, all resident
		return total
	}
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
	if c.Quantization != nil && c.Quantization.Mode == "mxfp4" {
		return "mxfp4"
	}
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

// localModels lists the models dir with what each config says, but for the
// names in skip (registered folders, which those names load).
func localModels(ctx context.Context, cache hub.Cache, skip map[string]string) ([]ModelInfo, error) {
	list, err := cache.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	out := make([]ModelInfo, 0, len(list))
	for _, m := range list {
		if _, ok := skip[m.Repo]; ok {
			continue // a registered folder of that name is what the name loads
		}
		info := describe(m.Repo, m.SnapshotDir)
		info.SizeBytes = m.Size
		info.Modified = m.ModTime
		out = append(out, info)
	}
	return out, nil
}
