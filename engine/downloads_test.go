package engine

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// mustRef parses a model ref the test knows to be valid.
func mustRef(t *testing.T, s string) ModelRef {
	t.Helper()
	ref, err := ParseModelRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// newHubEngine is an engine with a Hub client and a download manager on a fake
// Hub serving repos.
func newHubEngine(t *testing.T, repos ...hubtest.Repo) *Engine {
	t.Helper()
	fake := hubtest.NewServer(t, repos...)
	quiet := slog.New(slog.DiscardHandler)
	c, err := hub.New(hub.Options{Endpoint: fake.URL, Logger: quiet, MaxRetryAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := hub.NewManager(hub.ManagerOptions{Client: c, Cache: hub.Cache{Root: dir}, Logger: quiet,
		ProgressInterval: 10 * time.Millisecond, RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e, err := New(Options{ModelsDir: dir, Logger: quiet, Downloads: m, Hub: c,
		NewRunner: func(context.Context, *model.Model) (model.Runner, error) {
			return nil, errors.New("no executor in this test")
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestHubFacadeWithoutHub: an engine started without a Hub client or a download
// manager answers every Hub operation with ErrNoHub, which the API shows as 503
// hub_unavailable, and lists no downloads.
func TestHubFacadeWithoutHub(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	if e.HasHub() || e.HasDownloads() || e.HubOffline() || e.HubEndpoint() != "" {
		t.Errorf("HasHub %v, HasDownloads %v, HubOffline %v, HubEndpoint %q: want nothing", e.HasHub(), e.HasDownloads(), e.HubOffline(), e.HubEndpoint())
	}
	e.SetHubToken("hf_x") // no client: nothing to change, and no panic
	e.SetHubOffline(true)
	_, searchErr := e.Search(ctx, SearchQuery{Query: "x"})
	_, configErr := e.HubConfig(ctx, mustRef(t, "a/b"))
	_, startErr := e.StartDownload(ctx, mustRef(t, "a/b"))
	_, stateErr := e.DownloadState("t1")
	_, _, watchErr := e.WatchDownload("t1")
	_, controlErr := e.ControlDownload(ctx, "t1", DownloadPause)
	for name, err := range map[string]error{"Search": searchErr, "HubConfig": configErr, "StartDownload": startErr,
		"DownloadState": stateErr, "WatchDownload": watchErr, "ControlDownload": controlErr} {
		c, ok := Classify(err)
		if !errors.Is(err, ErrNoHub) || !ok || c.Kind != KindUnavailable || c.Code != "hub_unavailable" {
			t.Errorf("%s: %v classified %+v, want ErrNoHub (unavailable, hub_unavailable)", name, err, c)
		}
	}
	if d := e.Downloads(); d != nil {
		t.Errorf("Downloads = %v, want none", d)
	}
	if n := e.ClearDownloads(); n != 0 {
		t.Errorf("ClearDownloads = %d", n)
	}
}

// TestDownloadThroughFacade downloads a repo from the fake Hub through the
// engine: start, watch to completion, then the model is in the models dir
// and the state machine refuses pausing it.
func TestDownloadThroughFacade(t *testing.T) {
	config := []byte(`{"architectures":["LlamaForCausalLM"],"model_type":"llama"}`)
	e := newHubEngine(t,
		hubtest.Repo{ID: "test/m", Tags: []string{"mlx", "safetensors", "text-generation"}, Files: []hubtest.File{{Path: "config.json", Data: config}, hubtest.RandomFile("model.safetensors", 4096, 1, true)}},
		hubtest.Repo{ID: "test/noconfig", Files: []hubtest.File{{Path: "README.md", Data: []byte("hi")}}})
	ctx := context.Background()
	if !e.HasHub() || !e.HasDownloads() || e.HubEndpoint() == "" {
		t.Fatalf("HasHub %v, HasDownloads %v, HubEndpoint %q", e.HasHub(), e.HasDownloads(), e.HubEndpoint())
	}

	found, err := e.Search(ctx, SearchQuery{Query: "test/m"})
	if err != nil || len(found) == 0 || found[0].ID != "test/m" {
		t.Fatalf("Search = %+v, %v", found, err)
	}
	if raw, err := e.HubConfig(ctx, mustRef(t, "test/m")); err != nil || string(raw) != string(config) {
		t.Errorf("HubConfig(test/m) = %q, %v", raw, err)
	}
	if raw, err := e.HubConfig(ctx, mustRef(t, "test/noconfig")); err != nil || raw != nil {
		t.Errorf("HubConfig of a repo without config.json = %q, %v; want nil, nil", raw, err)
	}
	if _, err := e.HubConfig(ctx, mustRef(t, "test/absent")); !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("HubConfig of an unknown repo: %v, want ErrNotFound", err)
	}
	if e.Downloaded(mustRef(t, "test/m")) {
		t.Fatal("test/m is downloaded before its download")
	}

	d, err := e.StartDownload(ctx, mustRef(t, "test/m"))
	if err != nil || d.TaskID == "" || d.Repo != "test/m" {
		t.Fatalf("StartDownload = %+v, %v", d, err)
	}
	updates, stop, err := e.WatchDownload(d.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	last := d
	for p := range updates {
		last = p
	}
	if last.Status != DownloadCompleted {
		t.Fatalf("final state %+v, want completed", last)
	}
	if got := e.Downloads(); len(got) != 1 || got[0].TaskID != d.TaskID {
		t.Errorf("Downloads = %+v", got)
	}
	if !e.Downloaded(mustRef(t, "test/m")) {
		t.Error("test/m is not downloaded after its download")
	}
	if raw, size, ok := e.LocalConfig(mustRef(t, "test/m")); !ok || string(raw) != string(config) || size < 4096 {
		t.Errorf("LocalConfig = %q, %d, %v", raw, size, ok)
	}

	// A completed download cannot be paused: the state machine's answer, the
	// same whether asked beforehand or done.
	if err := CheckDownloadAction(DownloadCompleted, DownloadPause); !errors.Is(err, hub.ErrTransition) {
		t.Errorf("CheckDownloadAction(completed, pause) = %v, want ErrTransition", err)
	}
	if _, err := e.ControlDownload(ctx, d.TaskID, DownloadPause); !errors.Is(err, hub.ErrTransition) {
		t.Errorf("pausing a completed download: %v, want ErrTransition", err)
	}
	if _, err := e.ControlDownload(ctx, d.TaskID, DownloadAction("launch")); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("an action of the run's own: %v, want ErrInvalidRequest", err)
	}
	if _, err := e.DownloadState("nope"); !errors.Is(err, hub.ErrUnknownTask) {
		t.Errorf("DownloadState(unknown) = %v, want ErrUnknownTask", err)
	}
	if n := e.ClearDownloads(); n != 1 || len(e.Downloads()) != 0 {
		t.Errorf("ClearDownloads = %d, then %d listed", n, len(e.Downloads()))
	}
}

// TestCheckDownloadAction is the user's actions against every status.
func TestCheckDownloadAction(t *testing.T) {
	allowed := map[DownloadStatus][]DownloadAction{
		DownloadPending:     {DownloadPause, DownloadResume, DownloadCancel},
		DownloadDownloading: {DownloadPause, DownloadResume, DownloadCancel},
		DownloadVerifying:   {DownloadPause, DownloadResume, DownloadCancel},
		DownloadPaused:      {DownloadPause, DownloadResume, DownloadCancel},
		DownloadFailed:      {DownloadResume, DownloadCancel},
		DownloadCancelled:   {DownloadCancel},
		DownloadCompleted:   nil,
	}
	if len(allowed) != len(DownloadStatuses) {
		t.Fatalf("the table covers %d statuses of %d", len(allowed), len(DownloadStatuses))
	}
	for _, st := range DownloadStatuses {
		for _, a := range []DownloadAction{DownloadPause, DownloadResume, DownloadCancel} {
			want := false
			for _, ok := range allowed[st] {
				want = want || ok == a
			}
			err := CheckDownloadAction(st, a)
			if (err == nil) != want {
				t.Errorf("%s a download that is %s: %v, want allowed=%v", a, st, err, want)
			}
		}
	}
}
