package route

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/translate"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestBreaker(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	r := New(Options{Now: clock.Now, Failures: 2, Cooldown: time.Minute})
	r.Set([]Backend{{Name: "gpu", Kind: KindOpenAI, BaseURL: "http://gpu/v1"}}, nil)
	b, _ := r.backend("gpu")
	boom := errors.New("connection refused")

	r.failed(b, boom)
	if !b.allow(clock.Now(), time.Minute) {
		t.Fatal("one failure opened the breaker")
	}
	r.failed(b, boom)
	if st, _ := r.Status("gpu"); st.Healthy || st.Failures != 2 || st.LastError != boom.Error() || !st.RetryAt.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("after two failures: %+v", st)
	}
	if b.allow(clock.Now(), time.Minute) {
		t.Fatal("an open breaker let a request through")
	}
	// After the cooldown one trial goes through, the next waits another cooldown.
	clock.Advance(time.Minute)
	if !b.allow(clock.Now(), time.Minute) {
		t.Fatal("no trial after the cooldown")
	}
	if b.allow(clock.Now(), time.Minute) {
		t.Fatal("a second request during the trial")
	}
	r.failed(b, boom) // the trial failed
	clock.Advance(30 * time.Second)
	if b.allow(clock.Now(), time.Minute) {
		t.Fatal("a failed trial did not restart the cooldown")
	}
	r.succeeded(b) // a probe answered
	if st, _ := r.Status("gpu"); !st.Healthy || st.Failures != 0 || !b.allow(clock.Now(), time.Minute) {
		t.Fatalf("after a success: %+v", st)
	}

	// Changing the backend's key keeps its health; changing its URL starts afresh.
	r.failed(b, boom)
	r.Set([]Backend{{Name: "gpu", Kind: KindOpenAI, BaseURL: "http://gpu/v1", APIKey: "new"}}, nil)
	if st, _ := r.Status("gpu"); st.Failures != 1 {
		t.Errorf("a new key reset the health: %+v", st)
	}
	r.Set([]Backend{{Name: "gpu", Kind: KindOpenAI, BaseURL: "http://gpu2/v1"}}, nil)
	if st, _ := r.Status("gpu"); st.Failures != 0 {
		t.Errorf("a new URL kept the old health: %+v", st)
	}
}

func TestTargets(t *testing.T) {
	r := New(Options{})
	r.Set([]Backend{
		{Name: "b", Kind: KindOpenAI, Models: []string{"llama", "shared"}},
		{Name: "a", Kind: KindOpenAI, Models: []string{"shared"}, Users: []string{"u1", "key9"}},
	}, []Rule{
		{Pattern: "gpt-*", Targets: []Target{{Backend: "b"}, {Backend: Local, Model: "org/small"}}},
		{Pattern: "exact", Targets: []Target{{Backend: "a"}}},
		{Pattern: "*", Targets: []Target{{Backend: Local}}},
	})
	for _, tc := range []struct {
		model string
		want  []Target
	}{
		{"gpt-4o", []Target{{Backend: "b"}, {Backend: Local, Model: "org/small"}}},
		{"exact", []Target{{Backend: "a"}}},
		{"exactly", []Target{{Backend: Local}}}, // "*" catches the rest before model lists
	} {
		got, ok := r.Targets(tc.model, nil)
		if !ok || len(got) != len(tc.want) || got[0] != tc.want[0] {
			t.Errorf("Targets(%q) = %v, %v; want %v", tc.model, got, ok, tc.want)
		}
	}
	r.Set(r.configs(), nil)
	if _, ok := r.Targets("shared", func(m string) bool { return m == "shared" }); ok {
		t.Error("a model this machine has went to a backend without a rule")
	}
	if got, ok := r.Targets("shared", nil); !ok || len(got) != 2 || got[0].Backend != "a" || got[1].Backend != "b" {
		t.Errorf("a model two backends list: %v, %v", got, ok)
	}
	if _, ok := r.Targets("nobody", nil); ok {
		t.Error("a model nobody serves was routed")
	}
	if r.Allowed("a", "u2") || !r.Allowed("a", "u1") || !r.Allowed("a", "u2", "key9") || r.Allowed("a", "", "") || !r.Allowed("b", "") {
		t.Error("Allowed ignores the backend's users")
	}
	if ms := r.Models("u2"); len(ms) != 2 || ms[0] != (ModelEntry{"llama", "b"}) || ms[1] != (ModelEntry{"shared", "b"}) {
		t.Errorf("models of u2: %v", ms)
	}
}

func (r *Router) configs() []Backend {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Backend
	for _, b := range r.backends {
		out = append(out, b.config())
	}
	return out
}

func TestRedact(t *testing.T) {
	key := "sk-proj-abcdef1234567890WXYZ"
	for _, msg := range []string{
		"Incorrect API key provided: " + key,
		"Incorrect API key provided: sk-proj-********************WXYZ. You can find your API key at ...",
		"invalid x-api-key abcdef1234567890",
	} {
		got := redact(msg, key)
		for _, part := range []string{key, "abcdef1234567890", "sk-proj-"} {
			if len(part) >= 6 && strings.Contains(got, part) {
				t.Errorf("redact(%q) = %q keeps %q", msg, got, part)
			}
		}
	}
	if got := upstreamMessage(401, []byte(`{"error":{"message":"bad key `+key+`"}}`), key); got != "401 bad key [redacted]" {
		t.Errorf("upstreamMessage = %q", got)
	}
}

func TestPassThroughEnd(t *testing.T) {
	ev := func(name, data string) translate.Event { return translate.Event{Name: name, Data: []byte(data)} }
	for _, tc := range []struct {
		name    string
		events  []translate.Event
		err     bool
		relayed bool
	}{
		{"openai complete", []translate.Event{ev("", `{"choices":[]}`), ev("", "[DONE]")}, false, false},
		{"anthropic complete", []translate.Event{ev("message_start", `{}`), ev("message_stop", `{"type":"message_stop"}`)}, false, false},
		{"cut", []translate.Event{ev("", `{"choices":[{"delta":{"content":"\"error\""}}]}`)}, true, false},
		{"openai error event", []translate.Event{ev("", `{"error":{"message":"boom"}}`)}, true, true},
		{"anthropic error event", []translate.Event{ev("error", `{"type":"error","error":{"type":"overloaded_error","message":"boom"}}`)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &passThrough{}
			for _, e := range tc.events {
				out, err := p.Event(e)
				if err != nil || len(out) != 1 {
					t.Fatalf("Event: %v, %v", out, err)
				}
			}
			_, err := p.End()
			var re *relayedError
			if (err != nil) != tc.err || errors.As(err, &re) != tc.relayed || tc.relayed && re.msg != "boom" {
				t.Errorf("End: %v", err)
			}
		})
	}
}
