package ollamatest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestTokenizeDetokenize(t *testing.T) {
	e := start(t)
	const text = "hello world, the sky is blue"
	for _, prefix := range []string{"", "/v1"} {
		var tok struct {
			Tokens []int32 `json:"tokens"`
		}
		e.call(t, "POST", prefix+"/tokenize", map[string]any{"model": tinyID, "content": text}, http.StatusOK, &tok)
		if len(tok.Tokens) < 2 {
			t.Fatalf("tokens %v", tok.Tokens)
		}
		var detok struct {
			Content string `json:"content"`
		}
		e.call(t, "POST", prefix+"/detokenize", map[string]any{"model": tinyID, "tokens": tok.Tokens}, http.StatusOK, &detok)
		if detok.Content != text {
			t.Errorf("detokenize(tokenize(%q)) = %q", text, detok.Content)
		}
		var pieces struct {
			Tokens []struct {
				ID    int32  `json:"id"`
				Piece string `json:"piece"`
			} `json:"tokens"`
		}
		e.call(t, "POST", prefix+"/tokenize", map[string]any{"model": tinyID, "content": text, "with_pieces": true}, http.StatusOK, &pieces)
		var joined strings.Builder
		for i, p := range pieces.Tokens {
			if p.ID != tok.Tokens[i] {
				t.Errorf("piece %d has id %d, tokenize gave %d", i, p.ID, tok.Tokens[i])
			}
			joined.WriteString(p.Piece)
		}
		if joined.String() != text {
			t.Errorf("pieces join to %q", joined.String())
		}
	}
	resp := e.Do(t, "POST", "/detokenize", e.key, map[string]any{"model": tinyID, "tokens": []int{1, 1 << 30}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "tokens[1]") {
		t.Errorf("out-of-vocabulary token: %d %s", resp.StatusCode, body)
	}
}

func TestApplyTemplate(t *testing.T) {
	e := start(t)
	var out struct {
		Prompt string `json:"prompt"`
	}
	e.call(t, "POST", "/apply-template", map[string]any{"model": tinyID,
		"messages": []map[string]any{{"role": "system", "content": "be brief"}, {"role": "user", "content": "why is the sky blue?"}}}, http.StatusOK, &out)
	sys, user := strings.Index(out.Prompt, "be brief"), strings.Index(out.Prompt, "why is the sky blue?")
	if sys < 0 || user < sys || strings.HasSuffix(out.Prompt, "why is the sky blue?") {
		t.Errorf("prompt %q: want the system turn, the user turn, then the generation prompt", out.Prompt)
	}
}

// TestCountTokens: count_tokens and message_start report the prompt tokens the
// generation then really takes.
func TestCountTokens(t *testing.T) {
	e := start(t)
	msgs := []map[string]any{{"role": "user", "content": "why is the sky blue?"}}
	var count struct {
		InputTokens int `json:"input_tokens"`
	}
	e.call(t, "POST", "/v1/messages/count_tokens", map[string]any{"model": tinyID, "system": "be brief", "messages": msgs}, http.StatusOK, &count)
	var msg struct {
		Usage struct {
			InputTokens int `json:"input_tokens"`
		} `json:"usage"`
	}
	e.call(t, "POST", "/v1/messages", map[string]any{"model": tinyID, "system": "be brief", "messages": msgs, "max_tokens": 2}, http.StatusOK, &msg)
	if count.InputTokens < 5 || count.InputTokens != msg.Usage.InputTokens {
		t.Errorf("count_tokens %d, the answer's usage %d", count.InputTokens, msg.Usage.InputTokens)
	}

	resp := e.Do(t, "POST", "/v1/messages", e.key, map[string]any{"model": tinyID, "system": "be brief", "messages": msgs, "max_tokens": 2, "stream": true})
	defer resp.Body.Close()
	start, final := -1, -1
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type    string `json:"type"`
			Message struct {
				Usage struct {
					InputTokens int `json:"input_tokens"`
				} `json:"usage"`
			} `json:"message"`
			Usage struct {
				InputTokens     int `json:"input_tokens"`
				CacheReadTokens int `json:"cache_read_input_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		switch ev.Type {
		case "message_start":
			start = ev.Message.Usage.InputTokens
		case "message_delta":
			// The end splits the prompt into new and cached tokens (this request
			// reuses the last one's prefix); message_start, sent before that is
			// known, counts them all.
			final = ev.Usage.InputTokens + ev.Usage.CacheReadTokens
		}
	}
	if start != count.InputTokens || final != count.InputTokens {
		t.Errorf("message_start input_tokens %d, message_delta %d, count_tokens %d", start, final, count.InputTokens)
	}

	resp2 := e.Do(t, "POST", "/v1/messages/count_tokens", e.key, map[string]any{"model": "nope/missing", "messages": msgs})
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"type":"error"`) {
		t.Errorf("unknown model: %d %s, want Anthropic's 404 error", resp2.StatusCode, body)
	}
}

// TestChatTimings: a non-streamed chat completion carries llama-server's
// timings, consistent with its usage.
func TestChatTimings(t *testing.T) {
	e := start(t)
	var out struct {
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
		Timings struct {
			CacheN             int     `json:"cache_n"`
			PromptN            int     `json:"prompt_n"`
			PromptMS           float64 `json:"prompt_ms"`
			PromptPerSecond    float64 `json:"prompt_per_second"`
			PredictedN         int     `json:"predicted_n"`
			PredictedMS        float64 `json:"predicted_ms"`
			PredictedPerSecond float64 `json:"predicted_per_second"`
		} `json:"timings"`
	}
	body := map[string]any{"model": tinyID, "max_tokens": 4, "temperature": 0, "logit_bias": map[string]float64{"2": -100},
		"messages": []map[string]any{{"role": "user", "content": "why is the sky blue?"}}}
	e.call(t, "POST", "/v1/chat/completions", body, http.StatusOK, &out)
	tm := out.Timings
	if tm.PromptN+tm.CacheN != out.Usage.PromptTokens || tm.PredictedN != out.Usage.CompletionTokens ||
		tm.PromptMS <= 0 || tm.PromptPerSecond <= 0 || tm.PredictedN != 4 || tm.PredictedMS <= 0 || tm.PredictedPerSecond <= 0 {
		t.Errorf("timings %+v, usage %+v", tm, out.Usage)
	}
}
