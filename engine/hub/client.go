package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// Options configure a Client. Nothing here is read from the environment: app/config
// resolves HF_ENDPOINT, HF_TOKEN and friends and passes the values in.
type Options struct {
	Endpoint   string       // default DefaultEndpoint
	Token      string       // sent as a Bearer token to Endpoint's host only
	HTTPClient *http.Client // copied, never modified; default a client with no overall timeout
	UserAgent  string       // default "mlx-manager"
	Logger     *slog.Logger // default slog.Default()
	// Offline makes every Hub call fail with ErrOffline (the cache still works).
	Offline bool
	// MaxRetryAfter is the longest Retry-After the client sleeps through on a 429 before
	// giving up with ErrRateLimited (default 30s).
	MaxRetryAfter time.Duration
	// APITimeout bounds one JSON API call (default 30s); file downloads are unbounded
	// and rely on stall detection instead.
	APITimeout time.Duration
}

// Client talks to the Hugging Face Hub HTTP API. It is safe for concurrent use.
type Client struct {
	endpoint *url.URL
	mu       sync.RWMutex // guards token and offline, which settings change live
	token    secret
	http     *http.Client // follows redirects, dropping the token off-host
	meta     *http.Client // stops at off-host redirects (HEAD metadata)
	ua       string
	log      *slog.Logger
	offline  bool
	maxWait  time.Duration
	timeout  time.Duration
}

// secret keeps the token out of logs.
type secret string

func (secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// New builds a Client from opts.
func New(opts Options) (*Client, error) {
	ep := opts.Endpoint
	if ep == "" {
		ep = DefaultEndpoint
	}
	u, err := url.Parse(strings.TrimRight(ep, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub endpoint %q: want an http(s) URL", ep)
	}
	c := &Client{
		endpoint: u,
		token:    secret(opts.Token),
		ua:       opts.UserAgent,
		log:      opts.Logger,
		offline:  opts.Offline,
		maxWait:  opts.MaxRetryAfter,
		timeout:  opts.APITimeout,
	}
	if c.ua == "" {
		c.ua = "mlx-manager"
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxWait <= 0 {
		c.maxWait = 30 * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		hc = &cp
	}
	hc.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
	c.http = hc
	// Metadata requests stop at the first cross-host redirect: the Hub puts X-Repo-Commit
	// and X-Linked-Etag on its own 302, and the CDN need not be asked.
	stay := *hc
	stay.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !c.sameOrigin(req.URL) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	c.meta = &stay
	return c, nil
}

// Endpoint returns the Hub base URL without a trailing slash.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// Offline reports whether the client refuses all Hub calls.
func (c *Client) Offline() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offline
}

// SetOffline switches offline mode for the calls that start from now on.
func (c *Client) SetOffline(offline bool) {
	c.mu.Lock()
	c.offline = offline
	c.mu.Unlock()
}

// SetToken replaces the token for the calls that start from now on.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	c.token = secret(token)
	c.mu.Unlock()
}

func (c *Client) currentToken() secret {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// checkRedirect drops the token as soon as a redirect leaves the endpoint's host (the
// CDN serving LFS files must never see it), then applies the caller's own policy.
// Host includes the port: another port is another server.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !c.sameOrigin(req.URL) {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// apiURL joins the endpoint, an already escaped path and a query.
func (c *Client) apiURL(escPath string, query url.Values) string {
	raw := c.endpoint.String() + escPath
	if len(query) > 0 {
		raw += "?" + query.Encode()
	}
	return raw
}

// newRequest builds a request with the UA header, and the token when rawURL is on the
// endpoint's own host (pagination links come from the server and are not trusted).
func (c *Client) newRequest(ctx context.Context, method, rawURL string) (*http.Request, error) {
	if c.Offline() {
		return nil, ErrOffline
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", c.ua)
	if tok := c.currentToken(); tok != "" && c.sameOrigin(req.URL) {
		req.Header.Set("Authorization", "Bearer "+string(tok))
	}
	return req, nil
}

func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Host, c.endpoint.Host) && u.Scheme == c.endpoint.Scheme
}

// escapeFilePath escapes each element of a slash-separated repo file path.
func escapeFilePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// getJSON fetches rawURL and decodes the body with decode, retrying on 429 within the
// Retry-After budget. It returns the response headers for pagination.
func (c *Client) getJSON(ctx context.Context, rawURL string, decode func([]byte) error) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, http.MethodGet, rawURL)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		hdr, err := c.fetchJSON(req, decode)
		var se *StatusError
		if errors.As(err, &se) && se.Status == http.StatusTooManyRequests && attempt < 3 {
			if werr := c.waitRetryAfter(ctx, se.RetryAfter); werr == nil {
				continue
			}
		}
		return hdr, err
	}
}

func (c *Client) fetchJSON(req *http.Request, decode func([]byte) error) (http.Header, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	if err := c.checkStatus(resp); err != nil {
		return nil, err
	}
	// API answers are small; a bound keeps a broken server from exhausting memory.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", req.URL.Redacted(), err)
	}
	if err := decode(body); err != nil {
		return nil, fmt.Errorf("decode %s: %w", req.URL.Redacted(), err)
	}
	return resp.Header, nil
}

// waitRetryAfter sleeps for d if it is within the client's budget.
func (c *Client) waitRetryAfter(ctx context.Context, d time.Duration) error {
	if d > c.maxWait {
		return ErrRateLimited
	}
	c.log.Debug("hub rate limit, waiting", "dur", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// checkStatus turns a non-2xx response into a *StatusError wrapping the right sentinel.
func (c *Client) checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	se := &StatusError{
		Status:  resp.StatusCode,
		Code:    resp.Header.Get("X-Error-Code"),
		Message: resp.Header.Get("X-Error-Message"),
		URL:     resp.Request.URL.Redacted(),
	}
	if se.Message == "" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		se.Message = strings.TrimSpace(string(b))
		if len(se.Message) > 200 {
			se.Message = se.Message[:200]
		}
	}
	se.kind = c.classify(se.Status, se.Code)
	if se.Status == http.StatusTooManyRequests || se.Status == http.StatusServiceUnavailable {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if se.Status == http.StatusTooManyRequests {
			se.kind = ErrRateLimited
			if resp.Header.Get("Retry-After") == "" {
				se.RetryAfter = time.Second // a 429 without advice: still do not hammer
			}
		}
	}
	return se
}

func (c *Client) classify(status int, code string) error {
	switch {
	case code == "GatedRepo":
		return ErrGated
	case code == "RepoNotFound" && status == http.StatusUnauthorized && c.currentToken() == "":
		// The Hub answers anonymous callers the same 401 for missing and private repos.
		return fmt.Errorf("%w (if the repo is private, it needs a token)", ErrNotFound)
	case code == "RepoNotFound", code == "RevisionNotFound", code == "EntryNotFound", status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthorized
	}
	return nil
}

// parseRetryAfter reads delta-seconds or an HTTP date; a missing value gives 0 (no
// advice), a malformed one 1s.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return time.Second
}
