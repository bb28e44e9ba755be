package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mlx-manager/mlx-manager/engine/model/all"
)

var tiny = Shape{Hidden: 64, Intermediate: 128, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 512, MaxPos: 64}

func TestMain(m *testing.M) {
	triadElems = 1 << 16 // the bandwidth figure is not under test; keep it fast
	os.Exit(m.Run())
}

func tinyOptions(t *testing.T) Options {
	return Options{CacheDir: t.TempDir(), Runs: 2, PromptTokens: 16, DecodeTokens: 8, Shape: tiny}
}

func TestRunAllPrecisions(t *testing.T) {
	opts := tinyOptions(t)
	var out bytes.Buffer
	res, err := Run(context.Background(), opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(Precisions) {
		t.Fatalf("%d results, want %d", len(res), len(Precisions))
	}
	for i, r := range res {
		if r.Precision != Precisions[i] || r.PrefillTokS <= 0 || r.DecodeTokS <= 0 || r.TTFTMs <= 0 ||
			r.WeightsBytes <= 0 || r.BandwidthGBs <= 0 || r.MachineGBs <= 0 || r.Params != tiny.Params() {
			t.Errorf("implausible result %+v", r)
		}
		if r.DecodeMin > r.DecodeTokS || r.DecodeTokS > r.DecodeMax {
			t.Errorf("%s: median %v outside %v..%v", r.Precision, r.DecodeTokS, r.DecodeMin, r.DecodeMax)
		}
	}
	// Quantized weights are smaller than float ones.
	if !(res[0].WeightsBytes > res[1].WeightsBytes && res[1].WeightsBytes > res[3].WeightsBytes && res[3].WeightsBytes > res[4].WeightsBytes) {
		t.Errorf("weight bytes f32 %d, bf16 %d, q8 %d, q4 %d", res[0].WeightsBytes, res[1].WeightsBytes, res[3].WeightsBytes, res[4].WeightsBytes)
	}
	for _, p := range Precisions {
		if !strings.Contains(out.String(), p) {
			t.Errorf("table lacks %s:\n%s", p, out.String())
		}
	}
}

func TestCacheReuseAndJSON(t *testing.T) {
	opts := tinyOptions(t)
	opts.Precisions, opts.Runs, opts.JSON = []string{"q4"}, 1, true
	if _, err := Run(context.Background(), opts, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	stampPath := filepath.Join(opts.CacheDir, "llama-0M-q4", "bench.json")
	// Date the stamp back so a rewrite shows in its mtime, whatever the file
	// system's timestamp resolution, without waiting for the clock to move.
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(stampPath, past, past); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(stampPath)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Run(context.Background(), opts, &out); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(stampPath)
	if err != nil {
		t.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("cached model was regenerated")
	}
	var res []Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 || res[0].Precision != "q4" {
		t.Fatalf("JSON output %q: %v", out.String(), err)
	}

	// A different shape is a different model: the stale one is replaced.
	opts.Shape.Layers = 3
	if _, err := Run(context.Background(), opts, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
}

func TestModelDir(t *testing.T) {
	opts := tinyOptions(t)
	dir, _, err := ensureModel(opts.CacheDir, "bf16", tiny)
	if err != nil {
		t.Fatal(err)
	}
	opts.ModelDir, opts.Runs = dir, 1
	res, err := Run(context.Background(), opts, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Model != dir {
		t.Fatalf("results %+v", res)
	}
}

func TestBadOptions(t *testing.T) {
	opts := tinyOptions(t)
	opts.Precisions = []string{"q3"}
	if _, err := Run(context.Background(), opts, &bytes.Buffer{}); err == nil {
		t.Error("unknown precision accepted")
	}
	opts = tinyOptions(t)
	opts.ModelDir = t.TempDir() // no config.json
	if _, err := Run(context.Background(), opts, &bytes.Buffer{}); err == nil {
		t.Error("empty model directory accepted")
	}
}

func TestShapeParams(t *testing.T) {
	// The reference model of the llama.cpp figures has 501M parameters.
	if p := DefaultShape.Params(); p < 500e6 || p > 502e6 {
		t.Errorf("default shape has %d parameters", p)
	}
}

// TestMoE benchmarks a tiny mixture of experts beside the dense model of its
// active size: the MoE has more parameters but reads as many per token.
func TestMoE(t *testing.T) {
	opts := tinyOptions(t)
	opts.MoE, opts.Precisions, opts.Runs = true, []string{"q8"}, 1
	opts.Shape = Shape{Hidden: 64, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2, Vocab: 512, MaxPos: 64, Experts: 4, TopK: 2}
	var out bytes.Buffer
	res, err := Run(context.Background(), opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Precision != "q8 moe" || res[1].Precision != "q8 dense" {
		t.Fatalf("results %+v", res)
	}
	moe, dense := res[0], res[1]
	if moe.Params != opts.Shape.Params() || dense.Params != opts.Shape.Dense().Params() || moe.Params <= dense.Params {
		t.Errorf("params: moe %d (shape %d), dense %d (shape %d)", moe.Params, opts.Shape.Params(), dense.Params, opts.Shape.Dense().Params())
	}
	// The same bytes per token but the router's (4 of 64 rows per layer).
	if r := float64(moe.WeightsBytes) / float64(dense.WeightsBytes); r < 1 || r > 1.05 {
		t.Errorf("moe reads %d bytes per token, dense %d", moe.WeightsBytes, dense.WeightsBytes)
	}
	if moe.ActiveParams >= moe.Params || dense.ActiveParams >= dense.Params || moe.ActiveParams < dense.ActiveParams {
		t.Errorf("active params: moe %d of %d, dense %d of %d", moe.ActiveParams, moe.Params, dense.ActiveParams, dense.Params)
	}
	if !strings.Contains(out.String(), "read per token") {
		t.Errorf("table lacks the active parameters:\n%s", out.String())
	}
}

func TestMoEShapeParams(t *testing.T) {
	// Issue #21's benchmark model: about 1B parameters, about 0.25B read per token.
	if p := MoEShape.Params(); p < 0.95e9 || p > 1.05e9 {
		t.Errorf("MoE shape has %d parameters", p)
	}
	if p := MoEShape.Dense().Params(); p < 0.2e9 || p > 0.3e9 {
		t.Errorf("its dense counterpart has %d parameters", p)
	}
}

func TestRunConcurrency(t *testing.T) {
	opts := tinyOptions(t)
	opts.Precisions = []string{"q8"}
	var out bytes.Buffer
	res, err := RunConcurrency(context.Background(), opts, []int{1, 2, 4}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	for i, r := range res {
		if r.Concurrency != []int{1, 2, 4}[i] || r.TokS <= 0 || r.TTFTMedMs <= 0 || r.TTFTP95Ms < r.TTFTMedMs ||
			r.MeanBatch < 1 || r.MeanBatch > float64(r.Concurrency) || r.Prompt != 16 || r.Decode != 8 {
			t.Errorf("implausible result %+v", r)
		}
	}
	if res[0].Speedup != 1 || !strings.Contains(out.String(), "TTFT p95") {
		t.Errorf("speedup %v; table:\n%s", res[0].Speedup, out.String())
	}
	if _, err := RunConcurrency(context.Background(), opts, []int{0}, &out); err == nil {
		t.Error("concurrency 0 accepted")
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	if p := percentile(v, 0.95); p != 10 {
		t.Errorf("p95 %v, want 10", p)
	}
	if p := percentile(v, 0.5); p != 5 {
		t.Errorf("p50 %v, want 5", p)
	}
}
