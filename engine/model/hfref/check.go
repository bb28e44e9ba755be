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
// its logits with Logits on the same weights (MLX layers dequantized): the
// whole prompt in one Forward (the prefill path) against the oracle's last
// position, and the prompt one token at a time (the decode path, over the KV
// cache) against the oracle run on each prefix.
//
// Longrope is compared on the prompt's first original_max_position_embeddings
// tokens only. transformers picks the factors per forward pass (the long ones
// for every position once the sequence is longer), while model.Rope applies
// the long factors per position (position ≥ LongFrom), so that a result does
// not depend on how a prompt is cut into chunks; the two agree while the
// sequence stays within the original context, and the oracle keeps
// transformers' rule (TestLongRopeFactors).
func Check(t testing.TB, dir string, ids []int, newRunner NewRunner) {
	t.Helper()
	config, w, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parse(config)
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

	if f.globalRope.kind == "longrope" && len(ids) > f.globalRope.origMax {
		ids, tokens = ids[:f.globalRope.origMax], tokens[:f.globalRope.origMax]
	}
	full, err := Logits(config, w, ids)
	if err != nil {
		t.Fatal(err)
	}
	prefill, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer prefill.Close()
	got, err := prefill.Forward(context.Background(), tokens)
	if err != nil {
		t.Fatalf("%s: prefill: %v", r.Backend(), err)
	}
	if msg := Compare(got, full[len(ids)-1]); msg != "" {
		t.Errorf("%s, prefill of %d tokens: %s", r.Backend(), len(ids), msg)
	}

	seq, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	for p := range ids {
		got, err := seq.Forward(context.Background(), tokens[p:p+1])
		if err != nil {
			t.Fatalf("%s: position %d: %v", r.Backend(), p, err)
		}
		want, err := Logits(config, w, ids[:p+1])
		if err != nil {
			t.Fatal(err)
		}
		if msg := Compare(got, want[p]); msg != "" {
			t.Errorf("%s, token by token, position %d: %s", r.Backend(), p, msg)
		}
	}
}

// Compare returns "" when got is within Tolerance of want's RMS, else what
// differs: the checks here and the vision tests (embeddings and logits) use it.
func Compare(got []float32, want []float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d values, want %d", len(got), len(want))
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
		return fmt.Sprintf("value %d is %g, the oracle's %g: %.2g of the RMS %.3g (tolerance %g)",
			at, got[at], want[at], worst/rms, rms, Tolerance)
	}
	return ""
}
