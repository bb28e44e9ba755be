package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/pool"
)

// hubRetryAfter is the Retry-After given when the Hub cannot be reached.
const hubRetryAfter = 30

// libraryError maps errors of the model library (Hub client, downloads, cache),
// the pool and the engine's model lookup to API errors. Anything it does not
// know stays as it is (a 500 with the error logged).
func libraryError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if mapped := hubStatus(err); mapped != nil {
		return mapped
	}
	if mapped := poolStatus(err); mapped != nil {
		return mapped
	}
	return err
}

func libErr(status int, code string, err error) *Error {
	return &Error{Status: status, Code: code, Message: err.Error(), Err: err}
}

// hubStatus maps Hub and download errors. An unauthorized Hub answer is a 403,
// never a 401: the UI reads a 401 as "your session ended".
func hubStatus(err error) *Error {
	switch {
	case errors.Is(err, hub.ErrInvalidRepoID):
		return libErr(http.StatusBadRequest, "invalid_repo_id", err)
	case errors.Is(err, hub.ErrUnsafePath):
		return libErr(http.StatusBadGateway, "unsafe_hub_file", err)
	case errors.Is(err, hub.ErrGated):
		return libErr(http.StatusForbidden, "gated_repo", err)
	case errors.Is(err, hub.ErrUnauthorized):
		return libErr(http.StatusForbidden, "hub_unauthorized", err)
	case errors.Is(err, hub.ErrNotFound):
		return libErr(http.StatusNotFound, "model_not_found", err)
	case errors.Is(err, hub.ErrNotCached), errors.Is(err, engine.ErrModelNotFound):
		return libErr(http.StatusNotFound, "model_not_found", err)
	case errors.Is(err, hub.ErrUnknownTask):
		return libErr(http.StatusNotFound, "download_not_found", err)
	case errors.Is(err, hub.ErrOffline):
		return libErr(http.StatusConflict, "offline_mode", err)
	case errors.Is(err, hub.ErrNoSpace):
		return libErr(http.StatusInsufficientStorage, "insufficient_storage", err)
	case errors.Is(err, hub.ErrRateLimited):
		e := libErr(http.StatusTooManyRequests, "hub_rate_limited", err)
		e.RetryAfter = retryAfterOf(err)
		return e
	case errors.Is(err, hub.ErrClosed):
		return libErr(http.StatusServiceUnavailable, "shutting_down", err)
	case errors.Is(err, hub.ErrBadResponse), errors.Is(err, hub.ErrChecksum):
		return libErr(http.StatusBadGateway, "bad_hub_response", err)
	}
	var se *hub.StatusError
	if errors.As(err, &se) && se.Status >= 500 {
		e := libErr(http.StatusBadGateway, "hub_error", err)
		e.RetryAfter = retryAfterOf(err)
		return e
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusServiceUnavailable, Code: "hub_unreachable", RetryAfter: hubRetryAfter,
			Message: "cannot reach the hugging face hub (offline? turn on offline mode in the hub settings): " + unreachableReason(err), Err: err}
	}
	return nil
}

// unreachableReason says why the Hub could not be reached without the network's
// inner details: Go's errors name the resolver ("lookup huggingface.co on
// 10.0.0.53:53") and local addresses, which are no business of a client. The log
// keeps the whole error.
func unreachableReason(err error) string {
	var de *net.DNSError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &de):
		switch {
		case de.IsNotFound:
			return "cannot resolve " + de.Name + ": no such host"
		case de.IsTimeout:
			return "cannot resolve " + de.Name + ": timed out"
		}
		return "cannot resolve " + de.Name
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.As(err, &oe):
		var se *os.SyscallError
		if errors.As(oe.Err, &se) {
			return oe.Op + ": " + se.Err.Error()
		}
		return oe.Op + " failed"
	}
	return "network error"
}

func retryAfterOf(err error) int {
	var se *hub.StatusError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return int(se.RetryAfter.Seconds() + 0.999)
	}
	return hubRetryAfter
}

// poolStatus maps pool and engine errors of explicit loads and unloads.
func poolStatus(err error) *Error {
	switch {
	case errors.Is(err, pool.ErrTooLarge):
		return libErr(http.StatusInsufficientStorage, "model_too_large", err)
	case errors.Is(err, pool.ErrNoRoom):
		e := libErr(http.StatusServiceUnavailable, "no_memory", err)
		e.RetryAfter = 10
		return e
	case errors.Is(err, pool.ErrQueueFull):
		e := libErr(http.StatusTooManyRequests, "queue_full", err)
		e.RetryAfter = 5
		return e
	case errors.Is(err, pool.ErrQueueTimeout):
		return libErr(http.StatusServiceUnavailable, "queue_timeout", err)
	case errors.Is(err, pool.ErrBusy):
		return libErr(http.StatusConflict, "model_busy", err)
	case errors.Is(err, pool.ErrNotLoaded):
		return libErr(http.StatusNotFound, "model_not_loaded", err)
	case errors.Is(err, pool.ErrClosed):
		return libErr(http.StatusServiceUnavailable, "shutting_down", err)
	case errors.Is(err, engine.ErrUnsupported):
		return libErr(http.StatusBadRequest, "model_not_supported", err)
	}
	return nil
}

// errNoEngine and errNoHub answer routes whose part the daemon was started without.
func errNoEngine() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "engine_unavailable", Message: "the model engine is not running"}
}

func errNoHub() *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "hub_unavailable", Message: "the hugging face hub client is not configured"}
}
