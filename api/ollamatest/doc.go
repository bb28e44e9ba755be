// Package ollamatest holds the integration tests of the Ollama-compatible API
// (/api/chat, /api/generate, /api/tags, ...): the real server on 127.0.0.1:0
// with a temp store, the real engine with the CPU executor, and tiny random
// models written in the Hugging Face cache layout. Besides raw HTTP, a
// conformance test replays the examples of Ollama's API documentation
// (testdata/api_examples.json, from docs/api.md of ollama/ollama).
//
// It has no code of its own: it is a separate package so that its tests may use
// the CPU executor, which package api must never import.
package ollamatest
