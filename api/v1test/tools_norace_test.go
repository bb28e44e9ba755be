//go:build !race

package v1test

import "testing"

// TestQwenToolsNodeSDKs runs the npm SDKs' tool scenarios against the Qwen3
// server. They add no server code the subtests of TestQwenTools do not run,
// and every token over Qwen's 151k-token vocabulary costs twenty times more
// under the race detector, so this lives in a !race file: make test runs it in
// its non-race pass (test-norace).
func TestQwenToolsNodeSDKs(t *testing.T) {
	toolsNodeSDKs(t, startQwen(t))
}
