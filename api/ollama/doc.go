// Package ollama holds the wire formats of Ollama's REST API (/api/chat,
// /api/generate, /api/embed, /api/tags, /api/show, /api/ps, /api/version,
// /api/delete, /api/copy, /api/pull) and the pure conversions between them and
// the engine's request and result types. Handlers in package api decode a body
// with Decode, convert it (ChatRequest.Engine, GenerateRequest.Engine, ...), run
// the engine and encode what the builders here return.
//
// Ollama ignores fields it does not know, and its clients rely on that (they send
// fields newer or older servers lack), so unknown top-level fields are ignored
// here too. The documented fields are honoured or refused with an *Error naming
// them; so are unknown keys of "options", where a typo would otherwise silently
// change nothing.
//
// Who may import me: api, api/openai for keep_alive, and app for the CLI, a client of this API.
package ollama
