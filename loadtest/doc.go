// Package loadtest holds the daemon's load test: 32 concurrent clients (chat
// streams, model listings, audit queries, metrics scrapes and a live audit
// WebSocket) against the real API server and engine with a tiny model, for a
// bounded time and request count. It checks that nothing fails beyond the
// documented 429s, that every /v1 request is audited, that memory stays bounded
// and that no goroutine outlives the server. It has no code of its own; run it
// with `go test ./loadtest` (skipped under -short). Its benchmark
// BenchmarkLoginDuringRegistrationFlood measures the admin's login latency
// (p50/p95) while 1,000 registrations arrive at once (issue #27).
// TestFairTTFT and BenchmarkFairTTFT check issue #27's fairness: while one user
// streams 32 long requests, another user's short requests get their first
// token within twice their time alone (p95), because the model's slots are
// shared between users at every step (engine/sched).
//
// Who may import me: nobody. My test imports api, api/apitest, engine and store.
package loadtest
