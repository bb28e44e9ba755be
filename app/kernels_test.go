package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestLogKernels: a slow build on a CPU with SIMD kernels is a warning that
// says how to build the fast binary; any other build an info line.
func TestLogKernels(t *testing.T) {
	for _, c := range []struct {
		name string
		k    kern.Kernels
		want []string
	}{
		{"plain build on avx2", kern.Kernels{Active: "go", Best: "avx2"}, []string{"level=WARN", "make build", "GOEXPERIMENT=simd go install", "cpu=avx2"}},
		{"plain build on arm64", kern.Kernels{Active: "go", Best: "neon"}, []string{"level=WARN", "GOEXPERIMENT=simd"}},
		{"simd build", kern.Kernels{Active: "avx512", SIMD: true, Best: "avx512"}, []string{"level=INFO", "set=avx512", "simd_build=true"}},
		{"plain build, no SIMD on the CPU", kern.Kernels{Active: "go", Best: "go"}, []string{"level=INFO", "set=go", "simd_build=false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			logKernels(slog.New(slog.NewTextHandler(&buf, nil)), c.k)
			for _, w := range c.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log %q lacks %q", buf.String(), w)
				}
			}
		})
	}
}

// TestPlainBuild builds the binary the way `go build` and `go install` do
// without the Makefile (no GOEXPERIMENT) and checks that `version` either
// names fast kernels or prints the warning with the way to them.
func TestPlainBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole binary (about a minute): not in -short")
	}
	// go test puts its own toolchain's bin folder first in the PATH of the test
	// (runtime.GOROOT may be empty: make test builds with -trimpath).
	goBin, err := exec.LookPath("go")
	testenv.Need(t, err == nil, fmt.Sprintf("the go command of this toolchain: %v", err))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "mlx-manager")
	// -trimpath as make builds: the packages compiled here are then the ones
	// test-nosimd and an earlier run of this test left in the build cache.
	build := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", bin, "github.com/mlx-manager/mlx-manager")
	build.Env = append(os.Environ(), "GOEXPERIMENT=", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "kernels: ") {
		t.Fatalf("version does not name the kernels:\n%s", s)
	}
	slow := strings.Contains(s, "kernels: go (built without GOEXPERIMENT=simd")
	if slow && kern.Info().Best != "go" && !strings.Contains(s, "warning: ") {
		t.Fatalf("plain build on a %s CPU runs the Go kernels without a warning:\n%s", kern.Info().Best, s)
	}
	if slow && kern.Info().Best != "go" && !strings.Contains(s, "GOEXPERIMENT=simd go install") {
		t.Fatalf("the warning does not say how to build the fast binary:\n%s", s)
	}
	t.Logf("plain build: %s", s)
}
