package pool

import "time"

// Messages to the run loop. Calls from callers carry a waiter or a reply
// channel; the worker goroutines report with the *Done messages.
type (
	acquireMsg struct {
		id string
		w  *waiter
	}
	loadMsg struct {
		id   string
		opts LoadOptions
		w    *waiter
	}
	unloadMsg struct {
		id   string
		wait bool
		w    *waiter
	}
	growMsg struct {
		id string
		w  *waiter // w.bytes: how much more
	}
	shrinkMsg struct {
		id    string
		bytes int64
	}
	cancelMsg struct {
		w    *waiter
		done chan struct{}
	}
	// at is when Release was called: the loop may handle the message later,
	// and LRU order and the TTL must count from the real end of use.
	releaseMsg struct {
		l  *Lease
		at time.Time
	}
	pinMsg struct {
		id     string
		pinned bool
		reply  chan error
	}
	statusMsg struct{ reply chan []ModelStatus }
	memoryMsg struct{ reply chan MemoryStatus }
	configMsg struct {
		cfg  Config
		done chan struct{}
	}
	sweepMsg struct {
		fn   func() // run on the loop after drain (tests)
		done chan struct{}
	}
	shutdownMsg  struct{}
	estimateDone struct {
		e     *entry
		bytes int64
		err   error
	}
	loadDone struct {
		e   *entry
		res Resource
		err error
		dur time.Duration
	}
	closeDone struct {
		e      *entry
		reason string
		err    error
	}
)
