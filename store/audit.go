package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Audit event statuses.
const (
	AuditSuccess   = "success"
	AuditError     = "error"
	AuditCancelled = "cancelled" // the client went away before the request finished
)

// maxAuditText bounds free-text fields so one event cannot bloat the log.
const maxAuditText = 512

// AuditEvent is one line of the audit log: a /v1 request or a security-relevant
// action. Prompts and outputs are never recorded, only their token counts.
type AuditEvent struct {
	ID               string    `json:"id"` // hex of the key: time-ordered, usable as a cursor
	Time             time.Time `json:"time"`
	RequestID        string    `json:"request_id,omitempty"`
	Action           string    `json:"action"` // auth.login, model.load, v1.chat.completions, ...
	Status           string    `json:"status"` // AuditSuccess, AuditError or AuditCancelled
	UserID           string    `json:"user_id,omitempty"`
	UserEmail        string    `json:"user_email,omitempty"`
	APIKeyID         string    `json:"api_key_id,omitempty"`
	ClientIP         string    `json:"client_ip,omitempty"`
	Model            string    `json:"model,omitempty"`
	Backend          string    `json:"backend,omitempty"`  // the remote backend that answered a routed /v1 request
	Endpoint         string    `json:"endpoint,omitempty"` // "POST /v1/chat/completions"
	Target           string    `json:"target,omitempty"`   // what an action was done to: a user id, key id, setting
	Detail           string    `json:"detail,omitempty"`
	HTTPStatus       int       `json:"http_status,omitempty"`
	DurationMS       float64   `json:"duration_ms,omitempty"`
	TTFTMS           float64   `json:"ttft_ms,omitempty"`
	PromptTokens     int       `json:"prompt_tokens,omitempty"`
	CompletionTokens int       `json:"completion_tokens,omitempty"`
	ErrorType        string    `json:"error_type,omitempty"`
	ErrorMessage     string    `json:"error_message,omitempty"`
}

// Audit is the audit log API. Keys are the event's big-endian unix nanoseconds then
// the bucket sequence, so a time range is one cursor walk and ids sort by time.
type Audit struct{ s *Store }

// Audit returns the audit log API.
func (s *Store) Audit() Audit { return Audit{s} }

var maxKeyTime = time.Unix(0, math.MaxInt64)

// timeKey is the 8-byte prefix for t, clamped to what UnixNano can represent.
func timeKey(t time.Time) []byte {
	var n uint64
	switch {
	case t.Before(time.Unix(0, 0)):
	case t.After(maxKeyTime):
		n = math.MaxInt64
	default:
		n = uint64(t.UnixNano())
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 16), n)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Append stores ev, assigning its id (and its time when zero), and returns it
// once it is durable.
func (a Audit) Append(ev AuditEvent) (AuditEvent, error) {
	r := &auditReq{ev: a.prepare(ev)}
	a.s.auditWrites.do(r, a.commit)
	if r.err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event %s: %w", ev.Action, r.err)
	}
	return r.ev, nil
}

// AppendAsync queues ev and returns before it is written, so that a request
// does not wait for the disk. done (may be nil) gets the stored event, id set,
// or the error, once its transaction ends; the calls come one at a time, in
// the order the events were written (the sequence that ends each id), Append's
// included, and must not wait on the audit log themselves. Queries, and Close, wait for what was queued before
// them: nothing queued is lost on a clean shutdown.
func (a Audit) AppendAsync(ev AuditEvent, done func(AuditEvent, error)) {
	wrap := done
	if done != nil {
		wrap = func(ev AuditEvent, err error) {
			if err != nil {
				err = fmt.Errorf("append audit event %s: %w", ev.Action, err)
			}
			done(ev, err)
		}
	}
	r := &auditReq{ev: a.prepare(ev), done: wrap}
	if a.s.auditWrites.add(r, a.commit) {
		a.Flush() // the queue is long: this one waits for its turn
	}
}

// Flush returns once every event appended before it is written (or failed).
func (a Audit) Flush() { a.s.auditWrites.flush(a.commit) }

// prepare fills what Append sets before the commit: the time, bounded texts.
func (a Audit) prepare(ev AuditEvent) AuditEvent {
	if ev.Time.IsZero() {
		ev.Time = a.s.now()
	}
	ev.Time = ev.Time.UTC()
	ev.ErrorMessage = truncate(ev.ErrorMessage, maxAuditText)
	ev.Detail = truncate(ev.Detail, maxAuditText)
	ev.Endpoint = truncate(ev.Endpoint, 256)
	return ev
}

// commit writes a group of appends in one transaction. Only the disk can make
// it fail (an event always encodes), and then it fails for all of them alike.
func (a Audit) commit(batch []*auditReq) {
	events := 0
	for _, r := range batch {
		if !r.barrier {
			events++
		}
	}
	if events == 0 {
		return
	}
	err := a.s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		for _, r := range batch {
			if r.barrier {
				continue
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			key := binary.BigEndian.AppendUint64(timeKey(r.ev.Time), seq)
			r.ev.ID = hex.EncodeToString(key)
			if err := putJSON(b, key, r.ev); err != nil {
				return err
			}
		}
		return nil
	})
	for _, r := range batch {
		if !r.barrier {
			r.err = err
		}
	}
}

// AuditFilter selects events. Zero fields match everything.
type AuditFilter struct {
	UserID string
	Model  string
	Action string // exact, or a dotted prefix: "auth" matches "auth.login"
	Status string
	From   time.Time // inclusive
	To     time.Time // exclusive
	Before string    // cursor: only events older than this id (a previous page's Next)
	Offset int
	Limit  int // 0 = no limit
}

func (f AuditFilter) match(ev *AuditEvent) bool {
	return (f.UserID == "" || ev.UserID == f.UserID) &&
		(f.Model == "" || ev.Model == f.Model) &&
		(f.Status == "" || ev.Status == f.Status) &&
		(f.Action == "" || ev.Action == f.Action || strings.HasPrefix(ev.Action, f.Action+"."))
}

// bounds turns the time range and cursor into the key range [lower, upper).
func (f AuditFilter) bounds() (lower, upper []byte, err error) {
	if !f.From.IsZero() {
		lower = timeKey(f.From)
	}
	if !f.To.IsZero() {
		upper = timeKey(f.To)
	}
	if f.Before != "" {
		k, err := hex.DecodeString(f.Before)
		if err != nil || len(k) != 16 {
			return nil, nil, fmt.Errorf("bad audit cursor %q", f.Before)
		}
		if upper == nil || bytes.Compare(k, upper) < 0 {
			upper = k
		}
	}
	return lower, upper, nil
}

// scan calls fn for each matching event, newest first, until fn returns false.
func (f AuditFilter) scan(tx *bolt.Tx, fn func(ev *AuditEvent) bool) error {
	lower, upper, err := f.bounds()
	if err != nil {
		return err
	}
	c := tx.Bucket(bucketAudit).Cursor()
	var k, v []byte
	if upper == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(upper); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && (lower == nil || bytes.Compare(k, lower) >= 0); k, v = c.Prev() {
		var ev AuditEvent
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("decode audit event %x: %w", k, err)
		}
		if f.match(&ev) && !fn(&ev) {
			return nil
		}
	}
	return nil
}

// AuditPage is one page of events, newest first.
type AuditPage struct {
	Events []AuditEvent
	Next   string // the cursor for the following page; "" when this is the last
}

// Query returns the events matching f, newest first, skipping Offset and returning
// at most Limit of them.
func (a Audit) Query(f AuditFilter) (AuditPage, error) {
	a.Flush()
	var page AuditPage
	skip := f.Offset
	err := a.s.db.View(func(tx *bolt.Tx) error {
		return f.scan(tx, func(ev *AuditEvent) bool {
			if skip > 0 {
				skip--
				return true
			}
			if f.Limit > 0 && len(page.Events) == f.Limit {
				page.Next = page.Events[len(page.Events)-1].ID
				return false
			}
			page.Events = append(page.Events, *ev)
			return true
		})
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("query audit log: %w", err)
	}
	return page, nil
}

// AuditStats summarises the events matching a filter.
type AuditStats struct {
	Total            int            `json:"total"`
	ByAction         map[string]int `json:"by_action"`
	ByStatus         map[string]int `json:"by_status"`
	ByModel          map[string]int `json:"by_model"`
	PromptTokens     int64          `json:"prompt_tokens"`
	CompletionTokens int64          `json:"completion_tokens"`
	AvgDurationMS    float64        `json:"avg_duration_ms"` // over events that have a duration
	AvgTTFTMS        float64        `json:"avg_ttft_ms"`     // over events that have a TTFT
	// Token use of the events that report tokens, by user (email, else id) and, for
	// routed requests, by backend.
	TokensByUser    map[string]TokenUsage `json:"tokens_by_user"`
	TokensByBackend map[string]TokenUsage `json:"tokens_by_backend"`
}

// TokenUsage sums the requests and tokens of one user or backend.
type TokenUsage struct {
	Requests         int   `json:"requests"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

func (u *TokenUsage) add(ev *AuditEvent) {
	u.Requests++
	u.PromptTokens += int64(ev.PromptTokens)
	u.CompletionTokens += int64(ev.CompletionTokens)
}

// Stats counts and sums the events matching f (Offset and Limit are ignored).
func (a Audit) Stats(f AuditFilter) (AuditStats, error) {
	a.Flush()
	st := AuditStats{ByAction: map[string]int{}, ByStatus: map[string]int{}, ByModel: map[string]int{},
		TokensByUser: map[string]TokenUsage{}, TokensByBackend: map[string]TokenUsage{}}
	var durSum, ttftSum float64
	var durN, ttftN int
	err := a.s.db.View(func(tx *bolt.Tx) error {
		return f.scan(tx, func(ev *AuditEvent) bool {
			st.Total++
			st.ByAction[ev.Action]++
			st.ByStatus[ev.Status]++
			if ev.Model != "" {
				st.ByModel[ev.Model]++
			}
			st.PromptTokens += int64(ev.PromptTokens)
			st.CompletionTokens += int64(ev.CompletionTokens)
			if user := cmp.Or(ev.UserEmail, ev.UserID); user != "" && ev.PromptTokens+ev.CompletionTokens > 0 {
				u := st.TokensByUser[user]
				u.add(ev)
				st.TokensByUser[user] = u
			}
			if ev.Backend != "" {
				u := st.TokensByBackend[ev.Backend]
				u.add(ev)
				st.TokensByBackend[ev.Backend] = u
			}
			if ev.DurationMS > 0 {
				durSum, durN = durSum+ev.DurationMS, durN+1
			}
			if ev.TTFTMS > 0 {
				ttftSum, ttftN = ttftSum+ev.TTFTMS, ttftN+1
			}
			return true
		})
	})
	if err != nil {
		return AuditStats{}, fmt.Errorf("audit stats: %w", err)
	}
	if durN > 0 {
		st.AvgDurationMS = durSum / float64(durN)
	}
	if ttftN > 0 {
		st.AvgTTFTMS = ttftSum / float64(ttftN)
	}
	return st, nil
}

// Count is the number of events in the log.
func (a Audit) Count() (int, error) {
	a.Flush()
	n := 0
	err := a.s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketAudit).Stats().KeyN
		return nil
	})
	return n, err
}

// TokenUse is the tokens (prompt and completion) recorded since some time, summed
// per user and per API key; requests without a user (loopback without credentials)
// are counted in Anonymous.
type TokenUse struct {
	ByUser    map[string]int64
	ByKey     map[string]int64
	Anonymous int64
}

// TokenUse sums the tokens of the events since from, so quotas that count tokens
// per day can pick up after a restart where they were.
func (a Audit) TokenUse(from time.Time) (TokenUse, error) {
	a.Flush()
	use := TokenUse{ByUser: map[string]int64{}, ByKey: map[string]int64{}}
	err := a.s.db.View(func(tx *bolt.Tx) error {
		return AuditFilter{From: from}.scan(tx, func(ev *AuditEvent) bool {
			n := int64(ev.PromptTokens) + int64(ev.CompletionTokens)
			if n == 0 {
				return true
			}
			if ev.UserID == "" {
				use.Anonymous += n
			} else {
				use.ByUser[ev.UserID] += n
			}
			if ev.APIKeyID != "" {
				use.ByKey[ev.APIKeyID] += n
			}
			return true
		})
	})
	if err != nil {
		return TokenUse{}, fmt.Errorf("audit token use: %w", err)
	}
	return use, nil
}
