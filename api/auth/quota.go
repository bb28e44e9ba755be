package auth

import (
	"sync"
	"time"
)

// Quotas limits requests per subject (a user, an API key): how many may run at once
// and how many may start per minute. A request is checked against all its subjects
// at once and counted for all of them only if every one allows it, so a refusal
// costs no one any budget.
//
// Tokens per day and fair sharing of decode steps between users are not here: the
// first needs usage accounting from the engine, the second the batching scheduler
// (issue #20).
type Quotas struct {
	now func() time.Time

	mu       sync.Mutex             // guards inflight and started
	inflight map[string]int         // requests running, by subject
	started  map[string][]time.Time // start times in the last minute, oldest first
}

// QuotaLimits are one subject's limits; 0 is unlimited.
type QuotaLimits struct {
	Concurrent int
	PerMinute  int
}

// QuotaSubject is a subject and its limits.
type QuotaSubject struct {
	Key    string // "user:<id>", "key:<id>"
	Limits QuotaLimits
}

// QuotaRefusal says which subject's limit refused and when to retry.
type QuotaRefusal struct {
	Subject    string
	Limit      string // "concurrent" or "per_minute"
	RetryAfter time.Duration
}

// NewQuotas returns quotas on clock now (nil = time.Now).
func NewQuotas(now func() time.Time) *Quotas {
	if now == nil {
		now = time.Now
	}
	return &Quotas{now: now, inflight: map[string]int{}, started: map[string][]time.Time{}}
}

// quotaRetryConcurrent is the Retry-After for a concurrency refusal: nothing says when
// a running request ends, and a second is what OpenAI's clients back off by first.
const quotaRetryConcurrent = time.Second

// Acquire admits a request for every subject, or refuses it. release must be called
// once when an admitted request ends.
func (q *Quotas) Acquire(subjects ...QuotaSubject) (release func(), refusal QuotaRefusal, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, s := range subjects {
		if l := s.Limits.Concurrent; l > 0 && q.inflight[s.Key] >= l {
			return nil, QuotaRefusal{Subject: s.Key, Limit: "concurrent", RetryAfter: quotaRetryConcurrent}, false
		}
		if l := s.Limits.PerMinute; l > 0 {
			ts := q.pruneLocked(s.Key, now)
			if len(ts) >= l {
				return nil, QuotaRefusal{Subject: s.Key, Limit: "per_minute", RetryAfter: ts[len(ts)-l].Add(time.Minute).Sub(now)}, false
			}
		}
	}
	for _, s := range subjects {
		q.inflight[s.Key]++
		if l := s.Limits.PerMinute; l > 0 {
			ts := append(q.started[s.Key], now)
			q.started[s.Key] = ts[max(0, len(ts)-l):]
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			for _, s := range subjects {
				if q.inflight[s.Key]--; q.inflight[s.Key] <= 0 {
					delete(q.inflight, s.Key)
				}
			}
		})
	}, QuotaRefusal{}, true
}

func (q *Quotas) pruneLocked(key string, now time.Time) []time.Time {
	ts := q.started[key]
	i := 0
	for i < len(ts) && !now.Before(ts[i].Add(time.Minute)) {
		i++
	}
	if i == len(ts) {
		delete(q.started, key)
		return nil
	}
	q.started[key] = ts[i:]
	return ts[i:]
}
