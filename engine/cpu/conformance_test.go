package cpu

import (
	"log/slog"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestConformance runs the engine's conformance suite: every model variant
// against the float64 reference, with the default options, with tiny
// prefill chunks (chunked prefill on every variant) and on one thread. The
// half-precision KV cache is lossy by design (about 1e-3), beyond the
// suite's tolerance for float32 models; cpu_test.go checks it.
func TestConformance(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	t.Run("default", func(t *testing.T) {
		enginetest.RunAll(t, func(m *model.Model) (model.Runner, error) { return New(m, Options{Logger: quiet}) })
	})
	// The other settings on a few variants: plain, stories260K-shaped,
	// sliding window, 4-bit groups of 32 (what they change is shape-blind).
	models := enginetest.Models()
	for name, opts := range map[string]Options{
		"chunk3":        {Logger: quiet, PrefillChunk: 3},
		"single-thread": {Logger: quiet, Threads: 1},
	} {
		for _, spec := range []int{0, 6, 8, 13} {
			t.Run(name+"/"+models[spec].Name(), func(t *testing.T) {
				enginetest.Run(t, models[spec], func(m *model.Model) (model.Runner, error) { return New(m, opts) })
			})
		}
	}
}
