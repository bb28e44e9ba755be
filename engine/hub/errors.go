package hub

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that callers branch on (the API maps them to HTTP status codes).
var (
	// ErrNotFound: the repo, revision or file does not exist (or is hidden from this token).
	ErrNotFound = errors.New("not found on the hub")
	// ErrUnauthorized: the Hub wants a (valid) token for this repo.
	ErrUnauthorized = errors.New("unauthorized: this repo needs a valid Hugging Face token")
	// ErrGated: the repo is gated; its licence must be accepted on the Hub by the token's owner.
	ErrGated = errors.New("gated repo: accept its licence on huggingface.co and use a token of that account")
	// ErrRateLimited: the Hub answered 429 and the retries allowed by Retry-After ran out.
	ErrRateLimited = errors.New("rate limited by the hub")
	// ErrOffline: the client is in offline mode and makes no Hub calls.
	ErrOffline = errors.New("offline mode: hugging face hub calls are disabled")
	// ErrInvalidRepoID: the repo id is not "org/name" with safe characters.
	ErrInvalidRepoID = errors.New("invalid repo id")
	// ErrUnsafePath: a file name from the Hub (or a cache link) would escape its directory.
	ErrUnsafePath = errors.New("unsafe file path")
	// ErrChecksum: downloaded bytes do not match the sha256 (or git sha1) the Hub announced.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNoSpace: the disk has less free space than the download still needs.
	ErrNoSpace = errors.New("not enough free disk space")
	// ErrNotCached: the model is not (completely) in the local cache.
	ErrNotCached = errors.New("model not in the local cache")
	// ErrUnknownTask: no download task has this id.
	ErrUnknownTask = errors.New("unknown download task")
	// ErrClosed: the manager has been closed.
	ErrClosed = errors.New("download manager closed")
	// ErrBadResponse: the Hub answered something this client cannot use.
	ErrBadResponse = errors.New("unexpected hub response")
)

// StatusError is a non-2xx answer from the Hub. It unwraps to the matching sentinel
// (ErrNotFound, ErrGated, ...) so callers use errors.Is.
type StatusError struct {
	Status     int
	Code       string // X-Error-Code, e.g. "GatedRepo", "RepoNotFound"
	Message    string // X-Error-Message or a short body excerpt
	URL        string
	RetryAfter time.Duration // from Retry-After on 429 and 503
	kind       error
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("hub answered %d for %s", e.Status, e.URL)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.kind != nil {
		msg += ": " + e.kind.Error()
	}
	return msg
}

func (e *StatusError) Unwrap() error { return e.kind }

// temporary reports whether retrying the same request later may succeed.
func (e *StatusError) temporary() bool {
	return e.Status == 429 || e.Status == 408 || e.Status >= 500
}
