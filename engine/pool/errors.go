package pool

import "errors"

// Errors callers branch on. Each is wrapped with the model and the figures that
// explain it; the API maps them to statuses.
var (
	// ErrTooLarge: the model's estimate exceeds the whole budget, so no amount of
	// eviction or waiting can make it fit (400/507). Returned at once.
	ErrTooLarge = errors.New("model does not fit in the memory budget")
	// ErrNoRoom: the model would fit, but busy or pinned models hold the memory
	// and did not free it within Config.RoomWait (503).
	ErrNoRoom = errors.New("no room to load the model now")
	// ErrQueueFull: Config.MaxQueue requests already wait for this model (429
	// with Retry-After).
	ErrQueueFull = errors.New("too many requests waiting for the model")
	// ErrQueueTimeout: a request waited Config.QueueTimeout without getting a
	// turn on the model (503).
	ErrQueueTimeout = errors.New("timed out waiting for the model")
	// ErrBusy: Unload without Wait on a model that has requests in flight or
	// queued, or that is still loading (409).
	ErrBusy = errors.New("model is busy")
	// ErrNotLoaded: Unload or Pin of a model the pool does not hold (404).
	ErrNotLoaded = errors.New("model is not loaded")
	// ErrClosed: the pool is shutting down or shut down (503).
	ErrClosed = errors.New("model pool is closed")
)
