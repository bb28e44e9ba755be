package engine

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// TestOpenHub: an engine given HubOptions builds its own client and download
// manager (the daemon's wiring), downloads through them with the journal it
// was given, and refuses to be given a client as well.
func TestOpenHub(t *testing.T) {
	config := []byte(`{"architectures":["LlamaForCausalLM"],"model_type":"llama"}`)
	fake := hubtest.NewServer(t, hubtest.Repo{ID: "test/m", Files: []hubtest.File{{Path: "config.json", Data: config}, hubtest.RandomFile("model.safetensors", 4096, 1, true)}})
	journal := hubtest.NewJournal()
	quiet := slog.New(slog.DiscardHandler)
	noExec := func(context.Context, *model.Model) (model.Runner, error) {
		return nil, errors.New("no executor in this test")
	}
	opts := &HubOptions{Endpoint: fake.URL, UserAgent: "test", Journal: journal}
	e, err := New(Options{ModelsDir: t.TempDir(), Logger: quiet, NewRunner: noExec, OpenHub: opts})
	if err != nil {
		t.Fatal(err)
	}
	if !e.HasHub() || !e.HasDownloads() || e.HubEndpoint() != fake.URL {
		t.Fatalf("HasHub %v, HasDownloads %v, HubEndpoint %q", e.HasHub(), e.HasDownloads(), e.HubEndpoint())
	}
	ctx := context.Background()
	if err := e.ResumeDownloads(ctx); err != nil {
		t.Fatalf("ResumeDownloads with an empty journal: %v", err)
	}
	d, err := e.StartDownload(ctx, mustRef(t, "test/m"))
	if err != nil {
		t.Fatal(err)
	}
	updates, stop, err := e.WatchDownload(d.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	last := d
	for p := range updates {
		last = p
	}
	stop()
	if last.Status != DownloadCompleted || !e.Downloaded(mustRef(t, "test/m")) {
		t.Fatalf("final state %+v, downloaded %v", last, e.Downloaded(mustRef(t, "test/m")))
	}
	if recs, _ := journal.Load(ctx); len(recs) != 0 {
		t.Errorf("journal holds %d records after a completed download, want 0", len(recs))
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The engine owned the manager: Close stopped it.
	if _, err := e.StartDownload(ctx, mustRef(t, "test/m")); !errors.Is(err, hub.ErrClosed) {
		t.Errorf("StartDownload after Close: %v, want ErrClosed", err)
	}

	c, err := hub.New(hub.Options{Endpoint: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{ModelsDir: t.TempDir(), Logger: quiet, NewRunner: noExec, OpenHub: opts, Hub: c}); err == nil {
		t.Error("New with both OpenHub and Hub: no error")
	}
}
