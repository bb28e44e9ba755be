package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// Model ids the test uses: one already on disk (shared/models/stories260K when
// present, else a generated one), and on the fake Hub one that
// downloads at once and two whose large file stalls midway, to pause and to cancel.
const (
	localModel   = "local/tiny-llama"
	smallModel   = "local/tiny-256"  // a generated chat model with a 256-token window
	baseModel    = "local/tiny-base" // a generated model without a chat template
	hubModel     = "mlx-community/e2e-tiny-chat"
	pausedModel  = "mlx-community/e2e-pause-resume"
	cancelModel  = "mlx-community/e2e-cancel"
	stallingSize = 4 << 20
)

// visionModel is a generated Gemma 3 with its vision tower.
const visionModel = "local/tiny-vision"

// repoRoot is the module root.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoDir()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// localModelDir is the real tiny model from shared/models when present (it tells
// stories), else a generated one: either way a model the engine runs.
func localModelDir(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, "..", "shared", "models", "stories260K")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return dir
	}
	t.Logf("%s is absent: the local model is a generated one", dir)
	return modeltest.New(t, modeltest.Spec{Seed: 7})
}

// baseModelDir is a generated model whose tokenizer_config.json has no
// chat_template, as a base model's.
func baseModelDir(t *testing.T) string {
	t.Helper()
	dir := modeltest.New(t, modeltest.Spec{Seed: 9})
	path := filepath.Join(dir, "tokenizer_config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "chat_template")
	if raw, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// placeModel copies a model folder into the models dir in the Hugging Face cache
// layout (models--org--name/snapshots/<commit> and refs/main), as a model some
// other tool downloaded.
func placeModel(t *testing.T, modelsDir, id, src string) {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(modelsDir, "models--"+strings.ReplaceAll(id, "/", "--"))
	snap := filepath.Join(repo, "snapshots", commit)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(snap, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatalf("place %s: %v", id, err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "refs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeHub serves generated 4-bit models for the UI to find and download. The large
// file of pausedModel stalls once after a megabyte (so the download can be paused
// midway, and completes when resumed); cancelModel's stalls every time. Those files
// are .txt, a name the downloader fetches (it skips files a model does not need).
func fakeHub(t *testing.T) *hubtest.Server {
	t.Helper()
	dir := modeltest.New(t, modeltest.Spec{Seed: 11, Layers: 4, Hidden: 128, Intermediate: 256, QuantBits: 4})
	repo := func(id string, downloads int64, extra ...hubtest.File) hubtest.Repo {
		r, err := hubtest.RepoFromDir(id, dir)
		if err != nil {
			t.Fatal(err)
		}
		r.Downloads, r.Likes = downloads, downloads/20
		r.Files = append(r.Files, extra...)
		return r
	}
	srv := hubtest.NewServer(t,
		repo(hubModel, 1234),
		repo(pausedModel, 321, hubtest.RandomFile("pause-me.txt", stallingSize, 1, true)),
		repo(cancelModel, 99, hubtest.RandomFile("cancel-me.txt", stallingSize, 2, true)),
	)
	srv.SetFault("pause-me.txt", hubtest.Fault{StallAfter: 1 << 20, Times: 1})
	srv.SetFault("cancel-me.txt", hubtest.Fault{StallAfter: 1 << 20})
	return srv
}
