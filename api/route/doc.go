// Package route sends /v1 requests to other inference servers: vLLM, SGLang,
// llama-server, Ollama's /v1, OpenAI, Anthropic, another mlx-manager. A Router
// holds the backends (with a health probe and a circuit breaker each) and the
// routing rules (a model-name pattern → ordered targets), and Serve proxies one
// request to the first healthy target, falling back on connection errors and 5xx
// answers for as long as nothing has reached the client. A request in one
// protocol sent to a backend of the other is translated by api/translate.
//
// Same-protocol requests pass through: only the model field and the credentials
// are rewritten; unknown fields reach the backend as they came. The one addition
// is stream_options.include_usage on OpenAI streams, so the audit log gets the
// backend's token counts; the usage chunk it adds is dropped again when the
// client did not ask for it.
//
// Connections are kept alive per backend. HTTP/2 is used where TLS negotiates
// it, and on http:// only when a backend's http2 setting says on (protocol.go):
// h2c cost more CPU per routed request than it saved here.
//
// What a routed request costs the front daemon (issue #24's check: 32
// concurrent streams through the router add under 5 ms to the first byte,
// BenchmarkRouteFirstByte in api/v1test, whose two daemons carry pprof labels:
// go tool pprof -tagfocus daemon=front). Profiled on the 2-core Zen 5
// (2026-12-06, load 14-35 from other sessions; the daemon rounds, HTTP/1.1 and
// h2c), the front's CPU went to the HTTP server (reading the request, the
// middleware, the response's writes: about 30%), the HTTP client (its request
// write, its read loops: 25-27%), the relay (16-18%) and the audit commit
// (23% while about four transactions took a round's 32 events; 11% since they
// linger for company, store.Options.AuditLinger). Syscalls were a third of it:
// per relayed stream one read of the request, one write to the backend, one
// read and one write per burst of events the backend hands over, which leaves
// nothing to coalesce without holding an event back. The usage chunk is read
// without encoding/json (usage.go). Over 19 interleaved pairs of runs the
// front's added CPU went from a median 322 µs a request (IQR 263-369) to 278
// (254-313), lower in 13 of the pairs; the added latency to the first byte
// stayed about 10 ms under that load (IQR 8.6-11.3 before, 7.8-13.4 after):
// with the front and the backend sharing two cores with 14-35 runnable
// threads, it measures the load as much as the router. Quiet (load 1.4-1.9,
// same day and machine, six rounds of 32 streams) the router added a median
// 1.7-3.1 ms with a daemon backend and 1.8-2.1 ms with an instant one, under
// the 5 ms; on the Zen 1 of the session before, 7.6-8.9 ms: the added time
// grows with the front's CPU per request, since the front and the backend
// share the two cores.
//
// Who may import me: api.
package route
