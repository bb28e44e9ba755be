package engine

import (
	"context"
	"errors"
	"net"
	"net/url"
	"time"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/engine/sample"
	"github.com/mlx-manager/mlx-manager/engine/sample/grammar"
)

// Kind is what a caller can do about an error, independent of any protocol. The
// API turns a kind into a status, an error body and Retry-After in one table
// (api/errors.go); the engine only says which kind an error is.
type Kind string

// The kinds. An error of no kind is KindInternal: a bug or a failure the client
// cannot act on.
const (
	KindInternal      Kind = "internal"
	KindInvalid       Kind = "invalid"        // the request is malformed or out of range
	KindNotFound      Kind = "not_found"      // the named thing does not exist
	KindUnsupported   Kind = "unsupported"    // well-formed, but this engine cannot do it (an architecture, a schema keyword)
	KindContextLength Kind = "context_length" // the prompt plus completion exceed the model's window
	KindDamaged       Kind = "damaged"        // the model's own files are broken: download it again
	KindTooLarge      Kind = "too_large"      // the model can never fit the memory budget
	KindNoRoom        Kind = "no_room"        // no memory now; retry once other models are unloaded
	KindQueueFull     Kind = "queue_full"     // too many requests waiting for one model
	KindBusy          Kind = "busy"           // the model is in use and the operation needs it idle
	KindRateLimited   Kind = "rate_limited"   // an upstream (the Hub) or our own limiter says slow down
	KindUnauthorized  Kind = "unauthorized"   // who the caller is is unknown
	KindForbidden     Kind = "forbidden"      // the caller is known but may not do this
	KindConflict      Kind = "conflict"       // the state of the thing does not allow it
	KindUnavailable   Kind = "unavailable"    // a part is down, shutting down or unreachable: retry later
	KindTimeout       Kind = "timeout"        // the operation took longer than it may
	KindUpstream      Kind = "upstream"       // the Hub answered something we cannot use
	KindNoSpace       Kind = "no_space"       // the disk cannot hold a download
	KindTooLargeBody  Kind = "body_too_large" // the request body exceeds its cap
)

// Class is an error's kind plus the machine-readable code clients branch on
// ("model_too_large", "queue_full"), and how long to wait before retrying when
// the error itself knows (the Hub's Retry-After); zero means the kind's default.
type Class struct {
	Kind       Kind
	Code       string
	RetryAfter time.Duration
}

// hubUnreachable is the code of a Hub that cannot be reached at all, and
// unreachableRetry how long a client should wait before it tries again.
const (
	hubUnreachable   = "hub_unreachable"
	unreachableRetry = 30 * time.Second
)

// classes are the engine's sentinel errors, first match wins: the order puts the
// specific before the general (a ContextLengthError before ErrInvalidRequest).
var classes = []struct {
	err   error
	class Class
}{
	{ErrContextLength, Class{Kind: KindContextLength, Code: "context_length_exceeded"}},
	{ErrModelNotFound, Class{Kind: KindNotFound, Code: "model_not_found"}},
	{ErrUnsupported, Class{Kind: KindUnsupported, Code: "model_not_supported"}},
	{model.ErrUnsupportedArch, Class{Kind: KindUnsupported, Code: "model_not_supported"}},
	{grammar.ErrUnsupported, Class{Kind: KindUnsupported, Code: "unsupported_value"}},
	{sample.ErrInvalidParams, Class{Kind: KindInvalid, Code: "invalid_value"}},
	{ErrNotEmbedding, Class{Kind: KindInvalid, Code: "model_not_embedding"}},
	{ErrNotReranker, Class{Kind: KindInvalid, Code: "model_not_reranker"}},
	{ErrNotChat, Class{Kind: KindInvalid, Code: "model_not_chat"}},
	{ErrNoImages, Class{Kind: KindInvalid, Code: "model_not_vision"}},
	{ErrInvalidRequest, Class{Kind: KindInvalid, Code: "invalid_value"}},
	{ErrNoHub, Class{Kind: KindUnavailable, Code: "hub_unavailable"}},
	{ErrInvalidLocalFolder, Class{Kind: KindInvalid, Code: "invalid_local_folder"}},
	{ErrLocalExists, Class{Kind: KindConflict, Code: "local_model_exists"}},

	{pool.ErrTooLarge, Class{Kind: KindTooLarge, Code: "model_too_large"}},
	{pool.ErrNoRoom, Class{Kind: KindNoRoom, Code: "no_memory"}},
	{pool.ErrQueueFull, Class{Kind: KindQueueFull, Code: "queue_full"}},
	{pool.ErrQueueTimeout, Class{Kind: KindTimeout, Code: "queue_timeout"}},
	{pool.ErrBusy, Class{Kind: KindBusy, Code: "model_busy"}},
	{pool.ErrNotLoaded, Class{Kind: KindNotFound, Code: "model_not_loaded"}},
	{pool.ErrClosed, Class{Kind: KindUnavailable, Code: "shutting_down"}},

	// An unauthorized Hub answer is forbidden, never unauthorized: the UI reads
	// unauthorized as "your session ended".
	{hub.ErrInvalidRepoID, Class{Kind: KindInvalid, Code: "invalid_repo_id"}},
	{hub.ErrUnsafePath, Class{Kind: KindUpstream, Code: "unsafe_hub_file"}},
	{hub.ErrGated, Class{Kind: KindForbidden, Code: "gated_repo"}},
	{hub.ErrUnauthorized, Class{Kind: KindForbidden, Code: "hub_unauthorized"}},
	{hub.ErrNotFound, Class{Kind: KindNotFound, Code: "model_not_found"}},
	{hub.ErrNotCached, Class{Kind: KindNotFound, Code: "model_not_found"}},
	{hub.ErrUnknownTask, Class{Kind: KindNotFound, Code: "download_not_found"}},
	{hub.ErrOffline, Class{Kind: KindConflict, Code: "offline_mode"}},
	{hub.ErrNoSpace, Class{Kind: KindNoSpace, Code: "insufficient_storage"}},
	{hub.ErrRateLimited, Class{Kind: KindRateLimited, Code: "hub_rate_limited"}},
	{hub.ErrClosed, Class{Kind: KindUnavailable, Code: "shutting_down"}},
	{hub.ErrBadResponse, Class{Kind: KindUpstream, Code: "bad_hub_response"}},
	{hub.ErrChecksum, Class{Kind: KindUpstream, Code: "bad_hub_response"}},
	{hub.ErrTransition, Class{Kind: KindConflict, Code: "download_state"}},
}

// Classify says which kind err is. ok is false for errors the engine does not
// know (they are internal) and for a cancelled context, which is the caller's
// own doing and no error of the engine.
func Classify(err error) (c Class, ok bool) {
	if err == nil || errors.Is(err, context.Canceled) {
		return Class{}, false
	}
	for _, s := range classes {
		if errors.Is(err, s.err) {
			c = s.class
			if c.Kind == KindRateLimited {
				c.RetryAfter = hubRetryAfter(err)
			}
			return c, true
		}
	}
	if IsDamaged(err) {
		return Class{Kind: KindDamaged, Code: "model_damaged"}, true
	}
	var se *hub.StatusError
	if errors.As(err, &se) && se.Status >= 500 {
		return Class{Kind: KindUpstream, Code: "hub_error", RetryAfter: hubRetryAfter(err)}, true
	}
	if unreachable(err) {
		return Class{Kind: KindUnavailable, Code: hubUnreachable, RetryAfter: unreachableRetry}, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Class{Kind: KindTimeout, Code: "timeout"}, true
	}
	return Class{Kind: KindInternal}, false
}

// IsHubUnreachable reports whether err is a network failure talking to the Hub,
// for callers that want to say "offline?" rather than only "unavailable".
func IsHubUnreachable(err error) bool {
	c, ok := Classify(err)
	return ok && c.Code == hubUnreachable
}

// unreachable reports a network failure: no route, no DNS, a request that
// timed out on the wire (a bare context deadline is not one).
func unreachable(err error) bool {
	var oe *net.OpError
	var de *net.DNSError
	var ue *url.Error
	return errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ue) && ue.Timeout())
}

// hubRetryAfter is the Hub's own Retry-After, or zero for the kind's default.
func hubRetryAfter(err error) time.Duration {
	var se *hub.StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter
	}
	return 0
}
