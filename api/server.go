// Package api is the daemon's HTTP surface: the JSON API under /api used by the web
// UI and the tray, the OpenAI- and Anthropic-compatible API under /v1, the UI itself
// at /, and /health. Handlers decode, validate, make one engine or store call and
// encode; the rules live in engine and store. routes.go lists every route.
//
// Who may import me: app. I import engine (its facade and types), store and assets.
package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// Options configure a Server.
type Options struct {
	Addr       string   // the listen address, whose host is an accepted Host name
	AllowHosts []string // extra accepted Host names
	Version    string
	Kernels    *Kernels // for /health; nil: not shown
	Logger     *slog.Logger
	Store      *store.Store

	JWTSecret      []byte           // signs session tokens, ≥ 32 bytes; nil = a random one for this run only
	PasswordParams *auth.Params     // Argon2id cost; nil = auth.DefaultParams (tests pass auth.TestParams)
	Now            func() time.Time // clock for tokens, login limits and audit times; nil = time.Now
	Timing         Timing           // request limits and stream periods; zero fields take the defaults
	UI             fs.FS            // the web app at /; nil = the embedded build (assets.UI)

	// Engine runs the models, the pool and generation, and (when it was given a
	// Hub client and a download manager) search and downloads; nil: model
	// routes answer 503.
	Engine *engine.Engine
	// PoolConfig is the pool's config at start; the pool settings document overrides
	// its budget, model count and TTL (see ApplyPoolSettings).
	PoolConfig engine.PoolConfig
	// LocalCredential is the daemon's per-run secret for the CLI of the same OS
	// user (localcred.go); "" accepts none.
	LocalCredential string
}

// Server is the HTTP server. Create it with New, run it with Serve, stop it with Shutdown.
type Server struct {
	opts  Options
	log   *slog.Logger
	echo  *echo.Echo
	store *store.Store
	hosts hostPolicy
	now   func() time.Time

	auth *authState // tokens, password hashing, login limits
	// registrations counts registration attempts over registrationWindow (caps.go).
	registrations *auth.Limiter
	quotas        *auth.Quotas   // /v1 requests per user and per API key (quotas.go)
	keyTouches    keyTouches     // which request records an API key's use (keytouch.go)
	audits        *auditHub      // live audit watchers
	timing        Timing         // Options.Timing with the defaults filled in
	hijacked      sync.WaitGroup // WebSocket handlers, which http.Server.Shutdown does not wait for
	library       libraryState   // caches and locks of the model library routes
	metrics       *serverMetrics // what /metrics reports (metrics.go)
	router        *route.Router  // remote backends and routing rules (backends.go, v1route.go)
	routerWG      sync.WaitGroup // the router's probe loop
	routerOnce    sync.Once      // starts it in Serve, or marks it never started in Shutdown

	// done is closed when shutdown starts, so long-lived streams (SSE, WebSocket) end
	// and let the HTTP drain finish.
	done     chan struct{}
	doneOnce sync.Once
	// closing ends when done is closed: a stream's work stops with it through
	// context.AfterFunc, not a goroutine per stream waiting on done.
	closing  context.Context
	closeAll context.CancelFunc
	httpSrv  *http.Server
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("api: a store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	authState, err := newAuthState(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:          opts,
		log:           opts.Logger,
		store:         opts.Store,
		hosts:         newHostPolicy(opts.Addr, opts.AllowHosts),
		now:           opts.Now,
		auth:          authState,
		registrations: auth.NewLimiter(auth.LimiterConfig{Max: 10_000, Window: registrationWindow, Now: opts.Now}),
		quotas:        auth.NewQuotas(opts.Now),
		audits:        newAuditHub(),
		timing:        opts.Timing.withDefaults(),
		done:          make(chan struct{}),
	}
	s.closing, s.closeAll = context.WithCancel(context.Background())
	if err := s.seedTokenQuotas(); err != nil {
		return nil, err
	}
	s.router = route.New(route.Options{Now: opts.Now, Logger: opts.Logger})
	if err := s.reloadRoutes(); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.echo = e
	s.routes()
	s.httpSrv = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// Another daemon routing here may speak HTTP/2 with prior knowledge (h2c):
	// its concurrent streams then share one connection (route.HTTP2On).
	s.httpSrv.Protocols = new(http.Protocols)
	s.httpSrv.Protocols.SetHTTP1(true)
	s.httpSrv.Protocols.SetUnencryptedHTTP2(true)
	s.httpSrv.RegisterOnShutdown(s.closeStreams)
	return s, nil
}

// Handler is the whole API as an http.Handler (tests use it with httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on ln until Shutdown. It returns nil after a clean shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.routerOnce.Do(s.startRouter)
	err := s.httpSrv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

// Shutdown stops accepting connections, ends streams and waits for in-flight
// requests until ctx is done, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeStreams()
	err := s.httpSrv.Shutdown(ctx)
	// A Shutdown that comes before Serve got going keeps the router from
	// starting, so the WaitGroup's Add never races with this Wait.
	s.routerOnce.Do(func() {})
	s.routerWG.Wait() // closeStreams stopped it
	s.router.CloseIdle()
	if err != nil {
		s.httpSrv.Close()
		return fmt.Errorf("drain requests: %w", err)
	}
	return s.waitHijacked(ctx)
}

func (s *Server) closeStreams() {
	s.doneOnce.Do(func() {
		close(s.done)
		s.closeAll()
	})
}

// startRouter runs the backends' health probes until shutdown starts.
func (s *Server) startRouter() {
	ctx, cancel := context.WithCancel(context.Background())
	s.routerWG.Add(2)
	go func() {
		defer s.routerWG.Done()
		s.router.Run(ctx)
	}()
	go func() {
		defer s.routerWG.Done()
		<-s.done
		cancel()
	}()
}

// Done is closed when the server starts shutting down.
func (s *Server) Done() <-chan struct{} { return s.done }
