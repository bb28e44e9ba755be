//go:build !race

package v1test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// TestRouteNodeSDKs drives a routing daemon with the official openai and
// @anthropic-ai/sdk clients (testdata/sdk/route.mjs): each protocol routed to a
// backend daemon's other protocol, text and tools, streamed and not, compared
// with the same request sent to the backend directly. Qwen's 151k vocabulary
// makes it slow under the race detector, hence !race (make test-norace runs it).
func TestRouteNodeSDKs(t *testing.T) {
	dir := filepath.Join("testdata", "sdk")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("the SDKs are not installed: run npm ci --prefix api/v1test/testdata/sdk (%v)", err))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Need(t, false, fmt.Sprintf("node is not installed: %v", err))
	}
	back := startQwen(t)
	var log syncBuffer
	front := start(t, envOptions{log: &log})
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, nil)
	front.addBackend(t, "claude", "anthropic", back.URL+"/v1", back.key, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there: connection refused
	front.addBackend(t, "dead", "openai", "http://"+dead+"/v1", "sk-dead-backend-key-0000", nil)
	front.setRules(t,
		rule{Pattern: "gpu/tiny", Targets: []target{{Backend: "gpu", Model: tinyID}}},
		rule{Pattern: "gpu/qwen", Targets: []target{{Backend: "gpu", Model: qwenID}}},
		rule{Pattern: "claude/tiny", Targets: []target{{Backend: "claude", Model: tinyID}}},
		rule{Pattern: "claude/qwen", Targets: []target{{Backend: "claude", Model: qwenID}}},
		rule{Pattern: "dead/*", Targets: []target{{Backend: "dead"}}})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "route.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FRONT_URL="+front.URL, "FRONT_KEY="+front.key, "BACK_URL="+back.URL, "BACK_KEY="+back.key,
		"MODEL="+tinyID, "TOOLS_MODEL="+qwenID)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node route.mjs: %v\n%s", err, stderr.String())
	}
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	for _, key := range []string{back.key, "sk-dead-backend-key-0000"} {
		if strings.Contains(string(out), key) {
			t.Error("a backend key reached a client")
		}
		noKeyIn(t, key, front.DataDir, &log)
	}

	type text struct {
		Content string `json:"content"`
		Finish  string `json:"finish"`
		Stop    string `json:"stop"`
		Output  int    `json:"output"`
	}
	type call struct {
		Name  string         `json:"name"`
		Input map[string]any `json:"input"`
	}
	var ot struct{ Routed, Streamed, Direct text }
	if res.get(t, "openaiText", &ot) {
		want := text{Content: ot.Direct.Content, Finish: map[string]string{"end_turn": "stop", "max_tokens": "length"}[ot.Direct.Stop], Output: ot.Direct.Output}
		if ot.Routed != want || ot.Streamed != want || want.Output == 0 {
			t.Errorf("openai client, anthropic backend: routed %+v streamed %+v, want %+v", ot.Routed, ot.Streamed, want)
		}
	}
	var at struct{ Routed, Streamed, Direct text }
	if res.get(t, "anthropicText", &at) {
		want := text{Content: at.Direct.Content, Stop: map[string]string{"stop": "end_turn", "length": "max_tokens"}[at.Direct.Finish], Output: at.Direct.Output}
		if at.Routed != want || at.Streamed != want || want.Output == 0 {
			t.Errorf("anthropic client, openai backend: routed %+v streamed %+v, want %+v", at.Routed, at.Streamed, want)
		}
	}
	var otools struct {
		Routed, Streamed struct {
			Calls  []call `json:"calls"`
			Finish string `json:"finish"`
		}
		Direct struct {
			Uses []call `json:"uses"`
			Stop string `json:"stop"`
		}
	}
	if res.get(t, "openaiTools", &otools) {
		if len(otools.Direct.Uses) == 0 || otools.Direct.Stop != "tool_use" ||
			!reflect.DeepEqual(otools.Routed.Calls, otools.Direct.Uses) || !reflect.DeepEqual(otools.Streamed.Calls, otools.Direct.Uses) ||
			otools.Routed.Finish != "tool_calls" || otools.Streamed.Finish != "tool_calls" {
			t.Errorf("openai tools through an anthropic backend: %+v", otools)
		}
	}
	var atools struct {
		Routed struct {
			Uses []call `json:"uses"`
			Stop string `json:"stop"`
		}
		Streamed struct {
			Uses       []call `json:"uses"`
			Stop       string `json:"stop"`
			JSONDeltas int    `json:"json_deltas"`
		}
		RoundTrip struct {
			Stop             string `json:"stop"`
			InputTokens      int    `json:"input_tokens"`
			FirstInputTokens int    `json:"first_input_tokens"`
		} `json:"round_trip"`
		Direct struct {
			Calls  []call `json:"calls"`
			Finish string `json:"finish"`
		}
	}
	if res.get(t, "anthropicTools", &atools) {
		if len(atools.Direct.Calls) == 0 || atools.Direct.Finish != "tool_calls" ||
			!reflect.DeepEqual(atools.Routed.Uses, atools.Direct.Calls) || !reflect.DeepEqual(atools.Streamed.Uses, atools.Direct.Calls) ||
			atools.Routed.Stop != "tool_use" || atools.Streamed.Stop != "tool_use" || atools.Streamed.JSONDeltas == 0 {
			t.Errorf("anthropic tools through an openai backend: %+v", atools)
		}
		if atools.RoundTrip.InputTokens <= atools.RoundTrip.FirstInputTokens {
			t.Errorf("the tool result did not reach the backend: %+v", atools.RoundTrip)
		}
	}
	var pass struct{ OpenAI, Anthropic string }
	if res.get(t, "passThrough", &pass) && (pass.OpenAI == "" && pass.Anthropic == "") {
		t.Errorf("pass-through answered nothing: %+v", pass)
	}
	var dead2 map[string]struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	if res.get(t, "deadBackend", &dead2) {
		for _, proto := range []string{"openai", "anthropic"} {
			if e := dead2[proto]; e.Status != 502 || !strings.Contains(e.Message, "backend dead") {
				t.Errorf("%s client, dead backend: %+v", proto, e)
			}
		}
	}
}
