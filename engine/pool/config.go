package pool

import (
	"log/slog"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultTTL          = 30 * time.Minute
	DefaultMaxQueue     = 512 // Ollama's OLLAMA_MAX_QUEUE
	DefaultMaxParallel  = 1   // one generation at a time per model on CPU
	DefaultQueueTimeout = 10 * time.Minute
	DefaultRoomWait     = time.Minute
)

// Config sets the pool's limits. The zero value of every field means its
// default; SetConfig applies a new Config live, except Now and Logger, which
// only New reads.
type Config struct {
	// BudgetBytes caps the memory of loaded models (their estimates, or their
	// resident size when larger). 0: DefaultBudget(TotalRAM()); negative: no cap.
	BudgetBytes int64
	// MaxModels caps how many models are loaded at once. 0: no cap.
	MaxModels int
	// DefaultTTL is how long an idle model stays loaded when neither Load nor
	// the last request said otherwise. 0: 30 minutes; negative: forever.
	DefaultTTL time.Duration
	// MaxQueue bounds the requests waiting for one model (beyond those in
	// flight). 0: 512.
	MaxQueue int
	// MaxParallel is how many leases one model grants at once. 0: 1.
	MaxParallel int
	// QueueTimeout bounds how long Acquire waits for its turn, loading
	// included. 0: 10 minutes; negative: only the caller's context bounds it.
	QueueTimeout time.Duration
	// RoomWait bounds how long a load waits for busy or pinned models to make
	// room before failing with ErrNoRoom. 0: 1 minute.
	RoomWait time.Duration
	// Now is the clock; tests inject a fake one. nil: time.Now.
	Now func() time.Time
	// Logger gets one line per load, unload and failure. nil: slog.Default().
	Logger *slog.Logger
}

// limits are the live limits after defaults, owned by the run loop.
type limits struct {
	budget       int64 // <= 0: no cap
	maxModels    int   // <= 0: no cap
	ttl          time.Duration
	maxQueue     int
	maxParallel  int
	queueTimeout time.Duration // <= 0: none
	roomWait     time.Duration
	totalRAM     int64 // 0: unknown
}

// limitsFrom fills in defaults. It reads the machine's RAM only when the
// budget is left to its default.
func limitsFrom(c Config, log *slog.Logger) limits {
	l := limits{
		budget: c.BudgetBytes, maxModels: c.MaxModels, ttl: c.DefaultTTL,
		maxQueue: c.MaxQueue, maxParallel: c.MaxParallel,
		queueTimeout: c.QueueTimeout, roomWait: c.RoomWait,
	}
	if total, err := TotalRAM(); err == nil {
		l.totalRAM = total
	} else if l.budget == 0 {
		log.Warn("pool: physical memory unknown, no memory budget", "err", err)
	}
	if l.budget == 0 {
		l.budget = DefaultBudget(l.totalRAM)
	}
	if l.ttl == 0 {
		l.ttl = DefaultTTL
	}
	if l.maxQueue <= 0 {
		l.maxQueue = DefaultMaxQueue
	}
	if l.maxParallel <= 0 {
		l.maxParallel = DefaultMaxParallel
	}
	if l.queueTimeout == 0 {
		l.queueTimeout = DefaultQueueTimeout
	}
	if l.roomWait <= 0 {
		l.roomWait = DefaultRoomWait
	}
	return l
}

// DefaultBudget is physical RAM minus a reserve for the system and other
// programs: a quarter of it, but at least 4 GiB and at most 8 GiB, and never
// more than half of a small machine. 0 RAM (unknown) gives 0: no cap.
func DefaultBudget(totalRAM int64) int64 {
	if totalRAM <= 0 {
		return 0
	}
	reserve := min(max(totalRAM/4, 4<<30), 8<<30)
	reserve = min(reserve, totalRAM/2)
	return totalRAM - reserve
}
