//go:build !race

package v1test

import "testing"

// TestQwenTools runs tools and structured output on qwenID, loaded once:
// over the wire, through the Go SDK and through the npm SDKs' tool scenarios
// (one daemon for all: each start writes the model and loads Qwen's 151k-token
// tokenizer again).
//
// Every token over Qwen's 151k-token vocabulary goes through the tool grammar's
// mask, which costs twenty times more under the race detector (85 s of a 2-core
// CI run), so this lives in a !race file run by make test's non-race pass; the
// race detector still covers the same server and grammar code through the tiny
// models' tool tests (tools_test.go) and engine's toolgrammar tests. The npm
// SDKs add no server code the other subtests do not run.
func TestQwenTools(t *testing.T) {
	e := startQwen(t)
	t.Run("tool_choice", func(t *testing.T) { toolChoiceModes(t, e) })
	t.Run("round trip", func(t *testing.T) { toolRoundTrip(t, e) })
	t.Run("anthropic tool_choice", func(t *testing.T) { messagesToolChoice(t, e) })
	t.Run("go sdk", func(t *testing.T) { toolsGoSDK(t, e) })
	t.Run("node sdks", func(t *testing.T) { toolsNodeSDKs(t, e) })
}
