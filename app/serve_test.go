package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
)

// TestMain lets the tests run the real program as a child process: the test binary
// re-executes itself with MLXM_RUN_MAIN=1 and behaves like mlx-manager.
func TestMain(m *testing.M) {
	if os.Getenv("MLXM_RUN_MAIN") == "1" {
		ctx, stop := signalContext(os.Args[1:])
		code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

type testDaemon struct {
	cmd    *exec.Cmd
	url    string
	stderr *strings.Builder
}

func self(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MLXM_RUN_MAIN=1", "HOME="+t.TempDir())
	return cmd
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

func startDaemon(t *testing.T, dataDir string) *testDaemon {
	t.Helper()
	cmd := self(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--models-dir", t.TempDir(), "--headless", "--no-open")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &testDaemon{cmd: cmd, stderr: &strings.Builder{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case d.url = <-found:
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon did not start; stderr:\n%s", d.stderr)
	}
	return d
}

func TestVersion(t *testing.T) {
	out, err := self(t, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "mlx-manager ") {
		t.Fatalf("version printed %q", out)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := self(t, "frobnicate").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
}

func TestServeLifecycle(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, dataDir)

	resp, err := http.Get(d.url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"healthy"`) || resp.Header.Get("X-Request-ID") == "" {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
	if want := fmt.Sprintf(`"kernels":{"set":%q,"simd_build":%v`, kern.Info().Active, kern.Info().SIMD); !strings.Contains(string(body), want) {
		t.Errorf("health does not name the kernels (%s): %s", want, body)
	}

	t.Run("second instance exits at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := self(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--headless", "--no-open")
		cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
		cmd.Env = append(os.Environ(), "MLXM_RUN_MAIN=1")
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatal("second instance hung")
		}
		if err == nil || !strings.Contains(string(out), "already running, pid") {
			t.Fatalf("err = %v, output %q", err, out)
		}
	})

	t.Run("files are private", func(t *testing.T) {
		for _, p := range []string{"mlx-manager.db", "logs/mlx-manager.log"} {
			st, err := os.Stat(filepath.Join(dataDir, p))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %o, want 600", p, st.Mode().Perm())
			}
		}
	})

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "msg=stopped") {
		t.Errorf("no clean stop logged:\n%s", d.stderr)
	}
	// The lock is free again: a new daemon starts on the same data dir.
	startDaemon(t, dataDir)
}
