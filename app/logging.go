package app

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// rotatingFile is an io.Writer over logs/mlx-manager.log that starts a new file when
// the current one passes maxBytes, keeping `keep` old ones (.1 newest). A daemon that
// runs for months on a laptop must not fill the disk with logs.
type rotatingFile struct {
	mu       sync.Mutex // guards f and size
	path     string
	maxBytes int64
	keep     int
	f        *os.File
	size     int64
}

func openRotatingFile(path string, maxBytes int64, keep int) (*rotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	r := &rotatingFile{path: path, maxBytes: maxBytes, keep: keep}
	if err := r.openLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotatingFile) openLocked() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("secure log file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat log file: %w", err)
	}
	r.f, r.size = f, st.Size()
	return nil
}

func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size+int64(len(p)) > r.maxBytes && r.size > 0 {
		if err := r.rotateLocked(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotatingFile) rotateLocked() error {
	r.f.Close()
	for i := r.keep - 1; i >= 1; i-- {
		os.Rename(fmt.Sprintf("%s.%d", r.path, i), fmt.Sprintf("%s.%d", r.path, i+1))
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate log: %w", err)
	}
	return r.openLocked()
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// newLogger logs to stderr in format ("text", the default, or "json") and JSON to
// the rotating file in dataDir/logs.
func newLogger(stderr io.Writer, dataDir string, level slog.Level, format string) (*slog.Logger, io.Closer, error) {
	f, err := openRotatingFile(filepath.Join(dataDir, "logs", "mlx-manager.log"), 10<<20, 3)
	if err != nil {
		return nil, nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	var console slog.Handler = slog.NewTextHandler(stderr, opts)
	if format == "json" {
		console = slog.NewJSONHandler(stderr, opts)
	}
	h := slog.NewMultiHandler(console, slog.NewJSONHandler(f, opts))
	return slog.New(h), f, nil
}
