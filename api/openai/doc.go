// Package openai holds the wire formats of the OpenAI-compatible API (chat
// completions, legacy completions, embeddings, models) and of Anthropic's Messages
// API, and the pure conversions between them and the engine's request and result
// types. The translation happens here, once: handlers in package api decode a body
// with Decode, convert it with the request's method (ChatRequest.Engine, ...), run
// the engine and encode what the builders here return.
//
// Fidelity is the point: every documented field is either honoured or refused with
// a *ParamError naming it (unknown fields too), and only purely informational ones
// (user, metadata, store, service_tier, ...) are accepted and ignored. Stream
// builders (ChatStream, CompletionStream, MessageStream) turn engine deltas into the
// exact chunk and event sequences the official SDKs expect.
//
// Who may import me: api. I import engine (its request and result types) and
// api/ollama (keep_alive, Ollama's field that /v1 accepts too) only.
package openai
