package v1test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// nodeResult is what testdata/sdk/run.mjs prints, scenario by scenario.
type nodeResult map[string]json.RawMessage

func (r nodeResult) get(t *testing.T, name string, v any) bool {
	t.Helper()
	raw, ok := r[name]
	if !ok {
		t.Errorf("scenario %s did not run", name)
		return false
	}
	var thrown struct {
		Thrown map[string]any `json:"thrown"`
	}
	if json.Unmarshal(raw, &thrown) == nil && thrown.Thrown != nil {
		t.Errorf("scenario %s threw %v", name, thrown.Thrown)
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Errorf("scenario %s: decode %s: %v", name, raw, err)
		return false
	}
	return true
}

type sdkError struct {
	Status int     `json:"status"`
	Type   string  `json:"type"`
	Code   *string `json:"code"`
	Param  *string `json:"param"`
	Name   string  `json:"name"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// TestNodeSDKs runs the official openai and @anthropic-ai/sdk npm packages
// against the server.
func TestNodeSDKs(t *testing.T) {
	dir := filepath.Join("testdata", "sdk")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("the SDKs are not installed: run npm ci --prefix api/v1test/testdata/sdk (%v)", err))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Need(t, false, fmt.Sprintf("node is not installed: %v", err))
	}
	e := start(t, envOptions{encode: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_URL="+e.URL, "API_KEY="+e.key, "MODEL="+tinyID, "EMBED_MODEL="+embedID)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s", err, stderr.String())
	}
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	t.Run("models", func(t *testing.T) { nodeModels(t, res) })
	t.Run("chat", func(t *testing.T) { nodeChat(t, res) })
	t.Run("completions", func(t *testing.T) { nodeCompletions(t, res) })
	t.Run("embeddings", func(t *testing.T) { nodeEmbeddings(t, res) })
	t.Run("errors", func(t *testing.T) { nodeErrors(t, res) })
	t.Run("anthropic", func(t *testing.T) { nodeAnthropic(t, res) })
	t.Run("responses", func(t *testing.T) { nodeResponses(t, res) })
}

func nodeModels(t *testing.T, res nodeResult) {
	var m struct {
		IDs       []modelEntry `json:"ids"`
		Retrieved modelEntry   `json:"retrieved"`
	}
	// Sorted: the embedding and reranking models, then the chat model.
	if res.get(t, "models", &m) && (len(m.IDs) != 3 || m.IDs[0].ID != embedID || m.IDs[1].ID != rerankID || m.IDs[2].ID != tinyID ||
		m.Retrieved.ID != tinyID || m.Retrieved.Object != "model") {
		t.Errorf("models %+v", m)
	}
}

func nodeChat(t *testing.T, res nodeResult) {
	var c struct {
		ID, Object, Model, Fingerprint, Content, Role string
		FinishReason                                  string `json:"finish_reason"`
		Usage                                         usage
	}
	if res.get(t, "chat", &c) {
		if !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion" || c.Model != tinyID || c.Role != "assistant" ||
			c.FinishReason != "length" || c.Usage.CompletionTokens != 5 || c.Usage.TotalTokens != c.Usage.PromptTokens+5 {
			t.Errorf("chat %+v", c)
		}
	}
	var s struct {
		Content      string
		FirstRole    string `json:"first_role"`
		FinishReason string `json:"finish_reason"`
		Usage        *usage
		Chunks, IDs  int
	}
	if res.get(t, "chatStream", &s) {
		if s.FirstRole != "assistant" || s.FinishReason != "length" || s.Usage == nil || s.Usage.CompletionTokens != 5 || s.IDs != 1 {
			t.Errorf("stream %+v", s)
		}
		if s.Content != c.Content {
			t.Errorf("greedy stream %q differs from the answer %q", s.Content, c.Content)
		}
	}
	var lp struct {
		Tokens           int
		Top              []int
		Logprob          float64
		CompletionTokens int `json:"completion_tokens"`
	}
	if res.get(t, "chatLogprobs", &lp) && (lp.Tokens != lp.CompletionTokens || lp.Tokens == 0 || lp.Top[0] != 2 || lp.Logprob > 0) {
		t.Errorf("logprobs %+v", lp)
	}
}

func nodeCompletions(t *testing.T, res nodeResult) {
	var c struct {
		Object, Text, Streamed string
		FinishReason           string `json:"finish_reason"`
		StreamFinish           string `json:"stream_finish"`
		Usage                  usage
	}
	if res.get(t, "completions", &c) {
		if c.Object != "text_completion" || c.Text == "" || c.Streamed != c.Text || c.StreamFinish != c.FinishReason || c.Usage.CompletionTokens > 4 {
			t.Errorf("completions %+v", c)
		}
	}
}

func nodeEmbeddings(t *testing.T, res nodeResult) {
	var em struct {
		Count, Dims int
		Norms       []float64
		Same        bool
		SmallDims   int      `json:"small_dims"`
		B64Matches  bool     `json:"b64_matches"`
		ChatModel   sdkError `json:"chat_model"`
	}
	if !res.get(t, "embeddings", &em) {
		return
	}
	if em.Count != 2 || em.Dims != 64 || em.SmallDims != 8 || !em.Same || !em.B64Matches {
		t.Errorf("embeddings %+v", em)
	}
	if em.ChatModel.Status != 400 || em.ChatModel.Code == nil || *em.ChatModel.Code != "model_not_embedding" {
		t.Errorf("embeddings with a chat model: %+v", em.ChatModel)
	}
	for _, n := range em.Norms {
		if math.Abs(n-1) > 1e-4 {
			t.Errorf("norm %g", n)
		}
	}
}

func nodeErrors(t *testing.T, res nodeResult) {
	var errs map[string]sdkError
	if !res.get(t, "errors", &errs) {
		return
	}
	want := map[string]struct {
		status int
		code   string
		param  string
	}{
		"not_found":     {404, "model_not_found", "model"},
		"bad_param":     {400, "", "temperature"},
		"unknown_field": {400, "unknown_parameter", "bogus"},
		"image":         {400, "model_not_vision", "messages[0].content"},
		"too_long":      {400, "context_length_exceeded", "messages"},
		"bad_key":       {401, "invalid_token", ""},
	}
	for name, w := range want {
		got := errs[name]
		if got.Status != w.status || (w.code != "" && (got.Code == nil || *got.Code != w.code)) || (w.param != "" && (got.Param == nil || *got.Param != w.param)) {
			t.Errorf("%s: %+v (code %v param %v), want %+v", name, got, deref(got.Code), deref(got.Param), w)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func nodeAnthropic(t *testing.T, res nodeResult) {
	var a struct {
		ID, Type, Role, Model string
		StopReason            string `json:"stop_reason"`
		Usage                 anthropicUsage
		Content               []struct{ Type, Text string }
		Stream                struct {
			Events     []string
			StopReason string `json:"stop_reason"`
			Text       string
			Usage      anthropicUsage
		}
		NotFound         sdkError `json:"not_found"`
		MissingMaxTokens sdkError `json:"missing_max_tokens"`
	}
	if !res.get(t, "anthropic", &a) {
		return
	}
	if !strings.HasPrefix(a.ID, "msg_") || a.Type != "message" || a.Role != "assistant" || a.Usage.prompt() == 0 ||
		len(a.Content) != 1 || a.Content[0].Type != "text" {
		t.Errorf("message %+v", a)
	}
	s := a.Stream
	if s.Text != a.Content[0].Text || s.StopReason != a.StopReason || s.Usage.OutputTokens != a.Usage.OutputTokens ||
		s.Usage.prompt() != a.Usage.prompt() || len(s.Events) < 5 || s.Events[0] != "message_start" || s.Events[len(s.Events)-1] != "message_stop" {
		t.Errorf("stream %+v, message %+v", s, a)
	}
	if a.NotFound.Status != 404 || a.NotFound.Type != "not_found_error" || a.MissingMaxTokens.Status != 400 || a.MissingMaxTokens.Type != "invalid_request_error" {
		t.Errorf("errors %+v %+v", a.NotFound, a.MissingMaxTokens)
	}
}
