package auth

import (
	"sync"
	"time"
)

// Quotas limits requests per subject (a user, an API key): how many may run at once,
// how many may start per minute, and how many tokens (prompt and completion) they
// may use per UTC day. A request is checked against all its subjects at once and
// counted for all of them only if every one allows it, so a refusal costs no one any
// budget. Tokens are charged when a request ends (only then are they known), so the
// request that crosses a daily limit finishes, and the next one is refused.
//
// Fair sharing of decode steps between users is not here: it belongs to the
// batching scheduler (issue #20).
type Quotas struct {
	now func() time.Time

	mu       sync.Mutex             // guards inflight, started, day and tokens
	inflight map[string]int         // requests running, by subject
	started  map[string][]time.Time // start times in the last minute, oldest first
	day      int64                  // the UTC day tokens counts, in days since 1970
	tokens   map[string]int64       // tokens used on day, by subject
}

// QuotaLimits are one subject's limits; 0 is unlimited.
type QuotaLimits struct {
	Concurrent   int
	PerMinute    int
	TokensPerDay int64
}

// QuotaSubject is a subject and its limits.
type QuotaSubject struct {
	Key    string // "user:<id>", "key:<id>"
	Limits QuotaLimits
}

// QuotaRefusal says which subject's limit refused and when to retry.
type QuotaRefusal struct {
	Subject    string
	Limit      string // "concurrent", "per_minute" or "tokens_per_day"
	RetryAfter time.Duration
}

// NewQuotas returns quotas on clock now (nil = time.Now).
func NewQuotas(now func() time.Time) *Quotas {
	if now == nil {
		now = time.Now
	}
	return &Quotas{now: now, inflight: map[string]int{}, started: map[string][]time.Time{}, tokens: map[string]int64{}}
}

// utcDay is t's day number in UTC, and the time the next one starts.
func utcDay(t time.Time) (int64, time.Time) {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return start.Unix() / 86400, start.AddDate(0, 0, 1)
}

// tokensLocked returns the day's counts, emptied when a new UTC day has begun.
func (q *Quotas) tokensLocked(now time.Time) map[string]int64 {
	if d, _ := utcDay(now); d != q.day {
		q.day, q.tokens = d, map[string]int64{}
	}
	return q.tokens
}

// SeedTokens sets the tokens used so far today by each subject, as read from the
// audit log at start, so a restart does not hand everyone a fresh daily budget.
// Counts for another day than today's are ignored.
func (q *Quotas) SeedTokens(day time.Time, used map[string]int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	seedDay, _ := utcDay(day)
	if today, _ := utcDay(now); seedDay != today {
		return
	}
	counts := q.tokensLocked(now)
	for k, n := range used {
		counts[k] += n
	}
}

// Charge counts n tokens against each subject for today.
func (q *Quotas) Charge(n int64, subjects ...string) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	counts := q.tokensLocked(q.now())
	for _, s := range subjects {
		counts[s] += n
	}
}

// TokensToday is what subject has used today.
func (q *Quotas) TokensToday(subject string) int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tokensLocked(q.now())[subject]
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
		if l := s.Limits.TokensPerDay; l > 0 && q.tokensLocked(now)[s.Key] >= l {
			_, next := utcDay(now)
			return nil, QuotaRefusal{Subject: s.Key, Limit: "tokens_per_day", RetryAfter: next.Sub(now)}, false
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
