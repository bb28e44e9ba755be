package hfref

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
)

// Tolerance is the largest difference allowed between an executor's logits
// and the oracle's, relative to the RMS of the oracle's logits at that position.
const Tolerance = 1e-4

// NewRunner builds the executor under test for an opened model.
type NewRunner func(m *model.Model) (model.Runner, error)

// Check opens the model in dir, runs it with newRunner over ids, and compares
// the logits at every position with Logits on the same weights (MLX layers
// dequantized). The executor reads the prompt in two ways: one token at a
// time (its decode path) and all at once after the first token (its prefill
// path); both must match.
func Check(t testing.TB, dir string, ids []int, newRunner NewRunner) {
	t.Helper()
	config, w, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Logits(config, w, ids)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	r, err := newRunner(m)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tokens := make([]int32, len(ids))
	for i, id := range ids {
		tokens[i] = int32(id)
	}

	seq, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	for p := range tokens {
		got, err := seq.Forward(context.Background(), tokens[p:p+1])
		if err != nil {
			t.Fatalf("%s: position %d: %v", r.Backend(), p, err)
		}
		if msg := compare(got, want[p]); msg != "" {
			t.Errorf("%s, token by token, position %d: %s", r.Backend(), p, msg)
		}
	}

	prefill, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer prefill.Close()
	if _, err := prefill.Forward(context.Background(), tokens[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := prefill.Forward(context.Background(), tokens[1:])
	if err != nil {
		t.Fatalf("%s: prefill: %v", r.Backend(), err)
	}
	if msg := compare(got, want[len(ids)-1]); msg != "" {
		t.Errorf("%s, prefill of %d tokens: %s", r.Backend(), len(ids)-1, msg)
	}
}

// compare returns "" when got is within Tolerance of want, else what differs.
func compare(got []float32, want []float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d logits, want %d", len(got), len(want))
	}
	var ss, worst float64
	at := 0
	for i, w := range want {
		ss += w * w
		if d := math.Abs(float64(got[i]) - w); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	rms := math.Sqrt(ss / float64(len(want)))
	if worst > Tolerance*rms || math.IsNaN(worst) {
		return fmt.Sprintf("logit %d is %g, the oracle's %g: %.2g of the logits' RMS %.3g (tolerance %g)",
			at, got[at], want[at], worst/rms, rms, Tolerance)
	}
	return ""
}
