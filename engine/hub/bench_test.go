package hub_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
)

// BenchmarkDownload measures the whole path on loopback: metadata, 302 to the CDN,
// streaming into .incomplete with sha256, rename and link, for a 32 MiB model in
// four LFS shards.
func BenchmarkDownload(b *testing.B) {
	const shard = 8 << 20
	repo := hubtest.Repo{ID: "org/bench", Files: []hubtest.File{{Path: "config.json", Data: []byte(`{}`)}}}
	for i := range 4 {
		repo.Files = append(repo.Files, hubtest.RandomFile("model-0000"+strconv.Itoa(i+1)+"-of-00004.safetensors", shard, uint64(i), true))
	}
	srv := hubtest.NewServer(b, repo)
	client, err := hub.New(hub.Options{Endpoint: srv.URL, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(4*shard + 2)
	for b.Loop() {
		m, err := hub.NewManager(hub.ManagerOptions{Client: client, Cache: hub.Cache{Root: filepath.Join(b.TempDir(), "hub")},
			Logger: discardLogger(), ProgressInterval: 50 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		task, err := m.Start(context.Background(), repo.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := task.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		_ = m.Close()
	}
}
