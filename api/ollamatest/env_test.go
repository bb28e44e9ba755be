package ollamatest

import (
	"bufio"
	"context"
	"encoding/json"
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

// Model ids of the test models dir.
const (
	tinyID  = "test/Tiny-Chat-0.5B"
	otherID = "test/Tiny-Chat-0.5B-Instruct"
	embedID = "test/MiniLM-tiny" // installed by installEmbedder
	commit  = apitest.InstallCommit
)

type env struct {
	*apitest.Server
	root  string // the models dir
	eng   *engine.Engine
	key   string
	token string // the admin's session token
}

// hubRepo is the repo the test Hub serves: a tiny model to pull.
const hubRepo = "hub/Pullable-Tiny"

func start(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	for _, id := range []string{tinyID, otherID} {
		install(t, root, id, func(dir string) error { return modeltest.Write(dir, modeltest.Spec{Seed: 3, MaxPos: 1024}) })
	}
	// The test Hub stand-in the download tests use, serving one tiny model.
	src := t.TempDir()
	if err := modeltest.Write(src, modeltest.Spec{Seed: 5, MaxPos: 256}); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	repo := hubtest.Repo{ID: hubRepo}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		repo.Files = append(repo.Files, hubtest.File{Path: e.Name(), Data: data, LFS: strings.HasSuffix(e.Name(), ".safetensors")})
	}
	hs := hubtest.NewServer(t, repo)
	client, err := hub.New(hub.Options{Endpoint: hs.URL, Logger: quiet(), MaxRetryAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	downloads, err := hub.NewManager(hub.ManagerOptions{Client: client, Cache: hub.Cache{Root: root}, Logger: quiet(),
		ProgressInterval: 10 * time.Millisecond, RetryDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { downloads.Close() })
	eng, err := engine.New(engine.Options{
		ModelsDir: root, Pool: pool.Config{BudgetBytes: -1, Logger: quiet()}, Logger: quiet(), Downloads: downloads, Hub: client,
		NewRunner: func(ctx context.Context, m *model.Model) (model.Runner, error) {
			return cpu.New(m, cpu.Options{Threads: 1, Logger: quiet()})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv := apitest.Start(t, apitest.Options{Configure: func(o *api.Options) {
		o.Engine, o.Version = eng, "v1.2.3"
	}})
	token := srv.Admin(t)
	return &env{Server: srv, root: root, eng: eng, key: srv.APIKey(t, token, "ollama"), token: token}
}

func quiet() *slog.Logger { return apitest.Quiet() }

// install writes a model as the Hugging Face cache holds it.
// (apitest.InstallModel, under this package's short name.)
func install(t *testing.T, root, id string, write func(dir string) error) {
	t.Helper()
	apitest.InstallModel(t, root, id, write)
}

// call sends a request with the API key, checks the status and decodes the answer.
func (e *env) call(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	e.JSON(t, method, path, e.key, body, want, out)
}

// lines posts a streaming request and decodes every NDJSON line as a map.
func (e *env) lines(t *testing.T, path string, body any) []map[string]any {
	t.Helper()
	resp := e.Do(t, "POST", path, e.key, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Fatalf("content type %q", ct)
	}
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// errorOf sends a request that must fail with status and returns Ollama's error text.
func (e *env) errorOf(t *testing.T, method, path string, body any, status int) string {
	t.Helper()
	resp := e.Do(t, method, path, e.key, body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("error body %q: %v", raw, err)
	}
	msg, ok := m["error"].(string)
	if !ok || len(m) != 1 {
		t.Fatalf("error body %s is not Ollama's {\"error\": \"...\"}", raw)
	}
	return msg
}

// installEmbedder adds embedID: a tiny BERT sentence-transformers model
// (mean pooling, normalised), for the embedding endpoints.
func (e *env) installEmbedder(t *testing.T) {
	install(t, e.root, embedID, func(dir string) error {
		if err := modeltest.Write(dir, modeltest.Spec{Arch: "bert", Seed: 3}); err != nil {
			return err
		}
		return modeltest.WriteSentenceTransformers(dir, modeltest.Pooling{Mode: "mean", Normalize: true, MaxSeqLength: 16}, 64)
	})
}
