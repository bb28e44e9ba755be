package app

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// TestNoSecretInLogs runs the daemon at debug level with HF_TOKEN and the JWT
// secret in its environment, exercises everything that handles a secret (sign
// in, a wrong password, an API key, a Hub token in the settings, a gated
// download that sends the token), and then greps its stderr and log files.
func TestNoSecretInLogs(t *testing.T) {
	const (
		hfToken   = "hf_EnvTokenThatMustNeverBeLogged0001"
		jwtSecret = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		hubToken  = "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3"
	)
	src := t.TempDir()
	writeTiny(t, src, modeltest.Spec{Seed: 19})
	repo, err := hubtest.RepoFromDir("gated/Tiny", src)
	if err != nil {
		t.Fatal(err)
	}
	repo.Gated = true
	hubSrv := hubtest.NewServer(t, repo)
	hubSrv.Token = hfToken

	dataDir, modelsDir := t.TempDir(), t.TempDir()
	p := startProc(t, dataDir, modelsDir, "HF_ENDPOINT="+hubSrv.URL, "HF_TOKEN="+hfToken,
		"MLX_MANAGER_JWT_SECRET="+jwtSecret, "MLX_MANAGER_LOG_LEVEL=debug")
	tok := p.admin()
	secrets := []string{hfToken, jwtSecret, hubToken, faultPassword, tok, "wrong password 123"}

	p.call("POST", "/api/auth/login", "", map[string]string{"email": "admin@example.com", "password": "wrong password 123"})
	var key struct {
		Key string `json:"key"`
	}
	p.must("POST", "/api/auth/api-keys", tok, map[string]string{"name": "ci"}, http.StatusCreated, &key)
	secrets = append(secrets, key.Key)
	p.must("GET", "/v1/models", key.Key, nil, http.StatusOK, nil)
	p.call("GET", "/v1/models?token="+key.Key, "", nil) // refused, and the query must not be logged either
	p.must("POST", "/api/models/download", tok, map[string]string{"model_id": repo.ID}, http.StatusAccepted, nil)
	waitFor(t, "the gated download", func() bool { return len(p.localModels(tok)) == 1 })
	p.must("PUT", "/api/settings/hub", tok, map[string]string{"token": hubToken}, http.StatusOK, nil)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	logs := map[string]string{"stderr": p.stderr.String()}
	files, _ := filepath.Glob(filepath.Join(dataDir, "logs", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logs[f] = string(b)
	}
	if len(files) == 0 || !strings.Contains(logs["stderr"], "msg=starting") || !strings.Contains(logs["stderr"], "hf_token=[redacted]") {
		t.Fatalf("no logs to check (files %v)", files)
	}
	for name, text := range logs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the secret %q", name, s)
			}
		}
	}
}

// TestSecretFilesPrivate checks the modes of what the daemon writes that holds
// secrets or personal data: the generated JWT secret, the database, the logs.
func TestSecretFilesPrivate(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startProc(t, dataDir, t.TempDir())
	p.admin()
	for name, want := range map[string]os.FileMode{
		auth.SecretFileName:    0o600,
		"mlx-manager.db":       0o600,
		"logs/mlx-manager.log": 0o600,
		"logs":                 0o700,
	} {
		st, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", name, st.Mode().Perm(), want)
		}
	}
	st, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("data dir mode %o: others can read it", st.Mode().Perm())
	}
}
