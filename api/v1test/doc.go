// Package v1test holds the integration tests of the OpenAI- and
// Anthropic-compatible /v1 API: the real server on 127.0.0.1:0 with a temp store,
// the real engine with the CPU executor, and tiny random models written in the
// Hugging Face cache layout (plus stories260K when ../shared/models has it). They
// talk raw HTTP, the official Go SDK (openai-go) and, through testdata/sdk (install
// with `npm ci --prefix api/v1test/testdata/sdk`), the official openai and
// @anthropic-ai/sdk npm packages.
//
// It has no code of its own: it is a separate package so that its tests may use
// the CPU executor, which package api must never import.
package v1test
