package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
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
)

// The two users of issue #27's fairness check: user A keeps fairLong long
// streamed requests in flight, user B sends one short request at a time.
const (
	fairModel      = "test/fair"
	fairLong       = 32
	fairLongTokens = 256
	fairShortMax   = 4
)

// fairSpec is big enough that a forward step, not HTTP, dominates a short
// request's time to first token (about 4M float32 parameters: a decode step of
// a few ms, a short prompt's prefill of about ten on a Zen 1 core), and small
// enough to load at once.
var fairSpec = modeltest.Spec{Hidden: 256, Intermediate: 768, Layers: 4, Heads: 8, KVHeads: 4, HeadDim: 32, MaxPos: 1024, Seed: 7}

// fairRig is the real API server and engine with A's and B's API keys.
type fairRig struct {
	srv        *apitest.Server
	eng        *engine.Engine
	keyA, keyB string
	longDone   atomic.Int64 // A's requests that streamed to the end
	longTokens atomic.Int64 // chunks A received
}

func startFair(tb testing.TB, threads int) *fairRig {
	tb.Helper()
	root := tb.TempDir()
	apitest.InstallModel(tb, root, fairModel, func(dir string) error { return modeltest.Write(dir, fairSpec) })
	eng, err := engine.New(engine.Options{ModelsDir: root, Logger: quiet(),
		Pool: pool.Config{BudgetBytes: -1, Logger: quiet()},
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: threads, Logger: quiet()})
		}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() }) // after the server's shutdown, registered later
	srv := apitest.Start(tb, apitest.Options{Configure: func(o *api.Options) { o.Engine = eng }})
	srv.Client.Transport = &http.Transport{MaxIdleConnsPerHost: 2 * fairLong}
	tb.Cleanup(srv.Client.CloseIdleConnections)
	admin := srv.Admin(tb)
	_, a := srv.ApprovedUser(tb, admin, "a@example.com")
	_, b := srv.ApprovedUser(tb, admin, "b@example.com")
	return &fairRig{srv: srv, eng: eng, keyA: srv.APIKey(tb, a, "long"), keyB: srv.APIKey(tb, b, "short")}
}

// stream sends a streamed chat request and reads it to [DONE]; first is
// called at its first data chunk (the first token: the role chunk goes out
// with it), each at every chunk.
func (r *fairRig) stream(ctx context.Context, key, body string, first, each func()) error {
	req, err := http.NewRequestWithContext(ctx, "POST", r.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := r.srv.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	sc := bufio.NewScanner(resp.Body)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "data: [DONE]":
			return nil
		case strings.HasPrefix(line, "data: {\"error\""):
			return fmt.Errorf("stream error: %s", line)
		case strings.HasPrefix(line, "data: "):
			if !seen {
				seen = true
				first()
			}
			each()
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("stream ended without [DONE]")
}

// short is B's request n: a short question (its own, so that the prefix cache
// does not answer it) and a few tokens of answer. It returns the time to the
// first token.
func (r *fairRig) short(ctx context.Context, n int) (time.Duration, error) {
	body := fmt.Sprintf(`{"model":%q,"max_tokens":%d,"stream":true,"messages":[{"role":"user","content":"Question %d: what is the capital of France?"}]}`,
		fairModel, fairShortMax, n)
	start := time.Now()
	var ttft time.Duration
	err := r.stream(ctx, r.keyB, body, func() { ttft = time.Since(start) }, func() {})
	return ttft, err
}

// long runs one of A's clients until ctx ends: long requests one after the
// other, each fairLongTokens tokens (the end-of-text token is banned, so
// every answer runs to its length). each is called at every chunk.
func (r *fairRig) long(ctx context.Context, client int, each func()) error {
	for n := 0; ctx.Err() == nil; n++ {
		body := fmt.Sprintf(`{"model":%q,"max_tokens":%d,"stream":true,"logit_bias":{"2":-100},`+
			`"messages":[{"role":"user","content":"Client %d, story %d: tell me a very long story about a lighthouse keeper and the sea."}]}`,
			fairModel, fairLongTokens, client, n)
		err := r.stream(ctx, r.keyA, body, func() {}, each)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("client %d: %w", client, err)
		}
		r.longDone.Add(1)
	}
	return nil
}

// fairRun is one measurement: B's times to first token alone, then under A's
// load.
type fairRun struct {
	solo, loaded []time.Duration
	longTokens   int64 // chunks A received while B's loaded requests ran
	longDone     int64
	window       time.Duration // the loaded part's length
	stats        engine.ServingStats
}

// measure warms the model up, times samples of B's requests alone (one after
// the other), then starts A's fairLong clients and, once A's load is steady
// (its requests all sent and one answer's worth of chunks streamed, so the
// burst of parsing 32 requests is over), sends samples more of B's, one every
// period, each on its own (so a slow one does not delay the next, as with
// independent clients).
func (r *fairRig) measure(tb testing.TB, samples int, period time.Duration) fairRun {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := r.short(ctx, -1); err != nil { // loads the model
		tb.Fatal(err)
	}
	var run fairRun
	for i := range samples {
		d, err := r.short(ctx, i)
		if err != nil {
			tb.Fatal(err)
		}
		run.solo = append(run.solo, d)
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	steady := make(chan struct{})
	var chunks atomic.Int64
	each := func() {
		r.longTokens.Add(1)
		if chunks.Add(1) == fairLongTokens {
			close(steady)
		}
	}
	longErrs := make(chan error, fairLong)
	var wg sync.WaitGroup
	for c := range fairLong {
		wg.Go(func() { longErrs <- r.long(loadCtx, c, each) })
	}
	select {
	case <-steady:
	case err := <-longErrs:
		tb.Fatalf("user A: %v", err)
	}

	tokens0, done0, t0 := r.longTokens.Load(), r.longDone.Load(), time.Now()
	ttfts := make([]time.Duration, samples)
	errs := make(chan error, samples)
	var shorts sync.WaitGroup
	tick := time.NewTicker(period)
	for i := range samples {
		shorts.Go(func() {
			d, err := r.short(ctx, samples+i)
			ttfts[i] = d
			if err != nil {
				errs <- err
			}
		})
		if i < samples-1 {
			<-tick.C
		}
	}
	tick.Stop()
	shorts.Wait()
	run.window = time.Since(t0)
	run.longTokens, run.longDone = r.longTokens.Load()-tokens0, r.longDone.Load()-done0
	if st := r.eng.Serving(); len(st) == 1 {
		run.stats = st[0]
	}
	stopLoad()
	wg.Wait()
	close(longErrs)
	close(errs)
	for err := range errs {
		tb.Errorf("user B: %v", err)
	}
	for err := range longErrs {
		if err != nil {
			tb.Errorf("user A: %v", err)
		}
	}
	run.loaded = ttfts
	return run
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max((len(s)*p+99)/100-1, 0)]
}

// BenchmarkFairTTFT is issue #27's fairness check: user A streams fairLong
// long requests at once (and sends the next as each ends), user B sends one
// short request per second; B's time to first token is reported alone and
// under A's load, p50 and p95 in ms, with A's throughput meanwhile. Run with
// `go test -run '^$' -bench FairTTFT -benchtime 1x ./loadtest/` (about 25 s:
// 20 samples alone, back to back, then 20 under load, one a second).
func BenchmarkFairTTFT(b *testing.B) {
	r := startFair(b, 0)
	var all fairRun
	for b.Loop() {
		run := r.measure(b, 20, time.Second)
		all.solo = append(all.solo, run.solo...)
		all.loaded = append(all.loaded, run.loaded...)
		all.longTokens += run.longTokens
		all.longDone += run.longDone
		all.window += run.window
		all.stats = run.stats
	}
	reportFair(b, all)
}

func reportFair(b *testing.B, run fairRun) {
	b.ReportMetric(ms(percentile(run.solo, 50)), "solo-p50-ms")
	b.ReportMetric(ms(percentile(run.solo, 95)), "solo-p95-ms")
	b.ReportMetric(ms(percentile(run.loaded, 50)), "load-p50-ms")
	b.ReportMetric(ms(percentile(run.loaded, 95)), "load-p95-ms")
	b.ReportMetric(float64(percentile(run.loaded, 95))/float64(percentile(run.solo, 95)), "p95-ratio")
	b.ReportMetric(float64(run.longTokens)/run.window.Seconds(), "A-tok/s")
	b.Logf("B alone %v; B under load %v; A: %d chunks, %d requests ended in %v; scheduler %+v",
		run.solo, run.loaded, run.longTokens, run.longDone, run.window.Round(time.Millisecond), run.stats)
}
