package store_test

import (
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

func benchLog(b *testing.B, n int) *store.Store {
	b.Helper()
	st := storetest.Open(b)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]store.AuditEvent, n)
	for i := range evs {
		evs[i] = store.AuditEvent{
			Time: start.Add(time.Duration(i) * time.Second), Action: "v1.chat.completions", Status: store.AuditSuccess,
			UserID: []string{"u1", "u2", "u3"}[i%3], Model: "m", DurationMS: 120, TTFTMS: 15,
			PromptTokens: 40, CompletionTokens: 200, Endpoint: "POST /v1/chat/completions",
		}
	}
	if err := st.Audit().AppendInOneTx(evs); err != nil {
		b.Fatal(err)
	}
	return st
}

// One fsynced transaction per event: the cost every /v1 request pays.
func BenchmarkAuditAppend(b *testing.B) {
	st := storetest.Open(b)
	ev := store.AuditEvent{Action: "v1.chat.completions", Status: store.AuditSuccess, Model: "m", PromptTokens: 40}
	for b.Loop() {
		if _, err := st.Audit().Append(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// The newest page of one user's events in a 100k-event log (the UI's default view).
func BenchmarkAuditQueryPage(b *testing.B) {
	st := benchLog(b, 100_000)
	for b.Loop() {
		if _, err := st.Audit().Query(store.AuditFilter{UserID: "u2", Limit: 50}); err != nil {
			b.Fatal(err)
		}
	}
}

// Stats over the whole of a 100k-event log: the worst case of the stats endpoint.
func BenchmarkAuditStats(b *testing.B) {
	st := benchLog(b, 100_000)
	for b.Loop() {
		if _, err := st.Audit().Stats(store.AuditFilter{}); err != nil {
			b.Fatal(err)
		}
	}
}
