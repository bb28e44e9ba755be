package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/app/tray"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/store"
)

// drainTimeout bounds how long shutdown waits for in-flight requests.
const drainTimeout = 10 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse("serve", args, nil, stderr)
	var fe *config.FlagError
	switch {
	case errors.As(err, &fe):
		return flagError(fe.FlagSet, fe.Err)
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return Serve(ctx, cfg, stdout, stderr, nil)
}

// Serve runs the daemon until ctx is cancelled. When ready is not nil it receives
// the bound address once the server accepts connections (tests listen on :0).
func Serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, ready chan<- string) error {
	start := time.Now()
	// The port first: a second daemon must fail before it touches the data dir
	// (the first one's database, secret and logs).
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	d, err := openDaemon(cfg, stderr)
	if err != nil {
		ln.Close()
		return err
	}
	url := "http://" + ln.Addr().String()
	showTray, trayState := trayStatus(cfg)
	d.log.Info("ready", "url", url, "menu_bar_icon", trayState, "dur", time.Since(start))
	fmt.Fprintf(stdout, "MLX Manager %s listening on %s (menu-bar icon: %s)\n", Version(), url, trayState)
	rec := daemonRecord{URL: url, PID: os.Getpid(), Version: Version(), Credential: d.credential}
	if err := writeDaemonRecord(cfg.DataDir, rec); err != nil {
		// The CLI then needs an API key: the daemon itself works.
		d.log.Warn("the CLI will not find this daemon", "err", err)
	}
	defer removeDaemonRecord(cfg.DataDir, rec)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	// The menu's Quit cancels ctx: the same graceful shutdown as a signal. The
	// tray also stops if the server fails.
	ctx, quit := context.WithCancel(ctx)
	defer quit()
	trayCtx, stopTray := context.WithCancel(ctx)
	defer stopTray()
	serveErr := make(chan error, 1)
	go func() {
		err := d.srv.Serve(ln)
		stopTray()
		serveErr <- err
	}()
	d.startJobs()
	if !cfg.NoOpen && !cfg.Headless && hasDisplay() {
		openBrowser(d.log, url)
	}
	if showTray {
		d.runTray(trayCtx, quit, url) // blocks until trayCtx ends, or returns at once without a tray
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
		d.log.Info("shutting down: draining requests", "timeout", drainTimeout)
		dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		err = d.srv.Shutdown(dctx)
		cancel()
		if serr := <-serveErr; err == nil {
			err = serr
		}
	}
	if cerr := d.close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		d.log.Error("stopped with error", "err", err)
		return err
	}
	d.log.Info("stopped")
	return nil
}

// daemon is everything serve runs, in the order it was opened. close undoes it
// in reverse: HTTP has drained by then, so downloads stop, models unload, the
// background jobs end, and the store closes last.
type daemon struct {
	cfg      *config.Config
	log      *slog.Logger
	logFile  io.Closer
	store    *store.Store
	engine   *engine.Engine
	srv      *api.Server
	poolBase engine.PoolConfig // the pool config before the stored settings
	// credential is this run's local credential, given to the CLI in daemon.json.
	credential string

	stopJobs context.CancelFunc
	jobs     sync.WaitGroup
}

func openDaemon(cfg *config.Config, stderr io.Writer) (_ *daemon, err error) {
	d := &daemon{cfg: cfg, stopJobs: func() {}}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.store, err = store.Open(cfg.DataDir, store.Options{}); err != nil {
		return nil, err
	}
	if d.log, d.logFile, err = newLogger(stderr, cfg.DataDir, cfg.LogLevel, cfg.LogFormat); err != nil {
		return nil, err
	}
	d.log.Info("starting", append([]any{"version", Version()}, cfg.LogAttrs()...)...)
	logKernels(d.log, kern.Info())
	if !config.IsLoopbackHost(hostOf(cfg.Addr)) {
		d.log.Warn("LISTENING ON THE NETWORK: anyone who can reach this address can try to sign in", "addr", cfg.Addr)
	}
	secret, generated, err := auth.LoadSecret(cfg.DataDir, string(cfg.JWTSecret))
	if err != nil {
		return nil, err
	}
	if generated {
		d.log.Info("generated a JWT secret", "file", filepath.Join(cfg.DataDir, auth.SecretFileName))
	}
	if err := d.openEngine(); err != nil {
		return nil, err
	}
	if d.credential, err = newLocalCredential(); err != nil {
		return nil, err
	}
	d.srv, err = api.New(api.Options{LocalCredential: d.credential,
		Addr: cfg.Addr, AllowHosts: cfg.AllowHosts, Version: Version(), Kernels: healthKernels(kern.Info()), Logger: d.log, Store: d.store,
		JWTSecret: secret, Engine: d.engine, PoolConfig: d.poolBase,
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// openEngine starts the model engine, which builds its Hub client and download
// manager from the config and the stored Hub settings.
func (d *daemon) openEngine() error {
	nr, err := newRunner(d.cfg.Executor, precision{KV: d.cfg.KVCache, Activations: d.cfg.Activations, Prefill: d.cfg.PrefillActivations}, d.log)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.cfg.ModelsDir, 0o755); err != nil {
		return fmt.Errorf("create models dir: %w", err)
	}
	// The pool and Hub settings saved from the UI override the defaults.
	d.poolBase = engine.PoolConfig{Logger: d.log}
	poolCfg, err := api.LoadPoolConfig(d.store, d.poolBase)
	if err != nil {
		return fmt.Errorf("pool settings: %w", err)
	}
	hubSet, err := d.store.Settings().Hub()
	if err != nil {
		return fmt.Errorf("hub settings: %w", err)
	}
	token := string(d.cfg.HFToken)
	if hubSet.Token != "" {
		token = hubSet.Token
	}
	local, err := api.LoadLocalModels(d.store)
	if err != nil {
		return fmt.Errorf("local models: %w", err)
	}
	hubOpts := &engine.HubOptions{Endpoint: d.cfg.HFEndpoint, Token: token, Offline: hubSet.Offline, UserAgent: "mlx-manager/" + Version(),
		Journal: downloadJournal{d.store.Downloads()}}
	d.engine, err = engine.New(engine.Options{ModelsDir: d.cfg.ModelsDir, NewRunner: nr, Logger: d.log, Pool: poolCfg, OpenHub: hubOpts, LocalModels: local,
		Sched: engine.SchedConfig{Parallel: d.cfg.Parallel, Chunk: d.cfg.PrefillChunk}})
	if err != nil {
		return err
	}
	// The stored parallel setting (Settings → Model pool) overrides --parallel,
	// and profiles' own parallel overrides both for their models.
	if err := api.ApplyPoolSettings(d.store, d.engine, d.poolBase); err != nil {
		return err
	}
	return api.ApplyProfileParallel(d.store, d.engine)
}

// startJobs runs the background work the daemon owns until close.
func (d *daemon) startJobs() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stopJobs = cancel
	d.jobs.Add(3)
	go func() {
		defer d.jobs.Done()
		d.autoStart(ctx)
	}()
	go func() {
		defer d.jobs.Done()
		runAuditRetention(ctx, d.store, d.log, auditRetentionEvery)
	}()
	go func() {
		defer d.jobs.Done()
		if err := d.engine.ResumeDownloads(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("resume downloads", "err", err)
		}
	}()
}

// autoStart loads and pins the models of profiles marked auto_start, one at a
// time so the pool's budget decides as it would for a user.
func (d *daemon) autoStart(ctx context.Context) {
	profiles, err := d.store.Profiles().List()
	if err != nil {
		d.log.Error("auto-start profiles", "err", err)
		return
	}
	for _, p := range profiles {
		if !p.AutoStart {
			continue
		}
		if err := d.engine.Load(ctx, p.Model, engine.LoadOptions{Pin: true, TTL: p.LoadKeepAlive()}); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Error("auto-start profile", "profile", p.Name, "model", p.Model, "err", err)
			continue
		}
		d.log.Info("auto-started profile", "profile", p.Name, "model", p.Model)
	}
}

func (d *daemon) close() error {
	var errs []error
	d.stopJobs()
	d.jobs.Wait()
	if d.engine != nil {
		// Stops the downloads, then unloads the models.
		if err := d.engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close engine: %w", err))
		}
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	if d.logFile != nil {
		d.logFile.Close()
	}
	return errors.Join(errs...)
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

// trayStatus says whether the menu-bar icon will be shown and, in words for the
// start line, why not.
func trayStatus(cfg *config.Config) (bool, string) {
	switch {
	case cfg.Headless:
		return false, "off (--headless)"
	case !hasDisplay():
		return false, "off (no graphical session)"
	}
	if err := tray.Available(); err != nil {
		return false, "off (" + strings.TrimPrefix(err.Error(), tray.ErrUnavailable.Error()+": ") + ")"
	}
	return true, "shown"
}

// listen binds addr, and when the port is taken says by whom and how to pick another.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	who := "another program"
	if p, _ := strconv.Atoi(port); p > 0 {
		if h := portHolder(p); h != "" {
			who = h
		}
	}
	return nil, fmt.Errorf("%s is already in use by %s: stop it, or pass --addr 127.0.0.1:PORT to listen on another port", addr, who)
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
