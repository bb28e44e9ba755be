package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/store"
)

// Fault tests run the real program (see TestMain in serve_test.go), kill it with
// SIGKILL in the middle of something, start it again on the same directories and
// check that nothing acknowledged was lost and nothing half-done passes for done.

const faultPassword = "correct horse battery"

// proc is one run of the daemon.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	kill   func()
	url    string
	stderr *syncBuilder
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProc runs `serve` on dataDir and modelsDir with extra environment.
func startProc(t *testing.T, dataDir, modelsDir string, env ...string) *proc {
	t.Helper()
	cmd := self(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--models-dir", modelsDir, "--headless", "--no-open")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stderr: &syncBuilder{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	p.kill = func() { once.Do(func() { cmd.Process.Kill(); cmd.Wait() }) }
	t.Cleanup(p.kill)
	found, exited := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case p.url = <-found:
	case <-exited:
		t.Fatalf("daemon exited at start; stderr:\n%s", p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not start; stderr:\n%s", p.stderr)
	}
	return p
}

// call sends a JSON request and returns the status and body.
func (p *proc) call(method, path, token string, body any) (int, []byte) {
	p.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// must is call that fails the test unless the status is want, decoding into out.
func (p *proc) must(method, path, token string, body any, want int, out any) {
	p.t.Helper()
	code, data := p.call(method, path, token, body)
	if code != want {
		p.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			p.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// admin registers the first account (the admin) and returns a session token.
func (p *proc) admin() string {
	p.t.Helper()
	p.must("POST", "/api/auth/register", "", map[string]string{"email": "admin@example.com", "password": faultPassword}, http.StatusCreated, nil)
	return p.login()
}

func (p *proc) login() string {
	p.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	p.must("POST", "/api/auth/login", "", map[string]string{"email": "admin@example.com", "password": faultPassword}, http.StatusOK, &tok)
	return tok.AccessToken
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// localModels lists the models the daemon reports as downloaded.
func (p *proc) localModels(token string) []string {
	p.t.Helper()
	var list []struct {
		ID string `json:"id"`
	}
	p.must("GET", "/api/models/local", token, nil, http.StatusOK, &list)
	var ids []string
	for _, m := range list {
		ids = append(ids, m.ID)
	}
	return ids
}

// writeTiny writes a tiny random model into dir.
func writeTiny(t *testing.T, dir string, spec modeltest.Spec) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, spec); err != nil {
		t.Fatal(err)
	}
}

// installModel writes a model into the Hugging Face cache at root, as id.
func installModel(t *testing.T, root, id string, spec modeltest.Spec) string {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(root, "models--"+strings.ReplaceAll(id, "/", "--"))
	snap := filepath.Join(repo, "snapshots", commit)
	writeTiny(t, snap, spec)
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestKillDuringDownload(t *testing.T) {
	src := t.TempDir()
	writeTiny(t, src, modeltest.Spec{Seed: 11, Shards: 2})
	repo, err := hubtest.RepoFromDir("faults/Tiny", src)
	if err != nil {
		t.Fatal(err)
	}
	hubSrv := hubtest.NewServer(t, repo)
	const shard = "model-00002-of-00002.safetensors"
	// The shard stalls after 4 KiB until the daemon is killed; the next request,
	// after the restart, gets the whole file.
	hubSrv.SetFault(shard, hubtest.Fault{StallAfter: 4096, Times: 1})
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	env := "HF_ENDPOINT=" + hubSrv.URL

	p := startProc(t, dataDir, modelsDir, env)
	tok := p.admin()
	p.must("POST", "/api/models/download", tok, map[string]string{"model_id": repo.ID}, http.StatusAccepted, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hubSrv.Await(ctx, func() bool { return hubSrv.FileRequests(shard) > 0 }); err != nil {
		t.Fatalf("the stalled shard was not requested: %v", err)
	}
	// Files download in parallel: wait for this shard's own partial blob, not
	// any, or the kill can land before the stalled shard wrote a byte and the
	// restart rightly fetches it from the start.
	var partial string
	for _, f := range repo.Files {
		if f.Path == shard {
			partial = f.Etag() + ".incomplete"
		}
	}
	if partial == "" {
		t.Fatalf("%s is not in the repo", shard)
	}
	waitFor(t, "some bytes of the shard on disk", func() bool { return fileBytes(modelsDir, partial) > 0 })
	if ids := p.localModels(tok); len(ids) != 0 {
		t.Fatalf("a half-downloaded model is listed: %v", ids)
	}
	p.kill()

	p = startProc(t, dataDir, modelsDir, env)
	tok = p.login()
	if ids := p.localModels(tok); len(ids) != 0 && incompleteBytes(modelsDir) > 0 {
		t.Fatalf("listed while the download is still incomplete after the restart: %v", ids)
	}
	waitFor(t, "the download to finish after the restart", func() bool {
		ids := p.localModels(tok)
		return len(ids) == 1 && ids[0] == repo.ID
	})
	if hubSrv.RangeRequests(shard) == 0 {
		t.Error("the shard was downloaded again from the start instead of resumed")
	}
	// The model is listed once its ref is written, a moment before the task
	// leaves verifying: wait for the task's final state.
	var downloads []struct {
		Status string `json:"status"`
	}
	waitFor(t, "the download to be completed", func() bool {
		p.must("GET", "/api/models/downloads", tok, nil, http.StatusOK, &downloads)
		return len(downloads) == 1 && downloads[0].Status == "completed"
	})
	// The model works.
	body := map[string]any{"model": repo.ID, "max_tokens": 3, "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	p.must("POST", "/v1/chat/completions", tok, body, http.StatusOK, nil)
}

// fileBytes is the size of the files named name under root.
func fileBytes(root, name string) int64 {
	var n int64
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && filepath.Base(path) == name {
			n += info.Size()
		}
		return nil
	})
	return n
}

// incompleteBytes is the size of the partial blobs under root.
func incompleteBytes(root string) int64 {
	var n int64
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".incomplete") {
			n += info.Size()
		}
		return nil
	})
	return n
}

func TestKillDuringAuditWrites(t *testing.T) {
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	p := startProc(t, dataDir, modelsDir)
	tok := p.admin()
	// The writers make far more keys than one user may keep by default (20).
	p.must("PUT", "/api/settings/auth", tok, map[string]int{"max_api_keys_per_user": 1_000_000}, http.StatusOK, nil)

	// Writers create API keys (a key and its audit event per request) until the
	// daemon dies; a 201 is an acknowledgement.
	type ack struct{ id, name string }
	var (
		mu    sync.Mutex
		acked []ack
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				b, _ := json.Marshal(map[string]string{"name": name})
				req, _ := http.NewRequestWithContext(ctx, "POST", p.url+"/api/auth/api-keys", bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // killed
				}
				var k struct {
					ID string `json:"id"`
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated && json.Unmarshal(data, &k) == nil {
					mu.Lock()
					acked = append(acked, ack{k.ID, name})
					mu.Unlock()
				}
			}
		}()
	}
	waitFor(t, "some acknowledged writes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 40
	})
	p.kill()
	cancel()
	wg.Wait()

	// The file is consistent before the daemon touches it again.
	st, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatalf("open the store after SIGKILL: %v", err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("store check after SIGKILL: %v", err)
	}
	page, err := st.Audit().Query(store.AuditFilter{Action: "apikey.create"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, ev := range page.Events {
		audited[ev.Target] = true
	}

	p = startProc(t, dataDir, modelsDir)
	tok = p.login()
	var keys []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	p.must("GET", "/api/auth/api-keys", tok, nil, http.StatusOK, &keys)
	have := map[string]string{}
	for _, k := range keys {
		have[k.ID] = k.Name
	}
	for _, a := range acked {
		if have[a.id] != a.name {
			t.Errorf("acknowledged key %s (%s) lost", a.id, a.name)
		}
		if !audited[a.id] {
			t.Errorf("acknowledged key %s has no audit event", a.id)
		}
	}
	t.Logf("%d acknowledged writes before SIGKILL, %d keys after restart", len(acked), len(keys))
}

func TestKillDuringModelLoad(t *testing.T) {
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	// Large enough that loading takes a moment, small enough to write quickly.
	installModel(t, modelsDir, "faults/Load", modeltest.Spec{Seed: 13, Hidden: 512, Intermediate: 1024, Layers: 4, Heads: 8, KVHeads: 4, HeadDim: 64, Vocab: 4096})
	p := startProc(t, dataDir, modelsDir)
	tok := p.admin()

	// Follow the daemon's own event stream, so the kill lands after the load
	// started, on its "loading" event, not after a guessed delay.
	events, err := http.Get(p.url + "/api/servers/events?token=" + tok)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	lines := bufio.NewScanner(events.Body)
	go func() { // dies with the daemon: no test failure from here
		req, _ := http.NewRequest("POST", p.url+"/api/servers/start", strings.NewReader(`{"model":"faults/Load"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for loading := false; !loading; {
		if !lines.Scan() {
			t.Fatalf("the event stream ended before the load started: %v", lines.Err())
		}
		line := lines.Text()
		loading = strings.HasPrefix(line, "data:") && strings.Contains(line, `"kind":"loading"`) && strings.Contains(line, `faults/Load`)
	}
	p.kill()
	logText, _ := os.ReadFile(filepath.Join(dataDir, "logs", "mlx-manager.log"))
	t.Logf("killed %s the load finished", map[bool]string{true: "after", false: "before"}[strings.Contains(string(logText), "model loaded")])

	p = startProc(t, dataDir, modelsDir)
	tok = p.login()
	p.must("POST", "/api/servers/start", tok, map[string]string{"model": "faults/Load"}, http.StatusOK, nil)
	body := map[string]any{"model": "faults/Load", "max_tokens": 2, "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	p.must("POST", "/v1/chat/completions", tok, body, http.StatusOK, nil)
}

func TestBrokenModelFailsItsLoad(t *testing.T) {
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	good := modeltest.Spec{Seed: 17}
	installModel(t, modelsDir, "faults/Good", good)
	truncated := installModel(t, modelsDir, "faults/Truncated", good)
	corrupt := installModel(t, modelsDir, "faults/Corrupt", good)
	weights := filepath.Join(truncated, "model.safetensors")
	fi, err := os.Stat(weights)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(weights, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, "model.safetensors"), []byte("\x40\x00\x00\x00\x00\x00\x00\x00{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, dataDir, modelsDir)
	tok := p.admin()
	for _, id := range []string{"faults/Truncated", "faults/Corrupt"} {
		code, body := p.call("POST", "/api/servers/start", tok, map[string]string{"model": id})
		var env struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		json.Unmarshal(body, &env)
		if code < 400 || code == http.StatusInternalServerError || !strings.Contains(env.Error.Message, "safetensors") {
			t.Errorf("load %s: %d %s, want a clear 4xx/503 naming the weights", id, code, body)
		}
		chat := map[string]any{"model": id, "max_tokens": 2, "messages": []map[string]string{{"role": "user", "content": "hi"}}}
		if code, body := p.call("POST", "/v1/chat/completions", tok, chat); code < 400 || code == http.StatusInternalServerError {
			t.Errorf("chat with %s: %d %s", id, code, body)
		}
	}
	p.must("GET", "/health", "", nil, http.StatusOK, nil)
	chat := map[string]any{"model": "faults/Good", "max_tokens": 2, "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	p.must("POST", "/v1/chat/completions", tok, chat, http.StatusOK, nil)
	if strings.Contains(p.stderr.String(), "panic") {
		t.Errorf("the daemon logged a panic:\n%s", p.stderr)
	}
}
