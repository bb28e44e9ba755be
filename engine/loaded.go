package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
	"github.com/mlx-manager/mlx-manager/engine/sched"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
)

// NewRunner builds an executor for an opened model (engine/cpu or engine/graph);
// the app chooses which, so engine depends on neither.
type NewRunner func(ctx context.Context, m *model.Model) (model.Runner, error)

// loaded is one model ready to generate: weights, executor, tokenizer, template.
// The pool owns it; requests borrow it through a lease.
type loaded struct {
	id        string
	m         *model.Model
	runner    model.Runner
	tok       *tokenizer.Tokenizer
	tmpl      *chat.Template
	format    chat.Format // how the model writes tool calls
	reasoning bool        // the model writes <think>…</think>
	eos       map[int32]bool
	ctxLen    int
	kvUpFront int64   // KV cache charged with the weights, when the executor does not report it (chargeKV)
	kind      string  // KindChat, KindEmbedding or KindReranker
	pooling   pooling // of embedding models
	// scoreSigmoid: a reranker's score is the sigmoid of its logit, not the logit.
	scoreSigmoid bool
	yesNo        *yesNo       // a yes/no reranker's tokens (Qwen3-Reranker); nil otherwise
	vision       *visionInput // nil: the model reads text only (images.go)

	sched   *sched.Scheduler // runs every request's forward calls, batched
	prefix  prefixCache      // finished requests' sequences, for prefix reuse
	onClose func()           // the engine forgets the model; nil: nothing to do

	maskOnce sync.Once
	masker   *grammar.Masker
	maskErr  error
}

// openLoaded opens the model folder dir and everything needed to run it.
func openLoaded(ctx context.Context, id, dir string, newRunner NewRunner, so SchedConfig) (*loaded, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	tmpl, err := chat.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	m, err := model.Open(ctx, dir)
	if err != nil {
		if errors.Is(err, model.ErrUnsupportedArch) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	if tok.VocabSize() > m.Config.VocabSize {
		m.Close()
		return nil, fmt.Errorf("load %s: tokenizer has %d tokens but the model only %d", id, tok.VocabSize(), m.Config.VocabSize)
	}
	r, err := newRunner(ctx, m)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	l := &loaded{id: id, m: m, runner: r, tok: tok, tmpl: tmpl, eos: map[int32]bool{}, ctxLen: m.Config.MaxPositionEmbeddings,
		sched: sched.New(r, so.sched())}
	l.prefix.cfg = so.Prefix
	for _, id := range m.StopTokens() {
		l.eos[int32(id)] = true
	}
	for _, id := range tok.EOS() {
		l.eos[id] = true
	}
	if err := l.readKind(dir); err != nil {
		l.Close()
		return nil, fmt.Errorf("load %s: %w", id, err)
	}
	if v, ok := m.Def.(model.Vision); ok {
		l.vision = loadVision(dir, v, tok, slog.Default())
	}
	src := tmpl.Source()
	l.format = chat.DetectFormat(src, m.Config.ModelType)
	l.reasoning = chat.DetectReasoning(src)
	return l, nil
}

// Close frees the executor and unmaps the weights.
func (l *loaded) Close() error {
	if l.onClose != nil {
		l.onClose()
	}
	l.sched.Close()
	l.dropCache()
	return errors.Join(l.runner.Close(), l.m.Close())
}

// ResidentBytes is what the model holds in memory: its weights (mapped and
// read in full once used, or held in memory whole: model's ResidentBytes).
// The executor's KV cache is charged to the pool as its blocks are taken
// (chargeKV), or here up front when the executor cannot say.
func (l *loaded) ResidentBytes() int64 { return l.m.ResidentBytes() + l.kvUpFront }

// grammarMasker builds the vocabulary trie once per model, on first constrained request.
func (l *loaded) grammarMasker() (*grammar.Masker, error) {
	l.maskOnce.Do(func() {
		n := l.m.Config.VocabSize
		vocab := make([][]byte, n)
		special := make([]bool, n)
		for id := 0; id < n; id++ {
			if id >= l.tok.VocabSize() {
				special[id] = true // padding rows of the embedding: never generated
				continue
			}
			vocab[id] = l.tok.TokenBytes(int32(id))
			special[id] = l.tok.IsSpecial(int32(id))
		}
		var eos []int32
		for id := range l.eos {
			eos = append(eos, id)
		}
		l.masker, l.maskErr = grammar.NewMasker(vocab, special, eos...)
	})
	return l.masker, l.maskErr
}

// estimateBytes is what loading dir will take (see EstimateMemory).
func estimateBytes(dir string, ctxLen int) (int64, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return 0, fmt.Errorf("estimate %s: %w", dir, err)
	}
	var weights int64
	matches, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	for _, p := range matches {
		if st, err := os.Stat(p); err == nil {
			weights += st.Size()
		}
	}
	n, err := EstimateMemory(raw, weights, ctxLen)
	if err != nil {
		return 0, fmt.Errorf("estimate %s: %w", dir, err)
	}
	return n, nil
}

// EstimateMemory is what loading a model with this config.json and weightBytes of
// safetensors takes: the weights (mapped), a float32 KV cache for ctxLen tokens
// (DefaultContext when 0, none when negative, capped by the model's window)
// and a margin for executor buffers. The pool plans a load without the KV
// cache (ctxLen -1), which is charged as sequences take it (kvbudget.go).
func EstimateMemory(configJSON []byte, weightBytes int64, ctxLen int) (int64, error) {
	cfg, err := model.ParseConfig(configJSON)
	if err != nil {
		return 0, err
	}
	if ctxLen == 0 {
		ctxLen = DefaultContext
	}
	ctxLen = max(min(ctxLen, cfg.MaxPositionEmbeddings), 0)
	kv := 2 * 4 * int64(cfg.NumHiddenLayers) * int64(cfg.NumKeyValueHeads) * int64(cfg.HeadDim) * int64(ctxLen)
	return weightBytes + kv + weightBytes/20 + 16<<20, nil
}
