//go:build !race

package ollamatest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

type timings struct {
	TotalDuration      int64 `json:"total_duration"`
	LoadDuration       int64 `json:"load_duration"`
	PromptEvalCount    int   `json:"prompt_eval_count"`
	PromptEvalDuration int64 `json:"prompt_eval_duration"`
	EvalCount          int   `json:"eval_count"`
	EvalDuration       int64 `json:"eval_duration"`
}

func (tm timings) check(t *testing.T, name string) {
	t.Helper()
	if tm.TotalDuration <= 0 || tm.PromptEvalCount < 1 || tm.PromptEvalDuration <= 0 || tm.EvalCount < 1 || tm.EvalCount > 6 ||
		tm.LoadDuration < 0 || tm.LoadDuration+tm.PromptEvalDuration > tm.TotalDuration {
		t.Errorf("%s: timings %+v", name, tm)
	}
}

// TestOllamaJS runs the official ollama npm package against the server.
func TestOllamaJS(t *testing.T) {
	dir := filepath.Join("testdata", "ollamajs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ollama")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("the ollama npm package is not installed: run npm ci --prefix api/ollamatest/testdata/ollamajs (%v)", err))
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Need(t, false, fmt.Sprintf("node is not installed: %v", err))
	}
	e := start(t)
	e.installEmbedder(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_URL="+e.URL, "API_KEY="+e.key, "MODEL="+tinyID, "EMBED_MODEL="+embedID, "DELETE_MODEL="+otherID, "PULL_MODEL="+hubRepo)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s", err, stderr.String())
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	get := func(name string, v any) bool {
		t.Helper()
		raw := res[name]
		var thrown struct {
			Thrown map[string]any `json:"thrown"`
		}
		if json.Unmarshal(raw, &thrown) == nil && thrown.Thrown != nil {
			t.Errorf("scenario %s threw %v", name, thrown.Thrown)
			return false
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Errorf("scenario %s: %s: %v", name, raw, err)
			return false
		}
		return true
	}

	var version struct {
		Version string `json:"version"`
	}
	if get("version", &version) && version.Version != "1.2.3" {
		t.Errorf("version %+v", version)
	}
	var list struct {
		Names []string `json:"names"`
	}
	if get("list", &list) && !slices.Equal(list.Names, []string{embedID, tinyID, otherID}) {
		t.Errorf("list %+v", list)
	}
	var show struct {
		Modelfile    string `json:"modelfile"`
		Architecture string `json:"architecture"`
	}
	if get("show", &show) && (!strings.HasPrefix(show.Modelfile, "FROM "+tinyID) || show.Architecture == "") {
		t.Errorf("show %+v", show)
	}
	var chat, chatStream struct {
		timings
		Role       string `json:"role"`
		Content    string `json:"content"`
		Parts      int    `json:"parts"`
		Done       bool   `json:"done"`
		DoneReason string `json:"done_reason"`
	}
	if get("chat", &chat) && get("chatStream", &chatStream) {
		chat.check(t, "chat")
		chatStream.check(t, "chatStream")
		if chat.Role != "assistant" || !chat.Done || chat.DoneReason == "" {
			t.Errorf("chat %+v", chat)
		}
		if chatStream.Content != chat.Content || chatStream.EvalCount != chat.EvalCount || chatStream.Parts < 2 {
			t.Errorf("streamed %+v, not streamed %+v (greedy: must match)", chatStream, chat)
		}
	}
	var gen, genStream struct {
		timings
		Response string `json:"response"`
		Done     bool   `json:"done"`
	}
	if get("generate", &gen) && get("generateStream", &genStream) {
		gen.check(t, "generate")
		genStream.check(t, "generateStream")
		if !gen.Done || genStream.Response != gen.Response {
			t.Errorf("generate %+v, streamed %+v", gen, genStream)
		}
	}
	var embed struct {
		Count           int `json:"count"`
		Dims            int `json:"dims"`
		PromptEvalCount int `json:"prompt_eval_count"`
	}
	if get("embed", &embed) && (embed.Count != 2 || embed.Dims < 1 || embed.PromptEvalCount < 2) {
		t.Errorf("embed %+v", embed)
	}
	var ps struct {
		Names     []string  `json:"names"`
		Size      int64     `json:"size"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if get("ps", &ps) && (!slices.Equal(ps.Names, []string{embedID, tinyID}) || ps.Size <= 0 || ps.ExpiresAt.IsZero()) {
		t.Errorf("ps %+v", ps)
	}
	var cp struct {
		AfterCopy    []string `json:"afterCopy"`
		ViaCopyModel string   `json:"viaCopyModel"`
	}
	if get("copyAndDelete", &cp) && (!slices.Contains(cp.AfterCopy, "js-copy") || cp.ViaCopyModel != "js-copy") {
		t.Errorf("copy %+v", cp)
	}
	var pull struct {
		First, Last, Single string
		Total, Completed    int64
		Names               []string
	}
	if get("pull", &pull) && (pull.First != "pulling manifest" || pull.Last != "success" || pull.Single != "success" ||
		pull.Total <= 0 || pull.Completed != pull.Total || !slices.Contains(pull.Names, hubRepo)) {
		t.Errorf("pull %+v", pull)
	}
	var notFound, streamed struct {
		Name   string `json:"name"`
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	if get("notFound", &notFound) && (notFound.Name != "ResponseError" || notFound.Status != 404 || !strings.Contains(notFound.Error, "not found")) {
		t.Errorf("not found: %+v", notFound)
	}
	// A stream refused before it started is still a plain HTTP error.
	if get("streamedError", &streamed) && (streamed.Status != 400 || !strings.Contains(streamed.Error, "context length")) {
		t.Errorf("streamed error: %+v", streamed)
	}
	var del struct {
		Names []string `json:"names"`
	}
	if get("delete", &del) && slices.Contains(del.Names, otherID) {
		t.Errorf("after delete: %+v", del)
	}
}
