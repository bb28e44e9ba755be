package graph

import (
	"context"
	"fmt"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// New loads m's weights onto a gomlx backend and returns a model.Runner for
// it. The weights are copied as float32 (dequantized when MLX-quantized), so
// the runner does not read m's mapped files after New returns.
func New(ctx context.Context, m *model.Model, opts Options) (model.Runner, error) {
	if m == nil || m.Config == nil {
		return nil, fmt.Errorf("graph: new runner: no model")
	}
	if m.Def == nil {
		return nil, fmt.Errorf("graph: new runner: no forward pass bound")
	}
	if _, ok := m.Def.(model.EncoderDefinition); ok {
		// Encoders need bidirectional attention and lookups by position and
		// token type, which this executor's graphs do not build: the cpu
		// executor runs them.
		return nil, fmt.Errorf("graph: new runner: %w: %s is an encoder", model.ErrUnsupportedArch, m.Config.Architectures[0])
	}
	c := m.Config
	s := spec{
		layers: c.NumHiddenLayers, hidden: c.HiddenSize, inter: c.IntermediateSize,
		heads: c.NumAttentionHeads, kvHeads: c.NumKeyValueHeads, headDim: c.HeadDim,
		vocab: c.VocabSize, eps: c.RMSNormEps, window: c.SlidingWindow,
	}
	r, err := newRunner(ctx, s, m.Def, m.Params, opts)
	if err != nil {
		return nil, fmt.Errorf("graph: new runner: %w", err)
	}
	return r, nil
}
