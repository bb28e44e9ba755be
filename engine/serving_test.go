package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/enginetest"
	"github.com/mlx-manager/mlx-manager/engine/graph"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

func newServingEngine(t *testing.T, sc SchedConfig, newRunner NewRunner) *Engine {
	t.Helper()
	if newRunner == nil {
		newRunner = func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 2})
		}
	}
	e, err := New(Options{ModelsDir: t.TempDir(), NewRunner: newRunner, Pool: pool.Config{BudgetBytes: 1 << 30},
		Sched: sc, Logger: slog.New(slog.DiscardHandler), Folders: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// tokensOf is a result's generated tokens, as the logprobs name them.
func tokensOf(r *Result) []string {
	out := make([]string, len(r.Logprobs))
	for i, lp := range r.Logprobs {
		out[i] = lp.Token
	}
	return out
}

// concurrentMatchesAlone runs reqs one at a time on one engine and all at once
// on another (lockstep steps, small prompt chunks, fewer slots than requests),
// and expects the same tokens for each request.
func concurrentMatchesAlone(t *testing.T, reqs []CompletionRequest, newRunner NewRunner) *Engine {
	t.Helper()
	for i := range reqs {
		reqs[i].Options.Logprobs = true
	}
	alone := newServingEngine(t, SchedConfig{Prefix: PrefixConfig{Seqs: -1}}, newRunner)
	want := make([]*Result, len(reqs))
	for i, r := range reqs {
		res, err := alone.Complete(context.Background(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res
	}
	together := newServingEngine(t, SchedConfig{Parallel: 6, Chunk: 4, straggle: -1}, newRunner)
	got := make([]*Result, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			ctx := WithCaller(context.Background(), fmt.Sprint("user", i%3))
			got[i], errs[i] = together.Complete(ctx, r, nil)
		})
	}
	wg.Wait()
	for i := range reqs {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if a, b := tokensOf(got[i]), tokensOf(want[i]); !slices.Equal(a, b) || got[i].Content != want[i].Content || got[i].FinishReason != want[i].FinishReason {
			t.Errorf("request %d: together %q (%s), alone %q (%s)", i, a, got[i].FinishReason, b, want[i].FinishReason)
		}
	}
	return together
}

func varied(model string, prompts []string) []CompletionRequest {
	seed := int64(11)
	var reqs []CompletionRequest
	for i, p := range prompts {
		o := GenOptions{MaxTokens: 4 + 5*i}
		if i == 3 {
			o.Sampling.Temperature, o.Sampling.Seed = 0.9, &seed // its own sampler and seed
		}
		reqs = append(reqs, CompletionRequest{Model: model, Prompt: p, Options: o})
	}
	return reqs
}

// TestConcurrentMatchesAlone: 8 requests of different lengths decoded together
// give each the tokens it gets alone, on a generated model.
func TestConcurrentMatchesAlone(t *testing.T) {
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 5, MaxPos: 1024})
	prompts := []string{"hi", "Tell me a long story about a cat and a dog who live in a small house by the sea.",
		"one two three", "Why is the sky blue?", "a", "Count: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
		"The quick brown fox", "Write a haiku about winter mornings and coffee."}
	e := concurrentMatchesAlone(t, varied(dir, prompts), nil)
	st := e.Serving()
	if len(st) != 1 || st[0].Running != 0 || st[0].Waiting != 0 || st[0].Slots != 6 || st[0].Steps == 0 {
		t.Fatalf("serving %+v", st)
	}
	t.Logf("%d steps, mean batch %.2f", st[0].Steps, st[0].MeanBatch)
}

// TestConcurrentMatchesAloneStories is the same on the real stories260K model.
func TestConcurrentMatchesAloneStories(t *testing.T) {
	dir := enginetest.Stories(t)
	prompts := []string{"Once upon a time", "Lily had a red ball", "The dog ran", "Tom and Sue went to the park to play on the swings",
		"One day", "The sun was hot and the birds sang", "A little girl named Mia", "Ben"}
	concurrentMatchesAlone(t, varied(dir, prompts), nil)
}

// TestConcurrentGraphRunner: an executor without ForwardBatch goes through the
// same scheduler, one sequence a step.
func TestConcurrentGraphRunner(t *testing.T) {
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 5, MaxPos: 1024})
	newGraph := func(ctx context.Context, m *model.Model) (model.Runner, error) {
		return graph.New(ctx, m, graph.Options{})
	}
	e := concurrentMatchesAlone(t, varied(dir, []string{"hi", "Why is the sky blue?", "one two three four five six"}), newGraph)
	if st := e.Serving(); st[0].MeanBatch != 1 {
		t.Fatalf("graph steps hold one sequence: %+v", st)
	}
}

// TestCancelledRequestFreesItsSlot: with one slot, a request whose client goes
// away after its first token leaves at once, and the request waiting behind it
// runs to the end.
func TestCancelledRequestFreesItsSlot(t *testing.T) {
	e := newServingEngine(t, SchedConfig{Parallel: 1}, nil)
	dir := tinyModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	next := make(chan error, 1)
	var started sync.Once
	_, err := e.Complete(ctx, CompletionRequest{Model: dir, Prompt: "hello there", Options: GenOptions{MaxTokens: 200}}, func(Delta) error {
		started.Do(func() {
			go func() {
				res, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "and you", Options: GenOptions{MaxTokens: 5}}, nil)
				if err == nil && res.Usage.CompletionTokens == 0 {
					err = errors.New("nothing generated")
				}
				next <- err
			}()
			cancel()
		})
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	if err := <-next; err != nil {
		t.Fatalf("the request behind it: %v", err)
	}
	if st := e.Serving(); st[0].Running != 0 || st[0].Waiting != 0 {
		t.Fatalf("serving %+v", st)
	}
}

// TestPrefixReuseAcrossConversations: three conversations take turns; each
// one's second turn reuses its own first turn, though the others ran between;
// and requests sharing a long system prompt reuse it.
func TestPrefixReuseAcrossConversations(t *testing.T) {
	e := newServingEngine(t, SchedConfig{}, nil)
	dir := tinyModelSpec(t, modeltest.Spec{Seed: 5, MaxPos: 2048})
	ask := func(msgs []Message) *Result {
		t.Helper()
		res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: msgs, Options: GenOptions{MaxTokens: 8}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	sys := Message{Role: "system", Content: "Be brief."}
	topics := []string{"Tell me about the history of the bicycle and who made the first one.",
		"Describe how bread is baked, from flour and water to a crust.", "Explain why the moon has phases when it orbits the earth."}
	var convs [][]Message
	var firsts []int
	for _, q := range topics {
		msgs := []Message{sys, {Role: "user", Content: q}}
		r := ask(msgs)
		convs = append(convs, append(msgs, Message{Role: "assistant", Content: r.Content}))
		firsts = append(firsts, r.Usage.PromptTokens)
	}
	if st := e.Serving()[0].Prefix; st.Kept != len(topics) {
		t.Errorf("a first turn took another conversation's cache for the short system prompt: %+v", st)
	}
	for i, c := range convs {
		r := ask(append(c, Message{Role: "user", Content: "And then?"}))
		if r.Usage.CachedTokens < firsts[i] {
			t.Errorf("conversation %d: second turn reused %d tokens, its first turn had %d", i, r.Usage.CachedTokens, firsts[i])
		}
	}

	long := Message{Role: "system", Content: strings.Repeat("You are a careful assistant who answers questions about gardening. ", 6)}
	var hits int
	for i, q := range []string{"Roses?", "Tulips?", "Ferns?", "Moss?"} {
		r := ask([]Message{long, {Role: "user", Content: q}})
		if i > 0 && r.Usage.CachedTokens*4 >= r.Usage.PromptTokens*3 {
			hits++
		}
	}
	if hits != 3 {
		t.Errorf("%d of 3 requests reused the shared system prompt", hits)
	}
	if st := e.Serving()[0].Prefix; st.Hits == 0 || st.Lookups == 0 || st.Kept == 0 || st.Kept > DefaultPrefixSeqs {
		t.Errorf("prefix stats %+v", st)
	}
}

// TestSetParallel: the slots change live on a loaded model, and 0 brings back
// the engine's own setting.
func TestSetParallel(t *testing.T) {
	e := newServingEngine(t, SchedConfig{Parallel: 2}, nil)
	dir := tinyModel(t)
	if _, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "hi", Options: GenOptions{MaxTokens: 2}}, nil); err != nil {
		t.Fatal(err)
	}
	e.SetParallel(5)
	if st := e.Serving(); e.Parallel() != 5 || st[0].Slots != 5 {
		t.Fatalf("after SetParallel(5): %d, %+v", e.Parallel(), st)
	}
	e.SetParallel(0)
	if st := e.Serving(); e.Parallel() != 2 || st[0].Slots != 2 {
		t.Fatalf("after SetParallel(0): %d, %+v", e.Parallel(), st)
	}
}

// TestSetModelParallel: a model given its own slots (a profile's parallel) gets
// them at load and live, keeps them when the engine-wide setting changes, and
// follows that setting again once its own is removed; other models are not
// touched.
func TestSetModelParallel(t *testing.T) {
	e := newServingEngine(t, SchedConfig{Parallel: 2}, nil)
	own, other := tinyModel(t), tinyModel(t)
	complete := func(dir string) {
		t.Helper()
		if _, err := e.Complete(context.Background(), CompletionRequest{Model: dir, Prompt: "hi", Options: GenOptions{MaxTokens: 2}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	slots := func() map[string]int {
		m := map[string]int{}
		for _, s := range e.Serving() {
			m[s.Model] = s.Slots
		}
		return m
	}
	e.SetModelParallel(map[string]int{own: 6, "some/unloaded": 3, "zero/ignored": 0})
	complete(own)
	complete(other)
	if s := slots(); s[own] != 6 || s[other] != 2 {
		t.Fatalf("loaded with %v, want %s 6 and %s 2", s, own, other)
	}
	e.SetParallel(3)
	if s := slots(); s[own] != 6 || s[other] != 3 {
		t.Fatalf("after SetParallel(3): %v", s)
	}
	e.SetModelParallel(map[string]int{own: 1})
	if s := slots(); s[own] != 1 || s[other] != 3 {
		t.Fatalf("after SetModelParallel(1): %v", s)
	}
	e.SetModelParallel(nil)
	if s := slots(); s[own] != 3 || s[other] != 3 || e.Parallel() != 3 {
		t.Fatalf("after SetModelParallel(nil): %v, parallel %d", s, e.Parallel())
	}
}
