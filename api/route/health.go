package route

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// backend is a Backend with its health: a circuit breaker fed by probes and by
// requests, and the models its last probe discovered.
type backend struct {
	mu         sync.Mutex // guards everything below
	cfg        Backend
	failures   int       // consecutive
	open       bool      // the breaker refuses requests until retryAt
	retryAt    time.Time // when an open breaker lets one trial request through
	lastErr    string
	checked    time.Time
	discovered []string
	h2c        h2cState      // for HTTP2On on an http:// URL (protocol.go)
	h2cCheck   chan struct{} // closed when the running h2c check ends; nil: none runs
	gen        int           // counts the changes of HTTP2, so a check of the old setting is dropped
	key        []string      // cfg.APIKey as its header's value (keyValue); nil: not built yet or no key
}

func (b *backend) config() Backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg
}

func (b *backend) setConfig(c Backend) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.HTTP2 != b.cfg.HTTP2 {
		b.h2c = h2cUnknown
		b.gen++
	}
	b.cfg = c
	b.key = nil
}

// request is what a routed request needs of the backend: its config and its
// key's header value, built by the first request after each config change.
func (b *backend) request() (Backend, []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.key == nil {
		b.key = keyValue(b.cfg)
	}
	return b.cfg, b.key
}

func (b *backend) models() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.cfg.Models)
	for _, m := range b.discovered {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func (b *backend) serves(model string) bool { return slices.Contains(b.models(), model) }

// allow reports whether a request may go to the backend now. An open breaker lets
// one trial through once its cooldown is over (half-open), and holds the others
// back for another cooldown while that trial runs.
func (b *backend) allow(now time.Time, cooldown time.Duration) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	if now.Before(b.retryAt) {
		return false
	}
	b.retryAt = now.Add(cooldown)
	return true
}

func (b *backend) fail(now time.Time, threshold int, cooldown time.Duration, err error) (opened bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.lastErr = err.Error()
	b.checked = now
	if b.failures >= threshold && !b.open {
		b.open, b.retryAt = true, now.Add(cooldown)
		return true
	}
	if b.open {
		b.retryAt = now.Add(cooldown)
	}
	return false
}

func (b *backend) succeed(now time.Time) (closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	closed = b.open
	b.failures, b.open, b.lastErr, b.checked = 0, false, "", now
	return closed
}

// Status is a backend's health as the admin API shows it.
type Status struct {
	Name       string    `json:"name"`
	Healthy    bool      `json:"healthy"` // breaker closed
	Failures   int       `json:"failures"`
	LastError  string    `json:"last_error,omitempty"`
	CheckedAt  time.Time `json:"checked_at,omitzero"`
	RetryAt    time.Time `json:"retry_at,omitzero"` // when an open breaker allows a trial
	Discovered []string  `json:"discovered,omitempty"`
}

// Status reports the named backend's health; ok is false for an unknown name.
func (r *Router) Status(name string) (Status, bool) {
	b, ok := r.backend(name)
	if !ok {
		return Status{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := Status{Name: name, Healthy: !b.open, Failures: b.failures, LastError: b.lastErr, CheckedAt: b.checked,
		Discovered: slices.Clone(b.discovered)}
	if b.open {
		st.RetryAt = b.retryAt
	}
	return st, true
}

func (r *Router) failed(b *backend, err error) {
	cfg := b.config()
	if b.fail(r.opts.Now(), r.opts.Failures, r.opts.Cooldown, err) {
		r.opts.Logger.Warn("backend unhealthy: circuit open", "backend", cfg, "err", err)
	}
}

func (r *Router) succeeded(b *backend) {
	if b.succeed(r.opts.Now()) {
		r.opts.Logger.Info("backend healthy again: circuit closed", "backend", b.config())
	}
}

// probeTimeout bounds one probe: a backend that takes longer is unhealthy.
const probeTimeout = 10 * time.Second

// probe asks GET {base}/models: an answer proves the server is up and the key
// accepted, and lists the models for Discover.
func (r *Router) probe(ctx context.Context, b *backend) {
	cfg := b.config()
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	models, err := r.listModels(pctx, b, cfg)
	if err != nil && ctx.Err() != nil {
		return // the router stopped, not the backend
	}
	if err != nil {
		r.failed(b, err)
		return
	}
	if cfg.Discover {
		b.mu.Lock()
		b.discovered = models
		b.mu.Unlock()
	}
	r.succeeded(b)
}

func (r *Router) listModels(ctx context.Context, b *backend, cfg Backend) ([]string, error) {
	client := r.client(ctx, b, cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.BaseURL+"/models", nil)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	setAuth(req.Header, cfg, nil)
	resp, err := client.Do(req)
	if err != nil {
		r.forgetH2C(b, client, err)
		return nil, fmt.Errorf("probe: %s", redact(err.Error(), cfg.APIKey))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("probe: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("probe: GET /models: %s", upstreamMessage(resp.StatusCode, body, cfg.APIKey))
	}
	// OpenAI and Anthropic both answer {"data":[{"id":...}]}.
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("probe: GET /models: decode: %w", err)
	}
	out := make([]string, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID != "" {
			out = append(out, m.ID)
		}
	}
	return out, nil
}
