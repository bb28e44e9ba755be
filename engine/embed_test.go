package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/hfref"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// newExactEngine runs the CPU executor in float32 throughout, so vectors can
// be compared with the float64 oracle within 1e-5.
func newExactEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{
		ModelsDir: t.TempDir(),
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true})
		},
		Pool:    pool.Config{BudgetBytes: 1 << 30},
		Logger:  slog.New(slog.DiscardHandler),
		Folders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sentenceModel writes an encoder with sentence-transformers files.
func sentenceModel(t *testing.T, spec modeltest.Spec, p modeltest.Pooling) string {
	t.Helper()
	dir := tinyModelSpec(t, spec)
	if err := modeltest.WriteSentenceTransformers(dir, p, 64); err != nil {
		t.Fatal(err)
	}
	return dir
}

// oracleVector is the sentence vector sentence-transformers computes for
// text (tokenized with the model's tokenizer), in float64.
func oracleVector(t *testing.T, dir, text, mode string, normalize bool) []float64 {
	t.Helper()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, id := range tok.Encode(text, true) {
		ids = append(ids, int(id))
	}
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hfref.Encode(config, w, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := hfref.Pool(h, mode, normalize)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func within(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol {
			t.Fatalf("%s: value %d is %g, want %g", what, i, got[i], want[i])
		}
	}
}

// TestEmbedSentenceTransformers: an encoder pools as its 1_Pooling and
// Normalize modules say, with its named prompt, matching the oracle.
func TestEmbedSentenceTransformers(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	for _, c := range []struct {
		arch, mode string
		normalize  bool
	}{{"bert", "mean", true}, {"bertmlm", "cls", true}, {"xlmr", "mean", false}} {
		t.Run(c.arch+"-"+c.mode, func(t *testing.T) {
			dir := sentenceModel(t, modeltest.Spec{Arch: c.arch, Seed: 5},
				modeltest.Pooling{Mode: c.mode, Normalize: c.normalize, Prompts: map[string]string{"query": "query: ", "document": ""}})
			res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{"the cat sat on the mat", "paris is the capital of france"}, InputType: "query"})
			if err != nil {
				t.Fatal(err)
			}
			within(t, "query 0", res.Vectors[0], oracleVector(t, dir, "query: the cat sat on the mat", c.mode, c.normalize), 1e-5)
			within(t, "query 1", res.Vectors[1], oracleVector(t, dir, "query: paris is the capital of france", c.mode, c.normalize), 1e-5)
			doc, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{"the cat sat on the mat"}, InputType: "document"})
			if err != nil {
				t.Fatal(err)
			}
			within(t, "document", doc.Vectors[0], oracleVector(t, dir, "the cat sat on the mat", c.mode, c.normalize), 1e-5)
			if _, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{"x"}, InputType: "qeury"}); !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("unknown input type: %v", err)
			}
		})
	}
}

// TestEmbedNomic: nomic-embed-text (NomicBertModel, mean pooling and
// normalisation) matches the oracle, and input_type puts the task prefix it
// was trained with before the text when its files name no prompts.
func TestEmbedNomic(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	dir := sentenceModel(t, modeltest.Spec{Arch: "nomic", Seed: 6}, modeltest.Pooling{Mode: "mean", Normalize: true})
	text := "what is the capital of france"
	for _, c := range []struct{ inputType, prefix string }{
		{"", ""}, {"search_query", "search_query: "}, {"query", "search_query: "},
		{"search_document", "search_document: "}, {"clustering", "clustering: "},
	} {
		res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{text, "the cat sat on the mat"}, InputType: c.inputType})
		if err != nil {
			t.Fatal(err)
		}
		within(t, "input type "+c.inputType, res.Vectors[0], oracleVector(t, dir, c.prefix+text, "mean", true), 1e-5)
		within(t, "input type "+c.inputType, res.Vectors[1], oracleVector(t, dir, c.prefix+"the cat sat on the mat", "mean", true), 1e-5)
	}
}

// TestEmbedModernBert: ModernBERT embedding models (modernbert-embed-base's
// layout: ModernBertModel, mean pooling, normalised) match the oracle when
// inputs of different lengths, longer than the local layers' window, share
// one batch: each input's local attention stays inside it.
func TestEmbedModernBert(t *testing.T) {
	e := newExactEngine(t)
	dir := sentenceModel(t, modeltest.Spec{Arch: "modernbert", Seed: 14, Layers: 3}, modeltest.Pooling{Mode: "mean", Normalize: true})
	texts := []string{"the cat sat on the mat and the dog sat on the log", "paris is the capital of france", "cat"}
	res, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Inputs: texts})
	if err != nil {
		t.Fatal(err)
	}
	for i, text := range texts {
		within(t, text, res.Vectors[i], oracleVector(t, dir, text, "mean", true), 1e-5)
	}
	if k := describe("x", dir).Kind; k != KindEmbedding {
		t.Errorf("kind %q", k)
	}
}

// TestRerankModernBert: a ModernBertForSequenceClassification cross-encoder
// (gte-reranker-modernbert-base's architecture) scores each pair, several
// pairs to one batch, as the oracle's head over the mean of the pair's
// states does (classifier_pooling "mean").
func TestRerankModernBert(t *testing.T) {
	e := newExactEngine(t)
	dir := tinyModelSpec(t, modeltest.Spec{Arch: "modernbertcls", Seed: 15, Layers: 3})
	query := "what is the capital of france"
	docs := []string{"paris is the capital of france", "the cat sat on the mat and the dog sat on the log", "berlin"}
	res, err := e.Rerank(context.Background(), RerankRequest{Model: dir, Query: query, Documents: docs})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(docs) {
		t.Fatalf("%d results", len(res.Results))
	}
	for _, r := range res.Results {
		ids, _, err := tok.EncodePair(query, docs[r.Index])
		if err != nil {
			t.Fatal(err)
		}
		is := make([]int, len(ids))
		for k, id := range ids {
			is[k] = int(id)
		}
		logits, err := hfref.Classify(config, w, is, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 / (1 + math.Exp(-logits[0])); math.Abs(r.Score-want) > 1e-5 {
			t.Errorf("document %d: score %.7f, want %.7f", r.Index, r.Score, want)
		}
	}
}

// TestEmbedNomicMatryoshka: nomic-embed-text-v1.5, known by its
// config.json's _name_or_path or by its name, shrinks a vector to
// dimensions as its model card does (layer norm over the full width, cut,
// L2 norm), matching the oracle; a full-width request is the plain vector;
// another NomicBertModel (v1) is cut and renormalised.
func TestEmbedNomicMatryoshka(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	v1 := sentenceModel(t, modeltest.Spec{Arch: "nomic", Seed: 12}, modeltest.Pooling{Mode: "mean", Normalize: true})
	byConfig := sentenceModel(t, modeltest.Spec{Arch: "nomic", Seed: 12}, modeltest.Pooling{Mode: "mean", Normalize: true})
	setConfigKey(t, byConfig, "_name_or_path", "nomic-ai/nomic-embed-text-v1.5")
	byName := filepath.Join(t.TempDir(), "nomic-embed-text-v1.5")
	if err := os.Rename(sentenceModel(t, modeltest.Spec{Arch: "nomic", Seed: 12}, modeltest.Pooling{Mode: "mean", Normalize: true}), byName); err != nil {
		t.Fatal(err)
	}
	texts := []string{"search_query: what is the capital of france", "search_document: paris is the capital of france"}
	full := make([][]float64, len(texts))
	for i, text := range texts {
		full[i] = oracleVector(t, v1, text, "mean", false)
	}
	for _, dir := range []string{byConfig, byName} {
		for _, dims := range []int{8, 32} {
			res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: texts, Dimensions: dims})
			if err != nil {
				t.Fatal(err)
			}
			for i := range texts {
				within(t, fmt.Sprintf("%s, %d dimensions, input %d", filepath.Base(dir), dims, i), res.Vectors[i], hfref.Matryoshka(full[i], dims), 1e-5)
			}
		}
		res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: texts[:1], Dimensions: 64})
		if err != nil {
			t.Fatal(err)
		}
		within(t, "full width", res.Vectors[0], oracleVector(t, v1, texts[0], "mean", true), 1e-5)
	}
	res, err := e.Embed(ctx, EmbedRequest{Model: v1, Inputs: texts[:1], Dimensions: 8})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float64(nil), full[0][:8]...)
	var ss float64
	for _, x := range want {
		ss += x * x
	}
	for i := range want {
		want[i] /= math.Sqrt(ss)
	}
	within(t, "v1, 8 dimensions", res.Vectors[0], want, 1e-5)
}

// setConfigKey sets one key of dir's config.json.
func setConfigKey(t *testing.T, dir, key string, value any) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c[key] = value
	if raw, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEmbedTruncation: an input over max_seq_length is an error unless
// truncation is asked for, which is then reported.
func TestEmbedTruncation(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	dir := sentenceModel(t, modeltest.Spec{Arch: "bert", Seed: 6}, modeltest.Pooling{Mode: "mean", Normalize: true, MaxSeqLength: 8})
	long := strings.Repeat("cat ", 20)
	_, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{long}})
	var cl *ContextLengthError
	if !errors.As(err, &cl) || cl.ContextLength != 8 {
		t.Fatalf("long input: %v, want a context-length error of 8", err)
	}
	res, err := e.Embed(ctx, EmbedRequest{Model: dir, Inputs: []string{"dog", long}, Truncate: true, Dimensions: 16})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Truncated) != 1 || res.Truncated[0] != 1 || res.MaxTokens != 8 || res.PromptTokens != 3+8 {
		t.Fatalf("truncated %v to %d, %d tokens", res.Truncated, res.MaxTokens, res.PromptTokens)
	}
	// The cut keeps [SEP]: the vector is that of the first 7 tokens and [SEP].
	want := oracleVector(t, dir, strings.Repeat("cat ", 6), "mean", false)
	var ss float64
	for _, x := range want[:16] {
		ss += x * x
	}
	for i := range want[:16] {
		want[i] /= math.Sqrt(ss)
	}
	within(t, "truncated, 16 dimensions", res.Vectors[1], want[:16], 1e-5)
}

// TestEmbedTokenInputs: token ids are embedded as given.
func TestEmbedTokenInputs(t *testing.T) {
	e := newExactEngine(t)
	dir := sentenceModel(t, modeltest.Spec{Arch: "bert", Seed: 7}, modeltest.Pooling{Mode: "mean", Normalize: true})
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("hello world", true)
	a, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Tokens: [][]int32{ids}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Inputs: []string{"hello world"}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "token input", a.Vectors[0], widen(b.Vectors[0]), 0)
	if _, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Tokens: [][]int32{{2, 99999}}}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("token outside the vocabulary: %v", err)
	}
}

func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestEmbedKinds: a chat model is refused unless asked for mean pooling;
// an embedding model refuses to chat; the library says which is which.
func TestEmbedKinds(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	chat := tinyModel(t)
	_, err := e.Embed(ctx, EmbedRequest{Model: chat, Inputs: []string{"a cat"}})
	if c, _ := Classify(err); !errors.Is(err, ErrNotEmbedding) || c.Code != "model_not_embedding" || c.Kind != KindInvalid {
		t.Fatalf("chat model: %v (%+v)", err, c)
	}
	if st := e.Status(); len(st) != 0 {
		t.Errorf("the refused chat model was loaded: %+v", st)
	}
	if res, err := e.Embed(ctx, EmbedRequest{Model: chat, Inputs: []string{"a cat"}, AnyModel: true}); err != nil || len(res.Vectors[0]) != 64 {
		t.Fatalf("opt-in mean pooling: %v", err)
	}
	enc := sentenceModel(t, modeltest.Spec{Arch: "bert", Seed: 8}, modeltest.Pooling{Mode: "mean", Normalize: true})
	_, err = e.Complete(ctx, CompletionRequest{Model: enc, Prompt: "hello", Options: GenOptions{MaxTokens: 2}}, nil)
	if c, _ := Classify(err); !errors.Is(err, ErrNotChat) || c.Code != "model_not_chat" {
		t.Fatalf("completion on an encoder: %v", err)
	}
	for dir, want := range map[string]string{chat: KindChat, enc: KindEmbedding, tinyModelSpec(t, modeltest.Spec{Arch: "bertcls", Seed: 1}): KindReranker} {
		if got := describe("x", dir).Kind; got != want {
			t.Errorf("%s: kind %q, want %q", dir, got, want)
		}
	}
}

// TestEmbedQwen3LastToken: a decoder shipped with a last-token Pooling
// module, in Qwen3-Embedding's bare layout (no "model." prefix, no lm_head),
// is an embedding model whose vector is the normalised final state of its
// last token.
func TestEmbedQwen3LastToken(t *testing.T) {
	e := newExactEngine(t)
	dir := sentenceModel(t, modeltest.Spec{Arch: "qwen3", Seed: 9, Bare: true},
		modeltest.Pooling{Mode: "lasttoken", Normalize: true, Prompts: map[string]string{"query": "Instruct: find\nQuery:"}})
	res, err := e.Embed(context.Background(), EmbedRequest{Model: dir, Inputs: []string{"a cat"}, InputType: "query"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cpu.New(m, cpu.Options{Threads: 2, KVF32: true, FloatActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ids := tok.Encode("Instruct: find\nQuery:a cat", true)
	seq, err := r.NewSequence(len(ids))
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	h, err := seq.Hidden(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	last := widen(h[len(h)-64:])
	var ss float64
	for _, x := range last {
		ss += x * x
	}
	for i := range last {
		last[i] /= math.Sqrt(ss)
	}
	within(t, "last token", res.Vectors[0], last, 1e-6)
}

// TestRerank: the cross-encoder's scores are the sigmoid of the oracle's
// logit for each [CLS] query [SEP] document [SEP] pair, best first.
func TestRerank(t *testing.T) {
	e := newExactEngine(t)
	ctx := context.Background()
	dir := tinyModelSpec(t, modeltest.Spec{Arch: "bertcls", Seed: 10})
	docs := []string{"paris is the capital of france", "the cat sat on the mat", "berlin", "machine learning model"}
	res, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: "what is the capital of france", Documents: docs})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	config, w, err := hfref.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(docs) {
		t.Fatalf("%d results", len(res.Results))
	}
	seen := map[int]bool{}
	for i, r := range res.Results {
		if i > 0 && r.Score > res.Results[i-1].Score {
			t.Errorf("results not sorted: %+v", res.Results)
		}
		seen[r.Index] = true
		ids, types, err := tok.EncodePair("what is the capital of france", docs[r.Index])
		if err != nil {
			t.Fatal(err)
		}
		var is, ts []int
		for k := range ids {
			is, ts = append(is, int(ids[k])), append(ts, int(types[k]))
		}
		logits, err := hfref.Classify(config, w, is, ts)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 / (1 + math.Exp(-logits[0])); math.Abs(r.Score-want) > 1e-5 {
			t.Errorf("document %d: score %.7f, want %.7f", r.Index, r.Score, want)
		}
	}
	if len(seen) != len(docs) {
		t.Errorf("indexes %v", seen)
	}
	top, err := e.Rerank(ctx, RerankRequest{Model: dir, Query: "what is the capital of france", Documents: docs, TopN: 2})
	if err != nil || len(top.Results) != 2 || top.Results[0] != res.Results[0] {
		t.Fatalf("top_n 2: %+v, %v", top, err)
	}
	_, err = e.Rerank(ctx, RerankRequest{Model: dir, Query: "q", Documents: docs, Instruction: "find capitals"})
	if ie := new(InvalidError); !errors.As(err, &ie) || ie.Param != "instruction" {
		t.Errorf("an instruction to a cross-encoder: %v", err)
	}
	emb := sentenceModel(t, modeltest.Spec{Arch: "bert", Seed: 8}, modeltest.Pooling{Mode: "mean"})
	if _, err := e.Rerank(ctx, RerankRequest{Model: emb, Query: "q", Documents: docs}); !errors.Is(err, ErrNotReranker) {
		t.Errorf("rerank with an embedding model: %v", err)
	}
}
