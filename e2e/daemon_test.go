package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDaemon compiles the daemon as `make build` does, so the test runs the binary
// users get, with the UI embedded.
func buildDaemon(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mlx-manager")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// daemon is a running mlx-manager serve.
type daemon struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
}

// startDaemon runs `mlx-manager serve` on a free port and waits until it listens.
// Its log goes to logPath. It is stopped (SIGINT, as a user's Ctrl-C) when the test ends.
func startDaemon(t *testing.T, bin, dataDir, modelsDir, hubURL, logPath string) *daemon {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir,
		"--models-dir", modelsDir, "--headless", "--no-open")
	cmd.Env = append(cleanEnv(), "HF_ENDPOINT="+hubURL, "HF_TOKEN=")
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	d := &daemon{cmd: cmd, done: make(chan error, 1)}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		d.stop(t)
		logFile.Close()
	})
	select {
	case d.URL = <-urls:
		return d
	case err := <-d.done:
		d.done <- err
		t.Fatalf("daemon exited before listening (%v); log in %s", err, logPath)
	case <-time.After(60 * time.Second):
		t.Fatalf("daemon did not listen within 60s; log in %s", logPath)
	}
	return nil
}

// stop asks the daemon to shut down and waits; a daemon that hangs is killed and
// the test fails, since a clean shutdown is part of what users rely on.
func (d *daemon) stop(t *testing.T) {
	if d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil && !strings.Contains(err.Error(), "signal") {
			t.Errorf("daemon exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		t.Errorf("daemon did not stop within 20s of SIGINT")
	}
}

// cleanEnv is the environment without settings that would point the daemon at the
// user's own data, models or Hub.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MLX_MANAGER_") || strings.HasPrefix(k, "HF_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
