package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// TestErrorTable is the one mapping from errors to answers, read row by row: the
// engine's errors (wrapped as they come back from a request), the API's own and
// echo's, each with the status, code, OpenAI and Anthropic types and Retry-After
// a client gets in every protocol.
func TestErrorTable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("model org/m: %w", err) }
	tests := []struct {
		name      string
		err       error
		status    int
		code      string
		openai    string
		anthropic string
		retry     int
	}{
		{"model not found", wrap(engine.ErrModelNotFound), 404, "model_not_found", "not_found_error", "not_found_error", 0},
		{"unsupported model", wrap(engine.ErrUnsupported), 400, "model_not_supported", "invalid_request_error", "invalid_request_error", 0},
		{"unsupported architecture", wrap(fmt.Errorf("%w: FooForCausalLM", model.ErrUnsupportedArch)), 400, "model_not_supported", "invalid_request_error", "invalid_request_error", 0},
		{"context length", &engine.ContextLengthError{PromptTokens: 9, ContextLength: 8}, 400, "context_length_exceeded", "invalid_request_error", "invalid_request_error", 0},
		{"damaged", wrap(safetensors.ErrInvalid), 422, "model_damaged", "invalid_request_error", "invalid_request_error", 0},
		{"too large for memory", wrap(pool.ErrTooLarge), 507, "model_too_large", "server_error", "api_error", 0},
		{"no room now", wrap(pool.ErrNoRoom), 503, "no_memory", "overloaded_error", "overloaded_error", 10},
		{"queue full", wrap(pool.ErrQueueFull), 429, "queue_full", "rate_limit_error", "rate_limit_error", 2},
		{"queue timeout", wrap(pool.ErrQueueTimeout), 503, "queue_timeout", "overloaded_error", "overloaded_error", 0},
		{"busy", wrap(pool.ErrBusy), 409, "model_busy", "conflict_error", "invalid_request_error", 0},
		{"not loaded", wrap(pool.ErrNotLoaded), 404, "model_not_loaded", "not_found_error", "not_found_error", 0},
		{"pool closed", wrap(pool.ErrClosed), 503, "shutting_down", "overloaded_error", "overloaded_error", 0},
		{"bad repo id", wrap(hub.ErrInvalidRepoID), 400, "invalid_repo_id", "invalid_request_error", "invalid_request_error", 0},
		{"gated", wrap(hub.ErrGated), 403, "gated_repo", "permission_error", "permission_error", 0},
		{"hub unauthorized is forbidden", wrap(hub.ErrUnauthorized), 403, "hub_unauthorized", "permission_error", "permission_error", 0},
		{"hub not found", wrap(hub.ErrNotFound), 404, "model_not_found", "not_found_error", "not_found_error", 0},
		{"unknown download", wrap(hub.ErrUnknownTask), 404, "download_not_found", "not_found_error", "not_found_error", 0},
		{"offline", wrap(hub.ErrOffline), 409, "offline_mode", "conflict_error", "invalid_request_error", 0},
		{"no disk space", wrap(hub.ErrNoSpace), 507, "insufficient_storage", "server_error", "api_error", 0},
		{"hub rate limit, default wait", wrap(hub.ErrRateLimited), 429, "hub_rate_limited", "rate_limit_error", "rate_limit_error", 30},
		{"hub checksum", wrap(hub.ErrChecksum), 502, "bad_hub_response", "server_error", "api_error", 0},
		{"hub 500", &hub.StatusError{Status: 500, URL: "u"}, 502, "hub_error", "server_error", "api_error", 0},
		{"hub unreachable", wrap(&net.OpError{Op: "dial", Err: errors.New("refused")}), 503, "hub_unreachable", "overloaded_error", "overloaded_error", 30},
		{"deadline", wrap(context.DeadlineExceeded), 503, "timeout", "overloaded_error", "overloaded_error", 0},
		{"api error by kind", &Error{Kind: engine.KindForbidden, Message: "no"}, 403, "", "permission_error", "permission_error", 0},
		{"api error by status", Errorf(http.StatusUnsupportedMediaType, "json please"), 415, "", "invalid_request_error", "invalid_request_error", 0},
		{"api error with its own wait", &Error{Status: http.StatusTooManyRequests, RetryAfter: 900}, 429, "", "rate_limit_error", "rate_limit_error", 900},
		{"echo 404", echo.ErrNotFound, 404, "", "not_found_error", "not_found_error", 0},
		{"echo 413", echo.ErrStatusRequestEntityTooLarge, 413, "", "request_too_large", "request_too_large", 0},
		{"unknown", errors.New("disk on fire"), 500, "", "server_error", "api_error", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := toError(tt.err)
			if e.Status != tt.status || e.Code != tt.code || e.Type != tt.openai || e.RetryAfter != tt.retry {
				t.Errorf("%v → %d %q %q retry %d; want %d %q %q retry %d", tt.err, e.Status, e.Code, e.Type, e.RetryAfter, tt.status, tt.code, tt.openai, tt.retry)
			}
			for _, path := range []string{"/api/models/local", "/v1/chat/completions", "/v1/messages"} {
				status, retry, body := errorResponse(e, path)
				if status != tt.status || retry != tt.retry {
					t.Errorf("%s: %d retry %d", path, status, retry)
				}
				switch b := body.(type) {
				case anthropicError:
					if path != "/v1/messages" || b.Type != "error" || b.Error.Type != tt.anthropic || b.Error.Message != e.Message {
						t.Errorf("%s: anthropic body %+v", path, b)
					}
				case map[string]errorBody:
					got := b["error"]
					if path == "/v1/messages" || got.Type != tt.openai || got.Message != e.Message || (tt.code != "") != (got.Code != nil) {
						t.Errorf("%s: openai body %+v", path, got)
					}
				default:
					t.Errorf("%s: body %T", path, body)
				}
			}
		})
	}
	if e := toError(fmt.Errorf("%w: %w", hub.ErrRateLimited, &hub.StatusError{Status: 429, RetryAfter: 1500 * time.Millisecond, URL: "u"})); e.Status != 429 || e.RetryAfter != 2 {
		t.Errorf("hub's own Retry-After: %d %d, want 429 2", e.Status, e.RetryAfter)
	}
	if _, ok := engine.Classify(context.Canceled); ok {
		t.Error("a cancelled request is classified as an engine error")
	}
}

// TestErrorTableRows: every kind the engine names has exactly one row, and every
// row is a client or server error with both protocols' types.
func TestErrorTableRows(t *testing.T) {
	seen := map[engine.Kind]bool{}
	for _, r := range errorTable {
		if seen[r.kind] {
			t.Errorf("kind %q has two rows", r.kind)
		}
		seen[r.kind] = true
		if r.status < 400 || r.openai == "" || r.anthropic == "" {
			t.Errorf("row %+v is incomplete", r)
		}
	}
	for _, k := range []engine.Kind{engine.KindInternal, engine.KindInvalid, engine.KindNotFound, engine.KindUnsupported,
		engine.KindContextLength, engine.KindDamaged, engine.KindTooLarge, engine.KindNoRoom, engine.KindQueueFull,
		engine.KindBusy, engine.KindRateLimited, engine.KindUnauthorized, engine.KindForbidden, engine.KindConflict,
		engine.KindUnavailable, engine.KindTimeout, engine.KindUpstream, engine.KindNoSpace, engine.KindTooLargeBody} {
		if !seen[k] {
			t.Errorf("kind %q has no row", k)
		}
	}
}
