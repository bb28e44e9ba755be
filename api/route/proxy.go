package route

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

// Protocols a client may speak; each is a path under the backend's BaseURL.
const (
	OpenAIChat        = "/chat/completions"
	OpenAICompletions = "/completions"
	OpenAIEmbeddings  = "/embeddings"
	AnthropicMessages = "/messages"
)

// Request is one client request to route.
type Request struct {
	Protocol string      // OpenAIChat, ..., AnthropicMessages
	Body     []byte      // as the client sent it
	Model    string      // the body's model as ModelOf reads it, when the caller has; "": read here
	Header   http.Header // the client's headers: anthropic-version and anthropic-beta pass on
	Targets  []Target
	// LastWrite says the response ends as soon as Serve returns. A stream's
	// last events, read together with the backend's end, are then written
	// but not flushed: the end of the response sends them with the chunked
	// terminator, one write (and one read for the client) instead of two.
	LastWrite bool
}

// Usage is the token count a backend reported.
type Usage = translate.Usage

// Result says what Serve did.
type Result struct {
	Local     bool   // the next target is this daemon's engine: the caller serves, with Model
	Model     string // for Local: the model to ask the engine for ("" = the client's)
	Backend   string // the backend that answered
	Usage     Usage
	FirstByte time.Duration // until the first byte reached the client
	Committed bool          // bytes reached the client: an error now is only for the log
}

// maxResponse bounds a non-streamed answer held in memory for translation or usage.
const maxResponse = 64 << 20

// Serve sends req to its targets in order and writes the first answer to w.
// Targets whose breaker is open are skipped. A connection error or a 5xx moves on
// to the next target; nothing is retried once bytes reached the client. A local
// target stops the walk (Result.Local) so the caller runs the engine.
func (r *Router) Serve(ctx context.Context, w http.ResponseWriter, req *Request) (Result, error) {
	start := r.opts.Now()
	var failures []string
	skipped := 0
	for _, t := range req.Targets {
		if t.Backend == Local {
			return Result{Local: true, Model: t.Model}, nil
		}
		b, ok := r.backend(t.Backend)
		if !ok {
			failures = append(failures, t.Backend+": no such backend")
			continue
		}
		if !b.allow(r.opts.Now(), r.opts.Cooldown) {
			skipped++
			failures = append(failures, t.Backend+": circuit open")
			continue
		}
		res, err := r.try(ctx, w, req, t, b, start)
		var retry *retryable
		switch {
		case errors.As(err, &retry):
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			r.failed(b, retry.err)
			r.opts.Logger.Warn("backend failed, trying the next target", "backend", b.config(), "err", retry.err)
			failures = append(failures, t.Backend+": "+retry.err.Error())
			continue
		case err != nil:
			return res, err
		}
		r.succeeded(b)
		return res, nil
	}
	if len(failures) == 0 {
		return Result{}, &Error{Status: http.StatusBadGateway, Message: "no target to route to"}
	}
	status := http.StatusBadGateway
	if skipped == len(failures) {
		status = http.StatusServiceUnavailable
	}
	msg := "no backend could serve the request: " + strings.Join(failures, "; ")
	if len(failures) == 1 {
		msg = "backend " + failures[0]
	}
	return Result{}, &Error{Status: status, Message: msg}
}

// retryable is a failure before anything reached the client: the next target may serve.
type retryable struct{ err error }

func (e *retryable) Error() string { return e.err.Error() }

// try sends req to one backend.
func (r *Router) try(ctx context.Context, w http.ResponseWriter, req *Request, t Target, b *backend, start time.Time) (Result, error) {
	cfg, key := b.request()
	res := Result{Backend: cfg.Name}
	conv, err := newConversion(req, cfg, t.Model)
	if err != nil {
		return res, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The timeout runs until the response headers; a stream may then take its time.
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(timeout, func() { cancel(fmt.Errorf("no answer within %s", timeout)) })
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, cfg.BaseURL+conv.path, bytes.NewReader(conv.body))
	if err != nil {
		timer.Stop()
		return res, &Error{Status: http.StatusBadGateway, Backend: cfg.Name, Message: fmt.Sprintf("backend %s: %v", cfg.Name, err)}
	}
	hreq.Header["Content-Type"] = jsonType
	setAuthKey(hreq.Header, cfg, key, req.Header)
	client := r.client(actx, b, cfg)
	resp, err := client.Do(hreq)
	timer.Stop()
	if err != nil {
		r.forgetH2C(b, client, err)
		if cause := context.Cause(actx); cause != nil && ctx.Err() == nil {
			err = cause
		}
		return res, &retryable{errors.New(redact(err.Error(), cfg.APIKey))}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return res, &retryable{errors.New(upstreamMessage(resp.StatusCode, body, cfg.APIKey))}
	}
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return res, backendRefused(cfg, resp.StatusCode, body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return r.stream(w, resp.Body, conv, res, start, req.LastWrite)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return res, &retryable{fmt.Errorf("read answer: %w", err)}
	}
	out, usage, err := conv.response(body)
	if err != nil {
		return res, &Error{Status: http.StatusBadGateway, Backend: cfg.Name, Message: fmt.Sprintf("backend %s: %v", cfg.Name, err)}
	}
	res.Usage = usage
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	res.FirstByte, res.Committed = r.opts.Now().Sub(start), true
	if _, err := w.Write(out); err != nil {
		return res, fmt.Errorf("write answer: %w", err)
	}
	return res, nil
}

// jsonType is a request's Content-Type value, shared: the transport only
// reads it, and Set allocated it for every request.
var jsonType = []string{"application/json"}

// backendRefused is a backend's 4xx. Its refusal of our own credentials is the
// daemon's problem (502), not the client's, whose key was fine.
func backendRefused(cfg Backend, status int, body []byte) *Error {
	msg := fmt.Sprintf("backend %s: %s", cfg.Name, upstreamMessage(status, body, cfg.APIKey))
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return &Error{Status: http.StatusBadGateway, Backend: cfg.Name, Message: msg + " (check the backend's API key)"}
	}
	return &Error{Status: status, Backend: cfg.Name, Message: msg}
}

// anthropicVersion is sent when the client did not say which it speaks.
const anthropicVersion = "2023-06-01"

// setAuth puts the backend's credentials (never the client's) on h.
func setAuth(h http.Header, cfg Backend, client http.Header) {
	setAuthKey(h, cfg, keyValue(cfg), client)
}

// keyValue is cfg's API key as the value of its header, nil without a key.
// A routed request takes it from its backend (backend.request), built once per
// config: it was two allocations a request.
func keyValue(cfg Backend) []string {
	switch {
	case cfg.APIKey == "":
		return nil
	case cfg.Kind == KindAnthropic:
		return []string{cfg.APIKey}
	}
	return []string{"Bearer " + cfg.APIKey}
}

// anthropicVersionValue is the shared header value of anthropicVersion: the
// transport only reads it.
var anthropicVersionValue = []string{anthropicVersion}

// setAuthKey is setAuth with the key's header value (keyValue) given.
func setAuthKey(h http.Header, cfg Backend, key []string, client http.Header) {
	if cfg.Kind == KindAnthropic {
		if key != nil {
			h["X-Api-Key"] = key
		}
		if client != nil && client.Get("Anthropic-Version") != "" {
			h.Set("Anthropic-Version", client.Get("Anthropic-Version"))
		} else {
			h["Anthropic-Version"] = anthropicVersionValue
		}
		if client != nil && client.Get("Anthropic-Beta") != "" {
			h.Set("Anthropic-Beta", client.Get("Anthropic-Beta"))
		}
		return
	}
	if key != nil {
		h["Authorization"] = key
	}
}

// SetModel rewrites the model field of a JSON object and nothing else: every
// other field keeps its raw bytes, unknown ones included.
func SetModel(body []byte, model string) ([]byte, error) {
	out, _, err := rewriteBody(body, model, false)
	return out, err
}

// ModelOf reads a request body's model field; "" when there is none or the body is
// not JSON (the local handler then says what is wrong).
func ModelOf(body []byte) string {
	if m, ok := quickModel(body); ok {
		return m
	}
	var v struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(body, &v)
	return v.Model
}
