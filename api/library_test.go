package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/apitest"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// libEnv is a running API server with a real engine (CPU executor), a fake Hub, a
// download manager and a models dir in the Hugging Face cache layout.
type libEnv struct {
	*apitest.Server
	Hub       *hubtest.Server
	Engine    *engine.Engine
	Client    *hub.Client
	Downloads *hub.Manager
	Models    string // the models dir
	Admin     string // an admin's token
}

// libOptions adjust startLib.
type libOptions struct {
	Repos     []hubtest.Repo
	Manager   func(*hub.ManagerOptions) // adjust the download manager
	Pool      pool.Config
	NoHub     bool // start without the Hub client and download manager
	NoEngine  bool
	HubClient func(*hub.Options)
}

func startLib(t *testing.T, o libOptions) *libEnv {
	t.Helper()
	env := &libEnv{Models: t.TempDir()}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Cleanups run last-in first-out: the engine and the manager are closed after
	// the server (registered by apitest.Start below) has shut down.
	if !o.NoHub {
		env.Hub = hubtest.NewServer(t, o.Repos...)
		ho := hub.Options{Endpoint: env.Hub.URL, Logger: quiet, MaxRetryAfter: time.Second}
		if o.HubClient != nil {
			o.HubClient(&ho)
		}
		c, err := hub.New(ho)
		if err != nil {
			t.Fatal(err)
		}
		mo := hub.ManagerOptions{Client: c, Cache: hub.Cache{Root: env.Models}, Logger: quiet,
			ProgressInterval: 10 * time.Millisecond, RetryDelay: 10 * time.Millisecond, StallTimeout: 300 * time.Millisecond}
		if o.Manager != nil {
			o.Manager(&mo)
		}
		m, err := hub.NewManager(mo)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		env.Client, env.Downloads = c, m
	}
	if !o.NoEngine {
		if o.Pool.BudgetBytes == 0 {
			o.Pool.BudgetBytes = 1 << 30
		}
		o.Pool.Logger = quiet
		e, err := engine.New(engine.Options{ModelsDir: env.Models, Logger: quiet, Pool: o.Pool, Downloads: env.Downloads, Hub: env.Client,
			NewRunner: func(_ context.Context, m *model.Model) (model.Runner, error) {
				return cpu.New(m, cpu.Options{Logger: quiet})
			}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		env.Engine = e
	}
	env.Server = apitest.Start(t, apitest.Options{Configure: func(ao *api.Options) {
		ao.Engine, ao.PoolConfig = env.Engine, o.Pool
		ao.Timing.CredentialRecheck = 50 * time.Millisecond
	}})
	env.Admin = env.Server.Admin(t)
	return env
}

// tinySpec is a model small enough to load in milliseconds.
var tinySpec = modeltest.Spec{Seed: 7}

// writeModel writes a tiny model into a fresh directory.
func writeModel(t *testing.T, spec modeltest.Spec) string {
	t.Helper()
	return modeltest.New(t, spec)
}

// install puts a tiny model into the models dir as repo id, the way the Hub's
// cache does (snapshots/<commit> and refs/main), with plain files as LM Studio
// and copies leave them.
func (env *libEnv) install(t *testing.T, id string, spec modeltest.Spec) {
	t.Helper()
	env.installWith(t, id, spec.Seed, func(dir string) error { return modeltest.Write(dir, spec) })
}

// installWith is install with the model's files written by write.
func (env *libEnv) installWith(t *testing.T, id string, seed uint64, write func(dir string) error) {
	t.Helper()
	dir := filepath.Join(env.Models, "models--"+strings.ReplaceAll(id, "/", "--"))
	commit := fmt.Sprintf("%040x", len(id)*7919+int(seed))
	snap := filepath.Join(dir, "snapshots", commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write(snap); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hubRepo makes a fake Hub repo holding the files of a tiny model.
func hubRepo(t *testing.T, id string, spec modeltest.Spec) hubtest.Repo {
	t.Helper()
	dir := writeModel(t, spec)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := hubtest.Repo{ID: id, Tags: []string{"mlx", "safetensors", "text-generation"}, Downloads: 100, Likes: 5}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r.Files = append(r.Files, hubtest.File{Path: e.Name(), Data: data, LFS: strings.HasSuffix(e.Name(), ".safetensors")})
	}
	return r
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Name string
	Data string
}

func (ev sseEvent) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
		t.Fatalf("event %q: decode %s: %v", ev.Name, ev.Data, err)
	}
}

// sseStream reads events from a real HTTP connection.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openSSE connects to path with ?token= (as EventSource does) and reads its events
// in the background until the stream ends.
func (env *libEnv) openSSE(t *testing.T, path, token string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.URL+path+sep+"token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		t.Fatalf("GET %s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	st := &sseStream{resp: resp, events: make(chan sseEvent, 1024), cancel: cancel}
	go st.read()
	t.Cleanup(st.close)
	return st
}

func (st *sseStream) read() {
	defer close(st.events)
	sc := bufio.NewScanner(st.resp.Body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.Data != "" {
				st.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data += strings.TrimPrefix(line, "data: ")
		}
	}
}

func (st *sseStream) close() {
	st.cancel()
	st.resp.Body.Close()
}

// next returns the next event; ok is false when the stream has ended.
func (st *sseStream) next(t *testing.T) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-st.events:
		return ev, ok
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
		return sseEvent{}, false
	}
}

// until reads events until keep returns true for one, which it returns.
func (st *sseStream) until(t *testing.T, keep func(sseEvent) bool) sseEvent {
	t.Helper()
	for {
		ev, ok := st.next(t)
		if !ok {
			t.Fatal("stream ended before the expected event")
		}
		if keep(ev) {
			return ev
		}
	}
}
