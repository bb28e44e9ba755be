package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

// Bounds of the run: whichever comes first ends it.
const (
	clients     = 32
	runFor      = 8 * time.Second
	maxRequests = 3000
	maxQueue    = 6         // small, so the generation clients meet the documented 429
	heapBound   = 512 << 20 // live heap the daemon may reach under this load
	modelID     = "test/tiny"
	commit      = "0123456789abcdef0123456789abcdef01234567"
)

// tally counts outcomes by client kind and status.
type tally struct {
	mu       sync.Mutex
	byStatus map[string]int // "kind status"
	failures []string       // unexpected outcomes, kept for the report
	v1IDs    map[string]bool
}

func (t *tally) add(kind string, status int, v1ID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byStatus[fmt.Sprintf("%s %d", kind, status)]++
	if v1ID != "" {
		t.v1IDs[v1ID] = true
	}
}

func (t *tally) fail(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) < 20 {
		t.failures = append(t.failures, fmt.Sprintf(format, args...))
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func installTiny(t *testing.T, root string) {
	t.Helper()
	repo := filepath.Join(root, "models--test--tiny")
	snap := filepath.Join(repo, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(snap, modeltest.Spec{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkGoroutines runs last (registered first): once the server and engine have
// shut down, the goroutine count must come back to where it was.
func checkGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				var b strings.Builder
				pprof.Lookup("goroutine").WriteTo(&b, 1)
				t.Errorf("goroutine leak: %d before, %d after shutdown:\n%s", base, runtime.NumGoroutine(), b.String())
				return
			}
			http.DefaultClient.CloseIdleConnections()
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	checkGoroutines(t)
	root := t.TempDir()
	installTiny(t, root)
	eng, err := engine.New(engine.Options{ModelsDir: root, Logger: quiet(),
		Pool: pool.Config{BudgetBytes: -1, MaxQueue: maxQueue, Logger: quiet()},
		NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 1, Logger: quiet()})
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() }) // after the server's shutdown, registered later
	srv := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) { o.Engine = eng }})
	srv.Client.Transport = &http.Transport{MaxIdleConnsPerHost: clients}
	t.Cleanup(srv.Client.CloseIdleConnections)
	admin := srv.Admin(t)
	_, user := srv.ApprovedUser(t, admin, "user@example.com")
	var key struct {
		Key string `json:"key"`
	}
	srv.JSON(t, "POST", "/api/auth/api-keys", admin, map[string]string{"name": "load"}, http.StatusCreated, &key)

	l := &load{srv: srv, key: key.Key, admin: admin, user: user,
		tally: &tally{byStatus: map[string]int{}, v1IDs: map[string]bool{}}}
	ctx, cancel := context.WithTimeout(context.Background(), runFor)
	defer cancel()
	peak := l.sampleHeap(ctx)
	wsEvents := l.watchAudit(ctx, t)

	var wg sync.WaitGroup
	kinds := []func(context.Context, int) error{l.chatStream, l.chatStream, l.chatStream, l.chatStream, l.chat,
		l.listModels, l.queryAudit, l.scrape}
	for i := 0; i < clients-1; i++ { // the last client is the WebSocket watcher
		work := kinds[i%len(kinds)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				if l.sent.Add(1) > maxRequests {
					return
				}
				if err := work(ctx, i*100000+n); err != nil && ctx.Err() == nil {
					l.tally.fail("client %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	cancel()
	events := <-wsEvents
	heap := <-peak

	tl := l.tally
	t.Logf("%d requests in %v; by kind and status: %v; audit events seen live: %d; peak heap %d MiB",
		l.sent.Load(), runFor, tl.byStatus, events, heap>>20)
	for _, f := range tl.failures {
		t.Error(f)
	}
	if tl.byStatus["stream 200"] == 0 || tl.byStatus["models 200"] == 0 || tl.byStatus["audit 200"] == 0 {
		t.Errorf("a kind of client never succeeded: %v", tl.byStatus)
	}
	if events == 0 {
		t.Error("the audit WebSocket saw no event")
	}
	if heap > heapBound {
		t.Errorf("peak heap %d MiB, bound %d MiB", heap>>20, heapBound>>20)
	}
	l.checkAudited(t)
}

// load is the running test's clients.
type load struct {
	srv              *apitest.Server
	key, admin, user string
	sent             atomic.Int64
	tally            *tally
}

func (l *load) request(ctx context.Context, method, path, cred, reqID, body string) (*http.Response, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.srv.URL+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cred)
	if reqID != "" {
		req.Header.Set("X-Request-ID", reqID)
	}
	return l.srv.Client.Do(req)
}

// v1 sends a /v1 request with its own request id and checks the status: 200, or
// 429 with Retry-After when the model's queue is full.
func (l *load) v1(ctx context.Context, kind, path string, n int, body string, read func(io.Reader) error) error {
	id := fmt.Sprintf("load-%s-%d", kind, n)
	method := "POST"
	if body == "" {
		method = "GET"
	}
	resp, err := l.request(ctx, method, path, l.key, id, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	l.tally.add(kind, resp.StatusCode, id)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "":
		io.Copy(io.Discard, resp.Body)
		return nil
	case resp.StatusCode != http.StatusOK:
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", kind, path, resp.StatusCode, b)
	}
	return read(resp.Body)
}

const chatBody = `{"model":"test/tiny","max_tokens":8,"temperature":0.7,"seed":%d,"stream":%v,` +
	`"messages":[{"role":"user","content":"Tell me a story about load %d"}]}`

func (l *load) chatStream(ctx context.Context, n int) error {
	return l.v1(ctx, "stream", "/v1/chat/completions", n, fmt.Sprintf(chatBody, n, true, n), func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == "data: [DONE]" {
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stream ended without [DONE]: %v", sc.Err())
	})
}

func (l *load) chat(ctx context.Context, n int) error {
	return l.v1(ctx, "chat", "/v1/chat/completions", n, fmt.Sprintf(chatBody, n, false, n), func(r io.Reader) error {
		b, err := io.ReadAll(r)
		if err == nil && !strings.Contains(string(b), `"choices"`) {
			return fmt.Errorf("chat answer without choices: %s", b)
		}
		return err
	})
}

func (l *load) listModels(ctx context.Context, n int) error {
	if n%2 == 0 {
		return l.v1(ctx, "models", "/v1/models", n, "", func(r io.Reader) error {
			b, err := io.ReadAll(r)
			if err == nil && !strings.Contains(string(b), modelID) {
				return fmt.Errorf("model list without %s: %s", modelID, b)
			}
			return err
		})
	}
	return l.get(ctx, "models", "/api/models/local", l.user)
}

func (l *load) queryAudit(ctx context.Context, n int) error {
	paths := []string{"/api/system/audit-logs?limit=50", "/api/system/audit-logs/stats", "/api/system/audit-logs?action=v1&limit=10"}
	cred := l.admin
	if n%2 == 1 {
		cred = l.user
	}
	return l.get(ctx, "audit", paths[n%len(paths)], cred)
}

func (l *load) scrape(ctx context.Context, n int) error {
	paths := []string{"/metrics", "/api/servers", "/health/ready"}
	return l.get(ctx, "ops", paths[n%len(paths)], l.key)
}

func (l *load) get(ctx context.Context, kind, path, cred string) error {
	resp, err := l.request(ctx, "GET", path, cred, "", "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	l.tally.add(kind, resp.StatusCode, "")
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
	}
	return err
}

// watchAudit follows the live audit log until ctx ends and reports how many
// events it saw. A watcher that lags is dropped by design (close code 1013);
// it then reconnects, as the UI does.
func (l *load) watchAudit(ctx context.Context, t *testing.T) <-chan int {
	out := make(chan int, 1)
	go func() {
		seen := 0
		defer func() { out <- seen }()
		for ctx.Err() == nil {
			conn, _, err := websocket.Dial(ctx, l.srv.WSURL("/api/system/ws/audit-logs"),
				&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + l.admin}}})
			if err != nil {
				if ctx.Err() == nil {
					l.tally.fail("audit websocket: %v", err)
				}
				return
			}
			conn.SetReadLimit(1 << 20)
			for {
				_, msg, err := conn.Read(ctx)
				if err != nil {
					if code := websocket.CloseStatus(err); code != websocket.StatusTryAgainLater && ctx.Err() == nil {
						l.tally.fail("audit websocket read: %v", err)
					}
					break
				}
				if strings.HasPrefix(string(msg), `{"type":"event"`) {
					seen++
				}
			}
			conn.CloseNow()
		}
	}()
	return out
}

// sampleHeap records the peak live heap while the load runs.
func (l *load) sampleHeap(ctx context.Context) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-ctx.Done():
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// checkAudited checks that every /v1 request the clients sent, refused or not,
// has its audit event, found by its request id. A stream's event is written
// when its handler returns, just after the client read the end, so it waits a
// little for the last ones.
func (l *load) checkAudited(t *testing.T) {
	t.Helper()
	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		page, err := l.srv.Store.Audit().Query(store.AuditFilter{Action: "v1"})
		if err != nil {
			t.Fatal(err)
		}
		audited := map[string]bool{}
		for _, ev := range page.Events {
			audited[ev.RequestID] = true
		}
		missing = missing[:0]
		for id := range l.tally.v1IDs {
			if !audited[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d /v1 requests not audited, e.g. %v", len(missing), len(l.tally.v1IDs), missing[:min(5, len(missing))])
	}
}
