package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/store"
)

// drainTimeout bounds how long shutdown waits for in-flight requests.
const drainTimeout = 10 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse("serve", args, nil, stderr)
	if err != nil {
		return err
	}
	return Serve(ctx, cfg, stdout, stderr, nil)
}

// Serve runs the daemon until ctx is cancelled. When ready is not nil it receives
// the bound address once the server accepts connections (tests listen on :0).
func Serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, ready chan<- string) error {
	start := time.Now()
	st, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		return err
	}
	log, logFile, err := newLogger(stderr, cfg.DataDir, cfg.LogLevel)
	if err != nil {
		st.Close()
		return err
	}
	defer logFile.Close()
	log.Info("starting", append([]any{"version", Version()}, cfg.LogAttrs()...)...)
	if !config.IsLoopbackHost(hostOf(cfg.Addr)) {
		log.Warn("LISTENING ON THE NETWORK: anyone who can reach this address can try to sign in", "addr", cfg.Addr)
	}

	secret, generated, err := auth.LoadSecret(cfg.DataDir, string(cfg.JWTSecret))
	if err != nil {
		st.Close()
		return err
	}
	if generated {
		log.Info("generated a JWT secret", "file", filepath.Join(cfg.DataDir, auth.SecretFileName))
	}

	srv, err := api.New(api.Options{
		Addr: cfg.Addr, AllowHosts: cfg.AllowHosts, Version: Version(), Logger: log, Store: st,
		JWTSecret: secret,
	})
	if err != nil {
		st.Close()
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		st.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	log.Info("ready", "url", url, "dur", time.Since(start))
	fmt.Fprintf(stdout, "MLX Manager %s listening on %s\n", Version(), url)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	jobs, stopJobs := context.WithCancel(context.Background())
	retentionDone := make(chan struct{})
	go func() {
		defer close(retentionDone)
		runAuditRetention(jobs, st, log, auditRetentionEvery)
	}()
	if !cfg.NoOpen && !cfg.Headless && hasDisplay() {
		openBrowser(log, url)
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down: draining requests", "timeout", drainTimeout)
		dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		err = srv.Shutdown(dctx)
		cancel()
		if serr := <-serveErr; err == nil {
			err = serr
		}
	}
	stopJobs()
	<-retentionDone
	if cerr := st.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	if err != nil {
		log.Error("stopped with error", "err", err)
		return err
	}
	log.Info("stopped")
	return nil
}

// auditRetentionEvery is how often the audit log is pruned to its retention settings.
const auditRetentionEvery = time.Hour

// runAuditRetention prunes the audit log once at start and then every interval,
// until ctx ends.
func runAuditRetention(ctx context.Context, st *store.Store, log *slog.Logger, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := st.Audit().EnforceRetention()
		switch {
		case err != nil:
			log.Error("prune audit log", "err", err)
		case n > 0:
			log.Info("pruned audit log", "events", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// hasDisplay reports whether a graphical session can show a browser or a tray icon.
func hasDisplay() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

func openBrowser(log *slog.Logger, url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		log.Info("could not open a browser; open the URL yourself", "url", url, "err", err)
		return
	}
	go cmd.Wait()
}
