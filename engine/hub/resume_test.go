package hub_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

func TestResumeAfterRestart(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 30)
	e := newEnv(t, "", repo)
	repo, _ = e.srv.Repo(repo.ID)
	e.srv.SetFault(shard1, hubtest.Fault{StallAfter: 100_000, Times: 1})
	slow := func(o *hub.ManagerOptions) { o.StallTimeout = time.Minute }

	m1 := e.manager(t, slow)
	task, err := m1.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, task, fileDone(shard1, 100_000))
	if err := m1.Close(); err != nil { // the daemon stops mid-file
		t.Fatal(err)
	}
	if _, err := e.cache.Model(repo.ID); err == nil {
		t.Fatal("interrupted download listed as complete")
	}

	m2 := e.manager(t)
	if err := m2.ResumeAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	resumed, err := m2.Get(task.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, resumed); err != nil {
		t.Fatal(err)
	}
	checkCached(t, e.cache, repo)
	var ranges []string
	for _, r := range e.srv.Requests() {
		if r.Range != "" {
			ranges = append(ranges, r.Range)
		}
	}
	if e.srv.RangeRequests(shard1) != 1 || !strings.Contains(strings.Join(ranges, " "), "bytes=100000-") {
		t.Errorf("range requests %v, want one from byte 100000 for %s", ranges, shard1)
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 70)
	e := newEnv(t, "", repo)
	repo, _ = e.srv.Repo(repo.ID)
	e.srv.SetFault(shard1, hubtest.Fault{StallAfter: 120_000, Times: 1})
	m := e.manager(t, func(o *hub.ManagerOptions) { o.StallTimeout = time.Minute })
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, task, fileDone(shard1, 120_000))
	if err := m.Pause(task.ID()); err != nil {
		t.Fatal(err)
	}
	if p := task.Progress(); p.Status != hub.StatusPaused || p.BytesDone < 120_000 {
		t.Fatalf("after pause: %+v", p)
	}
	if len(leftovers(t, e.cache.Root)) == 0 {
		t.Error("pause removed the partial file")
	}
	if recs, _ := e.journal.Load(context.Background()); len(recs) != 1 || recs[0].Status != hub.StatusPaused {
		t.Errorf("journal = %+v, want a paused record", recs)
	}
	// Start on a paused repo resumes the same task.
	again, err := m.Start(context.Background(), repo.ID)
	if err != nil || again != task {
		t.Fatalf("Start on paused task: %v, same=%v", err, again == task)
	}
	if _, err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	checkCached(t, e.cache, repo)
	if got := e.srv.RangeRequests(shard1); got != 1 {
		t.Errorf("%d range requests, want 1", got)
	}
}

func TestResumeAllOfflineAndBadRecords(t *testing.T) {
	t.Parallel()
	repo := modelRepo("org/tiny", 110)
	e := newEnv(t, "", repo)
	repo, _ = e.srv.Repo(repo.ID)
	ctx := context.Background()
	cfg := fileData(repo, "config.json")
	files := []hub.File{{Path: "config.json", Size: int64(len(cfg)), BlobID: hubtest.GitBlobID(cfg)}}
	good := hub.TaskRecord{ID: "good", Repo: repo.ID, Revision: "main", Commit: repo.Commit, Status: hub.StatusDownloading, Files: files}
	evil := good
	evil.ID, evil.Repo = "evil", "org/other"
	evil.Files = []hub.File{{Path: "../../x", Size: 1, BlobID: hubtest.GitBlobID([]byte("x"))}}
	done := good
	done.ID, done.Repo, done.Status = "done", "org/done", hub.StatusCompleted
	for _, r := range []hub.TaskRecord{good, evil, done} {
		if err := e.journal.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	offline, err := hub.New(hub.Options{Endpoint: e.srv.URL, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	m := e.manager(t, func(o *hub.ManagerOptions) { o.Client = offline })
	if err := m.ResumeAll(ctx); err != nil {
		t.Fatal(err)
	}
	list := m.List()
	if len(list) != 1 || list[0].TaskID != "good" || list[0].Status != hub.StatusPaused {
		t.Fatalf("offline ResumeAll: %+v", list)
	}
	recs, _ := e.journal.Load(ctx)
	if len(recs) != 1 || recs[0].ID != "good" {
		t.Errorf("journal after ResumeAll = %+v, want only the good record", recs)
	}
	if len(e.srv.Requests()) != 0 {
		t.Errorf("offline manager made requests: %+v", e.srv.Requests())
	}
	_ = m.Close()

	// Online again: the journaled task finishes (only config.json was asked for).
	m2 := e.manager(t)
	if err := m2.ResumeAll(ctx); err != nil {
		t.Fatal(err)
	}
	task, err := m2.Get("good")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := wait(t, task); err != nil || p.BytesDone != files[0].Size {
		t.Fatalf("resumed task: %+v, %v", p, err)
	}
}

// TestDownloadRealTinyModel serves the shared stories260K model through the fake Hub
// and checks the cache snapshot holds it byte for byte.
func TestDownloadRealTinyModel(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testenv.SharedDir(), "models", "stories260K")
	if _, err := os.Stat(dir); err != nil {
		testenv.Need(t, false, fmt.Sprintf("shared/models/stories260K beside the repository (../shared): %v", err))
	}
	repo, err := hubtest.RepoFromDir("karpathy/stories260K", dir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "", repo)
	m := e.manager(t)
	task, err := m.Start(context.Background(), repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, task); err != nil {
		t.Fatal(err)
	}
	snap, err := e.cache.SnapshotDir(repo.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer.model"} {
		want, _ := os.ReadFile(filepath.Join(dir, name))
		got, err := os.ReadFile(filepath.Join(snap, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the original (err %v)", name, err)
		}
	}
}
