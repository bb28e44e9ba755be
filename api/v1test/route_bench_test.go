package v1test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// benchDaemon is a daemon for benchmarks: the tiny model, generation in parallel.
func benchDaemon(b *testing.B) (*apitest.Server, string) {
	b.Helper()
	root := b.TempDir()
	snap := filepath.Join(root, "models--test--tiny", "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := modeltest.Write(snap, modeltest.Spec{Seed: 3, MaxPos: 1024}); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "models--test--tiny", "refs"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "models--test--tiny", "refs", "main"), []byte(commit), 0o644); err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(engine.Options{ModelsDir: root, Logger: quiet(),
		Pool: pool.Config{BudgetBytes: -1, Logger: quiet()},
		NewRunner: func(ctx context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 1, Logger: quiet()})
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	srv := apitest.Start(b, apitest.Options{Configure: func(o *api.Options) { o.Engine = eng }})
	tok := srv.Admin(b)
	var key struct {
		Key string `json:"key"`
	}
	srv.JSON(b, "POST", "/api/auth/api-keys", tok, map[string]string{"name": "bench"}, http.StatusCreated, &key)
	return srv, key.Key
}

// firstBytes sends n concurrent streamed chat requests and returns each one's
// time until the first event.
func firstBytes(b *testing.B, client *http.Client, url, key, model string, n int) []time.Duration {
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"temperature":0,"stream":true}`, model)
	out := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					if out[i] == 0 {
						out[i] = time.Since(start)
					}
				}
			}
			if resp.StatusCode != http.StatusOK || out[i] == 0 {
				errs[i] = fmt.Errorf("status %d, no event", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return out
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// labelled runs f, which starts a daemon, under the pprof label daemon=name:
// the goroutines the daemon starts (its server's, its connections', its
// committer's) inherit it, so a -cpuprofile of the benchmark tells the two
// daemons apart (go tool pprof -tagfocus daemon=front).
func labelled(name string, f func()) {
	pprof.Do(context.Background(), pprof.Labels("daemon", name), func(context.Context) { f() })
}

// BenchmarkRouteFirstByte measures what the router adds to the time to first
// byte of 32 concurrent streams: rounds sent to a daemon directly and through a
// second daemon that routes to it, interleaved so that the machine's load hits
// both alike. added-ms is the median routed minus the median direct. The
// second daemon is reached over HTTP/1.1 (http2 auto, the default) and, in
// rounds of their own, over h2c (http2 on: h2c-added-ms, h2c-added-cpu-us/req).
func BenchmarkRouteFirstByte(b *testing.B) {
	var (
		back    *apitest.Server
		backKey string
	)
	labelled("back", func() { back, backKey = benchDaemon(b) })
	b.Run("daemon", func(b *testing.B) { benchRoute(b, back, back.URL, backKey, "auto", "on") })
	// An upstream that answers at once: what is left is the router's own cost.
	instant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer instant.Close()
	b.Run("instant", func(b *testing.B) { benchRoute(b, nil, instant.URL, "none", "auto") })
}

// benchRoute routes to backURL (the daemon back, or nil for another server)
// once per http2 setting: a backend and a model name each, whose rounds follow
// each direct round in turns.
func benchRoute(b *testing.B, back *apitest.Server, backURL, backKey string, http2 ...string) {
	const streams = 32
	var (
		front    *apitest.Server
		frontKey string
	)
	labelled("front", func() { front, frontKey = benchDaemon(b) })
	var rules []map[string]any
	for _, h := range http2 {
		front.JSON(b, "POST", "/api/backends", frontKey, map[string]any{"name": "gpu-" + h, "kind": "openai",
			"base_url": backURL + "/v1", "api_key": backKey, "http2": h}, http.StatusCreated, nil)
		rules = append(rules, map[string]any{"pattern": "routed-" + h,
			"targets": []map[string]string{{"backend": "gpu-" + h, "model": tinyID}}})
	}
	front.JSON(b, "PUT", "/api/settings/routing", frontKey, map[string]any{"rules": rules}, http.StatusOK, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams}}
	defer client.CloseIdleConnections()
	firstBytes(b, client, backURL, backKey, tinyID, streams) // load the model, open the connections
	for _, h := range http2 {
		firstBytes(b, client, front.URL, frontKey, "routed-"+h, streams)
	}
	var (
		direct       []time.Duration
		directCPU    time.Duration
		directAllocs uint64
		routed       = make([][]time.Duration, len(http2))
		routedCPU    = make([]time.Duration, len(http2))
		routedAllocs = make([]uint64, len(http2))
	)
	// CPU time and heap allocations of the process while each kind of round
	// runs: the routed rounds also run the front daemon, so the difference is
	// its cost per request.
	var mem runtime.MemStats
	timed := func(sum *time.Duration, allocs *uint64, round func() []time.Duration) []time.Duration {
		runtime.ReadMemStats(&mem)
		mallocs := mem.Mallocs
		before, _ := testenv.CPUTime()
		out := round()
		// A round's audit events are written after its responses ended: their
		// transactions are its cost, not the next round's.
		front.Store.Audit().Flush()
		if back != nil {
			back.Store.Audit().Flush()
		}
		after, _ := testenv.CPUTime()
		*sum += after - before
		runtime.ReadMemStats(&mem)
		*allocs += mem.Mallocs - mallocs
		return out
	}
	b.ResetTimer()
	for i := range b.N {
		direct = append(direct, timed(&directCPU, &directAllocs, func() []time.Duration {
			return firstBytes(b, client, backURL, backKey, tinyID, streams)
		})...)
		for k := range http2 {
			v := (i + k) % len(http2) // each setting goes first in turn
			routed[v] = append(routed[v], timed(&routedCPU[v], &routedAllocs[v], func() []time.Duration {
				return firstBytes(b, client, front.URL, frontKey, "routed-"+http2[v], streams)
			})...)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(median(direct)), "direct-ms")
	if _, ok := testenv.CPUTime(); ok {
		// The backend's whole cost (and the client's): what its own path saves shows here.
		b.ReportMetric(float64(directCPU)/float64(time.Microsecond)/float64(b.N*streams), "direct-cpu-us/req")
	}
	b.ReportMetric(float64(directAllocs)/float64(b.N*streams), "direct-allocs/req")
	for v, h := range http2 {
		prefix := ""
		if h == "on" {
			prefix = "h2c-"
		}
		b.ReportMetric(ms(median(routed[v])), prefix+"routed-ms")
		b.ReportMetric(ms(median(routed[v])-median(direct)), prefix+"added-ms")
		if _, ok := testenv.CPUTime(); ok {
			perReq := float64(routedCPU[v]-directCPU) / float64(time.Microsecond) / float64(b.N*streams)
			b.ReportMetric(perReq, prefix+"added-cpu-us/req")
		}
		b.ReportMetric((float64(routedAllocs[v])-float64(directAllocs))/float64(b.N*streams), prefix+"added-allocs/req")
	}
}
