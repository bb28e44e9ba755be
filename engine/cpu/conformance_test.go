//go:build !race

// Numeric checks that only compute: make test-norace runs them without the race
// detector, which made them ten to twenty times slower (350 s of CI time on two
// cores for the four conformance and reference suites) while the concurrency
// they touch is raced by the executors' own tests.

package cpu

import (
	"log/slog"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestConformance runs the engine's conformance suite: every model variant
// against the float64 reference, with a float32 KV cache, with tiny prefill
// chunks (chunked prefill on every variant) and on one thread. The
// half-precision KV cache (the default on SIMD kernel sets) is lossy by
// design (about 1e-3 of the logits' RMS), beyond the suite's tolerance for
// float32 models; cpu_test.go and stories_test.go check it.
func TestConformance(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	t.Run("kv-f32", func(t *testing.T) {
		enginetest.RunAll(t, func(m *model.Model) (model.Runner, error) {
			return New(m, Options{Logger: quiet, KVF32: true, FloatActivations: true})
		})
	})
	// Integer activations (the default for quantized weights where the kernel
	// set has integer kernels) are lossy too, but well inside the suite's
	// tolerance; qint_test.go measures their effect on the next token.
	for _, spec := range enginetest.Models() {
		if spec.QuantBits == 0 {
			continue
		}
		t.Run("int-activations/"+spec.Name(), func(t *testing.T) {
			enginetest.Run(t, spec, func(m *model.Model) (model.Runner, error) { return New(m, Options{Logger: quiet, KVF32: true}) })
		})
	}
	// The other settings on a few variants: plain, stories260K-shaped,
	// sliding window, 4-bit groups of 32 (what they change is shape-blind).
	models := enginetest.Models()
	for name, opts := range map[string]Options{
		"chunk3":        {Logger: quiet, PrefillChunk: 3, KVF32: true, FloatActivations: true},
		"single-thread": {Logger: quiet, Threads: 1, KVF32: true, FloatActivations: true},
		"kv-block3":     {Logger: quiet, KVBlock: 3, KVF32: true, FloatActivations: true},
	} {
		for _, spec := range []int{0, 6, 8, 13} {
			t.Run(name+"/"+models[spec].Name(), func(t *testing.T) {
				enginetest.Run(t, models[spec], func(m *model.Model) (model.Runner, error) { return New(m, opts) })
			})
		}
	}
}
