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
// Who may import me: api.
package route
