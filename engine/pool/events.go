package pool

import (
	"sync"
	"time"
)

// Kind is the stage an Event reports.
type Kind string

// Stages of a model's life, in the order they happen.
const (
	KindLoading   Kind = "loading"   // the load started (Bytes: the estimate)
	KindReady     Kind = "ready"     // loaded (Bytes: resident size, Duration: load time)
	KindError     Kind = "error"     // the load failed or could not start (Err)
	KindEvicted   Kind = "evicted"   // the pool chose to unload it (Reason), unloading follows
	KindUnloading Kind = "unloading" // unloading started (Reason)
	KindUnloaded  Kind = "unloaded"  // memory released (Reason; Err if Close failed)
)

// Reasons for an eviction or unload.
const (
	ReasonMemory    = "memory"     // made room for another model within the budget
	ReasonMaxModels = "max_models" // made room under MaxModels
	ReasonIdle      = "idle"       // its TTL expired
	ReasonUnload    = "unload"     // an explicit Unload
	ReasonShutdown  = "shutdown"   // the pool is closing
)

// Event is one step of a model's load or unload.
type Event struct {
	Kind     Kind          `json:"kind"`
	Model    string        `json:"model"`
	Reason   string        `json:"reason,omitempty"`
	Bytes    int64         `json:"bytes,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Err      string        `json:"error,omitempty"`
	Time     time.Time     `json:"time"`
}

// subBuffer is how many events a subscriber may fall behind before it loses
// the oldest ones.
const subBuffer = 64

// hub fans events out to subscribers without ever blocking the publisher.
// Only the run loop publishes; Subscribe and cancel come from any goroutine.
type hub struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{} // guarded by mu
	closed bool                    // guarded by mu
}

func (h *hub) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, subBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	if h.subs == nil {
		h.subs = make(map[chan Event]struct{})
	}
	h.subs[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[ch]; ok {
				delete(h.subs, ch)
				close(ch)
			}
		})
	}
}

// publish delivers ev to every subscriber. A full buffer drops its oldest
// event to make room: a slow subscriber misses intermediate steps but always
// sees the latest state.
func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
			continue
		default:
		}
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- ev:
		default:
		}
	}
}

// close ends every subscription; later subscribers get a closed channel.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	h.subs = nil
}
