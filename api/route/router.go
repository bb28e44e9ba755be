package route

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kinds of backend: the protocol it speaks.
const (
	KindOpenAI    = "openai"
	KindAnthropic = "anthropic"
)

// Local is the target name of this daemon's own engine.
const Local = "local"

// Backend is one remote server. BaseURL ends where the protocol's paths start:
// "http://gpu:8000/v1" (so /chat/completions, /models follow), or
// "https://api.anthropic.com/v1".
type Backend struct {
	Name     string
	Kind     string
	BaseURL  string
	APIKey   string
	Timeout  time.Duration // until the response headers; 0 = DefaultTimeout
	Models   []string      // the models it serves, as configured
	Discover bool          // also ask GET /models at every probe
	Users    []string      // the user ids and API key ids that may use it; empty: everyone
	HTTP2    string        // HTTP2Auto (""), HTTP2On or HTTP2Off (protocol.go)
}

// LogValue keeps the key out of every log line.
func (b Backend) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", b.Name), slog.String("kind", b.Kind), slog.String("url", b.BaseURL))
}

// Target is one step of a rule: a backend (or Local), and the model name it is
// asked for when that differs from the client's.
type Target struct {
	Backend string `json:"backend"`
	Model   string `json:"model,omitempty"`
}

// Rule sends the models whose name matches Pattern to Targets, in order. Pattern
// is a model name (or profile name) to match exactly, or a prefix ending in "*"
// ("gpt-*"); "*" alone matches every model.
type Rule struct {
	Pattern string   `json:"pattern"`
	Targets []Target `json:"targets"`
}

// Matches reports whether model matches the rule's pattern.
func (r Rule) Matches(model string) bool {
	if prefix, ok := strings.CutSuffix(r.Pattern, "*"); ok {
		return strings.HasPrefix(model, prefix)
	}
	return r.Pattern == model
}

// Defaults of Options.
const (
	DefaultTimeout       = 5 * time.Minute
	DefaultProbeInterval = 30 * time.Second
	DefaultCooldown      = 30 * time.Second
	DefaultFailures      = 3
)

// Options configure a Router; the zero value is right for the daemon.
type Options struct {
	// Transport is the base of the router's connections (TLS roots, proxy); nil:
	// http.DefaultTransport's settings. The router clones it, once per protocol.
	Transport     *http.Transport
	Now           func() time.Time // the breaker's clock
	Logger        *slog.Logger
	ProbeInterval time.Duration
	Cooldown      time.Duration // how long an open breaker refuses requests before one trial
	Failures      int           // consecutive failures that open the breaker
}

// Router is the set of backends and rules. Its methods are safe for concurrent use.
type Router struct {
	opts    Options
	clients clients

	mu       sync.RWMutex // guards backends and rules
	backends map[string]*backend
	rules    []Rule
}

// New returns a router with no backends.
func New(opts Options) *Router {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = DefaultProbeInterval
	}
	if opts.Cooldown <= 0 {
		opts.Cooldown = DefaultCooldown
	}
	if opts.Failures <= 0 {
		opts.Failures = DefaultFailures
	}
	return &Router{opts: opts, clients: newClients(opts.Transport), backends: map[string]*backend{}}
}

// Set replaces the backends and rules. A backend that keeps its name, kind and URL
// keeps its health and discovered models.
func (r *Router) Set(backends []Backend, rules []Rule) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[string]*backend, len(backends))
	for _, b := range backends {
		if old, ok := r.backends[b.Name]; ok && old.cfg.Kind == b.Kind && old.cfg.BaseURL == b.BaseURL {
			old.setConfig(b)
			next[b.Name] = old
			continue
		}
		next[b.Name] = &backend{cfg: b}
	}
	r.backends = next
	r.rules = append([]Rule(nil), rules...)
}

// Active reports whether anything may be routed: without backends every request
// is local and the /v1 handlers skip routing altogether.
func (r *Router) Active() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.backends) > 0
}

// Targets are where a request for model goes, in order. ok is false when no rule
// matches and no backend serves the model: the local engine answers as always.
// The first matching rule wins; without one, a model this machine has (local
// reports it; nil: none) stays here, and otherwise goes to the backends that
// list or discovered it, by name.
func (r *Router) Targets(model string, local func(string) bool) (targets []Target, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rule := range r.rules {
		if rule.Matches(model) {
			return rule.Targets, true
		}
	}
	if local != nil && local(model) {
		return nil, false
	}
	for _, name := range r.namesLocked() {
		if r.backends[name].serves(model) {
			targets = append(targets, Target{Backend: name})
		}
	}
	return targets, len(targets) > 0
}

// namesLocked lists the backends by name, for a stable order.
func (r *Router) namesLocked() []string {
	names := make([]string, 0, len(r.backends))
	for n := range r.backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r *Router) backend(name string) (*backend, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b, ok := r.backends[name]
	return b, ok
}

// Allowed reports whether a request may use the named backend: its list names
// the user or the API key the request came with (ids: a user id, a key id, "").
// Local and unknown names are allowed here: the engine and Serve have their own
// answers for them.
func (r *Router) Allowed(name string, ids ...string) bool {
	b, ok := r.backend(name)
	if !ok {
		return true
	}
	return permits(b.config().Users, ids)
}

func permits(list, ids []string) bool {
	if len(list) == 0 {
		return true
	}
	for _, id := range ids {
		if id != "" && slices.Contains(list, id) {
			return true
		}
	}
	return false
}

// ModelEntry is a model a backend serves, for /v1/models.
type ModelEntry struct {
	ID    string
	Owner string // the backend's name
}

// Models lists every model served by the backends a request with ids (see
// Allowed) may use, configured or discovered, each once (the first backend by
// name owns it).
func (r *Router) Models(ids ...string) []ModelEntry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	seen := map[string]bool{}
	var out []ModelEntry
	for _, name := range r.namesLocked() {
		b := r.backends[name]
		if !permits(b.config().Users, ids) {
			continue
		}
		for _, m := range b.models() {
			if !seen[m] {
				seen[m] = true
				out = append(out, ModelEntry{ID: m, Owner: name})
			}
		}
	}
	return out
}

// Run probes every backend each ProbeInterval until ctx ends.
func (r *Router) Run(ctx context.Context) {
	t := time.NewTicker(r.opts.ProbeInterval)
	defer t.Stop()
	for {
		r.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CloseIdle closes the kept-alive connections to the backends, so that they see
// this daemon leave (a server counts a dialled, unused connection as busy).
func (r *Router) CloseIdle() { r.clients.closeIdle() }

// Probe checks every backend now, concurrently, and returns when all answered.
func (r *Router) Probe(ctx context.Context) {
	r.mu.RLock()
	all := make([]*backend, 0, len(r.backends))
	for _, b := range r.backends {
		all = append(all, b)
	}
	r.mu.RUnlock()
	var wg sync.WaitGroup
	for _, b := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.probe(ctx, b)
		}()
	}
	wg.Wait()
}
