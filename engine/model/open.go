package model

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// ErrWeights marks tensors that are missing or do not fit the config.
var ErrWeights = errors.New("model weights do not match config")

// Model is an opened model: its config and its weights bound to the
// safetensors files' memory (safetensors.Open), valid until Close.
type Model struct {
	Dir    string
	Config *Config
	Gen    *GenerationConfig
	Arch   Arch
	// Def is the family's forward pass over the bound weights.
	Def Definition
	// Params are every bound tensor.
	Params Params

	files *safetensors.Set
}

// Open reads config.json and generation_config.json of dir, maps its safetensors
// files (single or sharded) and binds every tensor the architecture needs,
// checking each shape against the config.
func Open(ctx context.Context, dir string) (*Model, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("open model %s: config.json: %w", dir, err)
	}
	gen := DefaultGeneration(cfg)
	if b, err := os.ReadFile(filepath.Join(dir, "generation_config.json")); err == nil {
		if gen, err = ParseGenerationConfig(b, cfg); err != nil {
			return nil, fmt.Errorf("open model %s: %w", dir, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	arch, err := Lookup(cfg.Architectures)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	files, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	m := &Model{Dir: dir, Config: cfg, Gen: gen, Arch: arch, files: files}
	if err := m.bind(ctx); err != nil {
		_ = files.Close()
		return nil, fmt.Errorf("open model %s: %w", dir, err)
	}
	return m, nil
}

// Close unmaps the weights. No tensor data may be used afterwards.
func (m *Model) Close() error {
	if m.files == nil {
		return nil
	}
	err := m.files.Close()
	m.files = nil
	m.Def, m.Params = nil, Params{}
	return err
}

// StopTokens are the ids that end generation: generation_config's eos_token_id
// when set, else config.json's.
func (m *Model) StopTokens() []int {
	if m.Gen != nil && len(m.Gen.EOSTokenIDs) > 0 {
		return m.Gen.EOSTokenIDs
	}
	return m.Config.EOSTokenIDs
}

// WeightBytes is the size of every bound tensor, tied ones counted once: what
// an executor that reads the weights in place reads.
func (m *Model) WeightBytes() int64 { return m.boundBytes(func([]byte) bool { return true }) }

// ResidentBytes is what the weights keep in memory for an executor that
// reads them in place: the bound tensors of mapped files (paged in as they
// are read), and the whole of each file held in memory (safetensors'
// File.Held), unbound tensors too.
func (m *Model) ResidentBytes() int64 {
	if m.files == nil {
		return m.WeightBytes()
	}
	return m.boundBytes(func(b []byte) bool { return !m.files.Held(b) }) + m.files.HeldBytes()
}

// boundBytes is the size of the bound tensors whose data keep accepts, tied
// ones counted once.
func (m *Model) boundBytes(keep func([]byte) bool) int64 {
	seen := map[*byte]bool{}
	var n int64
	add := func(t *Tensor) {
		if t == nil || len(t.Data) == 0 || seen[unsafe.SliceData(t.Data)] || !keep(t.Data) {
			return
		}
		seen[unsafe.SliceData(t.Data)] = true
		n += int64(len(t.Data))
	}
	lin := func(l *Linear) { add(&l.Weight); add(l.Scales); add(l.Biases); add(l.Bias) }
	for _, l := range m.Params.Linears {
		lin(l)
	}
	for _, t := range m.Params.Vectors {
		add(t)
	}
	return n
}

// KVValuesPerToken is how many values one token adds to the KV cache: keys and
// values of every layer.
func (m *Model) KVValuesPerToken() int64 {
	c := m.Config
	return 2 * int64(c.NumHiddenLayers) * int64(c.NumKeyValueHeads) * int64(c.HeadDim)
}

// KVBytesPerToken is KVValuesPerToken for a float32 cache; an executor that
// stores its cache in 16 bits needs half.
func (m *Model) KVBytesPerToken() int64 { return 4 * m.KVValuesPerToken() }

// DType is the float dtype of the model's weights (of the quantization scales
// for MLX-quantized models), read from the embeddings.
func (m *Model) DType() DType {
	if len(m.Params.Linears) == 0 {
		return ""
	}
	e := m.Params.Linears[0]
	if e.Scales != nil {
		return e.Scales.DType
	}
	return e.Weight.DType
}
