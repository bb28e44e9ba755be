package api

import (
	"net/http"
	"sync"
	"testing"

	"github.com/mlx-manager/mlx-manager/store"
)

// /v1 requests end without waiting for their audit events to be written: under
// concurrency every event is still written once, the live stream gets them in
// the order of the log, and a query made after the requests returned sees all
// of them.
func TestV1AuditQueued(t *testing.T) {
	env := startV1(t)
	sub := env.s.audits.subscribe()
	defer env.s.audits.unsubscribe(sub)
	const n = 24
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			chat := chatRequest{Model: "tiny", Tokens: 2, Stream: i%2 == 0}
			if resp, body := env.do(t, "POST", "/v1/chat/completions", env.key, chat); resp.StatusCode != http.StatusOK {
				t.Errorf("status %d %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()

	page, err := env.st.Audit().Query(store.AuditFilter{Action: "v1.chat.completions"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != n {
		t.Fatalf("a query after the requests returned sees %d events, want %d", len(page.Events), n)
	}
	requests := map[string]bool{}
	last := ""
	for range n {
		ev := env.nextEvent(t, sub)
		// The id's last 16 hex digits are the log's sequence.
		if seq := ev.ID[16:]; seq <= last {
			t.Errorf("live event %s after sequence %s", ev.ID, last)
		} else {
			last = seq
		}
		if ev.Status != store.AuditSuccess || ev.APIKeyID != env.keyID || ev.CompletionTokens != 2 {
			t.Errorf("event %+v", ev)
		}
		requests[ev.RequestID] = true
	}
	if len(requests) != n {
		t.Errorf("%d distinct requests in the live stream, want %d", len(requests), n)
	}
	select {
	case ev := <-sub.events:
		t.Errorf("an event more than the requests: %+v", ev)
	default:
	}
}
