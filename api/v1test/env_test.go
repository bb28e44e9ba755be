package v1test

import (
	"bufio"
	"context"
	"encoding/json"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

// Model ids of the test models dir.
const (
	tinyID    = "test/tiny"
	thinkID   = "test/think" // the tiny model with a template that opens <think>
	storiesID = "test/stories260K"
	embedID   = "test/MiniLM-tiny"   // a BERT sentence-transformers model: mean pooling, normalised
	rerankID  = "test/reranker-tiny" // a BERT cross-encoder
	commit    = apitest.InstallCommit
)

// noEOS keeps the tiny random model from ending early, so token counts are exact.
var noEOS = map[string]float64{"2": -100}

// env is a running daemon: API server, engine and an API key.
type env struct {
	*apitest.Server
	eng  *engine.Engine
	key  string
	gate *gate
}

type envOptions struct {
	pool    pool.Config
	stories bool      // also install stories260K (the test is skipped when it is absent)
	think   bool      // also install thinkID
	encode  bool      // also install embedID and rerankID
	yesNo   bool      // also install yesNoID
	log     io.Writer // the server's log; nil: discarded
}

func start(t *testing.T, o envOptions) *env {
	t.Helper()
	logTo := o.log
	root := t.TempDir()
	install(t, root, tinyID, func(dir string) error { return modeltest.Write(dir, modeltest.Spec{Seed: 3, MaxPos: 1024}) })
	if o.encode {
		install(t, root, embedID, writeEmbedder)
		install(t, root, rerankID, func(dir string) error { return modeltest.Write(dir, modeltest.Spec{Arch: "bertcls", Seed: 4}) })
	}
	if o.yesNo {
		install(t, root, yesNoID, func(dir string) error {
			return modeltest.WriteYesNoReranker(dir, modeltest.Spec{Arch: "qwen3", Seed: 13})
		})
	}
	if o.think {
		install(t, root, thinkID, writeThinker)
	}
	if o.stories {
		src := enginetest.Stories(t)
		install(t, root, storiesID, func(dir string) error { return copyDir(src, dir) })
	}
	g := &gate{}
	if o.pool.BudgetBytes == 0 {
		o.pool.BudgetBytes = -1 // tests must not depend on the machine's memory
	}
	o.pool.Logger = quiet()
	eng, err := engine.New(engine.Options{
		ModelsDir: root, Pool: o.pool, Logger: quiet(),
		NewRunner: func(ctx context.Context, m *model.Model) (model.Runner, error) {
			r, err := cpu.New(m, cpu.Options{Threads: 1, Logger: quiet()})
			if err != nil {
				return nil, err
			}
			return &gatedRunner{Runner: r, g: g}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() }) // after the server's shutdown, registered later
	srv := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) {
		o.Engine = eng
		if logTo != nil {
			o.Logger = slog.New(slog.NewTextHandler(logTo, nil))
		}
	}})
	token := srv.Admin(t)
	return &env{Server: srv, eng: eng, key: srv.APIKey(t, token, "sdk"), gate: g}
}

// thinkTemplate is ChatML whose generation prompt opens a reasoning block, as
// DeepSeek-R1 distills do: everything the model writes until </think> is reasoning.
const thinkTemplate = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}{% if false %}</think>{% endif %}"

// writeEmbedder writes a tiny BERT with all-MiniLM-L6-v2's sentence-transformers
// layout: mean pooling, Normalize, and a max_seq_length (there 256, here 32).
func writeEmbedder(dir string) error {
	if err := modeltest.Write(dir, modeltest.Spec{Arch: "bert", Seed: 3}); err != nil {
		return err
	}
	return modeltest.WriteSentenceTransformers(dir, modeltest.Pooling{Mode: "mean", Normalize: true, MaxSeqLength: 32}, 64)
}

func writeThinker(dir string) error {
	if err := modeltest.Write(dir, modeltest.Spec{Seed: 3, MaxPos: 1024}); err != nil {
		return err
	}
	path := filepath.Join(dir, "tokenizer_config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	cfg["chat_template"] = thinkTemplate
	raw, err = json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

func quiet() *slog.Logger { return apitest.Quiet() }

// install writes a model as the Hugging Face cache holds it: plain files in
// snapshots/<commit> (as tools that copy instead of linking leave them) and refs/main.
// (apitest.InstallModel, under this package's short name.)
func install(t *testing.T, root, id string, write func(dir string) error) {
	t.Helper()
	apitest.InstallModel(t, root, id, write)
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gate slows or holds the executor so tests can observe a generation in flight:
// a fake at the narrow model.Runner interface, around the real CPU runner.
type gate struct {
	forwards atomic.Int64 // Forward calls: prefill plus one per decoded token
	delay    atomic.Int64 // nanoseconds each Forward waits
	mu       sync.Mutex
	hold     chan struct{} // while not nil, Forward waits for it to close; guarded by mu
}

func (g *gate) slow(d time.Duration) { g.delay.Store(int64(d)) }

func (g *gate) wait(ctx context.Context) error {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if d := time.Duration(g.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type gatedRunner struct {
	model.Runner
	g *gate
}

func (r *gatedRunner) NewSequence(maxLen int) (model.Sequence, error) {
	s, err := r.Runner.NewSequence(maxLen)
	if err != nil {
		return nil, err
	}
	return &gatedSeq{Sequence: s, g: r.g}, nil
}

type gatedSeq struct {
	model.Sequence
	g *gate
}

func (s *gatedSeq) Forward(ctx context.Context, tokens []int32) ([]float32, error) {
	s.g.forwards.Add(1)
	if err := s.g.wait(ctx); err != nil {
		return nil, err
	}
	return s.Sequence.Forward(ctx, tokens)
}

// post sends a /v1 request with the API key.
func (e *env) post(t *testing.T, path string, body any) *http.Response {
	t.Helper()
	return e.Do(t, "POST", path, e.key, body)
}

// call posts body, checks the status and decodes the JSON answer into out.
func (e *env) call(t *testing.T, path string, body any, want int, out any) {
	t.Helper()
	e.JSON(t, "POST", path, e.key, body, want, out)
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Name string
	Data string
}

func (ev sseEvent) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
		t.Fatalf("decode event %s %q: %v", ev.Name, ev.Data, err)
	}
}

// stream posts a streaming request and reads every event until the server ends it.
func (e *env) stream(t *testing.T, path string, body any) []sseEvent {
	t.Helper()
	resp := e.post(t, path, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	var evs []sseEvent
	r := newSSEReader(resp.Body)
	for {
		ev, ok := r.next()
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
}

type sseReader struct{ sc *bufio.Scanner }

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &sseReader{sc: sc}
}

// next returns the next event; comments (keep-alives) are skipped.
func (r *sseReader) next() (sseEvent, bool) {
	var ev sseEvent
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case line == "":
			if ev.Data != "" || ev.Name != "" {
				return ev, true
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data += strings.TrimPrefix(line, "data: ")
		}
	}
	return ev, false
}

// auditOf waits for the audit event of the latest /v1 request with action.
func (e *env) auditOf(t *testing.T, action string) store.AuditEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		page, err := e.Store.Audit().Query(store.AuditFilter{Action: action, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) > 0 {
			return page.Events[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit event %s", action)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Encode and Classify pass an encoder's passes through the gate, so the
// embedding and rerank models run under the same test controls.
func (s *gatedSeq) Encode(ctx context.Context, tokens, types []int32) ([]float32, error) {
	if err := s.g.wait(ctx); err != nil {
		return nil, err
	}
	return s.Sequence.(model.Encoder).Encode(ctx, tokens, types)
}

func (s *gatedSeq) Classify(ctx context.Context, tokens, types []int32) ([]float32, error) {
	if err := s.g.wait(ctx); err != nil {
		return nil, err
	}
	return s.Sequence.(model.Encoder).Classify(ctx, tokens, types)
}

func (s *gatedSeq) EncodeBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	if err := s.g.wait(ctx); err != nil {
		return nil, err
	}
	return s.Sequence.(model.Encoder).EncodeBatch(ctx, tokens, types)
}

func (s *gatedSeq) ClassifyBatch(ctx context.Context, tokens, types [][]int32) ([][]float32, error) {
	if err := s.g.wait(ctx); err != nil {
		return nil, err
	}
	return s.Sequence.(model.Encoder).ClassifyBatch(ctx, tokens, types)
}
