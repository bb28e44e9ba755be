package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// runSelf runs the program with args and returns its stdout, stderr and exit code.
func runSelf(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := self(t, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestCLIMessagesAndExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-model")
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string   // a part stdout must hold
		stderr     []string // parts stderr must hold
		notStderr  string   // a part stderr must not hold
		onceStderr string   // a part stderr must hold exactly once
	}{
		{name: "--version", args: []string{"--version"}, stdout: "mlx-manager "},
		{name: "-v", args: []string{"-v"}, stdout: "mlx-manager "},
		{name: "help", args: []string{"help"}, stdout: "usage: mlx-manager"},
		{name: "mistyped command", args: []string{"serv"}, code: 2, stderr: []string{`unknown command "serv"; did you mean "serve"?`}},
		{name: "swapped letters", args: []string{"tokneize"}, code: 2, stderr: []string{`did you mean "tokenize"?`}},
		{name: "far from any command", args: []string{"frobnicate"}, code: 2, stderr: []string{`unknown command "frobnicate"`}, notStderr: "did you mean"},
		{name: "mistyped flag", args: []string{"run", "--max-tokns", "3", "m", "p"}, code: 2,
			stderr: []string{"did you mean --max-tokens?"}, onceStderr: "flag provided but not defined: -max-tokns"},
		{name: "mistyped serve flag", args: []string{"serve", "--adr", "127.0.0.1:0"}, code: 2, stderr: []string{"did you mean --addr?"}},
		{name: "flags alone serve", args: []string{"--adr", "x"}, code: 2, stderr: []string{"did you mean --addr?"}},
		{name: "bad config value", args: []string{"serve", "--log-format", "xml"}, code: 2, stderr: []string{`log format "xml": want text or json`}},
		{name: "missing arguments", args: []string{"run"}, code: 2, stderr: []string{"usage: run [flags] MODEL [PROMPT]"}},
		{name: "empty stdin prompt", args: []string{"run", "only-model"}, code: 2, stderr: []string{"usage: run [flags] MODEL PROMPT (stdin was empty)"}},
		{name: "help command", args: []string{"help", "pull"}, stdout: "-data-dir"},
		{name: "help mistyped command", args: []string{"help", "pul"}, code: 2, stderr: []string{`did you mean "pull"?`}},
		{name: "mistyped ls", args: []string{"lss"}, code: 2, stderr: []string{`did you mean "ls"?`}},
		{name: "ollama's alias", args: []string{"list", "--jsn"}, code: 2, stderr: []string{"did you mean --json?"}},
		{name: "show without a model", args: []string{"show"}, code: 2, stderr: []string{"usage: show MODEL"}},
		{name: "missing model folder", args: []string{"run", missing, "hi"}, code: 1,
			stderr: []string{"there is no model folder at " + missing + "; give a folder that holds config.json"}, notStderr: "no such file"},
		{name: "missing bench model", args: []string{"bench", "--model", missing}, code: 1,
			stderr: []string{"there is no model folder at " + missing}, notStderr: "measuring"},
		{name: "bench error said once", args: []string{"bench", "--precision", "zz"}, code: 1,
			stderr: []string{`mlx-manager bench: unknown precision "zz"`}, notStderr: "bench: bench"},
		{name: "bad concurrency", args: []string{"bench", "--concurrency", "1,x"}, code: 2,
			stderr: []string{`--concurrency: "x" is not a positive number`}, notStderr: "measuring"},
		{name: "unknown kernel set", args: []string{"bench", "--kernels", "zz"}, code: 2,
			stderr: []string{`--kernels: kernel set "zz": not available`}, notStderr: "measuring"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runSelf(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout lacks %q", tc.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q", s)
				}
			}
			if tc.notStderr != "" && strings.Contains(stderr, tc.notStderr) {
				t.Errorf("stderr holds %q", tc.notStderr)
			}
			if tc.onceStderr != "" && strings.Count(stderr, tc.onceStderr) != 1 {
				t.Errorf("stderr holds %q %d times, want once", tc.onceStderr, strings.Count(stderr, tc.onceStderr))
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	_, stderr, code := runSelf(t, "serve", "--addr", ln.Addr().String(), "--data-dir", dataDir, "--headless", "--no-open")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{ln.Addr().String() + " is already in use by ", "--addr 127.0.0.1:PORT"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if runtime.GOOS == "linux" && !strings.Contains(stderr, fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Errorf("stderr does not name the holder, pid %d:\n%s", os.Getpid(), stderr)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data dir was touched before the port failed: %v", err)
	}
}

func TestJSONLogFormat(t *testing.T) {
	cmd := self(t, "serve", "--log-format", "json", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--models-dir", t.TempDir(), "--headless", "--no-open")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening on http://") || !strings.Contains(sc.Text(), "(menu-bar icon: off (--headless))") {
		t.Fatalf("start line %q", sc.Text())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var starting map[string]any
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", l)
		}
		if rec["msg"] == "starting" {
			starting = rec
		}
	}
	if starting == nil {
		t.Fatalf("no start line in:\n%s", stderr.String())
	}
	for k, v := range starting {
		if v == "" {
			t.Errorf("start line field %s is empty: %v", k, starting)
		}
	}
	if starting["log_format"] != "json" {
		t.Errorf("start line log_format = %v", starting["log_format"])
	}
}

// TestRunLogsThroughItsLogger: the executor logs through the command's logger
// (warnings only for the CLI), not as plain lines of the default logger.
func TestRunLogsThroughItsLogger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modeltest.Write(dir, modeltest.Spec{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runSelf(t, "run", dir, "hi", "--max-tokens", "2")
	if code != 0 {
		t.Fatalf("exit code %d:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "runner ready") {
		t.Fatalf("an executor line leaked to stderr:\n%s", stderr)
	}
}
