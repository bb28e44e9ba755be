package hub_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
)

const (
	shard1 = "model-00001-of-00002.safetensors"
	shard2 = "model-00002-of-00002.safetensors"
)

// modelRepo is a small sharded MLX-style repo; README.md and the .pth file are not
// model files and must be skipped by the default allow patterns.
func modelRepo(id string, seed uint64) hubtest.Repo {
	return hubtest.Repo{ID: id, Tags: []string{"mlx", "safetensors"}, Files: []hubtest.File{
		{Path: "config.json", Data: []byte(`{"model_type":"llama","hidden_size":64}`)},
		hubtest.RandomFile("tokenizer.json", 2048, seed, false),
		{Path: "model.safetensors.index.json", Data: []byte(`{"weight_map":{"a":"` + shard1 + `","b":"` + shard2 + `"}}`)},
		hubtest.RandomFile(shard1, 300_000, seed+1, true),
		hubtest.RandomFile(shard2, 200_000, seed+2, true),
		{Path: "README.md", Data: []byte("# tiny")},
		hubtest.RandomFile("original/consolidated.pth", 5000, seed+3, true),
	}}
}

type env struct {
	srv     *hubtest.Server
	cache   hub.Cache
	journal *hubtest.Journal
	client  *hub.Client
}

func newEnv(t *testing.T, token string, repos ...hubtest.Repo) env {
	t.Helper()
	srv := hubtest.NewServer(t, repos...)
	return env{srv: srv, cache: hub.Cache{Root: filepath.Join(t.TempDir(), "hub")}, journal: hubtest.NewJournal(),
		client: newClient(t, srv, token)}
}

func (e env) manager(t *testing.T, mod ...func(*hub.ManagerOptions)) *hub.Manager {
	t.Helper()
	// The stall timer runs on the real clock: a short one also fires when a
	// loaded machine (-race, -cpu 1) pauses a healthy transfer, and the retry
	// adds a request the test counts. Only the test that stalls on purpose
	// sets it short (stallFast).
	opts := hub.ManagerOptions{Client: e.client, Cache: e.cache, Journal: e.journal, Logger: discardLogger(),
		RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond, StallTimeout: time.Minute,
		ProgressInterval: 20 * time.Millisecond}
	for _, f := range mod {
		f(&opts)
	}
	m, err := hub.NewManager(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func wait(t *testing.T, task *hub.Task) (hub.Progress, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := task.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("task %s did not finish: %+v", task.ID(), p)
	}
	return p, err
}

// waitFor reads progress until cond holds.
func waitFor(t *testing.T, task *hub.Task, cond func(hub.Progress) bool) hub.Progress {
	t.Helper()
	ch, cancel := task.Subscribe()
	defer cancel()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case p, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed before the condition held: %+v", task.Progress())
			}
			if cond(p) {
				return p
			}
		case <-timeout:
			t.Fatalf("condition never held: %+v", task.Progress())
		}
	}
}

func fileDone(path string, atLeast int64) func(hub.Progress) bool {
	return func(p hub.Progress) bool {
		for _, f := range p.Files {
			if f.Path == path && f.Done >= atLeast {
				return true
			}
		}
		return false
	}
}

// checkCached asserts the model is listed complete with exactly the model files.
func checkCached(t *testing.T, c hub.Cache, repo hubtest.Repo) {
	t.Helper()
	m, err := c.Model(repo.ID)
	if err != nil {
		t.Fatalf("model not cached: %v", err)
	}
	if m.Commit != repo.Commit {
		t.Errorf("commit %s, want %s", m.Commit, repo.Commit)
	}
	want := 0
	for _, f := range repo.Files {
		p := filepath.Join(m.SnapshotDir, filepath.FromSlash(f.Path))
		if f.Path == "README.md" || strings.HasPrefix(f.Path, "original/") {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s downloaded, want skipped", f.Path)
			}
			continue
		}
		want++
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: content differs (err %v)", f.Path, err)
		}
		link, err := os.Readlink(p)
		if err != nil || filepath.IsAbs(link) || filepath.Base(link) != f.Etag() {
			t.Errorf("%s: link %q (err %v), want relative to blobs/%s", f.Path, link, err, f.Etag())
		}
	}
	if len(m.Files) != want {
		t.Errorf("cached %d files, want %d", len(m.Files), want)
	}
}

func fileData(repo hubtest.Repo, path string) []byte {
	for _, f := range repo.Files {
		if f.Path == path {
			return f.Data
		}
	}
	return nil
}

// leftovers lists partial downloads under root.
func leftovers(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".incomplete") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestDownloadWithProgress(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 10)
	e := newEnv(t, hubtest.DefaultToken, repo)
	repo, _ = e.srv.Repo(repo.ID)
	m := e.manager(t)

	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := task.Subscribe()
	defer cancel()
	var events []hub.Progress
	for p := range ch {
		events = append(events, p)
	}
	if len(events) == 0 {
		t.Fatal("no progress events")
	}
	last := events[len(events)-1]
	var want int64
	for _, f := range repo.Files {
		if f.Path != "README.md" && !strings.HasPrefix(f.Path, "original/") {
			want += int64(len(f.Data))
		}
	}
	if last.Status != hub.StatusCompleted || last.BytesDone != last.BytesTotal || last.BytesTotal != want {
		t.Fatalf("final progress = %+v", last)
	}
	for _, f := range last.Files {
		if f.Status != hub.StatusCompleted || f.Done != f.Size {
			t.Errorf("file %+v not completed", f)
		}
	}
	for i := 1; i < len(events); i++ {
		if events[i].BytesDone < events[i-1].BytesDone {
			t.Errorf("bytes went backwards: %d then %d", events[i-1].BytesDone, events[i].BytesDone)
		}
	}
	checkCached(t, e.cache, repo)
	if got := m.List(); len(got) != 1 || got[0].TaskID != task.ID() || got[0].Status != hub.StatusCompleted {
		t.Errorf("List = %+v", got)
	}
	if recs, _ := e.journal.Load(context.Background()); len(recs) != 0 {
		t.Errorf("journal still holds %+v", recs)
	}

	// The token goes to the Hub and never to the CDN host the LFS files redirect to.
	var hubAuth, cdnHits int
	for _, r := range e.srv.Requests() {
		switch r.Server {
		case "hub":
			if r.Authorization == "Bearer "+hubtest.DefaultToken {
				hubAuth++
			}
		case "cdn":
			cdnHits++
			if r.Authorization != "" {
				t.Errorf("CDN request carried Authorization %q: %+v", r.Authorization, r)
			}
		}
	}
	if hubAuth == 0 || cdnHits < 2 {
		t.Errorf("hub requests with token: %d, CDN requests: %d", hubAuth, cdnHits)
	}
}

func TestConcurrentStartReturnsSameTask(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 20)
	e := newEnv(t, "", repo)
	m := e.manager(t)
	const n = 8
	tasks := make([]*hub.Task, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			task, err := m.Start(context.Background(), repo.ID)
			if err != nil {
				t.Error(err)
			}
			tasks[i] = task
		})
	}
	wg.Wait()
	for _, task := range tasks[1:] {
		if task != tasks[0] {
			t.Fatalf("Start returned different tasks: %s and %s", tasks[0].ID(), task.ID())
		}
	}
	if _, err := wait(t, tasks[0]); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.FileRequests(shard1); got != 1 {
		t.Errorf("shard fetched %d times, want 1", got)
	}

	// Once complete, a new Start finds every blob in place and downloads nothing.
	again, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again == tasks[0] {
		t.Error("completed task reused")
	}
	if _, err := wait(t, again); err != nil {
		t.Fatal(err)
	}
	if got := e.srv.FileRequests(shard1); got != 1 {
		t.Errorf("shard fetched again: %d requests", got)
	}
}

func TestStallAndErrorsRetry(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 40)
	e := newEnv(t, "", repo)
	repo, _ = e.srv.Repo(repo.ID)
	e.srv.SetFault(shard1, hubtest.Fault{StallAfter: 50_000, Times: 2})
	e.srv.SetFault(shard2, hubtest.Fault{DropAfter: 70_000, Times: 1})
	e.srv.SetFault("tokenizer.json", hubtest.Fault{Status: 503, Times: 2})
	// Long enough that load alone does not look like a stall, short enough
	// that the two real stalls cost about a second.
	stallFast := func(o *hub.ManagerOptions) { o.StallTimeout = 500 * time.Millisecond }
	m := e.manager(t, stallFast)
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	checkCached(t, e.cache, repo)
	if got := e.srv.RangeRequests(shard1); got != 2 {
		t.Errorf("%s: %d range requests after two stalls, want 2", shard1, got)
	}
	if got := e.srv.RangeRequests(shard2); got != 1 {
		t.Errorf("%s: %d range requests after a dropped connection, want 1", shard2, got)
	}
	if got := e.srv.FileRequests("tokenizer.json"); got != 3 {
		t.Errorf("tokenizer.json: %d requests, want 3 (two 503s)", got)
	}
}

func TestChecksumMismatchFails(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 50)
	e := newEnv(t, "", repo)
	e.srv.SetFault(shard2, hubtest.Fault{Corrupt: true})
	m := e.manager(t)
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := wait(t, task)
	if !errors.Is(err, hub.ErrChecksum) || p.Status != hub.StatusFailed || !strings.Contains(p.Error, "checksum") {
		t.Fatalf("status %s, error %v", p.Status, err)
	}
	// The bad file leaves nothing; other files may keep partials for the next attempt.
	blob := filepath.Join(e.cache.Root, "models--org--tiny", "blobs", hubtest.SHA256(fileData(repo, shard2)))
	for _, p := range []string{blob, blob + ".incomplete"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after the checksum mismatch", p)
		}
	}
	if models, _ := e.cache.List(context.Background()); len(models) != 0 {
		t.Errorf("failed download listed: %+v", models)
	}
	if recs, _ := e.journal.Load(context.Background()); len(recs) != 1 || recs[0].Status != hub.StatusFailed {
		t.Errorf("journal = %+v, want the failed task", recs)
	}

	// With the fault gone, Start replaces the failed task and finishes the model.
	e.srv.SetFault(shard2, hubtest.Fault{})
	again, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again == task {
		t.Error("failed task returned by Start")
	}
	if _, err := wait(t, again); err != nil {
		t.Fatal(err)
	}
}

func TestCancelRemovesPartialFiles(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 60)
	e := newEnv(t, "", repo)
	e.srv.SetFault(shard1, hubtest.Fault{StallAfter: 100_000})
	m := e.manager(t, func(o *hub.ManagerOptions) { o.StallTimeout = time.Minute })
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, task, fileDone(shard1, 100_000))
	if err := m.Cancel(task.ID()); err != nil {
		t.Fatal(err)
	}
	if p := task.Progress(); p.Status != hub.StatusCancelled {
		t.Errorf("status %s, want cancelled", p.Status)
	}
	if l := leftovers(t, e.cache.Root); len(l) != 0 {
		t.Errorf("partial files left: %v", l)
	}
	if _, err := os.Stat(filepath.Join(e.cache.Root, "models--org--tiny")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("repo directory left behind: %v", err)
	}
	if recs, _ := e.journal.Load(context.Background()); len(recs) != 0 {
		t.Errorf("journal still holds %+v", recs)
	}
	if err := m.Cancel(task.ID()); err != nil {
		t.Errorf("second cancel: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	evil := hubtest.Repo{ID: "org/evil", Files: []hubtest.File{{Path: "config.json", Data: []byte("{}")}, {Path: "../../../evil.json", Data: []byte("x")}}}
	e := newEnv(t, "", modelRepo("org/tiny", 80), hubtest.Repo{ID: "org/gated", Gated: true, Files: modelRepo("x/y", 1).Files}, evil)
	ctx := context.Background()
	tests := []struct {
		name string
		repo string
		mod  func(*hub.ManagerOptions)
		want error
	}{
		{"not found", "org/missing", nil, hub.ErrNotFound},
		{"gated", "org/gated", nil, hub.ErrGated},
		{"bad id", "org/../x", nil, hub.ErrInvalidRepoID},
		{"path traversal", "org/evil", nil, hub.ErrUnsafePath},
		{"no space", "org/tiny", func(o *hub.ManagerOptions) {
			o.FreeSpace = func(string) (int64, error) { return 1000, nil }
		}, hub.ErrNoSpace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*hub.ManagerOptions)
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			m := e.manager(t, mods...)
			task, err := m.Start(ctx, tt.repo)
			if !errors.Is(err, tt.want) || task != nil {
				t.Fatalf("Start = %v, %v; want %v", task, err, tt.want)
			}
			if len(m.List()) != 0 {
				t.Errorf("failed Start left tasks: %+v", m.List())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.cache.Root), "evil.json")); err == nil {
		t.Error("path traversal wrote outside the cache")
	}
	if recs, _ := e.journal.Load(ctx); len(recs) != 0 {
		t.Errorf("journal holds %+v", recs)
	}

	offline, err := hub.New(hub.Options{Endpoint: e.srv.URL, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	m := e.manager(t, func(o *hub.ManagerOptions) { o.Client = offline })
	if _, err := m.Start(ctx, "org/tiny"); !errors.Is(err, hub.ErrOffline) {
		t.Errorf("offline Start: %v", err)
	}
}

func TestSlowSubscriberGetsFinal(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 90)
	e := newEnv(t, "", repo)
	m := e.manager(t, func(o *hub.ManagerOptions) { o.ProgressInterval = time.Millisecond })
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	slow, cancel, err := m.Subscribe(task.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	if _, err := wait(t, task); err != nil { // never reading slow must not hold this up
		t.Fatal(err)
	}
	p, ok := <-slow
	if !ok || p.Status != hub.StatusCompleted || p.BytesDone != p.BytesTotal {
		t.Fatalf("slow subscriber got %+v (ok %v), want the final progress", p, ok)
	}
	if _, ok := <-slow; ok {
		t.Error("channel not closed after the final progress")
	}
	if _, _, err := m.Subscribe("nope"); !errors.Is(err, hub.ErrUnknownTask) {
		t.Errorf("subscribe to unknown task: %v", err)
	}
	// Subscribing to a finished task gives its final state and a closed channel.
	late, _ := task.Subscribe()
	if p, ok := <-late; !ok || p.Status != hub.StatusCompleted {
		t.Errorf("late subscriber got %+v", p)
	}
}

func TestManagerDelete(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 100)
	e := newEnv(t, "", repo)
	m := e.manager(t)
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := wait(t, task)
	if err != nil {
		t.Fatal(err)
	}
	freed, err := m.Delete(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if freed < p.BytesTotal || freed > p.BytesTotal+4096 { // blobs plus refs/main
		t.Errorf("freed %d, want about %d", freed, p.BytesTotal)
	}
	if models, _ := e.cache.List(context.Background()); len(models) != 0 {
		t.Errorf("still listed: %+v", models)
	}
}

func TestSupersededFailedTask(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 120)
	e := newEnv(t, "", repo)
	e.srv.SetFault(shard2, hubtest.Fault{Corrupt: true, Times: 1})
	e.srv.SetFault(shard1, hubtest.Fault{StallAfter: 150_000, Times: 2})
	m := e.manager(t, func(o *hub.ManagerOptions) { o.StallTimeout = time.Minute })
	old, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, old); !errors.Is(err, hub.ErrChecksum) {
		t.Fatalf("first run: %v", err)
	}
	cur, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cur, fileDone(shard1, 150_000))
	if err := m.Resume(context.Background(), old.ID()); err == nil {
		t.Error("resumed a task that a newer one replaced")
	}
	if err := m.Cancel(old.ID()); err != nil {
		t.Fatal(err)
	}
	if len(leftovers(t, e.cache.Root)) == 0 {
		t.Error("cancelling the replaced task deleted the current task's partial files")
	}
	e.srv.SetFault(shard1, hubtest.Fault{})
	if err := m.Pause(cur.ID()); err != nil {
		t.Fatal(err)
	}
	if err := m.Resume(context.Background(), cur.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, cur); err != nil {
		t.Fatal(err)
	}
}

func TestClearFinished(t *testing.T) {
	t.Parallel()
	done, bad := modelRepo("org/done", 60), modelRepo("org/bad", 70)
	e := newEnv(t, "", done, bad)
	m := e.manager(t)
	ctx := context.Background()
	first, err := m.Start(ctx, done.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, first); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFault(shard2, hubtest.Fault{Corrupt: true})
	failed, err := m.Start(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := wait(t, failed); p.Status != hub.StatusFailed {
		t.Fatalf("status %s, want failed", p.Status)
	}
	changes, stop := m.Changes()
	defer stop()
	if n := m.ClearFinished(); n != 2 {
		t.Fatalf("ClearFinished() = %d, want the completed and the failed task", n)
	}
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("no change signalled for the cleared list")
	}
	if got := m.List(); len(got) != 0 {
		t.Fatalf("List after clearing = %+v", got)
	}
	if recs, _ := e.journal.Load(ctx); len(recs) != 0 {
		t.Fatalf("journal still holds %+v: a cleared failed download would come back after a restart", recs)
	}
	if err := m.Resume(ctx, failed.ID()); !errors.Is(err, hub.ErrUnknownTask) {
		t.Fatalf("Resume of a cleared task: %v, want ErrUnknownTask", err)
	}
	// The completed model is still in the cache: clearing is about the list only.
	if models, _ := e.cache.List(ctx); len(models) != 1 || models[0].Repo != done.ID {
		t.Fatalf("cache after clearing: %+v", models)
	}
	// A new download of the failed repo starts afresh.
	e.srv.SetFault(shard2, hubtest.Fault{})
	again, err := m.Start(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, again); err != nil {
		t.Fatal(err)
	}
}

func TestFinishedExpireAfterTTL(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 80)
	e := newEnv(t, "", repo)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := e.manager(t, func(o *hub.ManagerOptions) { o.Now, o.FinishedTTL = clock, time.Hour })
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	if got := m.List(); len(got) != 1 {
		t.Fatalf("List right after completion = %+v", got)
	}
	mu.Lock()
	now = now.Add(59 * time.Minute)
	mu.Unlock()
	if got := m.List(); len(got) != 1 {
		t.Fatalf("List before the TTL = %+v", got)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if got := m.List(); len(got) != 0 {
		t.Fatalf("List after the TTL = %+v", got)
	}
}
