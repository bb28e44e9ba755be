package graph

import (
	"context"
	"encoding/json"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/model"
	_ "github.com/mlx-manager/mlx-manager/engine/model/all" // registers LlamaForCausalLM
)

func openStories(tb testing.TB) (*model.Model, model.Runner) {
	tb.Helper()
	m, err := model.Open(context.Background(), enginetest.Stories(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	r, err := New(context.Background(), m, Options{Backend: "go"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return m, r
}

// storiesPrompt is "Once upon a time" with BOS.
var storiesPrompt = []int32{1, 403, 407, 261, 378}

// greedy decodes from prompt until a stop token or limit tokens.
func greedy(tb testing.TB, seq model.Sequence, prompt []int32, stop []int, limit int) []int32 {
	tb.Helper()
	ctx := context.Background()
	logits, err := seq.Forward(ctx, prompt)
	if err != nil {
		tb.Fatal(err)
	}
	var out []int32
	for len(out) < limit {
		next := int32(slices.Index(logits, slices.Max(logits)))
		out = append(out, next)
		if slices.Contains(stop, int(next)) {
			break
		}
		if logits, err = seq.Forward(ctx, []int32{next}); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// decodePieces turns SentencePiece-style ids into text with the model's own
// vocabulary: "▁" is a space and <0xNN> pieces are bytes.
func decodePieces(tb testing.TB, dir string, ids []int32) string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var tok struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil {
		tb.Fatal(err)
	}
	pieces := make(map[int]string, len(tok.Model.Vocab))
	for p, id := range tok.Model.Vocab {
		pieces[id] = p
	}
	var b strings.Builder
	for _, id := range ids {
		p := pieces[int(id)]
		if strings.HasPrefix(p, "<0x") && len(p) == 6 {
			if v, err := strconv.ParseUint(p[3:5], 16, 8); err == nil {
				b.WriteByte(byte(v))
				continue
			}
		}
		b.WriteString(strings.ReplaceAll(p, "▁", " "))
	}
	return b.String()
}

// BenchmarkStoriesDecode measures single-token decode steps on stories260K
// (tokens/s is b.N/elapsed), the cache growing from 64 to 256 slots.
func BenchmarkStoriesDecode(b *testing.B) {
	m, r := openStories(b)
	ctx := context.Background()
	var seq model.Sequence
	start := func() {
		if seq != nil {
			_ = seq.Close()
		}
		var err error
		if seq, err = r.NewSequence(m.Config.MaxPositionEmbeddings); err != nil {
			b.Fatal(err)
		}
		if _, err := seq.Forward(ctx, storiesPrompt); err != nil {
			b.Fatal(err)
		}
	}
	start()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if seq.Len() >= 256 {
			b.StopTimer()
			start()
			b.StartTimer()
		}
		if _, err := seq.Forward(ctx, []int32{int32(i%500 + 3)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	_ = seq.Close()
}

// BenchmarkStoriesCompile measures a fresh runner's first decode step, which
// builds and compiles the graph for its shape, against the second step at
// the same shape: the difference is the compile time.
func BenchmarkStoriesCompile(b *testing.B) {
	m, err := model.Open(context.Background(), enginetest.Stories(b))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	var first, second time.Duration
	for b.Loop() {
		r, err := New(ctx, m, Options{Backend: "go"})
		if err != nil {
			b.Fatal(err)
		}
		seq, err := r.NewSequence(64)
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range []*time.Duration{&first, &second} {
			t0 := time.Now()
			if _, err := seq.Forward(ctx, []int32{int32(1 + i)}); err != nil {
				b.Fatal(err)
			}
			*d += time.Since(t0)
		}
		_ = seq.Close()
		_ = r.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(first.Microseconds())/n/1000, "ms/first-step")
	b.ReportMetric(float64((first-second).Microseconds())/n/1000, "ms/compile")
}
